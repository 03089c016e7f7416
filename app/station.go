package app

import (
	"context"
	"strings"

	"cqvoucher/app/token"
)

// Assisted claims (代领): a resident who cannot claim on a phone comes to
// the district's community service station (社区服务站), and a staff
// member claims for them. The resident proves the number is theirs with
// the sign-in code sent to it, which they read out to the staff member;
// a campaign that asks for real name also takes the resident's ID number,
// checked as the resident's own real-name step checks it. The claim then
// goes through the resident's claim path (claimFor): the same rules,
// limits and guarded writes. The voucher names the staff member, and the
// claim's audit row the station, written in the claim's transaction.

// assistance is a claim made by station staff for a resident.
type assistance struct {
	by       Officer
	resident int64
}

// serves reports whether the station may claim vouchers of campaign c:
// its own district's, and the city's, which every district's residents
// may claim.
func (as *assistance) serves(c Campaign) bool {
	return c.District == as.by.District || c.District == CityCode
}

// audit is the claim's audit row; the store sets its time and the
// voucher's id.
func (as *assistance) audit(a *App, c Campaign, t Tier) *AuditEntry {
	e := a.auditOf(as.by, ActionStationClaim, "voucher", 0, as.by.District, nil, map[string]any{
		"station": as.by.District, "staff": as.by.Username, "campaign_id": c.ID, "tier_id": t.ID,
		"resident_id": as.resident, "face_fen": t.FaceFen,
	})
	return &e
}

func requireStation(by Officer) error {
	if by.Role != RoleStation || by.District == CityCode {
		return Forbidden("station_only")
	}
	return nil
}

// StationSendCode sends the resident's sign-in code for an assisted
// claim. The resident has read the texts at the station and agreed
// (agreed is the staff member's word for it); the code is then theirs to
// read out.
func (a *App) StationSendCode(ctx context.Context, by Officer, rawPhone string, agreed bool) (string, error) {
	if err := requireStation(by); err != nil {
		return "", err
	}
	if !agreed {
		return "", ErrConsentRequired()
	}
	return a.SendSignInCode(ctx, rawPhone)
}

// AssistedClaimInput is what the staff member types at the station.
type AssistedClaimInput struct {
	Phone      string `json:"phone" form:"phone"`
	Code       string `json:"code" form:"code"`
	CampaignID int64  `json:"campaign_id" form:"campaign_id"`
	TierID     int64  `json:"tier_id" form:"tier_id"`
	IDNumber   string `json:"id_number" form:"id_number"`
	Name       string `json:"name" form:"name"`
	RequestKey string `json:"request_key" form:"request_key"`
}

// AssistedClaim claims one voucher for the resident whose number and
// sign-in code the staff member typed. Answers are Claim's, and:
// forbidden "station_only" (not station staff), forbidden
// "other_district" (another district's campaign), invalid "id_invalid" /
// conflict "id_mismatch" (the ID number, on a real-name campaign).
func (a *App) AssistedClaim(ctx context.Context, by Officer, in AssistedClaimInput) (Voucher, error) {
	r, _, err := a.stationResident(ctx, by, in)
	if err != nil {
		return Voucher{}, err
	}
	return a.claimFor(ctx, r, in.CampaignID, in.TierID, in.RequestKey, &assistance{by: by, resident: r.ID})
}

// AssistedRegistration enters the resident present in a campaign's
// lottery, as AssistedClaim claims: the same checks of the station, the
// code and the ID number, then the same registration as the resident's
// own, recorded with the station's district and audited.
func (a *App) AssistedRegistration(ctx context.Context, by Officer, in AssistedClaimInput) (Registration, error) {
	r, c, err := a.stationResident(ctx, by, in)
	if err != nil {
		return Registration{}, err
	}
	if c.LotteryClosesAt == nil {
		return Registration{}, Conflict("not_a_lottery")
	}
	audit := a.auditOf(by, ActionStationRegister, "campaign", c.ID, by.District, nil,
		map[string]int64{"tier": in.TierID, "resident": r.ID})
	return a.registerForLottery(ctx, r, c.ID, in.TierID, by.District, &audit)
}

