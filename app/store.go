package app

import (
	"context"
	"time"

	"cqvoucher/app/report"
)

// Store is what the domain needs from storage, one interface per area so
// that a backend (SQLite in package db, PostgreSQL later) can be read and
// tested one area at a time (SQLite and PostgreSQL, package db). Every method that moves money or stock is one
// transaction with guarded updates inside the implementation; callers
// never read-then-write (DESIGN.md §3).
type Store interface {
	Ping(ctx context.Context) error
	NewsStore
	ReferenceStore
	CampaignStore
	ClaimStore
	RedemptionStore
	SettlementStore
	VoidStore
	LotteryStore
	AccountStore
	AuditStore
	ReportStore
	ReminderStore // residents' expiry reminders (reminders.go)
	HelpStore     // district contacts and residents' feedback (helpinfo.go, feedback.go)
}

// NewsStore carries cache news between the processes that share one
// database (news.go). Publish delivers news to every process listening,
// this one included, once what changed has committed; on a database only
// one process serves (SQLite) it does nothing.
type NewsStore interface {
	Publish(ctx context.Context, news string) error
}

// ReferenceStore owns the reference data seeded from context/ (DESIGN.md
// §6). It is an area of its own rather than part of ReportStore: campaigns,
// merchants, officers, help pages and the token's issuer check all read
// it, reports no more than the others. Its lists change only by seeding.
type ReferenceStore interface {
	// Districts lists the reference districts, the city first.
	Districts(ctx context.Context) ([]District, error)
	// Categories lists the consumption categories.
	Categories(ctx context.Context) ([]Category, error)
}

// CampaignStore owns campaigns and their parts (tiers, drops, merchant
// lists): their lifecycle, live changes, budget raises and the expiry
// sweep. Its implementation keeps, inside each write's transaction:
// Σ face value committed (tier quantity less expired) ≤ budget when stock
// is added, by a guarded update, never a check in Go first; status
// changes guarded by the current status, so two officers acting at once
// cannot both succeed; a maker never approves their own campaign or
// raise; every write's audit entry in the same transaction; the sweep
// deciding expiry by the writer's now.
type CampaignStore interface {
	// Campaign writes record their audit entry in the same transaction.
	CreateCampaign(ctx context.Context, c *Campaign, audit AuditEntry) error
	// UpdateDraft replaces a draft or rejected campaign and its parts.
	UpdateDraft(ctx context.Context, c *Campaign, audit AuditEntry) error
	Campaign(ctx context.Context, id int64) (Campaign, error)
	Campaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error)
	ChangeCampaignStatus(ctx context.Context, ch StatusChange) error
	ChangeCampaign(ctx context.Context, ch CampaignChange) error
	ApproveBudgetRaise(ctx context.Context, id int64, budget Fen, by int64, audit AuditEntry) error
	// ApplyQuantityMove applies the campaign's pending move, approved by
	// another officer than the one who asked, if the first tier still has
	// the vouchers unclaimed and the budget still covers the move.
	ApplyQuantityMove(ctx context.Context, id int64, m QuantityMove, by int64, audit AuditEntry) error
	// DeclineQuantityMove clears the pending move if it is still m.
	DeclineQuantityMove(ctx context.Context, id int64, m QuantityMove, audit AuditEntry) error
	// EligibleMerchants lists the approved merchants that accept a campaign's vouchers.
	EligibleMerchants(ctx context.Context, c Campaign) ([]Merchant, error)

	// SweepExpired counts up to limit vouchers that expired unredeemed
	// before the writer's time, freeing their budget and recycling them where set.
	// It is here, not in ClaimStore, because what it changes is the
	// campaign's books: the tiers' expired counts and their next drops.
	SweepExpired(ctx context.Context, limit int) ([]ExpiredTier, error)
}

