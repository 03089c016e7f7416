package app

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Merchant review at city scale: officers work through a paged list,
// pending applications first, open one merchant's file to check what it
// submitted, and decide on a confirmation page. Every page and API call
// goes through the functions here.

// MerchantFilter selects merchants for review. The store orders them
// pending first, then suspended, approved and rejected (the order of
// MerchantStatuses), and by id (application order) within a status, so
// the longest-waiting application is on top.
type MerchantFilter struct {
	District string // "" = every district
	Status   string // "" = any
	// Search matches part of the name or the start of the USCC, both
	// without regard to ASCII case.
	Search        string
	Limit, Offset int
}

// MerchantStatuses in the order the review list shows them.
var MerchantStatuses = []string{MerchantPending, MerchantSuspended, MerchantApproved, MerchantRejected}

// Page sizes of the review list.
const (
	MerchantPageSize    = 50
	MerchantPageSizeMax = 200
)

// MerchantList is one page of the review list.
type MerchantList struct {
	Merchants []Merchant `json:"merchants"`
	// Filter is the filter as applied: scoped to the officer's district,
	// the search normalised, the page size bounded.
	Filter MerchantFilter `json:"-"`
	// Total is how many merchants the whole filter matches.
	Total int `json:"total"`
	// ByStatus counts what the filter matches whatever the status, so
	// the status tabs say how many each would show.
	ByStatus map[string]int `json:"by_status"`
}

// MerchantsFor lists a page of the merchants of the officer's scope: a
// district officer sees their own district whatever they ask for.
func (a *App) MerchantsFor(ctx context.Context, by Officer, f MerchantFilter) (MerchantList, error) {
	if !by.SeesAllDistricts() {
		f.District = by.District
	}
	if f.Status != "" && !containsString(MerchantStatuses, f.Status) {
		return MerchantList{}, &Error{Code: EINVALID, Reason: "unknown_status", Fields: map[string]string{"status": "unknown_status"}}
	}
	f.Search = strings.TrimSpace(toHalfWidth(f.Search))
	if utf8.RuneCountInString(f.Search) > 100 {
		return MerchantList{}, &Error{Code: EINVALID, Reason: "too_long", Fields: map[string]string{"q": "too_long"}}
	}
	if f.Limit <= 0 {
		f.Limit = MerchantPageSize
	}
	f.Limit = min(f.Limit, MerchantPageSizeMax)
	f.Offset = max(f.Offset, 0)
	counts, err := a.store.MerchantCounts(ctx, f)
	if err != nil {
		return MerchantList{}, err
	}
	l := MerchantList{Filter: f, ByStatus: counts}
	for status, n := range counts {
		if f.Status == "" || f.Status == status {
			l.Total += n
		}
	}
	if l.Merchants, err = a.store.Merchants(ctx, f); err != nil {
		return MerchantList{}, err
	}
	return l, nil
}

// merchant review actions: from which statuses each may start, where it leads.
var reviewMoves = map[string]struct {
	from       []string
	to         string
	needsNote  bool
	auditLabel string
}{
	"approve":   {[]string{MerchantPending}, MerchantApproved, false, ActionMerchantApprove},
	"reject":    {[]string{MerchantPending}, MerchantRejected, true, ActionMerchantReject},
	"suspend":   {[]string{MerchantApproved}, MerchantSuspended, true, ActionMerchantSuspend},
	"reinstate": {[]string{MerchantSuspended}, MerchantApproved, false, ActionMerchantReinstate},
}

// ReviewActions are the review actions in the order pages offer them.
var ReviewActions = []string{"approve", "reject", "suspend", "reinstate"}

// IsReviewAction reports whether action names a review action.
func IsReviewAction(action string) bool { _, ok := reviewMoves[action]; return ok }

// ReviewNeedsReason reports whether a review action needs a reason (the
// merchant sees it): rejection and suspension do.
func ReviewNeedsReason(action string) bool { return reviewMoves[action].needsNote }

// reviewActionsFrom are the review actions a merchant's status allows.
func reviewActionsFrom(status string) []string {
	var out []string
	for _, action := range ReviewActions {
		if containsString(reviewMoves[action].from, status) {
			out = append(out, action)
		}
	}
	return out
}

