package app

import "time"

// CityCode is the district code that stands for the whole city: a campaign
// issued under it is accepted in every district.
const CityCode = "500000"

// District is one of Chongqing's district-level divisions (or the city itself).
type District struct {
	Code   string `db:"code" json:"code"`
	NameZH string `db:"name_zh" json:"name_zh"`
	NameEN string `db:"name_en" json:"name_en"`
	Kind   string `db:"kind" json:"kind"`
}

// Category is a consumption category of the city plan (catering, sports …).
type Category struct {
	Code   string `db:"code" json:"code"`
	NameZH string `db:"name_zh" json:"name_zh"`
	NameEN string `db:"name_en" json:"name_en"`
}

// Officer roles. An approver is a district officer (or city admin) with
// the approval right; an auditor reads everything in its scope and
// changes nothing.
const (
	RoleCityAdmin       = "city_admin"
	RoleDistrictOfficer = "district_officer"
	RoleAuditor         = "auditor"
	// RoleStation is the staff of a district's community service station
	// (社区服务站): they claim vouchers for residents who come in and print
	// them as cards, and do nothing else on the officer side.
	RoleStation = "station_staff"
)

// Officer is a finance officer of a district, or of the city.
type Officer struct {
	ID           int64      `db:"id" json:"id"`
	Username     string     `db:"username" json:"username"`
	Name         string     `db:"display_name" json:"name"`
	PasswordHash string     `db:"password_hash" json:"-"`
	Role         string     `db:"role" json:"role"`
	District     string     `db:"district_code" json:"district"`
	CanApprove   bool       `db:"can_approve" json:"can_approve"`
	CreatedAt    time.Time  `db:"created_at" json:"-"`
	DisabledAt   *time.Time `db:"disabled_at" json:"disabled_at,omitempty"`
	// CreatedBy is the account that created this one (nil: the product's
	// seed); the maker-checker rule reads it (see app.checkApprover).
	CreatedBy     *int64     `db:"created_by" json:"created_by,omitempty"`
	ActivatedAt   *time.Time `db:"activated_at" json:"activated_at,omitempty"`
	TOTPEnabledAt *time.Time `db:"totp_enabled_at" json:"-"`
	LockedUntil   *time.Time `db:"locked_until" json:"-"`
}

// SeesAllDistricts reports a city-wide scope: the city admin, and
// officers or auditors of the city itself.
func (o Officer) SeesAllDistricts() bool {
	return !o.IsAdministrator() && (o.Role == RoleCityAdmin || o.District == CityCode)
}

// Sees reports whether the officer may see records of a district.
// The separation-of-duties administrators see no district's records.
func (o Officer) Sees(district string) bool {
	return !o.IsAdministrator() && (o.SeesAllDistricts() || o.District == district)
}

// CanChange reports whether the officer may change records of a district:
// an auditor changes nothing.
func (o Officer) CanChange(district string) bool {
	return o.Role != RoleAuditor && o.Sees(district)
}

// Merchant statuses.
const (
	MerchantPending   = "pending"
	MerchantApproved  = "approved"
	MerchantSuspended = "suspended"
)

// Merchant is a shop that accepts vouchers.
type Merchant struct {
	ID                int64      `db:"id" json:"id"`
	Name              string     `db:"name" json:"name"`
	District          string     `db:"district_code" json:"district"`
	Category          string     `db:"category_code" json:"category"`
	Address           string     `db:"address" json:"address"`
	Status            string     `db:"status" json:"status"`
	CreatedAt         time.Time  `db:"created_at" json:"-"`
	USCC              string     `db:"uscc" json:"uscc,omitempty"`
	USCCChecksumOK    bool       `db:"uscc_checksum_ok" json:"uscc_checksum_ok"`
	ContactName       string     `db:"contact_name" json:"-"`
	ContactPhone      string     `db:"-" json:"-"` // opened from PhoneSealed where needed
	SettlementAccount string     `db:"-" json:"-"` // opened from AccountSealed (statements)
	PhoneSealed       []byte     `db:"contact_phone_sealed" json:"-"`
	AccountSealed     []byte     `db:"settlement_account_sealed" json:"-"`
	ReviewNote        string     `db:"review_note" json:"review_note,omitempty"`
	ReviewedBy        *int64     `db:"reviewed_by" json:"-"`
	ReviewedAt        *time.Time `db:"reviewed_at" json:"-"`
}

