package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app/apptest"
)

// TestBrowserDropOpensWhileThePageIsOpen is the 10:00 drop as a resident
// meets it: the page is open on a phone, the tier is sold out, the
// countdown reaches zero, and the drop's stock appears and can be claimed
// through the page, without an API client releasing it first.
//
// The server runs on the injected clock, which the test moves in
// sub-second steps; the page counts down from what the server said was
// left, so it never reads the browser's own date. Nothing waits on how
// fast the machine is: each step waits for the page to show a state.
func TestBrowserDropOpensWhileThePageIsOpen(t *testing.T) {
	browserRequireChromium(t)
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser log:\n%s", logs.String())
		}
	})
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	// The test clock starts at 10:00:00.250 in Chongqing: the first drop is open.
	c := e.TwoDrops(t, "跟着赛事去旅行·体育消费券", 1, true)
	tier := c.Tiers[0].ID
	// Someone else takes the 10:00 drop's only voucher.
	early, _ := e.ResidentSession(t, "13800000001")
	if _, err := e.App.Claim(ctx, early, c.ID, tier, "early"); err != nil {
		t.Fatalf("claiming the 10:00 voucher: %v", err)
	}
	// 10:00:58.600: the next drop is 1.4 s away.
	e.Clock.Advance(58*time.Second + 350*time.Millisecond)

	console := &browserConsole{}
	tab := browserTab(t, logs, console, "drop", chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	step := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, d)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	base := e.Server.URL
	const phone = "13912340000"
	step("phone viewport", 5*time.Second, chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
		chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	step("sign-in page", 10*time.Second,
		chromedp.Navigate(base+"/m/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="phone"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), phone),
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
		chromedp.Tap(chromedp.CSS(`form[action="/m/login/code"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
	)
	step("type the code", 5*time.Second, chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), e.SMS.Code(phone)))
	sctx, cancel := context.WithTimeout(tab, 10*time.Second)
	resp, err := chromedp.RunResponse(sctx, chromedp.Tap(chromedp.CSS(`form[action="/m/login"] button[type="submit"]`)))
	cancel()
	if err != nil || resp == nil || resp.Status != 200 {
		t.Fatalf("signing in: %v %+v", err, resp)
	}
	card := `#campaign-` + itoa64(c.ID)
	button := card + ` li[data-tier="` + itoa64(tier) + `"] button`
	left := card + ` li[data-tier="` + itoa64(tier) + `"] .left`
	step("campaign page", 10*time.Second, chromedp.Navigate(base+"/m/campaigns/"+itoa64(c.ID)))
	if !browserEval[bool](t, tab, `!!document.querySelector('`+button+`')`) {
		t.Fatalf("the campaign page has no claim button for the tier:\n%s", browserEval[string](t, tab, `document.body.innerText`))
	}
	if got := pageText(t, tab, left); got != "剩余 0 张" {
		t.Fatalf("before the drop the tier shows %q, want 剩余 0 张", got)
	}
	if !browserEval[bool](t, tab, `document.querySelector('`+button+`').disabled`) {
		t.Fatalf("before the drop the claim button is enabled")
	}
	if got := pageText(t, tab, card+` .next-drop .countdown`); got != "00:00:02" && got != "00:00:01" {
		t.Fatalf("countdown shows %q, want the 1.4 s left on the server's clock", got)
	}

	// The page's countdown reaches zero and asks the server, whose clock
	// has not reached 10:01 yet: the tier stays sold out, the page keeps asking.
	waitFor(t, tab, "countdown reaches zero and the page asks", `(document.querySelector('`+card+`').getAttribute('data-answers') || 0) >= 1`)
	if !browserEval[bool](t, tab, `document.querySelector('`+button+`').disabled`) {
		t.Fatalf("the page enabled the button before the server's clock reached the drop")
	}

	// 10:01:00.300 on the server: the drop is due (no claim has released it).
	e.Clock.Advance(1700 * time.Millisecond)
	waitFor(t, tab, "the drop's stock appears", `!document.querySelector('`+button+`').disabled`)
	if got := pageText(t, tab, left); got != "剩余 1 张" {
		t.Errorf("after the drop the tier shows %q, want 剩余 1 张", got)
	}
	if got := pageText(t, tab, button); got != "立即领取" {
		t.Errorf("after the drop the button says %q, want 立即领取", got)
	}

	if dir := os.Getenv("VOUCHER_BROWSER_SHOTS"); dir != "" {
		sctx, cancel := context.WithTimeout(tab, 5*time.Second)
		png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		cancel()
		if err == nil && os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, "resident-drop-open.png"), png, 0o644)
		}
	}
	sctx, cancel = context.WithTimeout(tab, 10*time.Second)
	resp, err = chromedp.RunResponse(sctx, chromedp.Tap(chromedp.CSS(button)))
	cancel()
	if err != nil || resp == nil || resp.Status != 200 {
		t.Fatalf("claiming through the page: %v %+v", err, resp)
	}
	loc, err := chromedp.Run(tab, chromedp.Location())
	if err != nil || !regexp.MustCompile(`/m/vouchers/[^/]+$`).MatchString(loc) {
		t.Fatalf("after the claim: want the voucher page, at %s (%v)", loc, err)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE tier_id = ?`, tier); n != 2 {
		t.Errorf("%d vouchers of the tier stored, want 2 (one per drop)", n)
	}
	for _, m := range console.all() {
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}
}

// waitFor waits until a page expression is true: the page's own timers
// decide when, so the wait is generous and ends as soon as it holds.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(browserEval[string](t, ctx, `document.querySelector('`+sel+`').textContent`))
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
