package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

func inspect(t *testing.T, e *apptest.Env, cashierTok, voucher string) apptest.Response {
	t.Helper()
	return e.API(t, http.MethodPost, "/api/v1/cashier/inspect", cashierTok, map[string]string{"voucher": voucher, "bill": "150"})
}

// mistype changes one digit of a code: its check digit no longer holds.
func mistype(code string) string {
	return code[:5] + string(rune('0'+(code[5]-'0'+3)%10)) + code[6:]
}

// TestTypedCodeLimits: a code whose check digit fails is refused before
// any lookup and counts for nothing; a code that passes it and matches no
// voucher counts against the cashier (5 in 10 minutes) and the merchant
// (30 a day); beyond the limit typed codes are refused, with when to try
// again, while scans go on working; once the window has passed, typing
// works again.
func TestTypedCodeLimits(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	qr := token.QRText("http://localhost:8080", v.Token)
	cashier := e.CashierSession(t, e.Cashier)
	step := func() { e.Clock.Advance(250 * time.Millisecond) }

	// Mistyped codes: refused, written nowhere, and not counted.
	for range 20 {
		r := inspect(t, e, cashier, mistype(v.Code))
		if r.Status != http.StatusUnprocessableEntity || r.Reason() != "code_mistyped" {
			t.Fatalf("mistyped code: %d %s", r.Status, r.Raw)
		}
		step()
	}
	if r := inspect(t, e, cashier, token.FormatCode(v.Code)); r.Status != http.StatusOK {
		t.Fatalf("the right code after 20 mistyped ones: %d %s", r.Status, r.Raw)
	}

	// Five wrong codes that pass the check digit.
	firstWrong := e.Clock.Now()
	for i := range 5 {
		if r := inspect(t, e, cashier, token.NewCode()); r.Status != http.StatusNotFound || r.Reason() != "voucher_unknown" {
			t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Raw)
		}
		step()
	}
	// The limit is reached: even the right code is refused when typed…
	r := inspect(t, e, cashier, v.Code)
	params, _ := r.Body["error"].(map[string]any)["params"].(map[string]any)
	retryAt := firstWrong.Add(10 * time.Minute)
	if r.Status != http.StatusTooManyRequests || r.Reason() != "too_many_wrong_codes" ||
		params["at"] != retryAt.In(app.Shanghai).Format("15:04:05") || params["retry_after"] != "599" {
		t.Fatalf("sixth typed code: %d %s", r.Status, r.Raw)
	}
	// …and on the till page, in words.
	till := authzNewBrowser(t, e)
	till.setCookie("cqv_cashier", cashier)
	page := till.do(t, http.MethodPost, "/merchant/check", url.Values{"voucher": {v.Code}, "bill": {"150"}})
	if !strings.Contains(page.body, "输错券码次数过多，请于 "+retryAt.In(app.Shanghai).Format("15:04:05")+" 后再输入券码") {
		t.Errorf("till page at the limit: %d %.600s", page.status, page.body)
	}
	// …while the scanned QR works, and so does a colleague's typing.
	if r := inspect(t, e, cashier, qr); r.Status != http.StatusOK {
		t.Fatalf("scan at the limit: %d %s", r.Status, r.Raw)
	}
	colleague := e.CashierSession(t, e.NewCashier(t, e.Merchant, "colleague"))
	if r := inspect(t, e, colleague, v.Code); r.Status != http.StatusOK {
		t.Fatalf("a colleague types the code: %d %s", r.Status, r.Raw)
	}

	// Just before the first wrong code leaves the window: still refused;
	// just after: typing works again.
	e.Clock.Set(retryAt.Add(-100 * time.Millisecond))
	if r := inspect(t, e, cashier, v.Code); r.Reason() != "too_many_wrong_codes" {
		t.Fatalf("100 ms before the window ends: %d %s", r.Status, r.Raw)
	}
	e.Clock.Set(retryAt)
	if r := inspect(t, e, cashier, v.Code); r.Status != http.StatusOK {
		t.Fatalf("when the window ends: %d %s", r.Status, r.Raw)
	}
	// Only one slot came free: one more wrong code and the cashier waits
	// for the next one to leave the window.
	if r := inspect(t, e, cashier, token.NewCode()); r.Reason() != "voucher_unknown" {
		t.Fatalf("wrong code after the window: %d %s", r.Status, r.Raw)
	}
	if r := inspect(t, e, cashier, v.Code); r.Reason() != "too_many_wrong_codes" {
		t.Fatalf("at the limit again: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Fatalf("%d redemptions written", n)
	}
}

// TestMerchantWrongCodeLimit: the merchant's tills together may type 30
// wrong codes a day, however many cashiers share them.
func TestMerchantWrongCodeLimit(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	start := e.Clock.Now()
	var tills []string
	for i := range 7 {
		tills = append(tills, e.CashierSession(t, e.NewCashier(t, e.Merchant, fmt.Sprintf("till%d", i))))
	}
	for i, till := range tills[:6] { // 6 × 5 = 30, each within its own limit
		for j := range 5 {
			if r := inspect(t, e, till, token.NewCode()); r.Reason() != "voucher_unknown" {
				t.Fatalf("till %d, wrong code %d: %d %s", i, j+1, r.Status, r.Raw)
			}
			e.Clock.Advance(300 * time.Millisecond)
		}
	}
	r := inspect(t, e, tills[6], v.Code)
	if r.Reason() != "too_many_wrong_codes" {
		t.Fatalf("a seventh till after the merchant's 30: %d %s", r.Status, r.Raw)
	}
	// Another merchant's till is not affected.
	other := e.NewMerchant(t, "较场口小面", "500103", "catering")
	if r := inspect(t, e, e.CashierSession(t, e.NewCashier(t, other, "elsewhere")), v.Code); r.Status != http.StatusOK {
		t.Fatalf("another merchant: %d %s", r.Status, r.Raw)
	}
	e.Clock.Set(start.Add(24*time.Hour - 200*time.Millisecond))
	if r := inspect(t, e, tills[6], v.Code); r.Reason() != "too_many_wrong_codes" {
		t.Fatalf("just before a day has passed: %d %s", r.Status, r.Raw)
	}
	e.Clock.Set(start.Add(24 * time.Hour))
	if r := inspect(t, e, tills[6], v.Code); r.Status != http.StatusOK {
		t.Fatalf("a day after the first wrong code: %d %s", r.Status, r.Raw)
	}
}