// stationResident is the resident present at a station, identified as
// the campaign asks: the sign-in code sent to their phone, and the ID
// number where it requires real name; the account is made if it is new,
// with the consent the resident gave at the station.
func (a *App) stationResident(ctx context.Context, by Officer, in AssistedClaimInput) (Resident, Campaign, error) {
	if err := requireStation(by); err != nil {
		return Resident{}, Campaign{}, err
	}
	// The campaign is checked before the code is spent: a code read out
	// for another district's campaign stays usable at the right station.
	c, _, err := a.cachedCampaign(ctx, in.CampaignID)
	if err != nil {
		return Resident{}, c, err
	}
	if !(&assistance{by: by}).serves(c) {
		return Resident{}, c, Forbidden("other_district")
	}
	phone, err := NormalizeMobile(in.Phone)
	if err != nil {
		return Resident{}, c, err
	}
	code := strings.TrimSpace(toHalfWidth(in.Code))
	if len(code) != 6 || !allDigits(code) {
		return Resident{}, c, &Error{Code: EINVALID, Reason: "code_format", Fields: map[string]string{"code": "code_format"}}
	}
	if err := a.store.CheckSMSCode(ctx, a.PhoneHash(phone), a.requester(ctx), a.keyedHash(phone, code), a.now()); err != nil {
		return Resident{}, c, err
	}
	hash, sealed, err := a.sealPhone(phone)
	if err != nil {
		return Resident{}, c, err
	}
	r, err := a.store.EnsureResident(ctx, hash, sealed, a.now())
	if err != nil {
		return Resident{}, c, err
	}
	// The code was sent only after the resident agreed (StationSendCode).
	if r, err = a.recordConsent(ctx, r.ID); err != nil {
		return Resident{}, c, err
	}
	if c.RequireRealName {
		if err := a.checkAssistedIdentity(ctx, r, in.Name, in.IDNumber); err != nil {
			return Resident{}, c, err
		}
	}
	return r, c, nil
}

// checkAssistedIdentity checks the ID number the resident showed: against
// the one bound to the account, or, for an account without one, by the
// real-name step itself (which binds it).
func (a *App) checkAssistedIdentity(ctx context.Context, r Resident, name, rawID string) error {
	full, err := a.store.ResidentByID(ctx, r.ID)
	if err != nil {
		return err
	}
	if full.IDHash == nil {
		return a.VerifyIdentity(ctx, r, name, rawID)
	}
	id, ok := NormalizeResidentID(rawID, a.now())
	if !ok {
		return &Error{Code: EINVALID, Reason: "id_invalid", Fields: map[string]string{"id_number": "id_invalid"}}
	}
	if !EqualHash(*full.IDHash, a.IdentityHash(id)) {
		return &Error{Code: ECONFLICT, Reason: "id_mismatch", Fields: map[string]string{"id_number": "id_mismatch"}}
	}
	return nil
}

// StationVoucher returns a voucher claimed at the staff member's station
// (by any of its staff), for its card; any other voucher is not found.
func (a *App) StationVoucher(ctx context.Context, by Officer, code string) (Voucher, error) {
	if err := requireStation(by); err != nil {
		return Voucher{}, err
	}
	return a.stationVoucher(ctx, by, code)
}

func (a *App) stationVoucher(ctx context.Context, by Officer, code string) (Voucher, error) {
	v, err := a.VoucherForStation(ctx, code)
	if err != nil {
		return Voucher{}, err
	}
	if v.AssistedBy == nil {
		return Voucher{}, NotFound("voucher_unknown")
	}
	staff, err := a.store.OfficerByID(ctx, *v.AssistedBy)
	if err != nil || staff.District != by.District {
		return Voucher{}, NotFound("voucher_unknown")
	}
	return v, nil
}

// VoucherForStation reads a voucher by its code (any form of it).
func (a *App) VoucherForStation(ctx context.Context, code string) (Voucher, error) {
	norm, ok := token.NormalizeCode(code)
	if !ok {
		return Voucher{}, NotFound("voucher_unknown")
	}
	return a.store.VoucherByCode(ctx, norm)
}

// PrintCard records that a station printed a voucher's card, and returns
// the voucher for it. Every print is audited: two cards of one voucher
// are one voucher (the first redeemed wins), but the log shows both.
func (a *App) PrintCard(ctx context.Context, by Officer, code, layout string) (Voucher, error) {
	v, err := a.StationVoucher(ctx, by, code)
	if err != nil {
		return Voucher{}, err
	}
	audit := a.auditOf(by, ActionStationPrint, "voucher", v.ID, by.District, nil,
		map[string]any{"station": by.District, "staff": by.Username, "code": v.Code, "layout": layout})
	if err := a.store.MarkPrinted(ctx, v.ID, audit); err != nil {
		return Voucher{}, err
	}
	if v.PrintedAt == nil {
		now := a.now()
		v.PrintedAt = &now
	}
	return v, nil
}
