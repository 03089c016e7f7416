package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// liveVoucher claims one voucher (¥30 off ¥100) for a resident through
// the domain and returns it with the resident's session token.
func liveVoucher(t *testing.T, e *apptest.Env, phone string) (app.Voucher, string) {
	t.Helper()
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	r, tok := e.ResidentSession(t, phone)
	v, err := e.App.Claim(context.Background(), r, c.ID, c.Tiers[0].ID, "live-"+phone)
	if err != nil {
		t.Fatalf("claiming: %v", err)
	}
	return v, tok
}

// redeemAtTill redeems a voucher through the cashier API, as the till
// does, and returns the redemption's id.
func redeemAtTill(t *testing.T, e *apptest.Env, cashierTok string, v app.Voucher, bill string) int64 {
	t.Helper()
	return redeemAtTillAs(t, e, cashierTok, v, bill, "till-"+v.Code)
}

// redeemAtTillAs redeems under a given idempotency key: a second use
// after a reversal is a new request with a new key.
func redeemAtTillAs(t *testing.T, e *apptest.Env, cashierTok string, v app.Voucher, bill, key string) int64 {
	t.Helper()
	r := e.API(t, http.MethodPost, "/api/v1/cashier/redemptions", cashierTok,
		map[string]string{"voucher": v.Token, "bill": bill}, "Idempotency-Key", key)
	if r.Status != http.StatusCreated {
		t.Fatalf("redeeming at the till: %d %s", r.Status, r.Raw)
	}
	return int64(r.Body["redemption"].(map[string]any)["id"].(float64))
}

func reverseAtTill(t *testing.T, e *apptest.Env, cashierTok string, redemptionID int64) {
	t.Helper()
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", redemptionID), cashierTok, nil); r.Status != http.StatusOK {
		t.Fatalf("reversing at the till: %d %s", r.Status, r.Raw)
	}
}

