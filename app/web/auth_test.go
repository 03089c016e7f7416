package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"cqvoucher/app/apptest"
	"cqvoucher/app/web"
)

func TestSMSSignInRules(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	send := func(phone string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": phone, "consent": true})
	}
	login := func(phone, code string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/sessions", "", map[string]string{"phone": phone, "code": code})
	}
	const phone = "13800138000"

	if r := send("12345"); r.Status != 422 || r.Reason() != "phone_invalid" {
		t.Fatalf("bad phone: %d %s", r.Status, r.Raw)
	}
	if r := send("+86 138-0013-8000"); r.Status != 202 {
		t.Fatalf("send: %d %s", r.Status, r.Raw)
	}
	code := e.SMS.Code(phone)
	if len(code) != 6 {
		t.Fatalf("no code sent: %q", code)
	}
	// A second code within a minute is refused.
	if r := send(phone); r.Status != 429 || r.Reason() != "sms_too_frequent" {
		t.Fatalf("resend too soon: %d %s", r.Status, r.Raw)
	}
	// Wrong codes spend attempts; after five the right code no longer works.
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	for i := 0; i < 5; i++ {
		if r := login(phone, wrong); r.Status != 401 || r.Reason() != "code_wrong" {
			t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := login(phone, code); r.Status != 401 || r.Reason() != "code_attempts" {
		t.Fatalf("right code after 5 wrong: %d %s", r.Status, r.Raw)
	}
	// A new code after a minute; it expires after five minutes.
	e.Clock.Advance(61 * time.Second)
	if r := send(phone); r.Status != 202 {
		t.Fatalf("send after a minute: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(5*time.Minute + time.Second)
	if r := login(phone, e.SMS.Code(phone)); r.Status != 401 || r.Reason() != "code_expired" {
		t.Fatalf("expired code: %d %s", r.Status, r.Raw)
	}
	// A fresh code signs in once; the code cannot be used twice.
	send(phone)
	code = e.SMS.Code(phone)
	first := login(phone, code)
	if first.Status != 201 || first.Body["token"] == "" {
		t.Fatalf("login: %d %s", first.Status, first.Raw)
	}
	if r := login(phone, code); r.Status != 401 {
		t.Fatalf("code reused: %d %s", r.Status, r.Raw)
	}
	// Sign-out ends the session.
	tok := first.Body["token"].(string)
	if r := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", tok, nil); r.Status != 200 {
		t.Fatalf("wallet: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodDelete, "/api/v1/resident/sessions", tok, nil); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", tok, nil); r.Status != 401 {
		t.Fatalf("wallet after logout: %d", r.Status)
	}
}

func TestSMSGatewayFailureIsReported(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	e.SMS.Fail.Store(true)
	r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": "13800138000", "consent": true})
	if r.Status != 500 || r.Reason() != "sms_failed" {
		t.Fatalf("failed send: %d %s", r.Status, r.Raw)
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func TestPasswordSignInGivesFreshSessions(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	login := func(user, pw string) apptest.Response {
		e.Clock.Advance(30 * time.Second) // each TOTP code is accepted once
		return e.API(t, http.MethodPost, "/api/v1/officer/sessions", "", map[string]string{"username": user, "password": pw,
			"code": apptest.TOTPCode(e.Clock.Now())})
	}
	if r := login(e.Maker.Username, "wrong"); r.Status != 401 || r.Reason() != "bad_credentials" {
		t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
	}
	if r := login("nobody", apptest.Password); r.Status != 401 || r.Reason() != "bad_credentials" {
		t.Fatalf("unknown user: %d %s", r.Status, r.Raw)
	}
	a, b := login(e.Maker.Username, apptest.Password), login(e.Maker.Username, apptest.Password)
	if a.Status != 201 || b.Status != 201 || a.Body["token"] == b.Body["token"] {
		t.Fatalf("each sign-in must give a new session: %s / %s", a.Raw, b.Raw)
	}
	if _, leaked := a.Body["account"].(map[string]any)["password_hash"]; leaked {
		t.Fatal("the password hash left the server")
	}
	// A cashier's token does not open the officer API.
	if r := e.API(t, http.MethodGet, "/api/v1/officer/campaigns", e.CashierSession(t, e.Cashier), nil); r.Status != 401 {
		t.Fatalf("cashier on officer API: %d", r.Status)
	}
}

// TestRateLimitIgnoresForgedForwardedFor: a bot that sends a new
// X-Forwarded-For with every request is still one client. The limit runs
// on the App's clock, so the counts are exact however slow the machine is.
func TestRateLimitIgnoresForgedForwardedFor(t *testing.T) {
	cfg := web.DefaultConfig()
	cfg.LoginPerMinute = 5
	e := apptest.New(t, apptest.Options{Web: &cfg})
	i := 0
	attempt := func() int {
		i++
		r := e.API(t, http.MethodPost, "/api/v1/officer/sessions", "", map[string]string{"username": "x", "password": "y"},
			"X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", i/250, i%250), "X-Real-IP", fmt.Sprintf("10.1.0.%d", i%250))
		if r.Status == 429 && r.Reason() != "rate_limited" {
			t.Fatalf("429 without reason: %s", r.Raw)
		}
		return r.Status
	}
	limited := 0
	for range 20 {
		if attempt() == 429 {
			limited++
		}
	}
	if limited != 15 {
		t.Fatalf("%d of 20 sign-ins were limited, want 15 (limit 5 per minute per client)", limited)
	}
	// One attempt comes back every 12 s (5 a minute), not a moment sooner.
	e.Clock.Advance(11900 * time.Millisecond)
	if s := attempt(); s != 429 {
		t.Fatalf("11.9 s after the burst: %d, want 429", s)
	}
	e.Clock.Advance(100 * time.Millisecond)
	if s := attempt(); s == 429 {
		t.Fatal("12 s after the burst the client is still limited")
	}
	if s := attempt(); s != 429 {
		t.Fatalf("second attempt at 12 s: %d, want 429", s)
	}
}
