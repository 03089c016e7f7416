package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/web"
)

// privacyFileHolds reports whether the database file or its WAL holds s.
func privacyFileHolds(t *testing.T, e *apptest.Env, s string) bool {
	t.Helper()
	for _, p := range []string{e.Path, e.Path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(s)) {
			return true
		}
	}
	return false
}

func privacyClaim(t *testing.T, e *apptest.Env, c app.Campaign, tok string) {
	t.Helper()
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok,
		map[string]any{"tier_id": c.Tiers[0].ID}); r.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.Status, r.Raw)
	}
}

// TestNoPhoneNumberInTheDatabaseFiles signs a resident in through the API,
// claims and does the real-name step, then reads the raw SQLite files:
// neither the number nor the ID number is anywhere in them, and signing in
// by the same number still finds the same resident.
func TestNoPhoneNumberInTheDatabaseFiles(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{})
	const phone, idNumber = "13987654321", "11010519491231002X"
	signIn := func() (int64, string) {
		if r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": "+86 139 8765 4321", "consent": true}); r.Status != http.StatusAccepted {
			t.Fatalf("sms: %d %s", r.Status, r.Raw)
		}
		r := e.API(t, http.MethodPost, "/api/v1/resident/sessions", "", map[string]string{"phone": phone, "code": e.SMS.Code(phone)})
		if r.Status != http.StatusCreated {
			t.Fatalf("sign-in: %d %s", r.Status, r.Raw)
		}
		acct := r.Body["account"].(map[string]any)
		if acct["phone"] != "139****4321" {
			t.Errorf("sign-in answers phone %v, want it masked", acct["phone"])
		}
		return int64(acct["id"].(float64)), r.Body["token"].(string)
	}
	id, tok := signIn()
	privacyClaim(t, e, camp, tok)
	if r := e.API(t, http.MethodPost, "/api/v1/resident/identity", tok, map[string]string{"id_number": idNumber}); r.Status != http.StatusOK {
		t.Fatalf("identity: %d %s", r.Status, r.Raw)
	}
	for _, s := range []string{phone, phone[3:], idNumber[:17]} {
		if privacyFileHolds(t, e, s) {
			t.Errorf("%q is in the database file or its WAL", s)
		}
	}
	if again, _ := signIn(); again != id {
		t.Fatalf("signing in again by the same number found resident %d, want %d", again, id)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM residents`); n != 1 {
		t.Fatalf("%d residents, want 1", n)
	}
}

// TestResidentSeesAndErasesTheirData walks "我的信息" and deletion as a
// browser does: the data shown, the confirmation, the CSRF check, and what
// deletion leaves behind.
func TestResidentSeesAndErasesTheirData(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{Name: "解放碑火锅节"})
	const phone = "13812341234"
	r, tok := e.ResidentSession(t, phone)
	privacyClaim(t, e, camp, tok)
	if res := e.API(t, http.MethodPost, "/api/v1/resident/identity", tok, map[string]string{"id_number": "11010519491231002X"}); res.Status != http.StatusOK {
		t.Fatalf("identity: %d %s", res.Status, res.Raw)
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", tok)

	if p := b.do(t, http.MethodGet, "/m/wallet", nil); !strings.Contains(p.body, `href="/m/me"`) {
		t.Fatalf("the wallet does not lead to 我的信息: %d", p.status)
	}
	me := b.do(t, http.MethodGet, "/m/me", nil)
	for _, want := range []string{"我的信息", "138****1234", "已认证", "解放碑火锅节", "登录记录", `href="/m/me/delete"`} {
		if !strings.Contains(me.body, want) {
			t.Errorf("我的信息 lacks %q", want)
		}
	}
	if strings.Contains(me.body, phone) {
		t.Error("我的信息 shows the full number")
	}
	if p := b.do(t, http.MethodGet, "/m/me/delete", nil); p.status != http.StatusOK || !strings.Contains(p.body, "新的账户") {
		t.Fatalf("confirmation step: %d", p.status)
	}

	erased := func() int64 {
		return e.Count(t, `SELECT COUNT(*) FROM residents WHERE id = ? AND erased_at IS NOT NULL`, r.ID)
	}
	// Not confirmed: a clear message, nothing erased.
	if p := b.do(t, http.MethodPost, "/m/me/delete", nil); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "请勾选确认框") {
		t.Fatalf("unconfirmed deletion: %d", p.status)
	}
	// A form posted from elsewhere (no CSRF token) is refused.
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/m/me/delete", strings.NewReader("confirm=yes"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "cqv_resident", Value: tok})
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 || erased() != 0 {
		t.Fatalf("deletion without CSRF token: %d, erased %d", res.StatusCode, erased())
	}

	p := b.do(t, http.MethodPost, "/m/me/delete", url.Values{"confirm": {"yes"}})
	if p.status != http.StatusSeeOther || p.location != "/m" || b.cookie("cqv_resident") != "" {
		t.Fatalf("confirmed deletion: %d → %q, cookie %q", p.status, p.location, b.cookie("cqv_resident"))
	}
	if home := b.do(t, http.MethodGet, "/m", nil); !strings.Contains(home.body, "您的个人信息已删除") {
		t.Error("no message after deletion")
	}
	// The old session is dead, even to a client that kept the token.
	if res := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", tok, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("the erased resident's token still works: %d", res.Status)
	}
	left := e.Count(t, `SELECT COUNT(*) FROM residents WHERE id = ? AND erased_at IS NOT NULL
		AND phone IS NULL AND phone_hash IS NULL AND phone_sealed IS NULL AND id_hash IS NULL`, r.ID)
	if left != 1 {
		t.Fatal("the tombstone keeps personal data")
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE resident_id = ? AND campaign_id = ?`, r.ID, camp.ID); n != 1 {
		t.Fatalf("vouchers left pointing at the tombstone: %d, want 1 (fiscal records stay)", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM sessions WHERE kind = 'resident' AND subject_id = ?`, r.ID); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'resident.erase' AND entity = 'resident' AND entity_id = ?
		AND before_json NOT LIKE '%1381234%'`, r.ID); n != 1 {
		t.Fatalf("audit rows of the erasure: %d, want 1 without the number", n)
	}
	// The same number signing in again is a new account, with nothing in it.
	again, tok2 := e.ResidentSession(t, phone)
	if again.ID == r.ID {
		t.Fatal("signing in after deletion found the erased account")
	}
	if res := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", tok2, nil); res.Status != http.StatusOK || len(res.Body["vouchers"].([]any)) != 0 {
		t.Fatalf("the new account's wallet: %d %s", res.Status, res.Raw)
	}
}