// TestBrowserVoucherPageFollowsTheTill is the moment at the till on the
// resident's phone: the voucher page is open, the cashier redeems it
// through the API, and the page shows a large 已使用 with the shop and
// the amount saved, without a reload; the cashier reverses it and the
// page shows the QR again.
//
// The page polls on the browser's own timer; the server's clock is the
// test's and does not need to move for a redemption to show. Each step
// waits for the page to show a state (the page promises 2 s; the wait is
// generous so a busy machine does not fail it, and the flip is timed
// and logged).
func TestBrowserVoucherPageFollowsTheTill(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	v, residentTok := liveVoucher(t, e, "13912340001")
	cashier := e.CashierSession(t, e.Cashier)

	tab, console, step := browserChineseTab(t, "voucher", 10*time.Second)
	step("phone viewport and the resident's session",
		chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
			chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait),
		// The resident is signed in already (sign-in has browser tests of its own).
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "cqv_resident", Value: residentTok, URL: e.Server.URL + "/"})
			return err
		}),
		chromedp.Navigate(e.Server.URL+"/m/vouchers/"+v.Code),
		chromedp.WaitVisible(chromedp.CSS(`#voucher-usable img.qr`)),
	)
	if got := pageText(t, tab, `#voucher-state`); got != "可使用" {
		t.Fatalf("before the till the page says %q, want 可使用", got)
	}
	if browserEval[bool](t, tab, `!document.getElementById('voucher-used').hidden`) {
		t.Fatalf("the used mark shows before the voucher was used")
	}
	// The page must not be reloaded to flip: a marker on window survives
	// only if it is not.
	browserEval[bool](t, tab, `window.__sameDocument = true`)

	redID := redeemAtTill(t, e, cashier, v, "150")
	start := time.Now()
	waitFor(t, tab, "the page flips to 已使用", `!document.getElementById('voucher-used').hidden`)
	t.Logf("the page showed 已使用 %v after the redemption", time.Since(start).Round(10*time.Millisecond))
	if got := pageText(t, tab, `#voucher-used .used-mark`); got != "已使用" {
		t.Errorf("the used mark says %q, want 已使用", got)
	}
	if got := pageText(t, tab, `#used-merchant`); got != e.Merchant.Name {
		t.Errorf("the page names the shop %q, want %q", got, e.Merchant.Name)
	}
	if got := pageText(t, tab, `#used-saved`); got != app.Fen(3000).Yuan() {
		t.Errorf("the page shows %q saved, want %s", got, app.Fen(3000).Yuan())
	}
	if got := pageText(t, tab, `#used-at`); got != app.FormatLocal(e.Clock.Now()) {
		t.Errorf("the page shows the use at %q, want %q (the server's clock)", got, app.FormatLocal(e.Clock.Now()))
	}
	if got := pageText(t, tab, `#voucher-state`); got != "已使用" {
		t.Errorf("the status badge says %q, want 已使用", got)
	}
	if !browserEval[bool](t, tab, `document.getElementById('voucher-usable').hidden`) {
		t.Errorf("the QR is still shown on a used voucher")
	}

	e.Clock.Advance(400 * time.Millisecond)
	reverseAtTill(t, e, cashier, redID)
	waitFor(t, tab, "the page flips back to usable", `document.getElementById('voucher-used').hidden && !document.getElementById('voucher-usable').hidden && !!document.getElementById('manual-code')`)
	if got := pageText(t, tab, `#voucher-state`); got != "可使用" {
		t.Errorf("after the reversal the page says %q, want 可使用", got)
	}
	if !browserEval[bool](t, tab, `window.__sameDocument === true`) {
		t.Errorf("the page was reloaded to follow the voucher")
	}

	// The wallet follows too: its usable tab lists the voucher; after a
	// second use at the till, coming back to the wallet (focus) redraws
	// the list without a reload.
	card := `#wallet a[href="/m/vouchers/` + v.Code + `"]`
	step("the wallet", chromedp.Navigate(e.Server.URL+"/m/wallet"), chromedp.WaitVisible(chromedp.CSS(card)))
	browserEval[bool](t, tab, `window.__sameDocument = true`)
	e.Clock.Advance(400 * time.Millisecond)
	againID := redeemAtTillAs(t, e, cashier, v, "150", "till-again-"+v.Code)
	browserEval[bool](t, tab, `window.dispatchEvent(new Event('focus')), true`)
	waitFor(t, tab, "the wallet's usable tab drops the used voucher", `!document.querySelector('`+card+`')`)
	if got := pageText(t, tab, `#wallet .tab[href="/m/wallet?tab=redeemed"]`); got != "已使用 (1)" {
		t.Errorf("the wallet's used tab says %q, want 已使用 (1)", got)
	}
	if !browserEval[bool](t, tab, `window.__sameDocument === true`) {
		t.Errorf("the wallet was reloaded to follow the voucher")
	}

	// A page opened on the used voucher has no code to present; when the
	// use is reversed, the QR and the manual code appear.
	step("the used voucher's page", chromedp.Navigate(e.Server.URL+"/m/vouchers/"+v.Code), chromedp.WaitVisible(chromedp.CSS(`#voucher-used`)))
	if browserEval[bool](t, tab, `!!document.getElementById('manual-code')`) {
		t.Errorf("a used voucher's page carries its manual code")
	}
	e.Clock.Advance(400 * time.Millisecond)
	reverseAtTill(t, e, cashier, againID)
	waitFor(t, tab, "the reversed voucher's code appears", `!!document.getElementById('manual-code') && !document.getElementById('voucher-usable').hidden`)
	if got := pageText(t, tab, `#manual-code`); strings.ReplaceAll(got, "-", "") == "" {
		t.Errorf("the manual code shows %q", got)
	}
	for _, m := range console.all() {
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}
}

