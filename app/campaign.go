package app

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CampaignInput is a campaign as an officer typed it: strings, so that a
// form can be shown again exactly as typed next to its error messages.
type CampaignInput struct {
	Name             string      `json:"name" form:"name"`
	District         string      `json:"district" form:"district"`
	Category         string      `json:"category" form:"category"`
	Budget           string      `json:"budget" form:"budget"` // yuan, e.g. "300000" or "300,000.00"
	Tiers            []TierInput `json:"tiers" form:"-"`
	ClaimStarts      string      `json:"claim_starts" form:"claim_starts"` // "2026-12-01T10:00" in Asia/Shanghai, or RFC 3339
	ClaimEnds        string      `json:"claim_ends" form:"claim_ends"`
	ValidDays        string      `json:"valid_days" form:"valid_days"`
	PerResidentLimit string      `json:"per_resident_limit" form:"per_resident_limit"`
}

// TierInput is one tier as typed: 满Threshold减Face, Quantity vouchers.
type TierInput struct {
	Face      string `json:"face"`
	Threshold string `json:"threshold"`
	Quantity  string `json:"quantity"`
}

// Limits on what a campaign may ask for; beyond them input is a typo.
const (
	maxTiers        = 10
	maxTierQuantity = 10_000_000
	maxValidDays    = 366
	maxPerResident  = 100
	maxNameRunes    = 100
)

// CampaignFilter selects campaigns for a list.
type CampaignFilter struct {
	District string   // "" = all districts
	Statuses []string // nil = any
}

// StatusChange is one guarded move of a campaign from one status to another.
type StatusChange struct {
	CampaignID int64
	From, To   string
	By         int64 // officer making the change
	At         time.Time
}

// ParseLocalTime reads a date-time as an officer types it, in Asia/Shanghai
// unless it carries its own zone, and returns it in UTC.
func ParseLocalTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, Shanghai); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parseCount(s string, min, max int64) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(toHalfWidth(s)), 10, 64)
	return n, err == nil && n >= min && n <= max
}

// validate turns typed input into a campaign, collecting every field's
// problem at once so the officer can fix them in one go.
func (a *App) validateCampaign(ctx context.Context, by Officer, in CampaignInput) (Campaign, error) {
	fe := FieldErrors{}
	c := Campaign{Name: strings.TrimSpace(in.Name), District: strings.TrimSpace(in.District), Category: strings.TrimSpace(in.Category)}
	if c.Name == "" {
		fe.Add("name", "required")
	} else if utf8.RuneCountInString(c.Name) > maxNameRunes {
		fe.Add("name", "too_long")
	}

	districts, err := a.store.Districts(ctx)
	if err != nil {
		return c, err
	}
	if !containsDistrict(districts, c.District) {
		fe.Add("district", "unknown_district")
	} else if !by.Sees(c.District) || (c.District == CityCode && by.Role != RoleCityAdmin) {
		fe.Add("district", "district_not_yours")
	}
	cats, err := a.store.Categories(ctx)
	if err != nil {
		return c, err
	}
	if !containsCategory(cats, c.Category) {
		fe.Add("category", "unknown_category")
	}

	budget, err := ParseYuan(in.Budget)
	if err != nil {
		fe.Add("budget", ErrorReason(err))
	} else if budget == 0 {
		fe.Add("budget", "must_be_positive")
	}
	c.BudgetFen = budget

	tiers := 0
	for i, t := range in.Tiers {
		if strings.TrimSpace(t.Face+t.Threshold+t.Quantity) == "" {
			continue // an empty row of the form
		}
		tiers++
		field := "tiers." + strconv.Itoa(i) + "."
		tier := Tier{}
		if tier.FaceFen, err = ParseYuan(t.Face); err != nil {
			fe.Add(field+"face", ErrorReason(err))
		} else if tier.FaceFen == 0 {
			fe.Add(field+"face", "must_be_positive")
		}
		if strings.TrimSpace(t.Threshold) != "" {
			if tier.ThresholdFen, err = ParseYuan(t.Threshold); err != nil {
				fe.Add(field+"threshold", ErrorReason(err))
			} else if tier.ThresholdFen != 0 && tier.ThresholdFen < tier.FaceFen {
				fe.Add(field+"threshold", "threshold_below_face")
			}
		}
		var ok bool
		if tier.Quantity, ok = parseCount(t.Quantity, 1, maxTierQuantity); !ok {
			fe.Add(field+"quantity", "quantity_range")
		}
		tier.Remaining = tier.Quantity
		c.Tiers = append(c.Tiers, tier)
	}
	if tiers == 0 {
		fe.Add("tiers", "tiers_required")
	} else if tiers > maxTiers {
		fe.Add("tiers", "too_many_tiers")
	}

	now := a.now()
	var okStart, okEnd bool
	if c.ClaimStartsAt, okStart = ParseLocalTime(in.ClaimStarts); !okStart {
		fe.Add("claim_starts", "time_format")
	}
	if c.ClaimEndsAt, okEnd = ParseLocalTime(in.ClaimEnds); !okEnd {
		fe.Add("claim_ends", "time_format")
	}
	if okStart && okEnd {
		switch {
		case !c.ClaimEndsAt.After(c.ClaimStartsAt):
			fe.Add("claim_ends", "end_before_start")
		case !c.ClaimEndsAt.After(now):
			fe.Add("claim_ends", "in_the_past")
		}
	}
	days, ok := parseCount(in.ValidDays, 1, maxValidDays)
	if !ok {
		fe.Add("valid_days", "valid_days_range")
	}
	c.ValidDays = int(days)
	limit, ok := parseCount(in.PerResidentLimit, 1, maxPerResident)
	if !ok {
		fe.Add("per_resident_limit", "limit_range")
	}
	c.PerResidentLimit = int(limit)

	if _, bad := fe["budget"]; !bad && len(fe) == 0 {
		if committed := c.Committed(); committed > c.BudgetFen {
			fe.Add("budget", "budget_below_committed")
			return c, (&Error{Code: EINVALID, Reason: "form_invalid", Fields: fe}).With("committed", committed.Yuan())
		}
	}
	return c, fe.Err()
}