// Merchant status for a rejected application.
const MerchantRejected = "rejected"

// Cashier roles: the owner manages the merchant's cashiers and sees its
// statements; a cashier redeems.
const (
	CashierOwner = "owner"
	CashierStaff = "cashier"
)

// Cashier is a merchant's staff account that redeems vouchers.
type Cashier struct {
	ID           int64      `db:"id" json:"id"`
	MerchantID   int64      `db:"merchant_id" json:"merchant_id"`
	Username     string     `db:"username" json:"username"`
	Name         string     `db:"display_name" json:"name"`
	PasswordHash string     `db:"password_hash" json:"-"`
	CreatedAt    time.Time  `db:"created_at" json:"-"`
	Role         string     `db:"role" json:"role"`
	DisabledAt   *time.Time `db:"disabled_at" json:"disabled_at,omitempty"`
}

// Resident is a person who claims vouchers, known by a mobile number.
// The number is stored only sealed (PhoneSealed) and as a keyed hash
// (PhoneHash); Phone is filled in by the App when it opens the seal.
type Resident struct {
	ID          int64      `db:"id" json:"id"`
	Phone       string     `db:"-" json:"-"`
	PhoneHash   *string    `db:"phone_hash" json:"-"`
	PhoneSealed []byte     `db:"phone_sealed" json:"-"`
	CreatedAt   time.Time  `db:"created_at" json:"-"`
	IDHash      *string    `db:"id_hash" json:"-"`   // set once the real-name step is done
	ErasedAt    *time.Time `db:"erased_at" json:"-"` // the resident asked for deletion: a tombstone
	// The resident's last agreement to the 用户协议 and 隐私政策: when, and
	// to which version of the texts (nil: none on record).
	ConsentedAt    *time.Time `db:"consented_at" json:"-"`
	ConsentVersion *string    `db:"consent_version" json:"-"`
}

// RealName reports whether the resident has done the real-name step.
func (r Resident) RealName() bool { return r.IDHash != nil }

// MaskedPhone shows a number the way receipts do: 138****1234.
func (r Resident) MaskedPhone() string { return MaskPhone(r.Phone) }

// MaskPhone shows a mobile number the way receipts do: 138****1234.
func MaskPhone(phone string) string {
	if len(phone) != 11 {
		return "***"
	}
	return phone[:3] + "****" + phone[7:]
}

// MaskAccount shows a bank account the way bank slips do, its first and
// last four digits (6222 **** **** 1234): enough to match it against the
// licence holder's bank card, too little to pay into it.
func MaskAccount(account string) string {
	if len(account) < 8 {
		return "****"
	}
	return account[:4] + " **** **** " + account[len(account)-4:]
}

// Campaign statuses as stored. The status people see also depends on the
// clock: an approved campaign is "scheduled" before its claim window,
// "live" inside it and "ended" after it (see Campaign.Phase).
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusApproved  = "approved"
	StatusPaused    = "paused"
	StatusEnded     = "ended"
	StatusRejected  = "rejected"

	PhaseScheduled = "scheduled"
	PhaseLive      = "live"
	PhaseEnded     = "ended"
)

// Validity and release modes.
const (
	ValidityDays  = "days"  // N days after claim, to 23:59:59 Asia/Shanghai
	ValidityFixed = "fixed" // from one date to another
	ReleaseOnce   = "once"  // all stock when claims open
	ReleaseDrops  = "drops" // stock in drops at set times
)

