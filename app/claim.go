package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"cqvoucher/app/token"
)

// ClaimInsert is one claim as the store must carry it out, in one
// transaction, at the time the writer reads after BEGIN: the campaign's
// stored rules decide (live and not paused, the tier is the campaign's,
// the limits per resident, per day and per tier); due drops are released
// (ReleaseDue); one is taken from the tier's stock (guarded); the voucher
// is inserted and the rollups bumped. A RequestKey seen before for this
// resident returns the voucher it produced, or is refused
// ("request_key_reused") if that was another campaign's or tier's. A
// voucher with less than MinUsable left at the writer's time is refused
// ("validity_passed"): it was signed for a day that ended, or all but
// ended, while it waited.
type ClaimInsert struct {
	CampaignID int64
	TierID     int64
	ResidentID int64
	RequestKey string // "" = not idempotent
	Code       string
	Token      string
	ValidFrom  *time.Time
	ExpiresAt  time.Time
	// An assisted claim (station.go): the staff member, and the audit
	// row the store completes with the voucher's id and appends in the
	// claim's transaction. A replay appends nothing.
	AssistedBy *int64
	Audit      *AuditEntry
}

// Claim gives a resident one voucher of a tier of a live campaign.
//
// Answers: the voucher; conflict "sold_out"; conflict "limit_reached";
// conflict "not_open" / "ended"; not_found. A retried request with the same
// requestKey returns the same voucher, never a second one.
func (a *App) Claim(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string) (Voucher, error) {
	return a.claimFor(ctx, r, campaignID, tierID, requestKey, nil)
}

// claimFor is Claim, for the resident or, with assist, by station staff
// on the resident's behalf (AssistedClaim): the same rules, limits and
// guarded writes either way.
func (a *App) claimFor(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string, assist *assistance) (Voucher, error) {
	v, err := a.claim(ctx, r, campaignID, tierID, requestKey, assist)
	if ErrorCode(err) != ENOTFOUND { // no counters for campaigns that do not exist
		a.recordPress(campaignID, err)
	}
	return v, err
}

func (a *App) claim(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string, assist *assistance) (Voucher, error) {
	requestKey = strings.TrimSpace(requestKey)
	if len(requestKey) > 64 {
		return Voucher{}, Invalid("request_key_too_long")
	}
	// Replays first: a double tap gets the voucher its first tap produced,
	// whatever happened to the campaign since (paused, sold out, ended).
	if v, ok, err := a.claimReplay(ctx, r, campaignID, tierID, requestKey); ok || err != nil {
		return v, err
	}
	v, err := a.claimOnce(ctx, r, campaignID, tierID, requestKey, assist)
	if err != nil && requestKey != "" && ErrorCode(err) == ECONFLICT {
		// The first tap may have committed after the lookup above, and be
		// the very reason for this refusal (its claim reached the limit or
		// took the last voucher): state seen after that commit shows it.
		if v, ok, rerr := a.claimReplay(ctx, r, campaignID, tierID, requestKey); ok || rerr != nil {
			return v, rerr
		}
	}
	return v, err
}

// claimReplay finds the voucher an earlier press with the same key
// produced; a key used for another campaign or tier is refused.
func (a *App) claimReplay(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string) (Voucher, bool, error) {
	if requestKey == "" {
		return Voucher{}, false, nil
	}
	v, err := a.store.VoucherByRequestKey(ctx, r.ID, requestKey)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return Voucher{}, false, nil
	case err != nil:
		return Voucher{}, false, err
	case v.CampaignID != campaignID || v.TierID != tierID:
		return Voucher{}, false, Conflict("request_key_reused")
	}
	return v, true, nil
}