func containsDistrict(ds []District, code string) bool {
	for _, d := range ds {
		if d.Code == code {
			return true
		}
	}
	return false
}

func containsCategory(cs []Category, code string) bool {
	for _, c := range cs {
		if c.Code == code {
			return true
		}
	}
	return false
}

// CreateCampaign validates an officer's input and stores it as a draft.
func (a *App) CreateCampaign(ctx context.Context, by Officer, in CampaignInput) (Campaign, error) {
	c, err := a.validateCampaign(ctx, by, in)
	if err != nil {
		return c, err
	}
	c.Status = StatusDraft
	c.CreatedBy = by.ID
	c.CreatedAt = a.now()
	if err := a.store.CreateCampaign(ctx, &c); err != nil {
		return c, err
	}
	a.log.Info("campaign created", "campaign", c.ID, "officer", by.ID, "budget_fen", int64(c.BudgetFen))
	return c, nil
}

// CampaignFor loads a campaign the officer may see. Another district's
// campaign is reported as not found, so its existence does not leak.
func (a *App) CampaignFor(ctx context.Context, by Officer, id int64) (Campaign, error) {
	c, err := a.store.Campaign(ctx, id)
	if err != nil {
		return c, err
	}
	if !by.Sees(c.District) {
		a.log.Warn("record access denied", "officer", by.ID, "campaign", id)
		return Campaign{}, NotFound("campaign_not_found")
	}
	return c, nil
}

// OfficerCampaigns lists the campaigns an officer may see, newest first.
func (a *App) OfficerCampaigns(ctx context.Context, by Officer) ([]Campaign, error) {
	f := CampaignFilter{}
	if by.Role != RoleCityAdmin {
		f.District = by.District
	}
	return a.store.Campaigns(ctx, f)
}

// SubmitCampaign sends a draft for approval.
func (a *App) SubmitCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return err
	}
	if c.Status != StatusDraft {
		return Conflict("not_draft")
	}
	err = a.store.ChangeCampaignStatus(ctx, StatusChange{CampaignID: id, From: StatusDraft, To: StatusSubmitted, By: by.ID, At: a.now()})
	if err == nil {
		a.log.Info("campaign submitted", "campaign", id, "officer", by.ID)
	}
	return err
}

