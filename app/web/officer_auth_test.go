package web_test

// Officer accounts to a level-3 assessment: activation by the holder,
// the maker-checker rule across the account creator chain, TOTP sign-in
// with enrolment, replay refusal and recovery codes, per-account lockout,
// idle sessions, and the separation of duties in the audit log.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

func apiSignIn(t *testing.T, e *apptest.Env, username, password, code string) apptest.Response {
	t.Helper()
	return e.API(t, http.MethodPost, "/api/v1/officer/sessions", "", map[string]string{"username": username, "password": password, "code": code})
}

// TestAccountActivatedByItsHolder: the system administrator who creates
// an account gets a one-time code and never a password; the holder sets
// the password under the policy; the code works once and expires.
func TestAccountActivatedByItsHolder(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	sys := officerToken(t, e, e.NewOfficerRole(t, "sysadmin", app.RoleSystemAdmin, app.CityCode))
	r := e.API(t, http.MethodPost, "/api/v1/officer/officers", sys, map[string]any{
		"username": "jb-zhang", "name": "张伟", "role": "district_officer", "district": "500105", "can_approve": true})
	code, _ := r.Body["activation_code"].(string)
	if r.Status != 201 || len(code) != 19 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	// A password in the request is not a field any more: the creator cannot set one.
	if r := e.API(t, http.MethodPost, "/api/v1/officer/officers", sys, map[string]any{
		"username": "jb-li", "name": "李", "role": "district_officer", "district": "500105", "password": "creator-knows-this"}); r.Status != 422 {
		t.Errorf("create with a password: %d %s, want 422", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM officers WHERE username = 'jb-zhang' AND password_hash = '' AND activated_at IS NULL
		AND activation_hash IS NOT NULL AND activation_hash <> ? AND created_by IS NOT NULL`, code); n != 1 {
		t.Fatalf("the new account is not stored awaiting activation with a hashed code and its creator")
	}
	if r := apiSignIn(t, e, "jb-zhang", "", ""); r.Status != 401 || r.Reason() != "bad_credentials" {
		t.Errorf("sign-in before activation: %d %s", r.Status, r.Raw)
	}

	b := authzNewBrowser(t, e)
	activate := func(user, code, pw, repeat string) authzPage {
		return b.do(t, http.MethodPost, "/officer/activate", url.Values{"username": {user}, "code": {code}, "password": {pw}, "password_repeat": {repeat}})
	}
	for _, c := range []struct{ code, pw, repeat, want string }{
		{code, "short-pw", "short-pw", "密码长度应为 12 到 72 个字符"},
		{code, "jb-zhang-2026-pw", "jb-zhang-2026-pw", "密码不得包含用户名"},
		{code, "Password123!", "Password123!", "这是常见密码"},
		{code, "aaaaaaaaaaaaaa", "aaaaaaaaaaaaaa", "这是常见密码"},
		{code, "渝中区解放碑火锅好吃极了", "渝中区解放碑火锅好吃", "两次输入的密码不一致"},
		{"AAAA-BBBB-CCCC-DDDD", "a-perfectly-good-one", "a-perfectly-good-one", "激活码无效"},
	} {
		if p := activate("jb-zhang", c.code, c.pw, c.repeat); p.status != 422 || !strings.Contains(p.body, c.want) {
			t.Errorf("activate with %q / %q: %d, want 422 saying %q", c.code, c.pw, p.status, c.want)
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM officers WHERE username = 'jb-zhang' AND password_hash = ''`); n != 1 {
		t.Fatal("a refused activation wrote a password")
	}
	// The code is read as people type it: lower case, spaces.
	if p := activate("jb-zhang", strings.ToLower(strings.ReplaceAll(code, "-", " ")), "a-perfectly-good-one", "a-perfectly-good-one"); p.status != 303 || p.location != "/officer/login" {
		t.Fatalf("activation: %d → %q %s", p.status, p.location, p.body)
	}
	if p := activate("jb-zhang", code, "another-good-password", "another-good-password"); p.status != 422 {
		t.Errorf("the code worked twice: %d", p.status)
	}
	// The holder's password works; the account has no second factor yet,
	// which the API cannot enrol.
	if r := apiSignIn(t, e, "jb-zhang", "a-perfectly-good-one", ""); r.Status != 403 || r.Reason() != "totp_enrolment_required" {
		t.Errorf("API sign-in before enrolment: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('officer.create', 'officer.activate') AND entity_id =
		(SELECT id FROM officers WHERE username = 'jb-zhang')`); n != 2 {
		t.Errorf("create and activate audit rows: %d, want 2", n)
	}

	// The page shows the code once, in the answer to the form.
	sb := authzNewBrowser(t, e)
	sb.setCookie("cqv_officer", sys)
	page := sb.do(t, http.MethodPost, "/officer/officers", url.Values{"username": {"jb-page"}, "name": {"页面"}, "role": {"district_officer"}, "district": {"500105"}})
	if m := regexp.MustCompile(`<strong>jb-page</strong>: <code class="secret">([A-Z2-7-]{19})</code>`).FindStringSubmatch(page.body); page.status != 201 || m == nil {
		t.Errorf("page create: %d, code shown: %v", page.status, m != nil)
	} else if list := sb.do(t, http.MethodGet, "/officer/officers", nil); strings.Contains(list.body, m[1]) || !strings.Contains(list.body, "待激活") {
		t.Errorf("the list shows the code again, or not the account as awaiting activation")
	}

	// An activation code expires.
	r = e.API(t, http.MethodPost, "/api/v1/officer/officers", sys, map[string]any{"username": "jb-late", "name": "迟到", "role": "auditor", "district": "500105"})
	late, _ := r.Body["activation_code"].(string)
	e.Clock.Advance(app.DefaultConfig().ActivationTTL)
	if p := activate("jb-late", late, "a-perfectly-good-one", "a-perfectly-good-one"); p.status != 422 {
		t.Errorf("an expired code activated the account: %d", p.status)
	}
}

// TestApprovalRefusedAlongTheCreatorChain: whoever creates an account
// holds its activation code and may be its holder, so an approval between
// an account and any account up or down its creator chain is refused;
// accounts that only share a creator approve each other.
func TestApprovalRefusedAlongTheCreatorChain(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	city := e.NewOfficer(t, "city", app.CityCode, true)
	// Accounts as an earlier release let the city admin create them.
	createdBy := func(name string, by app.Officer) app.Officer {
		o := app.Officer{Username: name, Name: name, PasswordHash: e.Maker.PasswordHash, Role: app.RoleDistrictOfficer,
			District: "500103", CanApprove: true, CreatedAt: e.Clock.Now(), CreatedBy: &by.ID}
		if err := e.Store.CreateOfficer(ctx, &o, app.SystemAudit(o.CreatedAt, "officer.create", "officer", "500103", nil)); err != nil {
			t.Fatal(err)
		}
		return o
	}
	puppet := createdBy("puppet", city)             // made by the city admin
	grandPuppet := createdBy("grandpuppet", puppet) // made by the puppet
	sibling := createdBy("sibling", e.Approver)     // e.Approver made it; not related to city

	submitted := func(maker app.Officer) int64 {
		c, err := e.App.CreateCampaign(ctx, maker, authzCampaignInput(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.App.SubmitCampaign(ctx, maker, c.ID); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	for _, c := range []struct {
		maker, approver app.Officer
		want            string
	}{
		{city, puppet, "approve_related_account"},      // the finding: the city admin approves through an account it made
		{city, grandPuppet, "approve_related_account"}, // through an account made by an account it made
		{puppet, city, "approve_related_account"},      // the creator approves its creation's campaign
		{grandPuppet, city, "approve_related_account"},
		{city, city, "approve_own"},
		{city, e.Approver, ""}, // unrelated accounts
		{sibling, puppet, ""},  // related to others, not to each other
	} {
		id := submitted(c.maker)
		err := e.App.ApproveCampaign(ctx, c.approver, id, "同意")
		if got := app.ErrorReason(err); got != c.want {
			t.Errorf("%s's campaign approved by %s: %v, want %q", c.maker.Username, c.approver.Username, err, c.want)
		}
	}

	// The same rule holds for a budget raise.
	live := e.Approved(t, city, e.Approver, authzCampaignInput(e))
	if err := e.App.RequestBudgetRaise(ctx, city, live.ID, "2000000"); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ApproveBudgetRaise(ctx, puppet, live.ID); app.ErrorReason(err) != "approve_related_account" {
		t.Errorf("budget raise approved by the requester's puppet: %v", err)
	}
	if err := e.App.ApproveBudgetRaise(ctx, e.Approver, live.ID); err != nil {
		t.Errorf("budget raise by an unrelated approver: %v", err)
	}
}

var enrolSecretRE = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)
var recoveryRE = regexp.MustCompile(`<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>`)

// TestSecondFactorEnrolmentReplayAndRecovery walks an officer without a
// second factor through enrolment by QR, then signs in with codes: each
// accepted once, recovery codes once each; the security administrator's
// reset is audited and sends the officer back to enrolment.
func TestSecondFactorEnrolmentReplayAndRecovery(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	o := app.Officer{Username: "newcomer", Name: "新人", PasswordHash: e.Maker.PasswordHash, Role: app.RoleDistrictOfficer,
		District: "500103", CreatedAt: e.Clock.Now()}
	if err := e.Store.CreateOfficer(ctx, &o, app.SystemAudit(o.CreatedAt, "officer.create", "officer", "500103", nil)); err != nil {
		t.Fatal(err)
	}
	b := authzNewBrowser(t, e)
	p := b.do(t, http.MethodPost, "/officer/login", url.Values{"username": {"newcomer"}, "password": {apptest.Password}})
	if p.status != 303 || p.location != "/officer/2fa" || b.cookie("cqv_officer") != "" {
		t.Fatalf("first sign-in: %d → %q, officer cookie %q", p.status, p.location, b.cookie("cqv_officer"))
	}
	// The enrolment session opens nothing else.
	if p := b.do(t, http.MethodGet, "/officer", nil); p.status != 303 || p.location != "/officer/login" {
		t.Errorf("enrolment session on /officer: %d → %q", p.status, p.location)
	}
	enrol := b.do(t, http.MethodGet, "/officer/2fa", nil)
	// The enrolment session began with a new CSRF token: its form carries it.
	if c := authzCSRFInput.FindStringSubmatch(enrol.body); c != nil {
		b.csrf = c[1]
	}
	m := enrolSecretRE.FindStringSubmatch(enrol.body)
	if enrol.status != 200 || m == nil {
		t.Fatalf("enrolment page: %d, secret shown: %v", enrol.status, m != nil)
	}
	secret := m[1]
	if again := enrolSecretRE.FindStringSubmatch(b.do(t, http.MethodGet, "/officer/2fa", nil).body); again == nil || again[1] != secret {
		t.Errorf("a reload gave another secret")
	}
	if qr := b.do(t, http.MethodGet, "/officer/2fa/qr.png", nil); qr.status != 200 || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Errorf("QR image: %d", qr.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM officers WHERE id = ? AND totp_secret LIKE 'v2:%' AND totp_secret NOT LIKE ?`, o.ID, "%"+secret+"%"); n != 1 {
		t.Errorf("the TOTP secret is not stored sealed")
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if p := b.do(t, http.MethodPost, "/officer/2fa", url.Values{"code": {"000000"}}); p.status != 422 {
		t.Errorf("a wrong first code: %d", p.status)
	}
	done := b.do(t, http.MethodPost, "/officer/2fa", url.Values{"code": {code(e.Clock.Now())}})
	recovery := recoveryRE.FindAllStringSubmatch(done.body, -1)
	if done.status != 200 || len(recovery) != 10 || b.cookie("cqv_officer") == "" {
		t.Fatalf("finishing enrolment: %d, %d recovery codes", done.status, len(recovery))
	}
	if p := b.do(t, http.MethodGet, "/officer", nil); p.status != 200 {
		t.Errorf("signed in after enrolment: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM officer_recovery_codes WHERE officer_id = ? AND code_hash <> ?`, o.ID, recovery[0][1]); n != 10 {
		t.Errorf("%d recovery codes stored hashed, want 10", n)
	}

	// The code that finished enrolment does not sign in again (replay);
	// nor does a code of an earlier step; the next step's does.
	if r := apiSignIn(t, e, "newcomer", apptest.Password, code(e.Clock.Now())); r.Status != 401 {
		t.Errorf("replayed code: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(30 * time.Second)
	if r := apiSignIn(t, e, "newcomer", apptest.Password, code(e.Clock.Now().Add(-60*time.Second))); r.Status != 401 {
		t.Errorf("a code two steps old: %d", r.Status)
	}
	next := code(e.Clock.Now())
	if r := apiSignIn(t, e, "newcomer", apptest.Password, next); r.Status != 201 {
		t.Fatalf("next step's code: %d %s", r.Status, r.Raw)
	}
	if r := apiSignIn(t, e, "newcomer", apptest.Password, next); r.Status != 401 {
		t.Errorf("the same code twice in its window: %d", r.Status)
	}
	// Recovery codes: once each, in any case and spacing.
	rc := strings.ToLower(recovery[3][1])
	if r := apiSignIn(t, e, "newcomer", apptest.Password, rc); r.Status != 201 {
		t.Errorf("recovery code: %d %s", r.Status, r.Raw)
	}
	if r := apiSignIn(t, e, "newcomer", apptest.Password, rc); r.Status != 401 {
		t.Errorf("recovery code twice: %d", r.Status)
	}
	if r := apiSignIn(t, e, "newcomer", apptest.Password, ""); r.Status != 401 || r.Reason() != "bad_credentials" {
		t.Errorf("no code: %d %s", r.Status, r.Raw)
	}

	// Only the security administrator resets a second factor; audited.
	sec := officerToken(t, e, e.NewOfficerRole(t, "secadmin", app.RoleSecurityAdmin, app.CityCode))
	sys := officerToken(t, e, e.NewOfficerRole(t, "sysadmin", app.RoleSystemAdmin, app.CityCode))
	path := fmt.Sprintf("/api/v1/officer/officers/%d/reset-2fa", o.ID)
	if r := e.API(t, http.MethodPost, path, sys, nil); r.Status != 403 {
		t.Errorf("system administrator resets a second factor: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, path, sec, nil); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Raw)
	}
	if p := b.do(t, http.MethodGet, "/officer", nil); p.status != 303 {
		t.Errorf("the reset left the officer's session working: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'officer.totp_reset' AND entity_id = ? AND actor = 'secadmin'`, o.ID); n != 1 {
		t.Errorf("reset audit rows: %d", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM officer_recovery_codes WHERE officer_id = ?`, o.ID); n != 0 {
		t.Errorf("recovery codes survived the reset: %d", n)
	}
	b2 := authzNewBrowser(t, e)
	if p := b2.do(t, http.MethodPost, "/officer/login", url.Values{"username": {"newcomer"}, "password": {apptest.Password}}); p.location != "/officer/2fa" {
		t.Errorf("after reset the sign-in goes to %q, want /officer/2fa", p.location)
	}
}

// TestFailedSignInsLockTheAccount: five failures within 15 minutes lock
// an officer's or a cashier's account for 15 minutes, whichever address
// they come from; the answer is the one an unknown username gets; the
// security administrator may release the lock early, audited.
func TestFailedSignInsLockTheAccount(t *testing.T) {
	var log bytes.Buffer
	e := apptest.New(t, apptest.Options{LogTo: &log})
	good := func() apptest.Response {
		return apiSignIn(t, e, e.Maker.Username, apptest.Password, apptest.TOTPCode(e.Clock.Now()))
	}
	for i := range 4 {
		if r := apiSignIn(t, e, e.Maker.Username, fmt.Sprintf("wrong-password-%d", i), ""); r.Reason() != "bad_credentials" {
			t.Fatalf("failure %d: %s", i, r.Raw)
		}
		e.Clock.Advance(time.Minute)
	}
	// Four failures and the account still signs in; success clears them.
	if r := good(); r.Status != 201 {
		t.Fatalf("after four failures: %d %s", r.Status, r.Raw)
	}
	for i := range 5 {
		e.Clock.Advance(100 * time.Millisecond)
		apiSignIn(t, e, e.Maker.Username, fmt.Sprintf("wrong-password-%d", i), "")
	}
	e.Clock.Advance(30 * time.Second)
	locked, unknown := good(), apiSignIn(t, e, "no-such-officer", apptest.Password, "123456")
	if locked.Status != 401 || locked.Raw != unknown.Raw {
		t.Errorf("locked account answers %d %s; unknown user %s: want the same 401", locked.Status, locked.Raw, unknown.Raw)
	}
	e.Clock.Advance(15*time.Minute - 31*time.Second)
	if r := good(); r.Status != 401 {
		t.Errorf("before the lock ends: %d", r.Status)
	}
	e.Clock.Advance(time.Second)
	if r := good(); r.Status != 201 {
		t.Errorf("after the lock ends: %d %s", r.Status, r.Raw)
	}
	// Failures spread over more than the window do not lock.
	for i := range 6 {
		e.Clock.Advance(4 * time.Minute)
		apiSignIn(t, e, e.Maker.Username, fmt.Sprintf("slow-guess-%d", i), "")
	}
	e.Clock.Advance(30 * time.Second)
	if r := good(); r.Status != 201 {
		t.Errorf("six failures over 24 minutes locked the account: %d", r.Status)
	}

	// The security administrator releases a lock early.
	for range 5 {
		e.Clock.Advance(100 * time.Millisecond)
		apiSignIn(t, e, e.Approver.Username, "wrong", "")
	}
	sec := officerToken(t, e, e.NewOfficerRole(t, "secadmin", app.RoleSecurityAdmin, app.CityCode))
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/officers/%d/unlock", e.Approver.ID), sec, nil); r.Status != 204 {
		t.Fatalf("unlock: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(30 * time.Second)
	if r := apiSignIn(t, e, e.Approver.Username, apptest.Password, apptest.TOTPCode(e.Clock.Now())); r.Status != 201 {
		t.Errorf("after unlock: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'officer.unlock' AND entity_id = ?`, e.Approver.ID); n != 1 {
		t.Errorf("unlock audit rows: %d", n)
	}

	// Cashiers lock the same way.
	cashier := func(pw string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/cashier/sessions", "", map[string]string{"username": e.Cashier.Username, "password": pw})
	}
	for range 5 {
		cashier("wrong-cashier-pw")
	}
	if r := cashier(apptest.Password); r.Status != 401 || r.Reason() != "bad_credentials" {
		t.Errorf("locked cashier: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(15 * time.Minute)
	if r := cashier(apptest.Password); r.Status != 201 {
		t.Errorf("cashier after the lock: %d %s", r.Status, r.Raw)
	}

	// No password reached the log, right or wrong.
	for _, pw := range []string{apptest.Password, "wrong-password-0", "slow-guess-3", "wrong-cashier-pw"} {
		if strings.Contains(log.String(), pw) {
			t.Errorf("the log holds the password %q", pw)
		}
	}
	if !strings.Contains(log.String(), "sign-in failed") {
		t.Errorf("the log does not record failed sign-ins at all")
	}
}

// TestIdleOfficerSessionEnds: an officer session unused for 15 minutes
// is refused; each use keeps it alive.
func TestIdleOfficerSessionEnds(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tok := officerToken(t, e, e.Maker)
	use := func() int { return e.API(t, http.MethodGet, "/api/v1/officer/campaigns", tok, nil).Status }
	for range 3 {
		e.Clock.Advance(15*time.Minute - 100*time.Millisecond)
		if s := use(); s != 200 {
			t.Fatalf("used within 15 minutes: %d", s)
		}
	}
	e.Clock.Advance(15 * time.Minute)
	if s := use(); s != 401 {
		t.Errorf("after 15 idle minutes: %d, want 401", s)
	}
	e.Clock.Advance(-10 * time.Minute) // a clock stepping back does not revive it
	if s := use(); s != 401 {
		t.Errorf("idle session revived: %d", s)
	}
}

// TestAuditLogSeparationOfDuties: the audit administrator reads the log
// but not its own role's rows, which the security administrator reads
// (and nothing else); the system administrator reads none; an export is
// itself recorded.
func TestAuditLogSeparationOfDuties(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	audAdm := e.NewOfficerRole(t, "audadm", app.RoleAuditAdmin, app.CityCode)
	_, toks := authzSignIn(t, e, audAdm) // an audit administrator's own action: its sign-in
	aud := toks[0]
	sec := officerToken(t, e, e.NewOfficerRole(t, "secadmin", app.RoleSecurityAdmin, app.CityCode))
	sys := officerToken(t, e, e.NewOfficerRole(t, "sysadmin", app.RoleSystemAdmin, app.CityCode))
	e.LiveCampaign(t, apptest.CampaignSpec{})

	actors := func(tok string) map[string]bool {
		r := e.API(t, http.MethodGet, "/api/v1/officer/audit", tok, nil)
		if r.Status != 200 {
			t.Fatalf("audit log: %d %s", r.Status, r.Raw)
		}
		out := map[string]bool{}
		for _, en := range r.Body["entries"].([]any) {
			out[en.(map[string]any)["actor"].(string)] = true
		}
		return out
	}
	if a := actors(aud); a["audadm"] || !a["approver"] {
		t.Errorf("audit administrator sees %v: want the officers' rows, not its own", a)
	}
	if a := actors(sec); !a["audadm"] || len(a) != 1 {
		t.Errorf("security administrator sees %v: want the audit administrators' rows only", a)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/officer/audit", sys, nil); r.Status != 403 {
		t.Errorf("system administrator reads the audit log: %d", r.Status)
	}
	if a := actors(officerToken(t, e, e.Maker)); a["audadm"] {
		t.Errorf("a district officer sees the administrators' rows")
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", aud)
	if p := b.do(t, http.MethodGet, "/officer/audit?format=csv", nil); p.status != 200 {
		t.Fatalf("audit export: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'export.audit_log' AND actor = 'audadm'`); n != 1 {
		t.Errorf("the export was not recorded: %d rows", n)
	}
	// The record of the export is the security administrator's to read.
	if a := actors(aud); a["audadm"] {
		t.Errorf("the audit administrator reads the record of its own export")
	}
}
