// Package app is the domain of the voucher system: campaigns, claims,
// redemptions and the rules that carry money. It knows no HTTP and no SQL;
// storage is the Store interface (store.go), implemented by package db.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"cqvoucher/app/token"
)

// SMSSender delivers a text message to a mainland mobile number.
type SMSSender interface {
	Send(ctx context.Context, phone, text string) error
}

// Config holds the rules an operator may tune.
type Config struct {
	// SMS sign-in.
	SMSCodeTTL      time.Duration // how long a code is valid
	SMSResendAfter  time.Duration // minimum time between two codes to one number
	SMSDailyCap     int           // codes per number per day
	SMSAttempts     int           // wrong entries before a code is void
	SMSBudgets      SMSBudgets    // texts sent, whoever asks (see SMSBudgets)
	OfficerSession  time.Duration
	CashierSession  time.Duration
	ResidentSession time.Duration
	// How stale a cached session or campaign may be. A session ended by
	// this process is forgotten at once; the TTL bounds anything else.
	SessionCacheTTL  time.Duration
	CampaignCacheTTL time.Duration
	// AdmissionQueue bounds the writer's queue for claims: a press that
	// would wait behind more is answered at once "too busy, try again at …".
	AdmissionQueue int
	// IdentityKey keys the hashes of resident ID numbers and phone numbers
	// (32+ bytes, kept beside the signing keys, never in the database).
	IdentityKey []byte
	// Sealer encrypts personal data at rest (residents' phone numbers)
	// under a key kept outside the database.
	Sealer Sealer
	// How long what is no longer needed is kept (docs/privacy.md).
	SessionRetention time.Duration // after a session ends
	SMSCodeRetention time.Duration // after a code was sent

	// OfficerIdle and CashierIdle end a session unused that long (0: never).
	OfficerIdle   time.Duration
	CashierIdle   time.Duration
	EnrolSession  time.Duration // the enrolment page after the password
	ActivationTTL time.Duration // how long a new account's activation code works
	Lockout       LockoutPolicy // failed sign-ins per officer or cashier account
	// Identity verifies names and ID numbers at the real-name step; nil:
	// ChecksumOnly, which proves no identity (the demo default).
	Identity IdentityVerifier
	// Terms are the 用户协议 and 隐私政策 residents agree to (see Terms).
	Terms Terms
	// Typed voucher codes that match no voucher, per cashier and per
	// merchant; beyond them typed codes are refused, scans still work
	// (see WrongCodeLimit).
	WrongCodesCashier  WrongCodeLimit
	WrongCodesMerchant WrongCodeLimit
	// Reminders is how expiry reminders go out (reminders.go); zero
	// fields take DefaultReminders'.
	Reminders ReminderPolicy
}

// DefaultConfig is what production runs with.
func DefaultConfig() Config {
	return Config{
		AdmissionQueue: 1024, // ≈ 1–2 s of claims at synchronous=FULL (docs/performance.md)
		SMSCodeTTL:     5 * time.Minute,
		SMSResendAfter: 60 * time.Second,
		SMSDailyCap:    10,
		SMSAttempts:    5,
		// A drop brings a crowd to sign in at 10:00. A carrier block (7
		// digits) is 10,000 numbers of one city: a fifth of it in the hour
		// of a drop is a rush, every number of it in one day an attack.
		SMSBudgets:       SMSBudgets{GlobalPerHour: 50_000, GlobalPerDay: 500_000, PrefixPerHour: 2_000, PrefixPerDay: 10_000, PerNumberQuarter: 3},
		OfficerSession:   8 * time.Hour,
		CashierSession:   12 * time.Hour,
		ResidentSession:  30 * 24 * time.Hour,
		SessionCacheTTL:  time.Minute,
		CampaignCacheTTL: time.Second,
		SessionRetention: 7 * 24 * time.Hour,
		SMSCodeRetention: 24 * time.Hour,

		OfficerIdle:   15 * time.Minute,
		EnrolSession:  10 * time.Minute,
		ActivationTTL: 72 * time.Hour,
		Lockout:       LockoutPolicy{Failures: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute},
		Terms:         DemoTerms(),

		// A cashier mistypes a code now and then; five that pass the
		// check digit and still match nothing in ten minutes is no slip.
		WrongCodesCashier:  WrongCodeLimit{Max: 5, Window: 10 * time.Minute},
		WrongCodesMerchant: WrongCodeLimit{Max: 30, Window: 24 * time.Hour},
		Reminders:          DefaultReminders,
	}
}