// ClaimStore owns issuing vouchers and reading them back. Its
// implementation keeps, in the one transaction of a claim: a replay by
// request key answered with the stored voucher before any rule check (a
// key reused for another campaign or tier is a conflict); the rules read from the
// stored campaign and tier, never from what the caller passed; the drops
// due released and the stock guard (remaining > 0, so issued ≤ released ≤
// tier quantity); the per-resident, per-day and per-tier limits as
// guarded upserts of counter rows; and the writer's now, read after
// BEGIN, deciding the claim window, the drops and the voucher's validity.
type ClaimStore interface {
	Claim(ctx context.Context, c ClaimInsert) (Voucher, error)
	// WriterQueue is how many write transactions wait for the writer or run on it.
	// It belongs to the writer rather than to claims, but only the claim
	// rush reads it (admission, see Config.AdmissionQueue).
	WriterQueue() int
	// VoucherByRequestKey and ResidentClaimCount read without the writer,
	// so that presses that cannot succeed never queue for it.
	VoucherByRequestKey(ctx context.Context, residentID int64, key string) (Voucher, error)
	ResidentClaimCount(ctx context.Context, campaignID, residentID int64) (int, error)
	// VoucherByCode reads the voucher a claim issued; redemption reads it
	// too, but as a hint only: the writer decides again inside Redeem.
	VoucherByCode(ctx context.Context, code string) (Voucher, error)
	ResidentVouchers(ctx context.Context, residentID int64) ([]Voucher, error)
	// MarkPrinted records a station's print of an assisted voucher's card
	// with its audit row, in one transaction.
	MarkPrinted(ctx context.Context, voucherID int64, audit AuditEntry) error
}

// RedemptionStore owns redemptions and their reversals. Its
// implementation keeps, in one transaction each: a replay by idempotency
// key answered with the stored receipt before any rule check; a voucher
// redeemed at most once (the guarded update on its status and expiry at
// the writer's now); a reversal only inside the reversal window, once, and
// never on a day already paid (the paid-day guard, DESIGN.md §3 "is this
// day closed"); the campaign counters and rollups moved in the same
// transaction, so that they stay a recount of the rows.
type RedemptionStore interface {
	Redeem(ctx context.Context, r RedeemInsert) (Redemption, error)
	// RedemptionByKey finds the redemption a merchant stored under an idempotency key.
	RedemptionByKey(ctx context.Context, merchantID int64, key string) (Redemption, error)
	Reverse(ctx context.Context, r ReverseInsert) (Redemption, error)
	// MerchantRedemptions is the till's own list, from which a cashier
	// picks one to reverse; statements are SettlementStore's.
	MerchantRedemptions(ctx context.Context, merchantID int64, from, to time.Time) ([]RedemptionLine, error)
	// RedemptionOf returns how a voucher was redeemed, with the merchant's name.
	RedemptionOf(ctx context.Context, voucherID int64) (Redemption, string, error)
	// LastReversal returns when a voucher's latest reversed redemption was
	// reversed, or nil when none of its redemptions ever was.
	LastReversal(ctx context.Context, voucherID int64) (*time.Time, error)
}

// SettlementStore owns what districts owe merchants. Its implementation
// computes statements from the redemption rows (reversed ones owe
// nothing) and, in MarkPaid, freezes a merchant-day once, only when the
// day is over at the writer's now, with its audit entry in the same
// transaction; a paid day is then closed to reversals (RedemptionStore).
type SettlementStore interface {
	Statements(ctx context.Context, f StatementFilter) ([]Statement, error)
	// StatementTotals sums the whole selection (no paging); today decides
	// which unpaid statements are payable.
	StatementTotals(ctx context.Context, f StatementFilter, today string) (StatementTotals, error)
	MarkPaid(ctx context.Context, k StatementKey, by int64, audit AuditEntry) (Statement, error)
	// PayStatements pays, as one batch with its audit entry, every unpaid
	// statement the filter selects whose day is over at the writer's time,
	// if they are exactly what want says (a conflict otherwise); the audit
	// entry gains the batch's id and figures.
	PayStatements(ctx context.Context, f StatementFilter, want *Payment, by int64, audit AuditEntry) (PaymentBatch, error)
	// PaymentPreview is what PayStatements would pay if today were the
	// writer's day: the same selection and the same netted clawbacks.
	PaymentPreview(ctx context.Context, f StatementFilter, today string) (Payment, error)
	// Clawbacks lists a merchant's clawbacks from a fund ("" = every
	// fund), open and netted, newest first.
	Clawbacks(ctx context.Context, merchantID int64, fund string) ([]Clawback, error)
	PaymentBatches(ctx context.Context, fundingDistrict string, limit int) ([]PaymentBatch, error)
	PaymentBatch(ctx context.Context, id int64) (PaymentBatch, error)
	PaymentLines(ctx context.Context, batchID int64) ([]PaymentLine, error)
	// HoldStatements opens a hold (one open per merchant and fund:
	// already_held), ReleaseStatements closes it (not_held), each with its
	// audit entry; PayStatements never pays a held merchant's statements.
	HoldStatements(ctx context.Context, h SettlementHold, audit AuditEntry) error
	ReleaseStatements(ctx context.Context, merchantID int64, fund string, by int64, note string, audit AuditEntry) error
	SettlementHolds(ctx context.Context, fund string) ([]SettlementHold, error)
}

