package app

import (
	"context"
	"time"
)

// Statement is one merchant's settlement for one day (Asia/Shanghai) from
// one fund: what the funding district owes the merchant for that day's
// redemptions of its campaigns. Money is settled by the district that
// budgeted it: a 渝中 campaign redeemed at a 江北 merchant is 渝中's to pay,
// and a city-wide campaign's redemptions are the city's, so a merchant may
// have several statements for one day, one per funding district.
type Statement struct {
	MerchantID      int64      `db:"merchant_id" json:"merchant_id"`
	MerchantName    string     `db:"merchant_name" json:"merchant_name"`
	District        string     `db:"district_code" json:"district"`
	FundingDistrict string     `db:"funding_district" json:"funding_district"`
	Account         string     `db:"-" json:"-"`
	AccountSealed   []byte     `db:"settlement_account_sealed" json:"-"` // opened into Account by the App
	Day             string     `db:"day" json:"day"`
	Redemptions     int64      `db:"redemptions" json:"redemptions"`
	Reversals       int64      `db:"reversals" json:"reversals"`
	SubsidyFen      Fen        `db:"subsidy_fen" json:"subsidy_payable_fen"`
	ConsumptionFen  Fen        `db:"consumption_fen" json:"consumption_fen"`
	PaidAt          *time.Time `db:"paid_at" json:"paid_at,omitempty"`
	PaidBy          *int64     `db:"paid_by" json:"paid_by,omitempty"`
}

// StatementKey names one statement: who is paid, for which day, from
// which district's fund.
type StatementKey struct {
	MerchantID      int64
	Day             string
	FundingDistrict string
}

// StatementFilter selects statements.
type StatementFilter struct {
	MerchantID int64  // 0 = any
	District   string // funding district; "" = any
	From, To   string // Asia/Shanghai dates, inclusive
}

// Today is the Asia/Shanghai date of now.
func (a *App) Today() string { return LocalDay(a.now()) }

// DayOver reports whether a day (Asia/Shanghai) is over at now, so that its
// statement may be paid: until midnight a refund may still reverse one of
// its redemptions. The store asks it again at the writer's time.
func DayOver(day string, now time.Time) bool { return day < LocalDay(now) }

func validDay(s string) bool {
	_, err := time.ParseInLocation("2006-01-02", s, Shanghai)
	return err == nil
}

// MerchantStatements lists the owner's merchant's daily statements.
func (a *App) MerchantStatements(ctx context.Context, owner Cashier, from, to string) ([]Statement, error) {
	if owner.Role != CashierOwner {
		return nil, Forbidden("owner_only")
	}
	return a.statements(ctx, StatementFilter{MerchantID: owner.MerchantID, From: from, To: to})
}

// DistrictStatements lists what the funds in the officer's scope owe: a
// district officer sees their own district's campaigns' statements, at
// whichever merchant they were redeemed.
func (a *App) DistrictStatements(ctx context.Context, by Officer, from, to string) ([]Statement, error) {
	f := StatementFilter{From: from, To: to}
	if !by.SeesAllDistricts() {
		f.District = by.District
	}
	return a.statements(ctx, f)
}

func (a *App) statements(ctx context.Context, f StatementFilter) ([]Statement, error) {
	if !validDay(f.From) || !validDay(f.To) || f.To < f.From {
		return nil, Invalid("date_format")
	}
	sts, err := a.store.Statements(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range sts {
		if err := a.open(&sts[i].Account, sts[i].AccountSealed, SealedSettlementAccount); err != nil {
			return nil, err
		}
	}
	return sts, nil
}

// MarkPaid records that a funding district paid a merchant's statement
// of a finished day, freezing its figures. Today's cannot be: a refund may
// still reverse a redemption until midnight. Only an officer who may
// change the funding district's records pays: 江北's officers never pay
// what 渝中's campaigns owe, even at a 江北 merchant. An empty funding
// district means the officer's own.
func (a *App) MarkPaid(ctx context.Context, by Officer, k StatementKey) (Statement, error) {
	if k.FundingDistrict == "" {
		k.FundingDistrict = by.District
	}
	if !by.Sees(k.FundingDistrict) || !a.knownIssuer(k.FundingDistrict) {
		return Statement{}, NotFound("statement_empty")
	}
	if !by.CanChange(k.FundingDistrict) {
		return Statement{}, Forbidden("read_only")
	}
	m, err := a.store.MerchantByID(ctx, k.MerchantID)
	if err != nil {
		return Statement{}, err
	}
	if !validDay(k.Day) {
		return Statement{}, Invalid("date_format")
	}
	if !DayOver(k.Day, a.now()) {
		return Statement{}, Conflict("day_not_closed")
	}
	audit := a.auditOf(by, ActionSettlementPay, "merchant", k.MerchantID, k.FundingDistrict, nil, nil)
	st, err := a.store.MarkPaid(ctx, k, by.ID, audit)
	if err == nil {
		err = a.open(&st.Account, st.AccountSealed, SealedSettlementAccount)
	}
	if err != nil {
		return st, err
	}
	a.log.InfoContext(ctx, "statement paid", "merchant", k.MerchantID, "merchant_district", m.District, "day", k.Day,
		"funding_district", k.FundingDistrict, "subsidy_fen", int64(st.SubsidyFen), "officer", by.ID)
	return st, nil
}