// TestMistypedCodeOnTheTillPage: the cashier reads the refusal in words.
func TestMistypedCodeOnTheTillPage(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	till := authzNewBrowser(t, e)
	till.setCookie("cqv_cashier", e.CashierSession(t, e.Cashier))
	page := till.do(t, http.MethodPost, "/merchant/check", url.Values{"voucher": {token.FormatCode(mistype(v.Code))}, "bill": {"150"}})
	if !strings.Contains(page.body, "券码有误，请核对后重新输入") {
		t.Errorf("mistyped code on the till page: %d %.600s", page.status, page.body)
	}
}

// TestLegacyVoucherKeepsWorking: a voucher issued before the digit codes
// and the compact token (a Crockford code, a token of typ cqv+jwt under
// the thumbprint kid, a /v/ link) verifies, shows its state on its public
// link, is found by its code typed any old way and redeems; a legacy token
// whose terms disagree with the database is a forgery.
func TestLegacyVoucherKeepsWorking(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	const oldCode = "7K3M9QXZ2HJ4RT8V"
	terms := token.Claims{Issuer: c.District, Code: oldCode, CampaignID: v.CampaignID, TierID: v.TierID,
		FaceFen: int64(v.FaceFen), ThresholdFen: int64(v.ThresholdFen), Category: "catering", Expires: v.ExpiresAt}
	legacy, err := e.App.Ring().SignLegacy(terms)
	if err != nil {
		t.Fatal(err)
	}
	richer := terms
	richer.FaceFen *= 10
	forged, err := e.App.Ring().SignLegacy(richer)
	if err != nil {
		t.Fatal(err)
	}
	// The voucher as it was stored then.
	e.Exec(t, fmt.Sprintf(`UPDATE vouchers SET code = '%s', token = '%s' WHERE code = '%s'`, oldCode, legacy, v.Code))
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE code = ? AND token = ?`, oldCode, legacy); n != 1 {
		t.Fatalf("%d vouchers rewritten", n)
	}
	if got := token.QRText("https://q.example", legacy); got != "https://q.example/v/"+legacy {
		t.Fatalf("legacy QR text %q", got)
	}

	link := apptest.Client
	res, err := link.Get(e.Server.URL + "/v/" + legacy)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="valid"`) {
		t.Errorf("public /v/ link of a legacy voucher: %d %.400s", res.StatusCode, body)
	}

	cashier := e.CashierSession(t, e.Cashier)
	for name, scanned := range map[string]string{
		"legacy link":  "https://q.example/v/" + legacy + "\r\n",
		"legacy token": legacy,
		"old code":     "7k3m-9qxz-2hj4-rt8v",
	} {
		if r := inspect(t, e, cashier, scanned); r.Status != http.StatusOK || r.Body["voucher"].(map[string]any)["code_masked"] != "****-****-****-RT8V" {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := inspect(t, e, cashier, forged); r.Reason() != "forged" {
		t.Errorf("legacy token with a raised face value: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, cashier, "https://q.example/v/"+legacy, "150", "legacy-1"); r.Status != http.StatusCreated {
		t.Fatalf("redeem by legacy link: %d %s", r.Status, r.Raw)
	}
}

// TestPackedLinkShowsTheVoucher: the /V/ link a phone camera opens from a
// new QR says the voucher is valid and names its campaign; a packed link
// with a changed digit does not.
func TestPackedLinkShowsTheVoucher(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	packed := token.ExtractToken(token.QRText("http://localhost:8080", v.Token))
	for path, genuine := range map[string]bool{
		"/V/" + packed: true,
		"/V/" + packed[:20] + string(rune('0'+(packed[20]-'0'+1)%10)) + packed[21:]: false,
	} {
		res, err := apptest.Client.Get(e.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		if res.StatusCode != http.StatusOK || strings.Contains(body, `data-state="valid"`) != genuine {
			t.Errorf("GET %.40s…: %d, says valid: %v, want %v", path, res.StatusCode, strings.Contains(body, `data-state="valid"`), genuine)
		}
		// A genuine link names the campaign the voucher belongs to.
		if named := strings.Contains(body, `id="voucher-link-campaign">`+c.Name+`<`); named != genuine {
			t.Errorf("GET %.40s…: names campaign %q: %v, want %v", path, c.Name, named, genuine)
		}
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWrongCodesTypedAtOnce: twenty wrong codes sent at the same moment by
// one cashier get five lookups; the rest are refused, since each code is
// counted before it is looked up.
func TestWrongCodesTypedAtOnce(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	cashier := e.CashierSession(t, e.Cashier)
	reasons := make(chan string, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { reasons <- inspect(t, e, cashier, token.NewCode()).Reason() })
	}
	wg.Wait()
	close(reasons)
	got := map[string]int{}
	for r := range reasons {
		got[r]++
	}
	if got["voucher_unknown"] != 5 || got["too_many_wrong_codes"] != 15 {
		t.Errorf("20 wrong codes at once: %v, want 5 looked up and 15 refused", got)
	}
}