// LotteryStore owns lottery drops (lottery.go). SetLottery makes a
// campaign being prepared draw, keeping the first seed it was given;
// RegisterForLottery enters a resident once, while registration is open at
// the writer's time and the lottery undrawn (already_registered,
// registration_closed); DrawLottery draws once, at or after the close
// (already_drawn, registration_open), with every registration that
// committed before it and each tier's stock as it stands then, and
// records the draw as published.
type LotteryStore interface {
	SetLottery(ctx context.Context, l Lottery, closes time.Time, audit AuditEntry) (Lottery, error)
	Lottery(ctx context.Context, campaignID int64) (Lottery, error)
	RegisterForLottery(ctx context.Context, r Registration, audit *AuditEntry) (Registration, error)
	Registration(ctx context.Context, campaignID, residentID int64) (Registration, error)
	DrawLottery(ctx context.Context, campaignID int64, seedHex string, by int64, audit AuditEntry) (Lottery, []DrawTier, error)
	DrawnTiers(ctx context.Context, campaignID int64) ([]DrawTier, error)
	UnissuedWinners(ctx context.Context, campaignID int64) ([]Registration, error)
	LotteriesToIssue(ctx context.Context) ([]int64, error) // campaigns with winners not issued yet
	// LotteryFigures counts a lottery's entries and outcomes, and who of
	// each side redeemed a voucher of another campaign of the season.
	LotteryFigures(ctx context.Context, campaignID int64, season string) (LotteryFigures, error)
	LotteryDistricts(ctx context.Context, campaignID int64) ([]LotteryDistrict, error)
	LinkLotteryVoucher(ctx context.Context, registrationID, voucherID int64) error
}

// VoidStore owns requests to void vouchers (void.go). RequestVoid
// records a pending request (one open or approved per voucher:
// void_requested; a rejected one leaves room for another) if the
// voucher is unspent; DecideVoid decides a pending one once (void_decided)
// and, approving, voids the voucher in the same transaction if it is still
// unspent at the writer's time (voucher_not_voidable otherwise): lapsed,
// its tier's expired count grown; each with its audit entry.
type VoidStore interface {
	RequestVoid(ctx context.Context, r VoidRequest, audit AuditEntry) (VoidRequest, error)
	DecideVoid(ctx context.Context, id, by int64, approve bool, note string, audit AuditEntry) (VoidRequest, error)
	VoidRequest(ctx context.Context, id int64) (VoidRequest, error)
	VoidRequests(ctx context.Context, district string, limit int) ([]VoidRequest, error)
	Revoked(ctx context.Context) ([]RevokedKey, error)
}