// TestVoucherStateFeedIsCheapWhenUnchanged: the page's poll of an
// unchanged voucher is answered 304 without body; a redemption changes
// the answer; another resident's voucher is not found.
func TestVoucherStateFeedIsCheapWhenUnchanged(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	v, tok := liveVoucher(t, e, "13912340002")
	_, otherTok := e.ResidentSession(t, "13912340003")
	get := func(tok, etag string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/m/vouchers/"+v.Code+"/state.json", nil)
		req.AddCookie(&http.Cookie{Name: "cqv_resident", Value: tok})
		req.Header.Set("Accept-Language", "zh-CN")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get(tok, "")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" || !strings.Contains(body, `"state":"claimed"`) || !strings.Contains(body, "可使用") {
		t.Fatalf("first poll: %d etag %q %s", res.StatusCode, etag, body)
	}
	if res, body := get(tok, etag); res.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("unchanged poll: %d %q, want 304 without body", res.StatusCode, body)
	}
	redeemAtTill(t, e, e.CashierSession(t, e.Cashier), v, "150")
	res, body = get(tok, etag)
	if res.StatusCode != 200 || res.Header.Get("ETag") == etag || !strings.Contains(body, `"state":"redeemed"`) ||
		!strings.Contains(body, e.Merchant.Name) || !strings.Contains(body, `"saved":"`+app.Fen(3000).Yuan()+`"`) {
		t.Fatalf("poll after the redemption: %d %s", res.StatusCode, body)
	}
	if res, body := get(otherTok, ""); res.StatusCode != http.StatusNotFound || strings.Contains(body, e.Merchant.Name) {
		t.Fatalf("another resident polls the voucher: %d %s", res.StatusCode, body)
	}
}

// TestPublicVoucherLinkShowsTheRealState opens /v/<token> as a phone
// camera would in each state of the voucher: valid, used (when and
// where), reversed and usable again, expired; a forged token is refused.
// The page is public and never shows the resident's phone.
func TestPublicVoucherLinkShowsTheRealState(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	const phone = "13912340004"
	v, _ := liveVoucher(t, e, phone)
	cashier := e.CashierSession(t, e.Cashier)
	open := func(tok string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/v/"+tok, nil)
		req.Header.Set("Accept-Language", "zh-CN")
		res, err := http.DefaultClient.Do(req) // no cookie: anyone's camera
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("/v/: %d %s", res.StatusCode, b)
		}
		page := string(b)
		for _, p := range []string{phone, phone[:3] + "****" + phone[7:]} {
			if strings.Contains(page, p) {
				t.Errorf("the public page shows the resident's phone %s", p)
			}
		}
		return page
	}
	want := func(page, state string, texts ...string) {
		t.Helper()
		if !strings.Contains(page, `data-state="`+state+`"`) {
			t.Errorf("want state %s, page:\n%s", state, page)
		}
		for _, s := range texts {
			if !strings.Contains(page, s) {
				t.Errorf("state %s: the page lacks %q", state, s)
			}
		}
	}

	want(open(v.Token), "valid", "目前可以使用", "请在结账时向商户收银员出示")
	usedAt := e.Clock.Now()
	redID := redeemAtTill(t, e, cashier, v, "150")
	used := open(v.Token)
	want(used, "redeemed", "已使用", "不能再次使用", e.Merchant.Name, app.FormatLocal(usedAt))
	if strings.Contains(used, "目前可以使用") || strings.Contains(used, "真实有效签发") {
		t.Errorf("a used voucher's page still calls it usable:\n%s", used)
	}
	e.Clock.Advance(700 * time.Millisecond)
	reversedAt := e.Clock.Now()
	reverseAtTill(t, e, cashier, redID)
	want(open(v.Token), "reversed", "目前可以使用", "已被商户撤销", app.FormatLocal(reversedAt))

	// Just past its expiry by the database, and long after, when the
	// token's own expiry refuses it before any lookup.
	e.Clock.Set(v.ExpiresAt.Add(300 * time.Millisecond))
	want(open(v.Token), "expired", "已过期")
	e.Clock.Set(v.ExpiresAt.Add(40 * 24 * time.Hour))
	want(open(v.Token), "expired", "已过期")

	forged := v.Token[:len(v.Token)-4] + "AAAA"
	if forged == v.Token {
		forged = v.Token[:len(v.Token)-4] + "BBBB"
	}
	want(open(forged), "problem", "无效券")
}
