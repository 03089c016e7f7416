package app

import (
	"context"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cqvoucher/app/report"
)

// CampaignInput is a campaign as an officer typed it: strings, so that a
// form can be shown again exactly as typed next to its error messages.
type CampaignInput struct {
	Name             string      `json:"name" form:"name"`
	Season           string      `json:"season" form:"season"`
	District         string      `json:"district" form:"district"`
	Category         string      `json:"category,omitempty" form:"-"` // one category; Categories wins when both are given
	Categories       []string    `json:"categories" form:"-"`
	Budget           string      `json:"budget" form:"budget"` // yuan, e.g. "300000" or "300,000.00"
	Tiers            []TierInput `json:"tiers" form:"-"`
	ClaimStarts      string      `json:"claim_starts" form:"claim_starts"` // "2026-12-01T10:00" in Asia/Shanghai, or RFC 3339
	ClaimEnds        string      `json:"claim_ends" form:"claim_ends"`
	ValidityMode     string      `json:"validity_mode" form:"validity_mode"` // "days" (default) or "fixed"
	ValidDays        string      `json:"valid_days" form:"valid_days"`
	ValidFrom        string      `json:"valid_from" form:"valid_from"` // dates, "2026-12-01"
	ValidUntil       string      `json:"valid_until" form:"valid_until"`
	PerResidentLimit string      `json:"per_resident_limit" form:"per_resident_limit"`
	PerDayLimit      string      `json:"per_day_limit" form:"per_day_limit"`         // "" or "0" = none
	PerTierLimit     string      `json:"per_tier_limit" form:"per_tier_limit"`       // "" or "0" = none
	MaxBill          string      `json:"max_bill" form:"max_bill"`                   // yuan; "" = DefaultMaxBill
	ReleaseMode      string      `json:"release_mode" form:"release_mode"`           // "once" (default) or "drops"
	DropDaily        string      `json:"drop_daily" form:"drop_daily"`               // "10:00": a drop every day at this time …
	DropDays         string      `json:"drop_days" form:"drop_days"`                 // … for this many days from the first claim day
	DropTimes        string      `json:"drop_times" form:"drop_times"`               // and/or one "2026-12-01 10:00" per line
	DropRollover     string      `json:"drop_rollover" form:"drop_rollover"`         // "1": unclaimed stock rolls on; "0": it lapses
	RecycleExpired   string      `json:"recycle_expired" form:"recycle_expired"`     // "1": expired unredeemed vouchers go into later drops
	RequireRealName  string      `json:"require_real_name" form:"require_real_name"` // "1": residents must pass the real-name step
	Include          string      `json:"include_merchants" form:"include_merchants"` // merchant ids, comma-separated
	Exclude          string      `json:"exclude_merchants" form:"exclude_merchants"`
}

// TierInput is one tier as typed: 满Threshold减Face, Quantity vouchers
// (per drop, for a campaign released in drops).
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
	maxDrops        = 366
	maxCategories   = 10
	maxListed       = 500
	// pastGrace lets a form that took a few minutes to fill start "now".
	pastGrace = 10 * time.Minute
)

// CampaignFilter selects campaigns for a list.
type CampaignFilter struct {
	District string   // "" = all districts
	Statuses []string // nil = any
}

// StatusChange is one guarded move of a campaign from one status to
// another, recorded in the audit log in the same transaction.
type StatusChange struct {
	CampaignID int64
	From       []string
	To         string
	By         int64 // officer making the change
	At         time.Time
	Reason     string // for a rejection
	Audit      AuditEntry
}

// ParseLocalTime reads a date-time as an officer types it, in Asia/Shanghai
// unless it carries its own zone, and returns it in UTC.
func ParseLocalTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(toHalfWidth(s))
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

// parseLocalDate reads "2006-01-02" as the start of that day in Asia/Shanghai.
func parseLocalDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(toHalfWidth(s)), Shanghai)
	return t.UTC(), err == nil
}

func parseCount(s string, min, max int64) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(toHalfWidth(s)), 10, 64)
	return n, err == nil && n >= min && n <= max
}

// parseOptionalCount is parseCount where blank means 0 (no limit).
func parseOptionalCount(s string, max int64) (int64, bool) {
	if strings.TrimSpace(s) == "" {
		return 0, true
	}
	return parseCount(s, 0, max)
}