// Campaign is one consumption-voucher campaign with its budget and tiers.
type Campaign struct {
	ID               int64    `db:"id" json:"id"`
	Name             string   `db:"name" json:"name"`
	Season           string   `db:"season" json:"season"`
	District         string   `db:"district_code" json:"district"`
	Category         string   `db:"category_code" json:"category"` // the first of Categories
	Categories       []string `db:"-" json:"categories"`
	BudgetFen        Fen      `db:"budget_fen" json:"budget_fen"`
	PendingBudgetFen *Fen     `db:"pending_budget_fen" json:"pending_budget_fen,omitempty"`
	PendingBy        *int64   `db:"pending_by" json:"pending_by,omitempty"`
	// A lottery campaign's registration closes at LotteryClosesAt (nil:
	// first come, first served); LotteryDrawnAt is set once drawn.
	LotteryClosesAt *time.Time `db:"lottery_closes_at" json:"lottery_closes_at,omitempty"`
	LotteryDrawnAt  *time.Time `db:"lottery_drawn_at" json:"lottery_drawn_at,omitempty"`
	// A move of quantity between tiers waiting for a second officer.
	PendingMoveFrom  *int64     `db:"pending_move_from" json:"pending_move_from,omitempty"`
	PendingMoveTo    *int64     `db:"pending_move_to" json:"pending_move_to,omitempty"`
	PendingMoveN     *int64     `db:"pending_move_n" json:"pending_move_n,omitempty"`
	PendingMoveBy    *int64     `db:"pending_move_by" json:"pending_move_by,omitempty"`
	Status           string     `db:"status" json:"status"`
	RejectionReason  string     `db:"rejection_reason" json:"rejection_reason,omitempty"`
	ClaimStartsAt    time.Time  `db:"claim_starts_at" json:"claim_starts_at"`
	ClaimEndsAt      time.Time  `db:"claim_ends_at" json:"claim_ends_at"`
	ValidityMode     string     `db:"validity_mode" json:"validity_mode"`
	ValidDays        int        `db:"valid_days" json:"valid_days"`
	ValidFrom        *time.Time `db:"valid_from" json:"valid_from,omitempty"`
	ValidUntil       *time.Time `db:"valid_until" json:"valid_until,omitempty"`
	PerResidentLimit int        `db:"per_resident_limit" json:"per_resident_limit"`
	PerDayLimit      int        `db:"per_day_limit" json:"per_day_limit"`
	PerTierLimit     int        `db:"per_tier_limit" json:"per_tier_limit"`
	ReleaseMode      string     `db:"release_mode" json:"release_mode"`
	DropRollover     bool       `db:"drop_rollover" json:"drop_rollover"`
	RecycleExpired   bool       `db:"recycle_expired" json:"recycle_expired"`
	RequireRealName  bool       `db:"require_real_name" json:"require_real_name"`
	MaxBillFen       Fen        `db:"max_bill_fen" json:"max_bill_fen"` // a bill above it is a typo at the till
	CreatedBy        int64      `db:"created_by" json:"created_by"`
	CreatedAt        time.Time  `db:"created_at" json:"created_at"`
	SubmittedAt      *time.Time `db:"submitted_at" json:"submitted_at,omitempty"`
	ApprovedBy       *int64     `db:"approved_by" json:"approved_by,omitempty"`
	ApprovedAt       *time.Time `db:"approved_at" json:"approved_at,omitempty"`
	ClaimedCount     int64      `db:"claimed_count" json:"claimed"`
	RedeemedCount    int64      `db:"redeemed_count" json:"redeemed"`
	ReversedCount    int64      `db:"reversed_count" json:"reversed"`
	ReachResidents   int64      `db:"reach_residents" json:"reach_residents"`
	ReachMerchants   int64      `db:"reach_merchants" json:"reach_merchants"`
	SubsidyFen       Fen        `db:"subsidy_fen" json:"subsidy_fen"`
	ConsumptionFen   Fen        `db:"consumption_fen" json:"consumption_fen"`
	Tiers            []Tier     `db:"-" json:"tiers"`
	Drops            []Drop     `db:"-" json:"drops,omitempty"`
	Include          []int64    `db:"-" json:"include_merchants,omitempty"`
	Exclude          []int64    `db:"-" json:"exclude_merchants,omitempty"`
}

