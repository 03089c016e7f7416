package web_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// claimOne gives a fresh resident one voucher of the campaign's first tier.
func claimOne(t *testing.T, e *apptest.Env, c app.Campaign, phone string) app.Voucher {
	t.Helper()
	_, tok := e.ResidentSession(t, phone)
	r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": c.Tiers[0].ID})
	if r.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.Status, r.Raw)
	}
	var v struct {
		app.Voucher
		QRText string `json:"qr_text"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &v); err != nil {
		t.Fatal(err)
	}
	// The QR carries the token packed after /V/ (token.QRText).
	if jws, err := token.Unpack(token.ExtractToken(v.QRText)); err != nil || jws != v.Token || !strings.Contains(v.QRText, "/V/") {
		t.Fatalf("QR text %q does not carry the token (%v)", v.QRText, err)
	}
	return v.Voucher
}

func redeem(t *testing.T, e *apptest.Env, cashierTok, voucher, bill, key string) apptest.Response {
	return e.API(t, http.MethodPost, "/api/v1/cashier/redemptions", cashierTok, map[string]string{"voucher": voucher, "bill": bill}, "Idempotency-Key", key)
}

func TestFiftyCashiersRedeemOneVoucherOnce(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")

	const cashiers = 50
	toks := make([]string, cashiers)
	for i := range toks {
		m := e.Merchant
		if i%2 == 1 { // half of them at a second shop of the same district
			if i == 1 {
				e.NewMerchant(t, "较场口小面", "500103", "catering")
			}
			m.ID = e.Merchant.ID + 1
		}
		toks[i] = e.CashierSession(t, e.NewCashier(t, m, fmt.Sprintf("c%02d", i)))
	}
	var got tally
	race(cashiers, func(i int) {
		got.add(redeem(t, e, toks[i], v.Token, "150", fmt.Sprintf("key-%d", i)))
	})
	if len(got.bad) > 0 {
		t.Fatalf("errors of ours: %v", got.bad)
	}
	if got.count["201 "] != 1 || got.count["409 already_redeemed"] != cashiers-1 {
		t.Fatalf("answers = %v, want 1 redemption and 49 already redeemed", got.count)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 1 {
		t.Fatalf("redemptions stored = %d", n)
	}
	if n := e.Count(t, `SELECT subsidy_fen FROM campaigns WHERE id = ?`, c.ID); n != 3000 {
		t.Fatalf("subsidy = %d fen, want 3000", n)
	}
	// The refusal says when and where.
	r := redeem(t, e, toks[0], v.Token, "150", "another-key")
	params, _ := r.Body["error"].(map[string]any)["params"].(map[string]any)
	if params["at"] == "" || params["merchant"] == nil {
		t.Fatalf("already-redeemed answer lacks when/where: %s", r.Raw)
	}
}

func TestRedeemIdempotentRetryAndRules(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	tok := e.CashierSession(t, e.Cashier)

	// Below the threshold: refused, nothing written.
	if r := redeem(t, e, tok, v.Code, "99.99", "k1"); r.Status != 409 || r.Reason() != "below_threshold" {
		t.Fatalf("below threshold: %d %s", r.Status, r.Raw)
	}
	// Wrong district and wrong category shops are refused.
	other := e.CashierSession(t, e.NewCashier(t, e.NewMerchant(t, "观音桥小面", "500105", "catering"), "jb"))
	if r := redeem(t, e, other, v.Code, "150", "k2"); r.Status != 409 || r.Reason() != "wrong_district" {
		t.Fatalf("wrong district: %d %s", r.Status, r.Raw)
	}
	gym := e.CashierSession(t, e.NewCashier(t, e.NewMerchant(t, "渝中健身", "500103", "sports"), "gym"))
	if r := redeem(t, e, gym, v.Code, "150", "k3"); r.Status != 409 || r.Reason() != "wrong_category" {
		t.Fatalf("wrong category: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, tok, v.Code, "150", ""); r.Status != 422 || r.Reason() != "idempotency_key_invalid" {
		t.Fatalf("no key: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Fatalf("refusals wrote %d redemptions", n)
	}

	// The manual code, typed sloppily, redeems; the bill is 150.50.
	sloppy := strings.ToLower(token.FormatCode(v.Code))
	sloppy = strings.ReplaceAll(sloppy, "-", " ")
	first := redeem(t, e, tok, sloppy, "150.50", "pos-1")
	if first.Status != 201 {
		t.Fatalf("redeem: %d %s", first.Status, first.Raw)
	}
	if first.Body["pay_fen"].(float64) != 15050-3000 || first.Body["discount_fen"].(float64) != 3000 {
		t.Fatalf("receipt: %s", first.Raw)
	}
	// A retry after a dropped connection gets the first answer back.
	again := redeem(t, e, tok, v.Code, "150.50", "pos-1")
	if again.Status != 200 || again.Body["redemption"].(map[string]any)["replayed"] != true {
		t.Fatalf("retry: %d %s", again.Status, again.Raw)
	}
	// The same key with another bill is refused.
	if r := redeem(t, e, tok, v.Code, "200", "pos-1"); r.Status != 409 || r.Reason() != "idempotency_key_reused" {
		t.Fatalf("reused key: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 1 {
		t.Fatalf("redemptions = %d, want 1", n)
	}
	if n := e.Count(t, `SELECT consumption_fen FROM campaigns WHERE id = ?`, c.ID); n != 15050 {
		t.Fatalf("consumption = %d, want 15050", n)
	}
}

func TestRedeemExpiredVoucher(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 1})
	v := claimOne(t, e, c, "13800138000")
	// Claimed at 10:00 Shanghai; valid through 23:59:59.9 Shanghai the same
	// day: the bound is the next midnight, 16:00 UTC, exclusive.
	if got, want := v.ExpiresAt.UTC(), time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("expires %v, want %v (end of the day in Asia/Shanghai)", got, want)
	}
	e.Clock.Advance(14 * time.Hour) // 00:00 Shanghai the next day
	tok := e.CashierSession(t, e.Cashier)
	if r := redeem(t, e, tok, v.Token, "150", "k"); r.Status != 409 || r.Reason() != "expired" {
		t.Fatalf("expired token: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, tok, v.Code, "150", "k"); r.Status != 409 || r.Reason() != "expired" {
		t.Fatalf("expired code: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Fatal("an expired voucher was redeemed")
	}
}

// TestForgedTokensRejected sends the classic JWT attacks to the cashier's
// redemption endpoint: each is refused and nothing is written.
func TestForgedTokensRejected(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	tok := e.CashierSession(t, e.Cashier)

	now := e.Clock.Now()
	pub := e.Key.Public().(ed25519.PublicKey)
	kid := token.Thumbprint(pub)
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		m := jwt.MapClaims{"iss": c.District, "jti": v.Code, "c": c.ID, "t": c.Tiers[0].ID, "f": 3000, "m": 10000,
			"k": "catering", "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(m)
		}
		return m
	}
	sign := func(method jwt.SigningMethod, key any, cl jwt.MapClaims, kid string) string {
		tk := jwt.NewWithClaims(method, cl)
		tk.Header["kid"] = kid
		tk.Header["typ"] = token.LegacyTyp // the legacy form, whose terms must agree with the database
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	b64 := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(v.Token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	longer := strings.Replace(string(payload), `"exp":`, `"exp":1`, 1) // ten times the life
	packed := token.ExtractToken(token.QRText("https://q.example", v.Token))
	// One digit of the code (digits 10 to 25 of the packed form) changed.
	flipped := packed[:12] + string(rune('0'+(packed[12]-'0'+1)%10)) + packed[13:]
	compact := func(jti string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"jti": jti, "exp": now.Add(time.Hour).Unix()})
		tk.Header["kid"], tk.Header["typ"] = e.App.Ring().ActiveKID(), token.Typ
		s, err := tk.SignedString(e.Key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	cases := []struct {
		name, voucher, reason string
	}{
		{"alg none", b64([]byte(`{"alg":"none","typ":"cqv+jwt","kid":"`+kid+`"}`)) + "." + parts[1] + ".", "forged"},
		{"HS256 keyed with the public key", sign(jwt.SigningMethodHS256, []byte(pub), claims(nil), kid), "forged"},
		{"altered payload", parts[0] + "." + b64([]byte(longer)) + "." + parts[2], "forged"},
		{"altered digit of the QR", "HTTPS://Q.EXAMPLE/V/" + flipped, "forged"},
		{"packed token cut short", "HTTPS://Q.EXAMPLE/V/" + packed[:len(packed)-1], "forged"},
		{"compact, signed by us, never issued", compact(token.NewCode()), "forged"},
		{"legacy, richer face value", sign(jwt.SigningMethodEdDSA, e.Key, claims(func(m jwt.MapClaims) { m["f"] = 300000 }), kid), "forged"},
		{"unknown kid", sign(jwt.SigningMethodEdDSA, stranger, claims(nil), token.Thumbprint(stranger.Public().(ed25519.PublicKey))), "forged"},
		{"right kid, wrong key", sign(jwt.SigningMethodEdDSA, stranger, claims(nil), kid), "forged"},
		{"no exp", sign(jwt.SigningMethodEdDSA, e.Key, claims(func(m jwt.MapClaims) { delete(m, "exp") }), kid), "forged"},
		{"expired", sign(jwt.SigningMethodEdDSA, e.Key, claims(func(m jwt.MapClaims) { m["exp"] = now.Add(-time.Hour).Unix() }), kid), "expired"},
		{"wrong issuer", sign(jwt.SigningMethodEdDSA, e.Key, claims(func(m jwt.MapClaims) { m["iss"] = "evil" }), kid), "forged"},
		{"signed by us, never issued", sign(jwt.SigningMethodEdDSA, e.Key, claims(func(m jwt.MapClaims) { m["jti"] = token.NewCode() }), kid), "forged"},
		{"header of dots", strings.Repeat(".", 60000), "forged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := redeem(t, e, tok, tc.voucher, "150", "k-"+tc.name)
			if r.Reason() != tc.reason || r.Status >= 500 {
				t.Fatalf("%d %s, want reason %s", r.Status, r.Raw, tc.reason)
			}
		})
	}
	// A 1 MiB header of dots is refused before it reaches the token parser.
	r := redeem(t, e, tok, strings.Repeat(".", 1<<20), "150", "k-huge")
	if r.Status != http.StatusRequestEntityTooLarge && r.Reason() != "forged" {
		t.Fatalf("1 MiB token: %d %.200s", r.Status, r.Raw)
	}
	if _, err := e.App.Redeem(t.Context(), e.Cashier, strings.Repeat(".", 1<<20), 15000, "k"); app.ErrorReason(err) != "forged" {
		t.Fatalf("1 MiB token in the domain: %v", err)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Fatalf("forged tokens wrote %d redemptions", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE status = 'claimed'`); n != 1 {
		t.Fatal("the genuine voucher changed state")
	}
	// And the genuine token still works.
	if r := redeem(t, e, tok, v.Token, "150", "genuine"); r.Status != 201 {
		t.Fatalf("genuine: %d %s", r.Status, r.Raw)
	}
}
