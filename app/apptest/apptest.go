// Package apptest assembles the real product for tests: a SQLite file in
// a temporary directory with migrations and reference data, the domain, a
// voucher key ring whose private key the test holds, and an HTTP server.
// Nothing here is a mock: tests meet the same store and handlers as users.
package apptest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"cqvoucher/app"
	"cqvoucher/app/token"
	"cqvoucher/app/web"
	"cqvoucher/db"
	"cqvoucher/seeds"
	"cqvoucher/templates"
)

// Clock is a settable clock for the domain.
type Clock struct {
	mu sync.Mutex
	t  time.Time
	// A move armed by SetAfter: after reads more readings, to next.
	reads int
	next  time.Time
	moved chan struct{}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	if c.moved != nil {
		if c.reads--; c.reads <= 0 {
			c.t = c.next
			close(c.moved)
			c.moved = nil
		}
	}
	return t
}

// SetAfter moves the clock to t right after it has been read reads more
// times, and closes the returned channel then: a test can have exactly
// the first reads transactions see the old time, whenever they run.
func (c *Clock) SetAfter(reads int, t time.Time) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads, c.next, c.moved = reads, t.UTC(), make(chan struct{})
	return c.moved
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Set puts the clock at t, backwards too: the system clock of a server
// steps back when NTP corrects it.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t.UTC(); c.mu.Unlock() }

// SMS records sent messages instead of sending them.
type SMS struct {
	mu   sync.Mutex
	last map[string]string
	all  map[string][]string
	Fail atomic.Bool // when set, Send fails like a gateway that is down
	// FailFor, when set, is asked before each send: an error fails it
	// like a gateway refusing that number (nothing is recorded).
	FailFor func(phone, text string) error
}

