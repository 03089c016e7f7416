package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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
	BatchID         *int64     `db:"batch_id" json:"batch_id,omitempty"` // the payment batch that paid it
	Held            bool       `db:"held" json:"held"`                   // unpaid, and its fund holds payments to the merchant
}

// StatementKey names one statement: who is paid, for which day, from
// which district's fund.
type StatementKey struct {
	MerchantID      int64
	Day             string
	FundingDistrict string
}

// StatementFilter selects statements. The zero value of each field
// selects all; From and To are required.
type StatementFilter struct {
	MerchantID       int64  // 0 = any
	District         string // funding district; "" = any
	MerchantDistrict string // the merchant's own district; "" = any
	Merchant         string // part of the merchant's name; "" = any
	From, To         string // Asia/Shanghai dates, inclusive
	Paid             string // PaidOnly, UnpaidOnly or "" for both
	// Limit and Offset page the list, which is ordered newest day first;
	// a Limit of 0 lists all. Totals ignore them.
	Limit, Offset int
}

// The Paid choices of a StatementFilter.
const (
	PaidOnly   = "paid"
	UnpaidOnly = "unpaid"
)

// StatementTotals sums the statements a filter selects, over every page.
// Payable is what a payment of the selection would pay now: its unpaid
// statements of days that are over.
type StatementTotals struct {
	Statements     int64 `db:"statements" json:"statements"`
	Merchants      int64 `db:"merchants" json:"merchants"`
	Redemptions    int64 `db:"redemptions" json:"redemptions"`
	Reversals      int64 `db:"reversals" json:"reversals"`
	SubsidyFen     Fen   `db:"subsidy_fen" json:"subsidy_payable_fen"`
	ConsumptionFen Fen   `db:"consumption_fen" json:"consumption_fen"`
	PaidFen        Fen   `db:"paid_fen" json:"paid_fen"`
	Payable        int64 `db:"payable" json:"payable_statements"`
	PayableFen     Fen   `db:"payable_fen" json:"payable_fen"`
	HeldFen        Fen   `db:"held_fen" json:"held_fen"` // unpaid and on hold
}

// UnpaidFen is what the selection still owes.
func (t StatementTotals) UnpaidFen() Fen { return t.SubsidyFen - t.PaidFen }

// Payment is what paying a selection does: the number of statements and
// their sum, less the clawbacks it nets. An officer confirms one (the
// store's PaymentPreview); the store pays only if it finds exactly that,
// so a statement or clawback that appeared or changed since the
// confirmation page was drawn is never paid unseen.
type Payment struct {
	Statements  int64  `json:"statements"`
	Merchants   int64  `json:"merchants"`
	SubsidyFen  Fen    `json:"subsidy_fen"`
	ClawbackFen Fen    `json:"clawback_fen"`
	FromDay     string `json:"from,omitempty"`
	ToDay       string `json:"to,omitempty"`
}

// NetFen is what the bank transfers.
func (p Payment) NetFen() Fen { return p.SubsidyFen - p.ClawbackFen }

// Clawback is a refund that came after its day was paid: the merchant
// holds the subsidy of a redemption that no longer stands. The paid
// statement stays as paid; the clawback is netted against the merchant's
// next payment from the same fund, never lost and never taken twice.
type Clawback struct {
	ID              int64     `db:"id" json:"id"`
	RedemptionID    int64     `db:"redemption_id" json:"redemption_id"`
	MerchantID      int64     `db:"merchant_id" json:"merchant_id"`
	FundingDistrict string    `db:"funding_district" json:"funding_district"`
	Day             string    `db:"day" json:"day"`
	SubsidyFen      Fen       `db:"subsidy_fen" json:"subsidy_fen"`
	ConsumptionFen  Fen       `db:"consumption_fen" json:"consumption_fen"`
	CreatedAt       time.Time `db:"created_at" json:"created_at"`
	BatchID         *int64    `db:"batch_id" json:"batch_id,omitempty"` // the payment that netted it
}

// NettedIn is the batch that netted it, 0 while it is open.
func (c Clawback) NettedIn() int64 {
	if c.BatchID == nil {
		return 0
	}
	return *c.BatchID
}