// parseSwitch reads a yes/no field as forms and JSON clients send it;
// blank takes the default, anything unrecognised is an error.
func parseSwitch(s string, def bool) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, true
	case "1", "true", "on", "yes":
		return true, true
	case "0", "false", "off", "no":
		return false, true
	}
	return def, false
}

// parseIDs reads "12, 15 18" as merchant ids.
func parseIDs(s string) ([]int64, bool) {
	var ids []int64
	for _, f := range strings.FieldsFunc(toHalfWidth(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '、' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, len(ids) <= maxListed
}

// validateCampaign turns typed input into a campaign, collecting every
// field's problem at once so the officer can fix them in one go.
func (a *App) validateCampaign(ctx context.Context, by Officer, in CampaignInput) (Campaign, error) {
	fe := FieldErrors{}
	c := Campaign{Name: strings.TrimSpace(in.Name), Season: strings.TrimSpace(in.Season), District: strings.TrimSpace(in.District)}
	if c.Name == "" {
		fe.Add("name", "required")
	} else if utf8.RuneCountInString(c.Name) > maxNameRunes {
		fe.Add("name", "too_long")
	}
	if utf8.RuneCountInString(c.Season) > maxNameRunes {
		fe.Add("season", "too_long")
	}

	districts, err := a.store.Districts(ctx)
	if err != nil {
		return c, err
	}
	if !containsDistrict(districts, c.District) {
		fe.Add("district", "unknown_district")
	} else if !by.CanChange(c.District) || (c.District == CityCode && !by.SeesAllDistricts()) {
		fe.Add("district", "district_not_yours")
	}
	a.validateCategories(ctx, in, &c, fe)

	budget, err := ParseYuan(in.Budget)
	if err != nil {
		fe.Add("budget", ErrorReason(err))
	} else if budget == 0 {
		fe.Add("budget", "must_be_positive")
	}
	c.BudgetFen = budget

	perDrop := validateTiers(in.Tiers, &c, fe)

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
		case c.ClaimStartsAt.Before(now.Add(-pastGrace)):
			fe.Add("claim_starts", "in_the_past")
		}
	}
	a.validateValidity(in, &c, okStart && okEnd, fe)

	limit, ok := parseCount(in.PerResidentLimit, 1, maxPerResident)
	if !ok {
		fe.Add("per_resident_limit", "limit_range")
	}
	c.PerResidentLimit = int(limit)
	if n, ok := parseOptionalCount(in.PerDayLimit, maxPerResident); !ok {
		fe.Add("per_day_limit", "limit_range")
	} else {
		c.PerDayLimit = int(n)
	}
	if n, ok := parseOptionalCount(in.PerTierLimit, maxPerResident); !ok {
		fe.Add("per_tier_limit", "limit_range")
	} else {
		c.PerTierLimit = int(n)
	}

	c.MaxBillFen = DefaultMaxBill
	if strings.TrimSpace(in.MaxBill) != "" {
		if c.MaxBillFen, err = ParseYuan(in.MaxBill); err != nil {
			fe.Add("max_bill", ErrorReason(err))
		} else if c.MaxBillFen == 0 {
			fe.Add("max_bill", "must_be_positive")
		}
	}
	for _, t := range c.Tiers {
		if c.MaxBillFen > 0 && t.ThresholdFen > c.MaxBillFen { // no bill could ever use the tier
			fe.Add("max_bill", "max_bill_below_tier")
		}
		if t.FaceFen > c.BudgetFen && c.BudgetFen > 0 {
			fe.Add("budget", "face_above_budget")
		}
	}

	a.validateRelease(in, &c, perDrop, okStart && okEnd, fe)
	var okSwitch bool
	if c.RequireRealName, okSwitch = parseSwitch(in.RequireRealName, false); !okSwitch {
		fe.Add("require_real_name", "unknown_mode")
	}
	a.validateMerchantLists(ctx, by, in, &c, fe)

	if len(fe) == 0 {
		if committed := c.Committed(); committed > c.BudgetFen {
			fe.Add("budget", "budget_below_committed")
			return c, (&Error{Code: EINVALID, Reason: "form_invalid", Fields: fe}).With("committed", committed.Grouped())
		}
	}
	return c, fe.Err()
}