// Send implements app.SMSSender.
func (s *SMS) Send(_ context.Context, phone, text string) error {
	if s.Fail.Load() {
		return fmt.Errorf("gateway down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailFor != nil {
		if err := s.FailFor(phone, text); err != nil {
			return err
		}
	}
	if s.last == nil {
		s.last, s.all = map[string]string{}, map[string][]string{}
	}
	s.last[phone] = text
	s.all[phone] = append(s.all[phone], text)
	return nil
}

// Texts returns every text sent to a phone that contains part, oldest first.
func (s *SMS) Texts(phone, part string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, t := range s.all[phone] {
		if strings.Contains(t, part) {
			out = append(out, t)
		}
	}
	return out
}

// Last returns the text last sent to a phone ("" if none).
func (s *SMS) Last(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[phone]
}

// Code returns the 6-digit code last sent to a phone.
func (s *SMS) Code(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	text := s.last[phone]
	for i := 0; i+6 <= len(text); i++ {
		if allDigits(text[i : i+6]) {
			return text[i : i+6]
		}
	}
	return ""
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Env is one assembled product.
type Env struct {
	Store  *db.Store
	App    *app.App
	Key    ed25519.PrivateKey // the ring's signing key, for crafting tokens
	Ring   *token.Ring
	Clock  *Clock
	SMS    *SMS
	Server *httptest.Server
	Web    *web.Server
	Path   string // the database file, or the PostgreSQL URL

	booksUnchecked string // why this test's books are not checked at its end (SkipBooksCheck)

	opt                  Options
	identityKey, dataKey []byte      // shared by every process of the environment's database
	news                 chan string // cache news this process applied (PostgreSQL; see NewsApplied)

	Maker, Approver app.Officer
	Merchant        app.Merchant
	Cashier         app.Cashier
}

// Options adjust the environment.
type Options struct {
	Synchronous string               // default FULL
	Web         *web.Config          // default web.DefaultConfig with generous limits
	LogTo       io.Writer            // the server's log (default: discarded)
	Identity    app.IdentityVerifier // default checksum only
	// AdmissionQueue bounds the writer's queue for claims (default app.DefaultConfig's).
	AdmissionQueue int
	// Backend is the database the store runs on (default SQLite; see EachBackend).
	Backend Backend
	// Reminders is how expiry reminders go out (default app.DefaultReminders).
	Reminders app.ReminderPolicy
}

// New builds an environment that lives as long as the test.
func New(t testing.TB, opt Options) *Env {
	t.Helper()
	path := database(t, opt.Backend)
	// The test clock starts a quarter second past the hour and tests move
	// it in sub-second steps: whole seconds once hid a rounding bug.
	clock := &Clock{t: time.Date(2026, 11, 25, 2, 0, 0, 250_000_000, time.UTC)}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Key: key, Ring: token.NewRing(key), Clock: clock, SMS: &SMS{}, Path: path, opt: opt,
		identityKey: randomKey(t), dataKey: randomKey(t)}
	e.assemble(t, true)

	e.Maker = e.NewOfficer(t, "maker", "500103", false)
	e.Approver = e.NewOfficer(t, "approver", "500103", true)
	e.Merchant = e.NewMerchant(t, "解放碑老火锅", "500103", "catering")
	e.Cashier = e.NewCashier(t, e.Merchant, "cashier")
	return e
}

// assemble opens the environment's store on e.Path and builds the
// domain and the web server over it, as one voucherd process does. The
// first process of a database seeds its reference data and checks its
// books at the test's end (after the server closes, before the store
// does); a process Beside it shares both.
func (e *Env) assemble(t testing.TB, first bool) {
	t.Helper()
	ctx := context.Background()
	opt := e.opt
	st, err := db.Open(ctx, e.Path, db.Options{Synchronous: opt.Synchronous, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.Store = st
	if first {
		if err := seeds.LoadReference(ctx, st); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.checkBooks(t) })
	}
	var logTo io.Writer = io.Discard
	if os.Getenv("VOUCHER_TEST_LOG") == "1" { // the server's log, when a test needs explaining
		logTo = os.Stderr
	}
	if opt.LogTo != nil {
		logTo = opt.LogTo
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	acfg := app.DefaultConfig()
	if opt.AdmissionQueue > 0 {
		acfg.AdmissionQueue = opt.AdmissionQueue
	}
	if opt.Reminders != (app.ReminderPolicy{}) {
		acfg.Reminders = opt.Reminders
	}
	acfg.IdentityKey = e.identityKey
	if acfg.Sealer, err = app.NewAESSealer(e.dataKey); err != nil {
		t.Fatal(err)
	}
	acfg.Identity = opt.Identity
	if acfg.Terms.Version, err = web.TermsVersion(templates.FS, acfg.Terms); err != nil {
		t.Fatal(err)
	}
	e.App = app.New(st, e.Ring, e.SMS, acfg, e.Clock.Now, log)
	e.listen(t)

	wcfg := web.DefaultConfig()
	// Tests hammer from one loopback address; the limits themselves are tested on their own.
	wcfg.LoginPerMinute, wcfg.SMSPerMinute, wcfg.ClaimsPerSecond = 100000, 100000, 100000
	if opt.Web != nil {
		wcfg = *opt.Web
	}
	e.Web, err = web.New(e.App, wcfg, templates.FS, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	e.Server = httptest.NewServer(e.Web)
	t.Cleanup(e.Server.Close)
}

func randomKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// passwordHash is computed once: bcrypt is slow by design.
var passwordHash = sync.OnceValue(func() string {
	h, err := app.HashPassword("secret-pass")
	if err != nil {
		panic(err)
	}
	return h
})

// Password is every test account's password.
const Password = "secret-pass"

// TOTPSecret is the second factor every test officer is enrolled with.
const TOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// TOTPCode is the test officers' authenticator code at a time.
func TOTPCode(at time.Time) string {
	code, err := totp.GenerateCode(TOTPSecret, at)
	if err != nil {
		panic(err)
	}
	return code
}

// enrol gives a test officer the second factor TOTPSecret.
func (e *Env) enrol(t testing.TB, o app.Officer) {
	t.Helper()
	if err := e.App.EnrolTOTPDirectly(context.Background(), o, TOTPSecret); err != nil {
		t.Fatal(err)
	}
}

// NewOfficer adds an activated officer enrolled with TOTPSecret.
func (e *Env) NewOfficer(t testing.TB, username, district string, canApprove bool) app.Officer {
	t.Helper()
	return e.NewNamedOfficer(t, username, username, district, canApprove)
}

// NewNamedOfficer is NewOfficer with a display name of its own ("张三"),
// for pages that name officers.
func (e *Env) NewNamedOfficer(t testing.TB, username, name, district string, canApprove bool) app.Officer {
	t.Helper()
	role := app.RoleDistrictOfficer
	if district == app.CityCode {
		role = app.RoleCityAdmin
	}
	o := app.Officer{Username: username, Name: name, PasswordHash: passwordHash(), Role: role, District: district,
		CanApprove: canApprove, CreatedAt: e.Clock.Now()}
	if err := e.Store.CreateOfficer(context.Background(), &o, app.SystemAudit(o.CreatedAt, app.ActionOfficerCreate, "officer", district, nil)); err != nil {
		t.Fatal(err)
	}
	e.enrol(t, o)
	return o
}

// NewAuditor adds a read-only auditor of a district (or of the city).
func (e *Env) NewAuditor(t testing.TB, username, district string) app.Officer {
	t.Helper()
	return e.NewOfficerRole(t, username, app.RoleAuditor, district)
}

// NewOfficerRole adds an activated, enrolled officer of any role without
// the approval right (the separation-of-duties administrators, auditors).
func (e *Env) NewOfficerRole(t testing.TB, username, role, district string) app.Officer {
	t.Helper()
	o := app.Officer{Username: username, Name: username, PasswordHash: passwordHash(), Role: role, District: district, CreatedAt: e.Clock.Now()}
	if err := e.Store.CreateOfficer(context.Background(), &o, app.SystemAudit(o.CreatedAt, app.ActionOfficerCreate, "officer", district, nil)); err != nil {
		t.Fatal(err)
	}
	e.enrol(t, o)
	return o
}

// NewOwner adds a merchant's owner account.
func (e *Env) NewOwner(t testing.TB, m app.Merchant, username string) app.Cashier {
	t.Helper()
	c := app.Cashier{MerchantID: m.ID, Username: username, Name: username, PasswordHash: passwordHash(), CreatedAt: e.Clock.Now(), Role: app.CashierOwner}
	if err := e.Store.CreateCashier(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// NewMerchant adds an approved merchant.
func (e *Env) NewMerchant(t testing.TB, name, district, category string) app.Merchant {
	t.Helper()
	m := app.Merchant{Name: name, District: district, Category: category, Status: app.MerchantApproved, CreatedAt: e.Clock.Now()}
	if err := e.Store.CreateMerchant(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// NewCashier adds a cashier to a merchant.
func (e *Env) NewCashier(t testing.TB, m app.Merchant, username string) app.Cashier {
	t.Helper()
	c := app.Cashier{MerchantID: m.ID, Username: username, Name: username, PasswordHash: passwordHash(), CreatedAt: e.Clock.Now()}
	if err := e.Store.CreateCashier(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// CampaignSpec describes a test campaign; zero fields take defaults.
type CampaignSpec struct {
	Name      string
	District  string
	Category  string
	Budget    string
	Tiers     []app.TierInput
	Limit     int
	ValidDays int
	Opens     time.Duration // from now; default 0: live at once
}

// LiveCampaign creates, submits and approves a campaign through the domain.
func (e *Env) LiveCampaign(t testing.TB, s CampaignSpec) app.Campaign {
	t.Helper()
	if s.Name == "" {
		s.Name = "渝味360碗·餐饮消费季"
	}
	if s.District == "" {
		s.District = "500103"
	}
	if s.Category == "" {
		s.Category = "catering"
	}
	if s.Budget == "" {
		s.Budget = "1000000"
	}
	if s.Tiers == nil {
		s.Tiers = []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}}
	}
	if s.Limit == 0 {
		s.Limit = 1
	}
	if s.ValidDays == 0 {
		s.ValidDays = 7
	}
	now := e.Clock.Now()
	in := app.CampaignInput{
		Name: s.Name, District: s.District, Category: s.Category, Budget: s.Budget, Tiers: s.Tiers,
		ClaimStarts: now.Add(s.Opens).Format(time.RFC3339), ClaimEnds: now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: fmt.Sprint(s.ValidDays), PerResidentLimit: fmt.Sprint(s.Limit),
	}
	maker, approver := e.Maker, e.Approver
	if s.District != e.Maker.District {
		maker = e.NewOfficer(t, fmt.Sprintf("maker-%s-%d", s.District, time.Now().UnixNano()), s.District, false)
		approver = e.NewOfficer(t, fmt.Sprintf("approver-%s-%d", s.District, time.Now().UnixNano()), s.District, true)
	}
	return e.Approved(t, maker, approver, in)
}

// TwoDrops approves a campaign of one tier (¥30 off ¥100) whose stock is
// released in two drops, at 10:00 and 10:01 on 25 Nov in Chongqing (the
// test clock starts at 10:00:00.250), perDrop vouchers each; with
// rollover, unclaimed stock of the first drop stays claimable.
func (e *Env) TwoDrops(t testing.TB, name string, perDrop int, rollover bool) app.Campaign {
	t.Helper()
	roll := "0"
	if rollover {
		roll = "1"
	}
	return e.Approved(t, e.Maker, e.Approver, app.CampaignInput{
		Name: name, District: "500103", Category: "catering", Budget: "10000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: fmt.Sprint(perDrop)}},
		ClaimStarts: "2026-11-25T10:00", ClaimEnds: "2026-11-30T22:00", ValidDays: "3", PerResidentLimit: "1",
		ReleaseMode: "drops", DropTimes: "2026-11-25 10:00\n2026-11-25 10:01", DropRollover: roll,
	})
}

// Approved creates a campaign as maker, submits it and has approver
// approve it, through the domain, and returns it as stored.
func (e *Env) Approved(t testing.TB, maker, approver app.Officer, in app.CampaignInput) app.Campaign {
	t.Helper()
	ctx := context.Background()
	c, err := e.App.CreateCampaign(ctx, maker, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.SubmitCampaign(ctx, maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ApproveCampaign(ctx, approver, c.ID, "同意"); err != nil {
		t.Fatal(err)
	}
	c, err = e.Store.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ResidentSession signs a resident in through the SMS code flow and
// returns the resident and the session token.
func (e *Env) ResidentSession(t testing.TB, phone string) (app.Resident, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.App.SendSignInCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	r, tok, err := e.App.LoginResident(ctx, phone, e.SMS.Code(phone))
	if err != nil {
		t.Fatal(err)
	}
	return r, tok
}

// CashierSession opens a session for a cashier. It writes the session
// row directly: bcrypt is slow by design (and slower under -race), and
// password sign-in has tests of its own.
func (e *Env) CashierSession(t testing.TB, c app.Cashier) string {
	t.Helper()
	return e.Session(t, app.KindCashier, c.ID, 30*24*time.Hour)
}

// Session writes a session row for any kind of account and returns its
// token: for tests whose subject is not sign-in itself.
func (e *Env) Session(t testing.TB, kind string, subject int64, ttl time.Duration) string {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	now := e.Clock.Now()
	if err := e.Store.CreateSession(context.Background(), app.Session{
		TokenHash: app.HashSessionToken(tok), Kind: kind, SubjectID: subject, CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: &now,
	}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is a decoded API answer.
type Response struct {
	Status int
	Body   map[string]any
	Raw    string
}

// Reason is the error reason of an API answer, "" on success.
func (r Response) Reason() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["reason"].(string)
		return s
	}
	return ""
}

// Client is shared by API calls; many connections, as a crowd of phones would open.
var Client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}

// API calls the JSON API with a bearer token (may be empty) and extra headers.
func (e *Env) API(t testing.TB, method, path, bearer string, body any, headers ...string) Response {
	t.Helper()
	return e.APIWith(t, Client, method, path, bearer, body, headers...)
}

// APIWith is API through a given client. A transport error (a timeout,
// say) is returned as status 0, not failed, so tests can expect it. Every
// JSON answer of /api/v1 is checked against openapi.json (see
// CheckAgainstDescription); a mismatch fails the test.
func (e *Env) APIWith(t testing.TB, client *http.Client, method, path, bearer string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		if client == Client {
			t.Error(err) // Error, not Fatal: API is called from goroutines
		}
		return Response{Raw: err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	CheckAgainstDescription(t, req, res, raw)
	out := Response{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// Count runs a COUNT-style query on the database.
func (e *Env) Count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.Store.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