// NetClawbacks picks the open clawbacks a payment nets: for each merchant
// it pays (gross: what its statements in the payment add up to), its
// oldest clawbacks while their sum stays within that amount, so that no
// transfer is negative; the rest wait for the merchant's next payment.
// open must be in the order they were made.
func NetClawbacks(gross map[int64]Fen, open []Clawback) []Clawback {
	left := make(map[int64]Fen, len(gross))
	for m, f := range gross {
		left[m] = f
	}
	var out []Clawback
	blocked := map[int64]bool{} // oldest first: a clawback never jumps one that did not fit
	for _, c := range open {
		room, paid := left[c.MerchantID]
		if !paid || blocked[c.MerchantID] || c.SubsidyFen > room {
			blocked[c.MerchantID] = paid
			continue
		}
		left[c.MerchantID] = room - c.SubsidyFen
		out = append(out, c)
	}
	return out
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

// MerchantStatements lists the owner's merchant's daily statements (of
// one fund, if f.District names one), with their totals.
func (a *App) MerchantStatements(ctx context.Context, owner Cashier, f StatementFilter) ([]Statement, StatementTotals, error) {
	if owner.Role != CashierOwner {
		return nil, StatementTotals{}, Forbidden("owner_only")
	}
	f = StatementFilter{MerchantID: owner.MerchantID, District: f.District, From: f.From, To: f.To}
	sts, err := a.statements(ctx, f)
	if err != nil {
		return nil, StatementTotals{}, err
	}
	tot, err := a.store.StatementTotals(ctx, f, a.Today())
	return sts, tot, err
}

// DistrictStatements lists a page of what the funds in the officer's
// scope owe, with the totals of the whole selection: a district officer
// sees their own district's campaigns' statements, at whichever merchant
// they were redeemed.
func (a *App) DistrictStatements(ctx context.Context, by Officer, f StatementFilter) ([]Statement, StatementTotals, error) {
	f = scopeStatements(by, f)
	sts, err := a.statements(ctx, f)
	if err != nil {
		return nil, StatementTotals{}, err
	}
	tot, err := a.store.StatementTotals(ctx, f, a.Today())
	return sts, tot, err
}

// scopeStatements narrows a filter to the funds the officer sees.
func scopeStatements(by Officer, f StatementFilter) StatementFilter {
	if !by.SeesAllDistricts() {
		f.District = by.District
	}
	if f.Paid != PaidOnly && f.Paid != UnpaidOnly {
		f.Paid = ""
	}
	return f
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

// payingFund is the fund an officer pays from: the one named, or their
// own district's when none is. A fund outside their scope is answered as
// if there were nothing to pay; an auditor's is read-only.
func (a *App) payingFund(by Officer, fund string) (string, error) {
	if fund == "" {
		fund = by.District
	}
	if !by.Sees(fund) || !a.knownIssuer(fund) {
		return "", NotFound("statement_empty")
	}
	if !by.CanChange(fund) {
		return "", Forbidden("read_only")
	}
	return fund, nil
}

// MarkPaid records that a funding district paid a merchant's statement
// of a finished day, freezing its figures. Today's cannot be: a refund may
// still reverse a redemption until midnight. Only an officer who may
// change the funding district's records pays: 江北's officers never pay
// what 渝中's campaigns owe, even at a 江北 merchant. An empty funding
// district means the officer's own.
func (a *App) MarkPaid(ctx context.Context, by Officer, k StatementKey) (Statement, error) {
	var err error
	if k.FundingDistrict, err = a.payingFund(by, k.FundingDistrict); err != nil {
		return Statement{}, err
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

// PaymentBatch is one payment instruction: the statements of one fund an
// officer marked paid together. Its payment file (PaymentLines) is what
// the bank is asked to transfer, one line per merchant.
type PaymentBatch struct {
	ID              int64     `db:"id" json:"id"`
	FundingDistrict string    `db:"funding_district" json:"funding_district"`
	CreatedAt       time.Time `db:"created_at" json:"created_at"`
	CreatedBy       int64     `db:"created_by" json:"created_by"`
	CreatedByName   string    `db:"created_by_name" json:"created_by_name"`
	Statements      int64     `db:"statements" json:"statements"`
	Merchants       int64     `db:"merchants" json:"merchants"`
	SubsidyFen      Fen       `db:"subsidy_fen" json:"subsidy_fen"`
	ClawbackFen     Fen       `db:"clawback_fen" json:"clawback_fen"` // netted: the bank transfers SubsidyFen - ClawbackFen
	FromDay         string    `db:"from_day" json:"from"`
	ToDay           string    `db:"to_day" json:"to"`
}

// NetFen is what the bank transfers for the batch.
func (b PaymentBatch) NetFen() Fen { return b.SubsidyFen - b.ClawbackFen }

// Reference is what the bank carries to the merchant's statement of
// account for one line of the batch, so that a merchant and an auditor
// can match a transfer to its statements.
func (b PaymentBatch) Reference(merchantID int64) string {
	return paymentReference(b.FundingDistrict, b.ID, merchantID)
}

// PaymentReference is the reference of the transfer that paid the
// statement, "" while it is unpaid (or was paid before batches).
func (st Statement) PaymentReference() string {
	if st.BatchID == nil {
		return ""
	}
	return paymentReference(st.FundingDistrict, *st.BatchID, st.MerchantID)
}

func paymentReference(fund string, batch, merchant int64) string {
	return fmt.Sprintf("CQV-%s-%06d-%06d", fund, batch, merchant)
}

// PaymentLine is one merchant's transfer in a batch: the sum of its
// statements in it.
type PaymentLine struct {
	MerchantID    int64  `db:"merchant_id"`
	MerchantName  string `db:"merchant_name"`
	Account       string `db:"-"`
	AccountSealed []byte `db:"settlement_account_sealed"`
	Statements    int64  `db:"statements"`
	SubsidyFen    Fen    `db:"subsidy_fen"`
	ClawbackFen   Fen    `db:"clawback_fen"`
	FromDay       string `db:"from_day"`
	ToDay         string `db:"to_day"`
}

// NetFen is the line's transfer: its statements less its clawbacks.
func (l PaymentLine) NetFen() Fen { return l.SubsidyFen - l.ClawbackFen }

// PayStatements marks paid, as one batch, every unpaid statement of a
// finished day that the filter selects, once the officer has confirmed
// what it holds (want). A batch is from one fund: the filter's funding
// district, the officer's own when empty, which the officer must be able
// to change. Paging is ignored: the whole selection is paid.
func (a *App) PayStatements(ctx context.Context, by Officer, f StatementFilter, want Payment) (PaymentBatch, error) {
	f, err := a.paymentSelection(by, f)
	if err != nil {
		return PaymentBatch{}, err
	}
	if want.Statements <= 0 {
		return PaymentBatch{}, NotFound("nothing_to_pay")
	}
	audit := a.auditOf(by, ActionSettlementPayBatch, "payment_batch", 0, f.District, nil, nil)
	b, err := a.store.PayStatements(ctx, f, &want, by.ID, audit)
	if err != nil {
		return b, err
	}
	a.log.InfoContext(ctx, "statements paid", "batch", b.ID, "funding_district", b.FundingDistrict, "statements", b.Statements,
		"merchants", b.Merchants, "subsidy_fen", int64(b.SubsidyFen), "clawback_fen", int64(b.ClawbackFen), "officer", by.ID)
	return b, nil
}

// PaymentPreview is what PayStatements would pay now for the selection:
// what the confirmation shows and the officer confirms.
func (a *App) PaymentPreview(ctx context.Context, by Officer, f StatementFilter) (Payment, error) {
	f, err := a.paymentSelection(by, f)
	if err != nil {
		return Payment{}, err
	}
	return a.store.PaymentPreview(ctx, f, a.Today())
}

// paymentSelection is the selection a payment pays from: one fund the
// officer pays from, readable days, every page.
func (a *App) paymentSelection(by Officer, f StatementFilter) (StatementFilter, error) {
	var err error
	if f.District, err = a.payingFund(by, f.District); err != nil {
		return f, err
	}
	if !validDay(f.From) || !validDay(f.To) || f.To < f.From {
		return f, Invalid("date_format")
	}
	f.Paid, f.Limit, f.Offset = UnpaidOnly, 0, 0
	return f, nil
}

// PaymentBatches lists the latest batches of the funds the officer sees.
func (a *App) PaymentBatches(ctx context.Context, by Officer, limit int) ([]PaymentBatch, error) {
	district := ""
	if !by.SeesAllDistricts() {
		district = by.District
	}
	if by.IsAdministrator() {
		return nil, Forbidden("officer_role")
	}
	return a.store.PaymentBatches(ctx, district, limit)
}

// PaymentBatch reads one batch of a fund the officer sees.
func (a *App) PaymentBatch(ctx context.Context, by Officer, id int64) (PaymentBatch, error) {
	b, err := a.store.PaymentBatch(ctx, id)
	if err == nil && !by.Sees(b.FundingDistrict) {
		return PaymentBatch{}, NotFound("batch_not_found")
	}
	return b, err
}

// PaymentFile returns a batch with its lines, the merchants' accounts
// opened, for the bank transfer. The file carries bank accounts: taking
// it is recorded in the audit log like any export of personal data.
func (a *App) PaymentFile(ctx context.Context, by Officer, batchID int64) (PaymentBatch, []PaymentLine, error) {
	b, err := a.PaymentBatch(ctx, by, batchID)
	if err != nil {
		return b, nil, err
	}
	lines, err := a.store.PaymentLines(ctx, batchID)
	if err != nil {
		return b, nil, err
	}
	for i := range lines {
		if err := a.open(&lines[i].Account, lines[i].AccountSealed, SealedSettlementAccount); err != nil {
			return b, nil, err
		}
	}
	if err := a.RecordExport(ctx, by, ActionExportPaymentFile, map[string]string{"batch": fmt.Sprint(batchID)}); err != nil {
		return b, nil, err
	}
	return b, lines, nil
}

// SettlementHold stops a fund's payments to a merchant pending review: its
// statements are listed, and none is paid until the hold is released.
type SettlementHold struct {
	ID              int64     `db:"id" json:"id"`
	MerchantID      int64     `db:"merchant_id" json:"merchant_id"`
	MerchantName    string    `db:"merchant_name" json:"merchant_name"`
	FundingDistrict string    `db:"funding_district" json:"funding_district"`
	HeldAt          time.Time `db:"held_at" json:"held_at"`
	HeldBy          int64     `db:"held_by" json:"held_by"`
	HeldByName      string    `db:"held_by_name" json:"held_by_name"`
	Reason          string    `db:"reason" json:"reason"`
}

// HoldStatements holds the fund's payments to a merchant, for a reason
// that is required and kept in the audit log. Only an officer who may pay
// from the fund holds it.
func (a *App) HoldStatements(ctx context.Context, by Officer, merchantID int64, fund, reason string) error {
	fund, reason, err := a.holdCheck(ctx, by, merchantID, fund, reason)
	if err != nil {
		return err
	}
	audit := a.auditOf(by, ActionSettlementHold, "merchant", merchantID, fund, nil, map[string]string{"reason": reason, "funding_district": fund})
	if err := a.store.HoldStatements(ctx, SettlementHold{MerchantID: merchantID, FundingDistrict: fund, HeldBy: by.ID, Reason: reason}, audit); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "statements held", "merchant", merchantID, "funding_district", fund, "officer", by.ID)
	return nil
}

// ReleaseStatements releases the hold, with a note of what the review
// found (required), so that the statements are paid again.
func (a *App) ReleaseStatements(ctx context.Context, by Officer, merchantID int64, fund, note string) error {
	fund, note, err := a.holdCheck(ctx, by, merchantID, fund, note)
	if err != nil {
		return err
	}
	audit := a.auditOf(by, ActionSettlementRelease, "merchant", merchantID, fund, nil, map[string]string{"note": note, "funding_district": fund})
	if err := a.store.ReleaseStatements(ctx, merchantID, fund, by.ID, note, audit); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "statements released", "merchant", merchantID, "funding_district", fund, "officer", by.ID)
	return nil
}

func (a *App) holdCheck(ctx context.Context, by Officer, merchantID int64, fund, why string) (string, string, error) {
	fund, err := a.payingFund(by, fund)
	if err != nil {
		return "", "", err
	}
	if _, err := a.store.MerchantByID(ctx, merchantID); err != nil {
		return "", "", err
	}
	why = strings.TrimSpace(why)
	switch {
	case why == "":
		return "", "", &Error{Code: EINVALID, Reason: "reason_required", Fields: map[string]string{"reason": "reason_required"}}
	case utf8.RuneCountInString(why) > 500:
		return "", "", &Error{Code: EINVALID, Reason: "too_long", Fields: map[string]string{"reason": "too_long"}}
	}
	return fund, why, nil
}

// SettlementHolds lists the open holds of the funds the officer sees.
func (a *App) SettlementHolds(ctx context.Context, by Officer) ([]SettlementHold, error) {
	fund := ""
	if !by.SeesAllDistricts() {
		fund = by.District
	}
	return a.store.SettlementHolds(ctx, fund)
}

// MerchantClawbacks lists the owner's merchant's clawbacks, newest first.
func (a *App) MerchantClawbacks(ctx context.Context, owner Cashier) ([]Clawback, error) {
	if owner.Role != CashierOwner {
		return nil, Forbidden("owner_only")
	}
	return a.store.Clawbacks(ctx, owner.MerchantID, "")
}