func (a *App) validateCategories(ctx context.Context, in CampaignInput, c *Campaign, fe FieldErrors) {
	codes := in.Categories
	if len(codes) == 0 && strings.TrimSpace(in.Category) != "" {
		codes = []string{in.Category}
	}
	known, err := a.store.Categories(ctx)
	if err != nil {
		fe.Add("categories", "internal")
		return
	}
	seen := map[string]bool{}
	for _, code := range codes {
		code = strings.TrimSpace(code)
		if code == "" || seen[code] {
			continue
		}
		if !containsCategory(known, code) {
			fe.Add("categories", "unknown_category")
			return
		}
		seen[code] = true
		c.Categories = append(c.Categories, code)
	}
	switch {
	case len(c.Categories) == 0:
		fe.Add("categories", "categories_required")
	case len(c.Categories) > maxCategories:
		fe.Add("categories", "too_many_categories")
	default:
		c.Category = c.Categories[0]
	}
}

// validateTiers fills c.Tiers (quantity per drop for now) and returns the
// per-drop quantities in tier order.
func validateTiers(in []TierInput, c *Campaign, fe FieldErrors) []int64 {
	var perDrop []int64
	rows := 0
	for i, t := range in {
		if strings.TrimSpace(t.Face+t.Threshold+t.Quantity) == "" {
			continue // an empty row of the form
		}
		rows++
		field := "tiers." + strconv.Itoa(i) + "."
		tier := Tier{}
		var err error
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
		c.Tiers = append(c.Tiers, tier)
		perDrop = append(perDrop, tier.Quantity)
	}
	if rows == 0 {
		fe.Add("tiers", "tiers_required")
	} else if rows > maxTiers {
		fe.Add("tiers", "too_many_tiers")
	}
	return perDrop
}

func (a *App) validateValidity(in CampaignInput, c *Campaign, windowOK bool, fe FieldErrors) {
	c.ValidityMode = strings.TrimSpace(in.ValidityMode)
	if c.ValidityMode == "" {
		c.ValidityMode = ValidityDays
	}
	switch c.ValidityMode {
	case ValidityDays:
		days, ok := parseCount(in.ValidDays, 1, maxValidDays)
		if !ok {
			fe.Add("valid_days", "valid_days_range")
		}
		c.ValidDays = int(days)
	case ValidityFixed:
		from, okFrom := parseLocalDate(in.ValidFrom)
		until, okUntil := parseLocalDate(in.ValidUntil)
		if !okFrom {
			fe.Add("valid_from", "date_format")
		}
		if !okUntil {
			fe.Add("valid_until", "date_format")
		}
		if !okFrom || !okUntil {
			return
		}
		end := EndOfDayAfter(until, 0)
		switch {
		case until.Before(from):
			fe.Add("valid_until", "end_before_start")
		case !end.After(a.now()):
			fe.Add("valid_until", "in_the_past")
		case windowOK && end.Sub(c.ClaimEndsAt) < MinUsable:
			// A voucher claimed in the last minute of claims must still be
			// usable for MinUsable: the claim window ends an hour before.
			fe.Add("valid_until", "validity_before_claims_end")
		}
		c.ValidFrom, c.ValidUntil = &from, &end
	default:
		fe.Add("validity_mode", "unknown_mode")
	}
}