// ReviewMerchant approves, rejects, suspends or reinstates a merchant of
// the officer's district. Rejection and suspension need a reason, which
// the merchant sees; suspension stops its redemptions at once.
func (a *App) ReviewMerchant(ctx context.Context, by Officer, id int64, action, note string) error {
	move, ok := reviewMoves[action]
	if !ok {
		return NotFound("page_not_found")
	}
	m, err := a.store.MerchantByID(ctx, id)
	if err != nil {
		return err
	}
	if !by.Sees(m.District) {
		return NotFound("merchant_not_found")
	}
	if !by.CanChange(m.District) {
		return Forbidden("read_only")
	}
	note = strings.TrimSpace(note)
	if move.needsNote && (note == "" || utf8.RuneCountInString(note) > 500) {
		return &Error{Code: EINVALID, Reason: "reason_required", Fields: map[string]string{"reason": "reason_required"}}
	}
	if !containsString(move.from, m.Status) {
		return Conflict("merchant_status")
	}
	return a.store.ReviewMerchant(ctx, MerchantReview{
		MerchantID: id, From: move.from, To: move.to, Note: note, By: by.ID, At: a.now(),
		Audit: a.auditOf(by, move.auditLabel, "merchant", id, m.District, map[string]string{"status": m.Status},
			map[string]string{"status": move.to, "note": note}),
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MerchantReview is one guarded change of a merchant's status.
type MerchantReview struct {
	MerchantID int64
	From       []string
	To, Note   string
	By         int64
	At         time.Time
	Audit      AuditEntry
}

// MerchantFile is what an officer checks before deciding on a merchant:
// the application as submitted, with personal data as this officer may
// see it, what a decision would touch, and the decisions so far.
type MerchantFile struct {
	Merchant Merchant
	// Phone is the contact's number: whole for an officer who may
	// decide (they call to verify), masked for everyone else.
	Phone string
	// Account is the settlement account, always masked: the officer
	// matches it against the licence holder's bank card.
	Account string
	// Cashiers counts the merchant's cashier accounts that can sign in,
	// the owner's included: who a suspension stops.
	Cashiers int
	// Unpaid counts the statements of finished days not yet paid, and
	// what they owe: a suspension leaves them to be paid.
	Unpaid    int
	UnpaidFen Fen
	History   []MerchantEvent
	// CanDecide is whether this officer may decide on the merchant at
	// all (an auditor may not); Actions are the decisions its status
	// allows now.
	CanDecide bool
	Actions   []string
}

// MerchantEvent is one review decision from the audit log.
type MerchantEvent struct {
	At     time.Time
	Actor  string
	Action string // the audit action, e.g. merchant.suspend
	Note   string // the reason given, if any
}

// MerchantFileFor opens a merchant's file for an officer who may see its
// district; another district's merchant does not exist for them.
func (a *App) MerchantFileFor(ctx context.Context, by Officer, id int64) (MerchantFile, error) {
	m, err := a.store.MerchantByID(ctx, id)
	if err != nil {
		return MerchantFile{}, err
	}
	if !by.Sees(m.District) {
		return MerchantFile{}, NotFound("merchant_not_found")
	}
	f := MerchantFile{Merchant: m, CanDecide: by.CanChange(m.District)}
	if f.CanDecide {
		f.Actions = reviewActionsFrom(m.Status)
	}
	if err := a.open(&m.ContactPhone, m.PhoneSealed, SealedMerchantPhone); err != nil {
		return f, err
	}
	if err := a.open(&m.SettlementAccount, m.AccountSealed, SealedSettlementAccount); err != nil {
		return f, err
	}
	f.Phone = MaskPhone(m.ContactPhone)
	if f.CanDecide {
		f.Phone = m.ContactPhone
	}
	f.Account = MaskAccount(m.SettlementAccount)
	cashiers, err := a.store.MerchantCashiers(ctx, id)
	if err != nil {
		return f, err
	}
	for _, c := range cashiers {
		if c.DisabledAt == nil {
			f.Cashiers++
		}
	}
	now := a.now()
	sts, err := a.store.Statements(ctx, StatementFilter{MerchantID: id, From: LocalDay(m.CreatedAt), To: LocalDay(now)})
	if err != nil {
		return f, err
	}
	for _, st := range sts {
		if st.PaidAt == nil && DayOver(st.Day, now) {
			f.Unpaid++
			f.UnpaidFen += st.SubsidyFen
		}
	}
	entries, err := a.AuditLog(ctx, by, AuditFilter{Entity: "merchant", EntityID: id, Action: ActionArea(ActionMerchantApprove), Limit: 200})
	if err != nil {
		return f, err
	}
	for _, e := range entries {
		var after struct {
			Note string `json:"note"`
		}
		_ = json.Unmarshal([]byte(e.AfterJSON), &after) // a record without a note shows none
		f.History = append(f.History, MerchantEvent{At: e.At, Actor: e.Actor, Action: e.Action, Note: after.Note})
	}
	return f, nil
}