// Phase is the status a person sees at time now.
func (c Campaign) Phase(now time.Time) string {
	if c.Status != StatusApproved {
		return c.Status
	}
	switch {
	case now.Before(c.ClaimStartsAt):
		return PhaseScheduled
	case now.Before(c.ClaimEndsAt):
		return PhaseLive
	default:
		return PhaseEnded
	}
}

// Committed is Σ face × quantity over the tiers, less the vouchers that
// expired unredeemed: the most the campaign can still spend. It is a
// checked sum: a figure beyond int64 saturates at MaxCommitted, above any
// budget, instead of wrapping round to a negative number that passes.
func (c Campaign) Committed() Fen {
	var sum Fen
	for _, t := range c.Tiers {
		sum = AddFen(sum, MulFen(t.FaceFen, t.Quantity-t.Expired))
	}
	return sum
}

// NextDrop is the first drop that opens after now, if any.
func (c Campaign) NextDrop(now time.Time) *Drop {
	var next *Drop
	for i := range c.Drops {
		d := &c.Drops[i]
		if d.OpensAt.After(now) && (next == nil || d.OpensAt.Before(next.OpensAt)) {
			next = d
		}
	}
	return next
}

// Accepts reports whether a merchant may redeem the campaign's vouchers:
// its category is one of the campaign's and it is in the campaign's
// district (any district for a city-wide campaign), or it is named on the
// include list; and it is not on the exclude list.
func (c Campaign) Accepts(m Merchant) bool {
	for _, id := range c.Exclude {
		if id == m.ID {
			return false
		}
	}
	for _, id := range c.Include {
		if id == m.ID {
			return true
		}
	}
	return c.hasCategory(m.Category) && (c.District == CityCode || c.District == m.District)
}

func (c Campaign) hasCategory(code string) bool {
	for _, k := range c.Categories {
		if k == code {
			return true
		}
	}
	return false
}

// Tier is one kind of voucher in a campaign: 满Threshold减Face, Quantity of
// them in all (across drops), Released so far, Remaining to claim now.
type Tier struct {
	ID            int64 `db:"id" json:"id"`
	CampaignID    int64 `db:"campaign_id" json:"campaign_id"`
	FaceFen       Fen   `db:"face_fen" json:"face_fen"`
	ThresholdFen  Fen   `db:"threshold_fen" json:"threshold_fen"`
	Quantity      int64 `db:"quantity" json:"quantity"`
	Released      int64 `db:"released" json:"released"`
	Remaining     int64 `db:"remaining" json:"remaining"`
	Lapsed        int64 `db:"lapsed" json:"lapsed"`   // unclaimed stock of drops that lapsed
	Expired       int64 `db:"expired" json:"expired"` // claimed vouchers that expired unredeemed
	ClaimedCount  int64 `db:"claimed_count" json:"claimed"`
	RedeemedCount int64 `db:"redeemed_count" json:"redeemed"`
	ReversedCount int64 `db:"reversed_count" json:"reversed"`
}

// Drop is one scheduled release of a tier's stock.
type Drop struct {
	ID         int64      `db:"id" json:"id"`
	CampaignID int64      `db:"campaign_id" json:"campaign_id"`
	TierID     int64      `db:"tier_id" json:"tier_id"`
	OpensAt    time.Time  `db:"opens_at" json:"opens_at"`
	Quantity   int64      `db:"quantity" json:"quantity"`
	ReleasedAt *time.Time `db:"released_at" json:"released_at,omitempty"`
}

// Voucher statuses as stored; "expired" is derived from the clock.
const (
	VoucherClaimed  = "claimed"
	VoucherRedeemed = "redeemed"
	VoucherExpired  = "expired"
	VoucherVoided   = "voided" // a state shown, never stored: see Voucher.VoidedAt
)