// validateRelease turns the schedule into drops: every day at DropDaily
// for DropDays days from the first claim day, plus any DropTimes lines.
func (a *App) validateRelease(in CampaignInput, c *Campaign, perDrop []int64, windowOK bool, fe FieldErrors) {
	c.ReleaseMode = strings.TrimSpace(in.ReleaseMode)
	if c.ReleaseMode == "" {
		c.ReleaseMode = ReleaseOnce
	}
	var ok bool
	if c.DropRollover, ok = parseSwitch(in.DropRollover, true); !ok {
		fe.Add("drop_rollover", "unknown_mode")
	}
	if c.RecycleExpired, ok = parseSwitch(in.RecycleExpired, false); !ok {
		fe.Add("recycle_expired", "unknown_mode")
	}
	if c.RecycleExpired && c.ReleaseMode != ReleaseDrops {
		fe.Add("recycle_expired", "recycle_needs_drops")
	}
	switch c.ReleaseMode {
	case ReleaseOnce:
		for i := range c.Tiers {
			c.Tiers[i].Released, c.Tiers[i].Remaining = c.Tiers[i].Quantity, c.Tiers[i].Quantity
		}
		return
	case ReleaseDrops:
	default:
		fe.Add("release_mode", "unknown_mode")
		return
	}
	var times []time.Time
	if daily := strings.TrimSpace(in.DropDaily); daily != "" || strings.TrimSpace(in.DropDays) != "" {
		hm, err := time.Parse("15:04", toHalfWidth(daily))
		days, ok := parseCount(in.DropDays, 1, maxDrops)
		switch {
		case err != nil:
			fe.Add("drop_daily", "time_format")
		case !ok:
			fe.Add("drop_days", "drop_days_range")
		case windowOK:
			// The first daily drop is the first one at or after the start of
			// claims: claims opening at 12:00 with drops at 10:00 start tomorrow.
			first := c.ClaimStartsAt.In(Shanghai)
			skip := 0
			if time.Date(first.Year(), first.Month(), first.Day(), hm.Hour(), hm.Minute(), 0, 0, Shanghai).Before(c.ClaimStartsAt) {
				skip = 1
			}
			for d := skip; d < int(days)+skip; d++ {
				times = append(times, time.Date(first.Year(), first.Month(), first.Day()+d, hm.Hour(), hm.Minute(), 0, 0, Shanghai).UTC())
			}
		}
	}
	for _, line := range strings.Split(in.DropTimes, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		t, ok := ParseLocalTime(line)
		if !ok {
			fe.Add("drop_times", "time_format")
			return
		}
		times = append(times, t)
	}
	if _, bad := fe["drop_daily"]; bad || fe["drop_days"] != "" || !windowOK {
		return
	}
	if len(times) == 0 {
		fe.Add("drop_times", "drops_required")
		return
	}
	if len(times) > maxDrops {
		fe.Add("drop_times", "too_many_drops")
		return
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i, t := range times {
		if t.Before(c.ClaimStartsAt) || !t.Before(c.ClaimEndsAt) {
			fe.Add("drop_times", "drop_outside_window")
			return
		}
		// Two drops in the same minute are one drop typed twice, or a daily
		// drop that the list repeats: refuse rather than double the stock.
		if i > 0 && t.Sub(times[i-1]) < time.Minute {
			fe.Add("drop_times", "drops_overlap")
			return
		}
	}
	for i := range c.Tiers {
		c.Tiers[i].Quantity = perDrop[i] * int64(len(times))
		if c.Tiers[i].Quantity > maxTierQuantity {
			fe.Add("tiers."+strconv.Itoa(i)+".quantity", "quantity_range")
		}
		for _, t := range times {
			c.Drops = append(c.Drops, Drop{TierID: int64(i), OpensAt: t, Quantity: perDrop[i]}) // TierID: index until stored
		}
	}
}

// validateMerchantLists checks the include and exclude lists. A merchant
// the officer cannot see (another district's, for a district officer) is
// refused exactly like an id that does not exist, so the field cannot be
// used to probe which merchant ids exist elsewhere. The city sees every
// district and may include any merchant; the statements of such a
// campaign are still settled by its own district's fund (see Statement).
func (a *App) validateMerchantLists(ctx context.Context, by Officer, in CampaignInput, c *Campaign, fe FieldErrors) {
	var ok bool
	if c.Include, ok = parseIDs(in.Include); !ok {
		fe.Add("include_merchants", "merchant_ids")
	}
	if c.Exclude, ok = parseIDs(in.Exclude); !ok {
		fe.Add("exclude_merchants", "merchant_ids")
	}
	listed := map[int64]string{}
	for _, l := range []struct {
		field string
		ids   []int64
	}{{"include_merchants", c.Include}, {"exclude_merchants", c.Exclude}} {
		for _, id := range l.ids {
			if prev, dup := listed[id]; dup && prev != l.field {
				fe.Add(l.field, "merchant_in_both_lists")
				return
			}
			listed[id] = l.field
			if m, err := a.store.MerchantByID(ctx, id); err != nil || !by.Sees(m.District) {
				fe.Add(l.field, "merchant_unknown")
				return
			}
		}
	}
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
	if by.Role == RoleAuditor || by.IsAdministrator() {
		return Campaign{}, Forbidden("read_only")
	}
	c, err := a.validateCampaign(ctx, by, in)
	if err != nil {
		return c, err
	}
	c.Status = StatusDraft
	c.CreatedBy = by.ID
	c.CreatedAt = a.now()
	audit := a.auditOf(by, ActionCampaignCreate, "campaign", 0, c.District, nil, nil)
	if err := a.store.CreateCampaign(ctx, &c, audit); err != nil {
		return c, err
	}
	a.log.InfoContext(ctx, "campaign created", "campaign", c.ID, "officer", by.ID, "budget_fen", int64(c.BudgetFen))
	return c, nil
}

// CampaignFor loads a campaign the officer may see. Another district's
// campaign is reported as not found, so its existence does not leak.
func (a *App) CampaignFor(ctx context.Context, by Officer, id int64) (Campaign, error) {
	c, err := a.storedCampaign(ctx, id)
	if err != nil {
		return c, err
	}
	if !by.Sees(c.District) {
		a.log.WarnContext(ctx, "record access denied", "officer", by.ID, "campaign", id)
		return Campaign{}, NotFound("campaign_not_found")
	}
	return c, nil
}

// changeCampaign and changeCampaignStatus write a change and drop the
// cached copies the claim path reads, so residents see it at once.
func (a *App) changeCampaign(ctx context.Context, ch CampaignChange) error {
	defer a.forgetCampaign(ctx, ch.CampaignID)
	return a.store.ChangeCampaign(ctx, ch)
}

func (a *App) changeCampaignStatus(ctx context.Context, ch StatusChange) error {
	defer a.forgetCampaign(ctx, ch.CampaignID)
	return a.store.ChangeCampaignStatus(ctx, ch)
}

// campaignToChange loads a campaign the officer may change.
func (a *App) campaignToChange(ctx context.Context, by Officer, id int64) (Campaign, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return c, err
	}
	if !by.CanChange(c.District) {
		return c, Forbidden("read_only")
	}
	return c, nil
}