// ApproveCampaign approves a submitted campaign. The approver must hold
// approval rights and must not be the officer who made it: spending public
// money takes two people.
func (a *App) ApproveCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return err
	}
	switch {
	case !by.CanApprove:
		return Forbidden("no_approval_right")
	case c.CreatedBy == by.ID:
		return Forbidden("approve_own")
	case c.Status != StatusSubmitted:
		return Conflict("not_submitted")
	}
	err = a.store.ChangeCampaignStatus(ctx, StatusChange{CampaignID: id, From: StatusSubmitted, To: StatusApproved, By: by.ID, At: a.now()})
	if err == nil {
		a.log.Info("campaign approved", "campaign", id, "officer", by.ID)
	}
	return err
}

// LiveCampaigns lists the campaigns residents can see now: approved and
// not yet ended, live ones first.
func (a *App) LiveCampaigns(ctx context.Context) ([]Campaign, error) {
	all, err := a.store.Campaigns(ctx, CampaignFilter{Statuses: []string{StatusApproved}})
	if err != nil {
		return nil, err
	}
	now := a.now()
	var out []Campaign
	for _, c := range all {
		if c.Phase(now) == PhaseLive {
			out = append(out, c)
		}
	}
	for _, c := range all {
		if c.Phase(now) == PhaseScheduled {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stats are the evaluation figures of one campaign (see DESIGN.md §1).
type Stats struct {
	BudgetFen      Fen   `json:"budget_fen"`
	CommittedFen   Fen   `json:"committed_fen"`
	Released       int64 `json:"released"`
	Claimed        int64 `json:"claimed"`
	Redeemed       int64 `json:"redeemed"`
	SubsidyFen     Fen   `json:"subsidy_fen"`
	ConsumptionFen Fen   `json:"consumption_fen"`
	OutOfPocketFen Fen   `json:"out_of_pocket_fen"`
	LeftFen        Fen   `json:"left_fen"` // budget not yet spent
	// Ratios in basis points (1/10,000) so they are exact integers:
	// leverage 35000 = 3.50×, redemption rate 2500 = 25.00 %.
	LeverageBP       int64 `json:"leverage_bp"`
	RedemptionRateBP int64 `json:"redemption_rate_bp"`
	ClaimRateBP      int64 `json:"claim_rate_bp"`
}

// CampaignStats computes the evaluation from the campaign's stored rollups.
func CampaignStats(c Campaign) Stats {
	s := Stats{
		BudgetFen: c.BudgetFen, CommittedFen: c.Committed(), Claimed: c.ClaimedCount, Redeemed: c.RedeemedCount,
		SubsidyFen: c.SubsidyFen, ConsumptionFen: c.ConsumptionFen,
	}
	for _, t := range c.Tiers {
		s.Released += t.Quantity
	}
	s.OutOfPocketFen = s.ConsumptionFen - s.SubsidyFen
	s.LeftFen = s.BudgetFen - s.SubsidyFen
	s.LeverageBP = ratioBP(int64(s.ConsumptionFen), int64(s.SubsidyFen))
	s.RedemptionRateBP = ratioBP(s.Redeemed, s.Claimed)
	s.ClaimRateBP = ratioBP(s.Claimed, s.Released)
	return s
}

// ratioBP is num/den in basis points, rounded half up; 0 when den is 0.
func ratioBP(num, den int64) int64 {
	if den == 0 {
		return 0
	}
	return (num*20000/den + 1) / 2
}

// FormatBP renders basis points with two decimals, rounded half up like
// ratioBP: 35000 → "3.50", 42857 (30/7) → "4.29", not a truncated "4.28".
func FormatBP(bp int64) string {
	h := (bp + 50) / 100 // hundredths; bp is never negative (C ≥ 0, S > 0)
	return strconv.FormatInt(h/100, 10) + "." + twoDigits(h%100)
}

// FormatPercentBP renders basis points as a percentage: 2500 → "25.00".
func FormatPercentBP(bp int64) string {
	return strconv.FormatInt(bp/100, 10) + "." + twoDigits(bp%100)
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