func TestPersonalDataAPI(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{})
	r, tok := e.ResidentSession(t, "15012345678")
	privacyClaim(t, e, camp, tok)
	// A second device, whose session the server has cached.
	otherDevice := e.Session(t, app.KindResident, r.ID, time.Hour)
	if res := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", otherDevice, nil); res.Status != http.StatusOK {
		t.Fatalf("second device: %d", res.Status)
	}

	res := e.API(t, http.MethodGet, "/api/v1/resident/me", tok, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET me: %d %s", res.Status, res.Raw)
	}
	acct := res.Body["account"].(map[string]any)
	if acct["phone"] != "150****5678" || acct["real_name"] != false || int64(acct["id"].(float64)) != r.ID {
		t.Errorf("account = %v", acct)
	}
	if n, v := len(res.Body["sessions"].([]any)), len(res.Body["vouchers"].([]any)); n != 2 || v != 1 {
		t.Errorf("%d sessions and %d vouchers, want 2 and 1", n, v)
	}
	if strings.Contains(string(res.Raw), "15012345678") {
		t.Error("the answer holds the full number")
	}

	if res := e.API(t, http.MethodPost, "/api/v1/resident/me/erasure", tok, map[string]any{"confirm": false}); res.Status != http.StatusUnprocessableEntity || res.Reason() != "erase_unconfirmed" {
		t.Fatalf("unconfirmed: %d %s", res.Status, res.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM residents WHERE erased_at IS NOT NULL`); n != 0 {
		t.Fatal("an unconfirmed request erased the resident")
	}
	if res := e.API(t, http.MethodPost, "/api/v1/resident/me/erasure", tok, map[string]any{"confirm": true}); res.Status != http.StatusOK {
		t.Fatalf("erasure: %d %s", res.Status, res.Raw)
	}
	if res := e.API(t, http.MethodGet, "/api/v1/resident/me", tok, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("GET me after erasure: %d", res.Status)
	}
	// The other device is signed out at once, not when its cached session ages out.
	if res := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", camp.ID), otherDevice,
		map[string]any{"tier_id": camp.Tiers[0].ID}); res.Status != http.StatusUnauthorized {
		t.Fatalf("the other device claims after erasure: %d %s", res.Status, res.Raw)
	}
}

// TestRetentionSweepRunsOnTheAppClock holds the limits docs/privacy.md
// states: ended sessions go 7 days after they end, SMS codes 1 day after
// they were sent, and nothing before.
func TestRetentionSweepRunsOnTheAppClock(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	r, _ := e.ResidentSession(t, "13700001111")
	short := e.Session(t, app.KindResident, r.ID, time.Hour)
	e.Session(t, app.KindResident, r.ID, 10*24*time.Hour)
	if _, err := e.App.SendSignInCode(ctx, "13700002222"); err != nil { // never used
		t.Fatal(err)
	}
	t0 := e.Clock.Now()
	sweep := func(at time.Duration, wantSessions, wantCodes int64) {
		t.Helper()
		e.Clock.Set(t0.Add(at))
		if _, err := e.App.SweepRetention(ctx); err != nil {
			t.Fatal(err)
		}
		s := e.Count(t, `SELECT COUNT(*) FROM sessions WHERE subject_id = ?`, r.ID)
		c := e.Count(t, `SELECT COUNT(*) FROM sms_codes`)
		if s != wantSessions || c != wantCodes {
			t.Fatalf("at +%v: %d sessions and %d sms codes kept, want %d and %d", at, s, c, wantSessions, wantCodes)
		}
	}
	sweep(24*time.Hour-250*time.Millisecond, 3, 1)
	sweep(24*time.Hour+250*time.Millisecond, 3, 0)
	sweep(time.Hour+7*24*time.Hour-250*time.Millisecond, 3, 0)
	sweep(time.Hour+7*24*time.Hour+250*time.Millisecond, 2, 0)
	if _, err := e.App.Session(ctx, app.KindResident, short); err == nil {
		t.Fatal("the swept session still signs in")
	}
}

func TestSMSOutboxLogsTheNumberMasked(t *testing.T) {
	var buf bytes.Buffer
	o := web.NewOutbox(slog.New(slog.NewTextHandler(&buf, nil)), true)
	if err := o.Send(context.Background(), "13912345678", "验证码 123456"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "13912345678") || !strings.Contains(buf.String(), "139****5678") {
		t.Fatalf("log line: %s", buf.String())
	}
}

// TestMerchantContactDataIsSealed: a merchant's application leaves neither
// its contact phone nor its settlement account in the database files, and
// the settlement export still shows the account to the officers who pay it.
func TestMerchantContactDataIsSealed(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if r := e.API(t, http.MethodPost, "/api/v1/merchants/applications", "", application(nil)); r.Status != http.StatusCreated {
		t.Fatalf("application: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM merchants WHERE name = '十八梯抄手' AND contact_phone = '' AND settlement_account = ''
		AND contact_phone_sealed IS NOT NULL AND settlement_account_sealed IS NOT NULL`); n != 1 {
		t.Fatal("the application is not stored sealed")
	}
	for _, s := range []string{"13800138001", "6222021234567890123"} {
		if privacyFileHolds(t, e, s) {
			t.Errorf("%s is in the database file or its WAL", s)
		}
	}
}