// OfficerCampaigns lists the campaigns an officer may see, newest first.
func (a *App) OfficerCampaigns(ctx context.Context, by Officer) ([]Campaign, error) {
	f := CampaignFilter{}
	if !by.SeesAllDistricts() {
		f.District = by.District
	}
	return a.storedCampaigns(ctx, f)
}

// CampaignChange is a change to an approved campaign. Only changes that
// cannot hurt are allowed: a later end, more vouchers within the budget,
// a higher budget (which waits for a second officer's approval).
type CampaignChange struct {
	CampaignID  int64
	ClaimEndsAt *time.Time // later end of claims
	TierID      int64      // with AddQuantity: more vouchers of this tier
	AddQuantity int64
	Budget      *Fen          // a raise, pending approval
	Move        *QuantityMove // a move between tiers, pending approval
	At          time.Time
	Audit       AuditEntry
}

func (a *App) changeable(ctx context.Context, by Officer, id int64) (Campaign, error) {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return c, err
	}
	if c.Status != StatusApproved && c.Status != StatusPaused {
		return c, Conflict("not_running")
	}
	return c, nil
}

// ExtendCampaign moves the end of claims later.
func (a *App) ExtendCampaign(ctx context.Context, by Officer, id int64, rawEnd string) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	end, ok := ParseLocalTime(rawEnd)
	field := func(reason string) error {
		return &Error{Code: EINVALID, Reason: reason, Fields: map[string]string{"claim_ends": reason}}
	}
	switch {
	case !ok:
		return field("time_format")
	case !end.After(c.ClaimEndsAt):
		return field("extend_not_later")
	case c.ValidityMode == ValidityFixed && c.ValidUntil != nil && c.ValidUntil.Sub(end) < MinUsable:
		return field("extend_beyond_validity")
	}
	return a.changeCampaign(ctx, CampaignChange{CampaignID: id, ClaimEndsAt: &end, At: a.now(),
		Audit: a.auditOf(by, ActionCampaignExtend, "campaign", id, c.District,
			map[string]time.Time{"claim_ends_at": c.ClaimEndsAt}, map[string]time.Time{"claim_ends_at": end})})
}