func (a *App) claimOnce(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string, assist *assistance) (Voucher, error) {
	c, gen, err := a.cachedCampaign(ctx, campaignID)
	if err != nil {
		return Voucher{}, err
	}
	if assist != nil && !assist.serves(c) {
		return Voucher{}, Forbidden("other_district")
	}
	now := a.now()
	switch c.Phase(now) {
	case PhaseLive:
	case PhaseScheduled:
		return Voucher{}, Conflict("not_open").With("opens", FormatLocal(c.ClaimStartsAt))
	case PhaseEnded:
		return Voucher{}, Conflict("ended")
	case StatusPaused:
		return Voucher{}, Conflict("paused")
	default:
		return Voucher{}, NotFound("campaign_not_found")
	}
	var tier *Tier
	for i := range c.Tiers {
		if c.Tiers[i].ID == tierID {
			tier = &c.Tiers[i]
		}
	}
	if tier == nil {
		return Voucher{}, NotFound("tier_not_found")
	}
	// A lottery's stock goes to its winners (lottery.go); what the draw
	// leaves follows the rollover rule: claimable first come, first served
	// once drawn, or not at all.
	if c.LotteryClosesAt != nil && (c.LotteryDrawnAt == nil || !c.DropRollover) {
		if c.LotteryDrawnAt == nil {
			return Voucher{}, Conflict("lottery_only").With("closes", FormatLocal(*c.LotteryClosesAt))
		}
		return Voucher{}, Conflict("lottery_drawn")
	}
	if c.RequireRealName {
		// The session carries only the resident's id; the real-name mark is
		// read (through the cache) only where a campaign asks for it.
		full, err := a.Resident(ctx, r.ID)
		if err != nil {
			return Voucher{}, err
		}
		if !full.RealName() {
			return Voucher{}, Conflict("real_name_required")
		}
	}
	if c.ValidityMode == ValidityFixed && c.ValidUntil != nil && c.ValidUntil.Sub(now) < MinUsable {
		return Voucher{}, Conflict("validity_ending").With("until", FormatUntil(*c.ValidUntil))
	}

	// Presses that cannot succeed are answered from what is known, without
	// queueing for the one database writer; the writer's guarded updates
	// stay the judge of every press that might succeed.
	if c.Claimable(tier.ID, now) == 0 {
		return Voucher{}, soldOut(c, tier.ID, now)
	}
	if n, err := a.store.ResidentClaimCount(ctx, c.ID, r.ID); err != nil {
		return Voucher{}, err
	} else if n >= c.PerResidentLimit {
		return Voucher{}, Conflict("limit_reached").With("limit", strconv.Itoa(c.PerResidentLimit))
	}

	// Consent to the current texts is asked after the refusals above (sold
	// out stays an answer from memory, with no account read) and before the
	// press may queue for the writer.
	if err := a.requireConsent(ctx, r); err != nil {
		return Voucher{}, err
	}

	if q := a.store.WriterQueue(); a.cfg.AdmissionQueue > 0 && q >= a.cfg.AdmissionQueue {
		return Voucher{}, tooBusy(now, q)
	}

	var v Voucher
	// A press that waited for the writer across midnight finds its
	// voucher's day over ("validity_passed"): sign it again for the day
	// the writer saw, once.
	for try := 0; try < 2; try++ {
		signedAt := a.now()
		in, err := a.claimInsert(c, *tier, r, requestKey, signedAt)
		if err != nil {
			return Voucher{}, err
		}
		if assist != nil {
			in.AssistedBy, in.Audit = &assist.by.ID, assist.audit(a, c, *tier)
		}
		v, err = a.store.Claim(ctx, in)
		if ErrorReason(err) == "validity_passed" && c.ValidityMode == ValidityFixed {
			return Voucher{}, Conflict("validity_ending").With("until", FormatUntil(*c.ValidUntil))
		}
		if ErrorReason(err) == "validity_passed" && try == 0 {
			continue
		}
		if ErrorReason(err) == "sold_out" {
			// The writer found the tier empty at its time, which is at or
			// after signedAt: record that in the copy this press read, as of
			// signedAt, so that a drop due only after it stays claimable.
			a.markSoldOut(c.ID, tier.ID, gen, signedAt)
			return Voucher{}, soldOut(c, tier.ID, signedAt)
		}
		return v, err
	}
	return v, Conflict("validity_passed")
}

// tooBusy is the answer to a press that the writer's queue has no room
// for: when to try again, estimated from the queue at about 2,000 claims
// a second (group commit at synchronous=FULL on this class of machine,
// docs/performance.md), at least a second.
func tooBusy(now time.Time, queued int) error {
	wait := time.Second + time.Duration(queued)*500*time.Microsecond
	at := now.Add(wait)
	return RateLimited("too_busy").With("retry_after", strconv.Itoa(int(wait.Round(time.Second)/time.Second))).
		With("at", at.In(Shanghai).Format("15:04:05"))
}

// claimInsert signs the voucher a claim at now would issue.
func (a *App) claimInsert(c Campaign, tier Tier, r Resident, requestKey string, now time.Time) (ClaimInsert, error) {
	code := token.NewCode()
	// The token has an nbf only while the voucher is not usable yet: for
	// one usable at once it tells an offline check nothing and costs the
	// QR ten digits.
	var notBefore time.Time
	expires := ExpiryOfClaim(now, c.ValidDays)
	if c.ValidityMode == ValidityFixed {
		expires = *c.ValidUntil
		if c.ValidFrom.After(now) {
			notBefore = *c.ValidFrom
		}
	}
	// The token carries the code and its times; the database the terms.
	tok, err := a.ring.Sign(token.Claims{Code: code, NotBefore: notBefore, Expires: expires})
	if err != nil {
		return ClaimInsert{}, err
	}
	in := ClaimInsert{CampaignID: c.ID, TierID: tier.ID, ResidentID: r.ID, RequestKey: requestKey, Code: code, Token: tok, ExpiresAt: expires}
	if c.ValidityMode == ValidityFixed {
		in.ValidFrom = c.ValidFrom
	}
	return in, nil
}

