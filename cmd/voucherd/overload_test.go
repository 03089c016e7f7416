package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// TestBrowserOverloadedPressIsAnsweredAtOnce is a press of 领取 on a phone
// (390×844) while the database writer's queue is full: the page answers
// while the writer is still held (so the press did not wait for it), says
// when to try again in Asia/Shanghai time, shows no spinner and leaves the
// button usable; pressed again once the writer is free, it claims.
func TestBrowserOverloadedPressIsAnsweredAtOnce(t *testing.T) {
	browserRequireChromium(t)
	// A queue of one: the transaction that holds the writer fills it.
	e := apptest.New(t, apptest.Options{AdmissionQueue: 1})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	_, tok := e.ResidentSession(t, "13912340503")
	tab, console, run := browserChineseTab(t, "overload", 10*time.Second)
	base := e.Server.URL
	button := fmt.Sprintf(`#campaign-%d li[data-tier="%d"] button[data-claim]`, c.ID, c.Tiers[0].ID)
	run("a phone with the resident signed in, on the campaigns",
		chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
			chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait),
		chromedp.Navigate(base+"/m"), browserSetCookie(base, "cqv_resident", tok),
		chromedp.Navigate(base+"/m"), chromedp.WaitVisible(chromedp.CSS(button)))

	// Something holds the writer (a long write): the queue is full until
	// it is released.
	release, held, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- e.Store.BulkTx(context.Background(), func(*db.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	released := false
	free := func() {
		if !released {
			released = true
			close(release)
			if err := <-done; err != nil {
				t.Errorf("the write that held the writer: %v", err)
			}
		}
	}
	defer free()
	if q := e.Store.WriterQueue(); q < 1 {
		t.Fatalf("writer queue %d while held, want it full", q)
	}

	// The step's own timeout is the proof of "at once": a press that
	// queued for the writer would not be answered before it is released.
	run("press 领取 into the full queue", chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(`p.error[role=alert]`)))
	want := "系统繁忙，请于 10:00:01 后再试" // the test clock is 02:00:00.25 UTC: 10:00:00 in Shanghai, plus the wait
	if got := pageText(t, tab, `p.error[role=alert]`); !strings.Contains(got, want) {
		t.Errorf("the page says %q, want %q", got, want)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 0 {
		t.Fatalf("the refused press wrote %d vouchers", n)
	}
	if spinners := browserEval[int](t, tab, `document.querySelectorAll('[aria-busy=true], .spinner, .loading').length`); spinners != 0 {
		t.Errorf("the answer shows %d spinners", spinners)
	}
	if browserEval[bool](t, tab, `document.querySelector('`+button+`').disabled`) || pageText(t, tab, button) != "立即领取" {
		t.Errorf("after the answer the button is %q, disabled %v: want 立即领取, usable", pageText(t, tab, button),
			browserEval[bool](t, tab, `document.querySelector('`+button+`').disabled`))
	}

	free()
	e.Clock.Advance(900 * time.Millisecond) // the time the page named
	run("press again once the writer is free", chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(`#voucher-usable img.qr`)))
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 1 {
		t.Errorf("%d vouchers after the second press, want 1", n)
	}
	// The browser logs the answer's 503 (with Retry-After, as the API's) as
	// a failed load: that one is the answer, and must be there.
	answered503 := false
	for _, m := range console.all() {
		if busy := fmt.Sprint(m); strings.Contains(busy, "status of 503") && strings.Contains(busy, "/claim") {
			answered503 = true
			continue
		}
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}
	if !answered503 {
		t.Errorf("the overloaded press was not answered 503 Service Unavailable")
	}
}