// AddQuantity releases more vouchers of a tier of a one-off campaign, as
// long as the budget still covers Σ face × quantity (checked again inside
// the transaction).
func (a *App) AddQuantity(ctx context.Context, by Officer, id, tierID int64, rawQty string) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	qty, ok := parseCount(rawQty, 1, maxTierQuantity)
	if !ok {
		return &Error{Code: EINVALID, Reason: "quantity_range", Fields: map[string]string{"quantity": "quantity_range"}}
	}
	if c.ReleaseMode != ReleaseOnce {
		return Conflict("add_quantity_drops")
	}
	var tier *Tier
	for i := range c.Tiers {
		if c.Tiers[i].ID == tierID {
			tier = &c.Tiers[i]
		}
	}
	if tier == nil {
		return NotFound("tier_not_found")
	}
	if after := AddFen(c.Committed(), MulFen(tier.FaceFen, qty)); after > c.BudgetFen {
		return (&Error{Code: EINVALID, Reason: "budget_below_committed", Fields: map[string]string{"quantity": "budget_below_committed"}}).
			With("committed", after.Grouped())
	}
	return a.changeCampaign(ctx, CampaignChange{CampaignID: id, TierID: tierID, AddQuantity: qty, At: a.now(),
		Audit: a.auditOf(by, ActionCampaignAddQuantity, "campaign", id, c.District,
			map[string]int64{"tier": tierID, "quantity": tier.Quantity}, map[string]int64{"tier": tierID, "quantity": tier.Quantity + qty})})
}

// RequestBudgetRaise asks for a higher budget; it applies only when a
// second officer approves it. A budget is never cut.
func (a *App) RequestBudgetRaise(ctx context.Context, by Officer, id int64, rawBudget string) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	budget, err := ParseYuan(rawBudget)
	field := func(reason string) error {
		return (&Error{Code: EINVALID, Reason: reason, Fields: map[string]string{"budget": reason}}).With("committed", c.Committed().Grouped())
	}
	switch {
	case err != nil:
		return field(ErrorReason(err))
	case budget < c.Committed():
		return field("budget_below_committed")
	case budget <= c.BudgetFen:
		return field("budget_not_raised")
	case c.PendingBudgetFen != nil:
		return Conflict("raise_pending")
	}
	return a.changeCampaign(ctx, CampaignChange{CampaignID: id, Budget: &budget, At: a.now(),
		Audit: a.auditOf(by, ActionCampaignRequestBudget, "campaign", id, c.District,
			map[string]Fen{"budget_fen": c.BudgetFen}, map[string]Fen{"pending_budget_fen": budget})})
}

// ApproveBudgetRaise applies a pending raise; the approver is not the requester.
func (a *App) ApproveBudgetRaise(ctx context.Context, by Officer, id int64) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	if c.PendingBudgetFen == nil || c.PendingBy == nil {
		return Conflict("no_raise_pending")
	}
	if err := a.checkApprover(ctx, by, *c.PendingBy); err != nil {
		return err
	}
	defer a.forgetCampaign(ctx, id)
	return a.store.ApproveBudgetRaise(ctx, id, *c.PendingBudgetFen, by.ID, a.auditOf(by, ActionCampaignApproveBudget, "campaign", id, c.District,
		map[string]Fen{"budget_fen": c.BudgetFen}, map[string]Fen{"budget_fen": *c.PendingBudgetFen}))
}

// LiveCampaigns lists the campaigns residents can see now: approved and
// not yet ended, live ones first.
func (a *App) LiveCampaigns(ctx context.Context) ([]Campaign, error) {
	all, ok := a.live.get(struct{}{})
	if !ok {
		var err error
		if all, err = a.store.Campaigns(ctx, CampaignFilter{Statuses: []string{StatusApproved}}); err != nil {
			return nil, err
		}
		a.live.put(struct{}{}, all)
	}
	now := a.now()
	var out []Campaign
	for _, c := range all {
		if c.Phase(now) == PhaseLive {
			out = append(out, c.AsOf(now))
		}
	}
	for _, c := range all {
		if c.Phase(now) == PhaseScheduled {
			out = append(out, c.AsOf(now))
		}
	}
	return out, nil
}