// AccountStore owns who signs in and what is kept about them: officers,
// cashiers and their credentials, merchants, API keys, residents,
// sessions, SMS codes, consent, and the privacy duties (sealing, erasure,
// retention). Its implementation keeps: every guard in the write itself
// (an activation code, a TOTP step and a recovery code each work once; SMS
// intervals, caps and budgets pass or refuse in one transaction, so two
// quick requests cannot both pass); an ID number bound to one resident
// only (a unique constraint, a conflict otherwise), stored only as a keyed
// hash and phone numbers only sealed; every write that takes an audit
// entry records it in the same transaction.
type AccountStore interface {
	// Officers.

	OfficerByUsername(ctx context.Context, username string) (Officer, error)
	OfficerByID(ctx context.Context, id int64) (Officer, error)
	Officers(ctx context.Context, district string) ([]Officer, error)
	CreateOfficer(ctx context.Context, o *Officer, audit AuditEntry) error
	SetOfficerDisabled(ctx context.Context, id int64, at *time.Time, audit AuditEntry) error
	OfficerCredentials(ctx context.Context, id int64) (OfficerCredentials, error)
	// CreatePendingOfficer adds an account that its holder activates with
	// the code whose hash is given, before expires.
	CreatePendingOfficer(ctx context.Context, o *Officer, activationHash string, expires time.Time, audit AuditEntry) error
	// ActivateOfficer sets the first password, once, if the code's hash
	// matches and has not expired at now.
	ActivateOfficer(ctx context.Context, username, activationHash, passwordHash string, now time.Time, audit func(Officer) AuditEntry) (Officer, error)
	UnlockOfficer(ctx context.Context, id int64, audit AuditEntry) error
	// SetPendingTOTP stores a sealed secret for an enrolment not finished.
	SetPendingTOTP(ctx context.Context, id int64, sealed string) error
	// EnableTOTP finishes enrolment: the secret, the step of the code that
	// proved it, and fresh recovery codes (hashes), replacing older ones.
	EnableTOTP(ctx context.Context, id int64, sealed string, step int64, now time.Time, recoveryHashes []string, audit *AuditEntry) error
	// UseTOTPStep records an accepted step; a step not after the last one
	// accepted is a replay (conflict).
	UseTOTPStep(ctx context.Context, id, step int64) error
	// UseRecoveryCode spends a recovery code; an unknown or spent one is not found.
	UseRecoveryCode(ctx context.Context, id int64, hash string, now time.Time) error
	// ResetTOTP removes an officer's second factor and recovery codes and ends their sessions.
	ResetTOTP(ctx context.Context, id int64, audit AuditEntry) error

	// Sign-in failures of officers and cashiers.

	// RecordSignInFailure counts a failure of an account ("officer" or
	// "cashier") and locks it when the policy says so.
	RecordSignInFailure(ctx context.Context, kind string, id int64, now time.Time, p LockoutPolicy) error
	ClearSignInFailures(ctx context.Context, kind string, id int64) error
	CashierLockedUntil(ctx context.Context, id int64) (*time.Time, error)

	// Merchants and their cashiers.

	MerchantByID(ctx context.Context, id int64) (Merchant, error)
	// Merchants lists one page of the merchants f selects, in the review
	// order (see MerchantFilter).
	Merchants(ctx context.Context, f MerchantFilter) ([]Merchant, error)
	// MerchantCounts counts the merchants f selects but for its status
	// and page, by status.
	MerchantCounts(ctx context.Context, f MerchantFilter) (map[string]int, error)
	CreateMerchantWithOwner(ctx context.Context, m *Merchant, owner *Cashier) error
	ReviewMerchant(ctx context.Context, r MerchantReview) error
	CashierByUsername(ctx context.Context, username string) (Cashier, error)
	CashierByID(ctx context.Context, id int64) (Cashier, error)
	MerchantCashiers(ctx context.Context, merchantID int64) ([]Cashier, error)
	CreateCashier(ctx context.Context, c *Cashier) error
	DisableCashier(ctx context.Context, merchantID, cashierID int64, at time.Time) error

	// API keys of merchants' terminals.

	CreateAPIKey(ctx context.Context, k *APIKey, terminal *Cashier) error
	APIKeys(ctx context.Context, merchantID int64) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, merchantID, id int64, at time.Time) error
	// CashierByAPIKeyHash finds the terminal account of a key that is not revoked.
	CashierByAPIKeyHash(ctx context.Context, hash string) (Cashier, error)

	// Sessions, of every kind of account.

	CreateSession(ctx context.Context, s Session) error
	SessionByTokenHash(ctx context.Context, hash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, hash string) error
	// TouchSession records a session's use at now, unless it has been idle
	// since before idleSince (then it is deleted and not found).
	TouchSession(ctx context.Context, hash string, now, idleSince time.Time) error

	// Residents, their SMS codes and consent.

	ResidentByID(ctx context.Context, id int64) (Resident, error)
	// EnsureResident returns the resident whose phone has this keyed hash,
	// creating it with the sealed number on first sign-in.
	EnsureResident(ctx context.Context, phoneHash string, phoneSealed []byte, now time.Time) (Resident, error)
	// BindIdentity records a resident's ID hash; an ID bound elsewhere is a conflict.
	BindIdentity(ctx context.Context, residentID int64, idHash string) error
	// SaveSMSCode stores a new code for a phone and requester unless one was
	// sent to them less than minInterval ago, dailyCap were sent to them
	// today (rate limited "sms_too_frequent") or a budget is full (its
	// Refusal); it returns the budgets this send filled.
	SaveSMSCode(ctx context.Context, c SMSCode, minInterval time.Duration, dailyCap int, budgets []SMSBudget) ([]SMSBudget, error)
	// CheckSMSCode consumes the requester's code on a match and spends one of its attempts otherwise.
	CheckSMSCode(ctx context.Context, phone, requester, codeHash string, now time.Time) error
	// ForgetSMSCode removes a code that could not be sent, so the resident may ask again.
	ForgetSMSCode(ctx context.Context, phone, codeHash string) error
	// RecordConsent records a resident's agreement to the texts of a
	// version at the writer's time, and returns that time.
	RecordConsent(ctx context.Context, residentID int64, version string) (time.Time, error)
	// ConsentVersion is the version a resident last agreed to ("" for none).
	ConsentVersion(ctx context.Context, residentID int64) (string, error)

	// Privacy: sealing, erasure and retention (docs/privacy.md).

	// SealLegacyPersonalData seals, in one transaction, personal data
	// stored in clear before sealing existed.
	SealLegacyPersonalData(ctx context.Context, hashPhone func(phone string) string, seal func(plain []byte, context string) ([]byte, error)) (int, error)
	// EraseResident erases a resident's personal data, ends their sessions and audits it.
	EraseResident(ctx context.Context, residentID int64, audit AuditEntry) error
	// ResidentSessions lists a resident's kept sessions (without their token hashes).
	ResidentSessions(ctx context.Context, residentID int64) ([]Session, error)
	// SweepRetention deletes sessions that ended before sessionsEnded and
	// SMS codes sent before smsSent.
	SweepRetention(ctx context.Context, sessionsEnded, smsSent time.Time) (RetentionSwept, error)
}

// AuditStore owns the tamper-evident audit log. Its implementation keeps
// the log append-only and hash-chained, one head at a time (appends go
// through the writer); the other areas append their entries inside their
// own transactions, so a change and its record commit together. AppendAudit
// is for actions that change nothing else.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AuditSubjectNames names the records of one kind that audit rows
	// refer to, by id: "campaign" and "merchant" (ids it does not know,
	// and other kinds, are left out).
	AuditSubjectNames(ctx context.Context, entity string, ids []int64) (map[int64]string, error)
	VerifyAudit(ctx context.Context) (AuditReport, error)
}

// ReportStore owns the reads behind a campaign's evaluation. Its
// implementation serves them from rollups that claims, redemptions and
// reversals keep in their own transactions; every rollup must stay a
// recount of the rows (DESIGN.md §3, checked by voucherd check).
type ReportStore interface {
	// RollupParts reads a campaign's evaluation rollups (see report.Parts).
	RollupParts(ctx context.Context, campaignID int64) (report.Parts, error)
	// RepeatPairs counts resident–merchant pairs of a campaign with at
	// least min live redemptions.
	RepeatPairs(ctx context.Context, campaignID int64, min int) (int64, error)
}