// Voucher is a claimed voucher with what a wallet or a cashier needs to show.
type Voucher struct {
	ID           int64      `db:"id" json:"-"`
	Code         string     `db:"code" json:"code"`
	CampaignID   int64      `db:"campaign_id" json:"campaign_id"`
	TierID       int64      `db:"tier_id" json:"tier_id"`
	ResidentID   int64      `db:"resident_id" json:"-"`
	Status       string     `db:"status" json:"status"`
	Token        string     `db:"token" json:"token"`
	ClaimedAt    time.Time  `db:"claimed_at" json:"claimed_at"`
	ExpiresAt    time.Time  `db:"expires_at" json:"expires_at"`
	RedeemedAt   *time.Time `db:"redeemed_at" json:"redeemed_at,omitempty"`
	ValidFrom    *time.Time `db:"valid_from" json:"valid_from,omitempty"`
	CampaignName string     `db:"campaign_name" json:"campaign_name"`
	District     string     `db:"district_code" json:"district"`
	Category     string     `db:"category_code" json:"category"`
	FaceFen      Fen        `db:"face_fen" json:"face_fen"`
	ThresholdFen Fen        `db:"threshold_fen" json:"threshold_fen"`
	MaxBillFen   Fen        `db:"max_bill_fen" json:"-"` // the campaign's
	// Where it was used, once redeemed.
	MerchantName *string `db:"merchant_name" json:"merchant_name,omitempty"`
	// Voided by two officers (void.go): when, and the reason the
	// resident is shown.
	VoidedAt   *time.Time `db:"voided_at" json:"voided_at,omitempty"`
	VoidReason string     `db:"void_reason" json:"void_reason,omitempty"`
	// Claimed at a community service station: the staff member who
	// claimed it for the resident, and when its card was first printed.
	AssistedBy *int64     `db:"assisted_by" json:"-"`
	PrintedAt  *time.Time `db:"printed_at" json:"printed_at,omitempty"`
}

// Assisted reports a voucher claimed for the resident at a station.
func (v Voucher) Assisted() bool { return v.AssistedBy != nil }

// State is the status a person sees at time now: claimed, redeemed or expired.
func (v Voucher) State(now time.Time) string {
	if v.VoidedAt != nil {
		return VoucherVoided
	}
	if v.Status == VoucherClaimed && !now.Before(v.ExpiresAt) {
		return VoucherExpired
	}
	return v.Status
}

// Redemption is one use of a voucher at a merchant.
type Redemption struct {
	ID             int64      `db:"id" json:"id"`
	VoucherID      int64      `db:"voucher_id" json:"-"`
	CampaignID     int64      `db:"campaign_id" json:"campaign_id"`
	MerchantID     int64      `db:"merchant_id" json:"merchant_id"`
	CashierID      int64      `db:"cashier_id" json:"cashier_id"`
	BillFen        Fen        `db:"bill_fen" json:"bill_fen"`
	DiscountFen    Fen        `db:"discount_fen" json:"discount_fen"`
	IdempotencyKey string     `db:"idempotency_key" json:"idempotency_key"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	ReversedAt     *time.Time `db:"reversed_at" json:"reversed_at,omitempty"`
	ReversedBy     *int64     `db:"reversed_by" json:"reversed_by,omitempty"`
	WaitS          int64      `db:"wait_s" json:"-"` // claim to redemption, see ClaimToRedeemSeconds
	// Replayed is true when this is the stored answer to a retried request.
	Replayed bool `db:"-" json:"replayed"`
	// ClawbackFen is, on a reversal of a day already paid, the subsidy to
	// be netted against the merchant's next payment (see Clawback).
	ClawbackFen Fen `db:"-" json:"clawback_fen,omitempty"`
}

// ClaimToRedeemSeconds is the time from claim to redemption in whole
// seconds (rounded down), computed once when the redemption is written and
// stored with it: the rollups and the raw recount read that one figure.
func ClaimToRedeemSeconds(claimed, redeemed time.Time) int64 {
	return max(0, int64(redeemed.Sub(claimed)/time.Second))
}

// PayFen is what the customer still pays.
func (r Redemption) PayFen() Fen { return r.BillFen - r.DiscountFen }