// Stats are the evaluation figures of one campaign (see DESIGN.md §1).
type Stats struct {
	BudgetFen      Fen   `json:"budget_fen"`
	CommittedFen   Fen   `json:"committed_fen"`
	Planned        int64 `json:"planned"`  // Σ quantity over the whole campaign
	Released       int64 `json:"released"` // released by now (pass the campaign through AsOf)
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
	s.Planned = c.Planned()
	for _, t := range c.Tiers {
		s.Released += t.Released
	}
	s.OutOfPocketFen = s.ConsumptionFen - s.SubsidyFen
	s.LeftFen = s.BudgetFen - s.SubsidyFen
	s.LeverageBP = ratioBP(int64(s.ConsumptionFen), int64(s.SubsidyFen))
	s.RedemptionRateBP = ratioBP(s.Redeemed, s.Claimed)
	s.ClaimRateBP = ratioBP(s.Claimed, s.Released)
	return s
}

// ratioBP is num/den in basis points, rounded half up; 0 when den is 0 or
// either is negative. It is exact for any stored figure: num × 20000 is
// done in 128 bits, and a ratio beyond int64 saturates.
func ratioBP(num, den int64) int64 {
	if den <= 0 || num < 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(num), 20000)
	if hi >= uint64(den) {
		return math.MaxInt64 / 2 // beyond any figure a page shows; FormatBP must not overflow
	}
	q, _ := bits.Div64(hi, lo, uint64(den))
	if q >= math.MaxInt64 {
		return math.MaxInt64 / 2
	}
	return int64(q+1) / 2
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

// EligibleMerchants lists the approved merchants that accept a campaign's vouchers.
func (a *App) EligibleMerchants(ctx context.Context, c Campaign) ([]Merchant, error) {
	return a.store.EligibleMerchants(ctx, c)
}

// InputOf turns a stored campaign back into the form an officer edits.
func InputOf(c Campaign) CampaignInput {
	in := CampaignInput{
		Name: c.Name, Season: c.Season, District: c.District, Categories: c.Categories, Budget: c.BudgetFen.String(),
		ClaimStarts: c.ClaimStartsAt.In(Shanghai).Format("2006-01-02T15:04"), ClaimEnds: c.ClaimEndsAt.In(Shanghai).Format("2006-01-02T15:04"),
		ValidityMode: c.ValidityMode, PerResidentLimit: strconv.Itoa(c.PerResidentLimit),
		PerDayLimit: strconv.Itoa(c.PerDayLimit), PerTierLimit: strconv.Itoa(c.PerTierLimit), MaxBill: c.MaxBillFen.String(),
		ReleaseMode: c.ReleaseMode, DropRollover: "0", RecycleExpired: "0", RequireRealName: "0",
		Include: joinIDs(c.Include), Exclude: joinIDs(c.Exclude),
	}
	if c.DropRollover {
		in.DropRollover = "1"
	}
	if c.RecycleExpired {
		in.RecycleExpired = "1"
	}
	if c.RequireRealName {
		in.RequireRealName = "1"
	}
	if c.ValidityMode == ValidityFixed && c.ValidFrom != nil && c.ValidUntil != nil {
		in.ValidFrom, in.ValidUntil = c.ValidFrom.In(Shanghai).Format("2006-01-02"), LocalDay(c.ValidUntil.Add(-time.Second))
	} else {
		in.ValidDays = strconv.Itoa(c.ValidDays)
	}
	drops := map[time.Time]bool{}
	var times []string
	for _, d := range c.Drops {
		if !drops[d.OpensAt] {
			drops[d.OpensAt] = true
			times = append(times, d.OpensAt.In(Shanghai).Format("2006-01-02 15:04"))
		}
	}
	in.DropTimes = strings.Join(times, "\n")
	for _, t := range c.Tiers {
		qty := t.Quantity
		if len(times) > 0 {
			qty /= int64(len(times))
		}
		threshold := ""
		if t.ThresholdFen > 0 {
			threshold = t.ThresholdFen.String()
		}
		in.Tiers = append(in.Tiers, TierInput{Face: t.FaceFen.String(), Threshold: threshold, Quantity: strconv.FormatInt(qty, 10)})
	}
	return in
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// UpdateDraft replaces a draft (or a rejected campaign, which becomes a
// draft again) with new input. Before approval anything may change; the
// store refuses if the campaign left draft meanwhile.
func (a *App) UpdateDraft(ctx context.Context, by Officer, id int64, in CampaignInput) (Campaign, error) {
	old, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return old, err
	}
	if old.Status != StatusDraft && old.Status != StatusRejected {
		return old, Conflict("not_draft")
	}
	c, err := a.validateCampaign(ctx, by, in)
	if err != nil {
		return c, err
	}
	// Whoever writes the content is its maker: an approver who edits a
	// colleague's draft may no longer approve it alone.
	c.ID, c.Status, c.CreatedBy, c.CreatedAt = id, StatusDraft, by.ID, old.CreatedAt
	// Both sides as stored (InputOf), so that the two compare field by
	// field (the approval checklist shows what changed).
	audit := a.auditOf(by, ActionCampaignEdit, "campaign", id, old.District, InputOf(old), InputOf(c))
	defer a.forgetCampaign(ctx, id)
	if err := a.store.UpdateDraft(ctx, &c, audit); err != nil {
		return c, err
	}
	return c, nil
}