// HopelessClaim answers, from memory alone, a press that cannot succeed
// whoever makes it: the campaign is not open, paused or ended, or the tier
// is empty with no drop due. It returns nil when it does not know (the
// campaign is not cached) or when the press might succeed. The web layer
// asks it before anything else, so the crowd that arrives after the last
// voucher costs neither a session lookup nor a database read.
func (a *App) HopelessClaim(campaignID, tierID int64) error {
	err := a.hopelessClaim(campaignID, tierID)
	if err != nil {
		a.recordPress(campaignID, err)
	}
	return err
}

func (a *App) hopelessClaim(campaignID, tierID int64) error {
	c, ok := a.campaigns.get(campaignID)
	if !ok {
		return nil
	}
	now := a.now()
	switch c.Phase(now) {
	case PhaseLive:
	case PhaseScheduled:
		return Conflict("not_open").With("opens", FormatLocal(c.ClaimStartsAt))
	case PhaseEnded:
		return Conflict("ended")
	case StatusPaused:
		return Conflict("paused")
	default:
		return nil
	}
	for _, t := range c.Tiers {
		if t.ID == tierID && c.Claimable(tierID, now) == 0 {
			return soldOut(c, tierID, now)
		}
	}
	return nil
}

// soldOut is the answer for a tier with nothing to claim now: not open yet
// before its first drop, sold out with the next drop's time, or sold out.
func soldOut(c Campaign, tierID int64, now time.Time) error {
	next := c.NextDrop(now)
	switch {
	case next == nil:
		return Conflict("sold_out")
	case !tierHasDropBy(c, tierID, now):
		return Conflict("not_open").With("opens", FormatLocal(next.OpensAt))
	default:
		return Conflict("sold_out_next").With("next", FormatLocal(next.OpensAt))
	}
}

// cachedCampaign serves the claim path and the residents' lists from a
// short-lived copy (see cache.go); officers always read the database.
//
// It returns the generation of the copy, for markSoldOut.
func (a *App) cachedCampaign(ctx context.Context, id int64) (Campaign, uint64, error) {
	if c, gen, ok := a.campaigns.getGen(id); ok {
		return c, gen, nil
	}
	c, err := a.store.Campaign(ctx, id)
	if err != nil {
		return c, 0, err
	}
	return c, a.campaigns.put(id, c), nil
}

// markSoldOut records in the cached copy that a tier has nothing left, so
// that the presses after the last voucher do not queue for the writer. The
// transaction that found the tier empty released every due drop (as
// ReleaseDue says), so the copy marks them released too; a later drop is
// seen as due from the schedule, and anything else that adds stock is done
// by an officer here and forgets the copy.
//
// gen is the generation of the copy the press read, at is a time at or
// before the writer's: news about an older copy never lands on a newer one
// (an officer may have added stock since), and a drop due after at is not
// counted as claimed out.
func (a *App) markSoldOut(campaignID, tierID int64, gen uint64, at time.Time) {
	now := at
	a.campaigns.update(campaignID, gen, func(c Campaign) Campaign {
		tiers := make([]Tier, len(c.Tiers))
		copy(tiers, c.Tiers)
		var released []int64
		for i := range tiers {
			if tiers[i].ID == tierID {
				tiers[i], released = ReleaseDue(tiers[i], c.Drops, c.DropRollover, now)
				tiers[i].Remaining = 0
			}
		}
		drops := make([]Drop, len(c.Drops))
		copy(drops, c.Drops)
		for i := range drops {
			if containsID(released, drops[i].ID) {
				drops[i].ReleasedAt = &now
			}
		}
		c.Tiers, c.Drops = tiers, drops
		return c
	})
}

// forgetCampaign drops cached copies, in every process, after an officer
// changed a campaign (or a reversal gave back to its budget).
func (a *App) forgetCampaign(ctx context.Context, id int64) {
	a.changed(ctx, newsCampaign, idKey(id))
}

// tierHasDropBy reports whether any drop of the tier opened by now. It
// reads the schedule, not the released counter, which at a rush may be
// older than the transaction that released the drop.
func tierHasDropBy(c Campaign, tierID int64, now time.Time) bool {
	for _, d := range c.Drops {
		if d.TierID == tierID && !d.OpensAt.After(now) {
			return true
		}
	}
	return false
}

// Wallet lists a resident's vouchers, newest first.
func (a *App) Wallet(ctx context.Context, r Resident) ([]Voucher, error) {
	return a.store.ResidentVouchers(ctx, r.ID)
}

// VoucherOf returns one of the resident's own vouchers by code; another
// resident's voucher is not found.
func (a *App) VoucherOf(ctx context.Context, r Resident, code string) (Voucher, error) {
	norm, ok := token.NormalizeCode(code)
	if !ok {
		return Voucher{}, NotFound("voucher_unknown")
	}
	v, err := a.store.VoucherByCode(ctx, norm)
	if err != nil {
		return Voucher{}, err
	}
	if v.ResidentID != r.ID {
		return Voucher{}, NotFound("voucher_unknown")
	}
	return v, nil
}

// FormatLocal shows a UTC time as Asia/Shanghai wall time.
func FormatLocal(t time.Time) string { return t.In(Shanghai).Format("2006-01-02 15:04") }