// App is the domain service. Its methods are safe for concurrent use.
type App struct {
	store  Store
	ring   *token.Ring
	sms    SMSSender
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	smsKey []byte // keys the SMS code hashes; per process, since codes live minutes

	smsAlerts atomic.Int64 // SMS budgets reached (see SMSBudgetAlerts)

	districtCodes atomic.Pointer[map[string]bool] // issuers a voucher token may name

	// Read caches for the claim rush (see cache.go). Their staleness is
	// measured on the App's clock, like every other expiry: the wall clock
	// in production, the test's clock in tests (which then never depend on
	// how fast the machine runs).
	sessions  *ttlCache[string, Session]
	residents *ttlCache[int64, Resident]
	campaigns *ttlCache[int64, Campaign]
	live      *ttlCache[struct{}, []Campaign]
	unread    *ttlCache[int64, int] // residents' unread feedback (see UnreadFeedback)

	liveStats sync.Map // campaign id → *liveCounter (see live.go)

	wrongCodes wrongCodes // typed codes that matched no voucher (see wrongcodes.go)

	obs Observer // operators' metrics (observer.go); never nil
}

// New wires the domain. now may be nil (wall clock); tests inject one.
func New(store Store, ring *token.Ring, sms SMSSender, cfg Config, now func() time.Time, log *slog.Logger) *App {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	clock := func() time.Time { return now().UTC() }
	return &App{
		store: store, ring: ring, sms: sms, cfg: cfg, now: clock, log: log, smsKey: key, obs: noObserver{},
		sessions:  newTTLCache[string, Session](cfg.SessionCacheTTL, 200_000, clock),
		residents: newTTLCache[int64, Resident](cfg.SessionCacheTTL, 200_000, clock),
		campaigns: newTTLCache[int64, Campaign](cfg.CampaignCacheTTL, 10_000, clock),
		live:      newTTLCache[struct{}, []Campaign](cfg.CampaignCacheTTL, 1, clock),
		unread:    newTTLCache[int64, int](cfg.SessionCacheTTL, 200_000, clock),
	}
}

// Now is the App's clock, in UTC.
func (a *App) Now() time.Time { return a.now() }

// Ring is the voucher key ring (for publishing the JWKS).
func (a *App) Ring() *token.Ring { return a.ring }

// Ping reports whether storage answers.
func (a *App) Ping(ctx context.Context) error { return a.store.Ping(ctx) }

// Districts lists the reference districts, the city first.
func (a *App) Districts(ctx context.Context) ([]District, error) { return a.store.Districts(ctx) }

// Categories lists the consumption categories.
func (a *App) Categories(ctx context.Context) ([]Category, error) { return a.store.Categories(ctx) }

func (a *App) keyedHash(parts ...string) string {
	m := hmac.New(sha256.New, a.smsKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Shanghai is the zone in which days, drops and "valid until the end of the day" are counted.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// time/tzdata is embedded by cmd/voucherd; China has had no DST since 1991.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// EndOfDayAfter returns the end of the Asia/Shanghai day that is days
// after t's date (days = 0: the end of t's own day), as an exclusive bound:
// the next local midnight, in UTC. "Valid until 23:59:59" means usable at
// 23:59:59.9, so the bound is midnight itself, never 23:59:59. Storing UTC
// midnight instead would kill vouchers eight hours early.
func EndOfDayAfter(t time.Time, days int) time.Time {
	l := t.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day()+days+1, 0, 0, 0, 0, Shanghai).UTC()
}

// MinUsable is the least time a voucher must have left when it is issued.
// "Valid for 1 day" claimed at 23:59:59.9 would be dead on arrival: a
// voucher claimed in the last hour of its last day is given one more day,
// and one with a fixed end less than an hour away is not issued.
const MinUsable = time.Hour

// ExpiryOfClaim is the exclusive end of a voucher valid for days days (the
// claim's day counts as the first), claimed at now, never less than
// MinUsable away.
func ExpiryOfClaim(now time.Time, days int) time.Time {
	end := EndOfDayAfter(now, days-1)
	if end.Sub(now) < MinUsable {
		end = EndOfDayAfter(now, days)
	}
	return end
}

// LocalDay is the Asia/Shanghai date of t, as days are stored ("2006-01-02").
func LocalDay(t time.Time) string { return t.In(Shanghai).Format("2006-01-02") }

// FormatUntil shows an exclusive bound (an expiry) as the last moment it
// still allows: midnight is shown as 23:59 of the day before.
func FormatUntil(t time.Time) string { return FormatLocal(t.Add(-time.Second)) }