// PublicCampaign is a campaign as residents may see it: approved (running,
// paused or ended); drafts and rejected ones do not exist for them.
func (a *App) PublicCampaign(ctx context.Context, id int64) (Campaign, error) {
	c, _, err := a.cachedCampaign(ctx, id)
	if err != nil {
		return c, err
	}
	switch c.Status {
	case StatusApproved, StatusPaused, StatusEnded:
		return c.AsOf(a.now()), nil
	}
	return Campaign{}, NotFound("campaign_not_found")
}

// Dashboard evaluates a campaign the officer may see, from its rollups.
func (a *App) Dashboard(ctx context.Context, by Officer, id int64) (Campaign, report.Dashboard, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return c, report.Dashboard{}, err
	}
	parts, err := a.store.RollupParts(ctx, id)
	if err != nil {
		return c, report.Dashboard{}, err
	}
	return c, report.Build(parts, TierLabeler(c)), nil
}

// Signals lists what stands out in a campaign's figures (see report.Signals).
func (a *App) Signals(ctx context.Context, c Campaign, d report.Dashboard) ([]report.Signal, error) {
	pairs, err := a.store.RepeatPairs(ctx, c.ID, 3)
	if err != nil {
		return nil, err
	}
	return d.Signals(pairs), nil
}

// TierLabeler names a campaign's tiers as rules are written: 满100减30, 20元.
func TierLabeler(c Campaign) func(int64) string {
	return func(id int64) string {
		for _, t := range c.Tiers {
			if t.ID == id {
				if t.ThresholdFen > 0 {
					return "满" + t.ThresholdFen.Short() + "减" + t.FaceFen.Short()
				}
				return t.FaceFen.Short() + "元"
			}
		}
		return "#" + strconv.FormatInt(id, 10)
	}
}

// PublishedCampaigns are the campaigns whose figures are public: approved
// ones, running, paused or ended.
func (a *App) PublishedCampaigns(ctx context.Context) ([]Campaign, error) {
	return a.storedCampaigns(ctx, CampaignFilter{Statuses: []string{StatusApproved, StatusPaused, StatusEnded}})
}

// Compare sets side by side the campaigns the officer may see.
func (a *App) Compare(ctx context.Context, by Officer) (report.Comparison, error) {
	cs, err := a.OfficerCampaigns(ctx, by)
	if err != nil {
		return report.Comparison{}, err
	}
	var in []report.CampaignCells
	for _, c := range cs {
		if c.Status == StatusDraft || c.Status == StatusSubmitted || c.Status == StatusRejected {
			continue
		}
		parts, err := a.store.RollupParts(ctx, c.ID)
		if err != nil {
			return report.Comparison{}, err
		}
		season := c.Season
		if season == "" {
			season = "—"
		}
		in = append(in, report.CampaignCells{Name: c.Name, Season: season, Parts: parts, TierLabel: TierLabeler(c)})
	}
	return report.Compare(in), nil
}
