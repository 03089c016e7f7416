package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestBrowserComplaintIsAnsweredAndTheResidentSeesIt is a complaint on a
// phone: from the voucher's page the resident opens the form (the voucher
// already chosen), picks "投诉商户", writes what happened and sends it; an
// officer of the campaign's district finds it on the officer page with
// the number masked, answers and closes it; the resident's pages show a
// badge, and 我的反馈 shows the answer and that it is closed. Nothing on
// the pages is wider than the phone.
func TestBrowserComplaintIsAnsweredAndTheResidentSeesIt(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	v, residentTok := liveVoucher(t, e, "13912340001")
	officerTok := e.Session(t, app.KindOfficer, e.Maker.ID, 8*time.Hour)

	tab, console, step := browserChineseTab(t, "feedback", 10*time.Second)
	cookie := func(name, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: e.Server.URL + "/"})
			return err
		})
	}
	fits := func(where string) {
		t.Helper()
		if w := browserEval[float64](t, tab, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s is %v px wider than the phone", where, w)
		}
	}
	// Signed in already: sign-in has browser tests of its own.
	step("phone viewport and the resident's session",
		chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
			chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait),
		cookie("cqv_resident", residentTok),
		chromedp.Navigate(e.Server.URL+"/m/vouchers/"+v.Code),
		chromedp.WaitVisible(chromedp.CSS(`#voucher-feedback-link`)),
	)
	step("open the form from the voucher",
		chromedp.Click(chromedp.CSS(`#voucher-feedback-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#feedback-form`)),
	)
	if got := browserEval[string](t, tab, `document.getElementById('feedback-voucher').value`); got != v.Code {
		t.Fatalf("the form has voucher %q chosen, want %q", got, v.Code)
	}
	fits("the feedback form")
	step("write and send the complaint",
		chromedp.Click(chromedp.CSS(`input[name=category][value=merchant]`)),
		chromedp.SendKeys(chromedp.CSS(`#feedback-body`), "收银员说要另收服务费才收券。"),
		chromedp.Submit(chromedp.CSS(`#feedback-body`)),
		chromedp.WaitVisible(chromedp.CSS(`#my-feedback .feedback-item`)),
	)
	if got := pageText(t, tab, `#my-feedback .feedback-item .status`); got != "待处理" {
		t.Errorf("the new complaint is %q, want 待处理", got)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM feedback WHERE voucher_id = ? AND category = 'merchant' AND district_code = ?`, v.ID, v.District); n != 1 {
		t.Fatalf("complaints stored for the voucher: %d, want 1", n)
	}

	step("the officer's list",
		cookie("cqv_officer", officerTok),
		chromedp.Navigate(e.Server.URL+"/officer/feedback?status=open"),
		chromedp.WaitVisible(chromedp.CSS(`#feedback-list tbody tr a`)),
	)
	if got := pageText(t, tab, `#feedback-list tbody td.phone`); got != "139****0001" {
		t.Errorf("the officer sees the resident as %q, want 139****0001", got)
	}
	step("answer on the record's page",
		chromedp.Click(chromedp.CSS(`#feedback-list tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`#feedback-answer`)),
		chromedp.SendKeys(chromedp.CSS(`#feedback-answer`), "已约谈商户，消费券不得加价，可正常使用。"),
		chromedp.Submit(chromedp.CSS(`#feedback-answer`)),
		// The record's page again, with its new status (not a flash the
		// page before may show).
		chromedp.WaitVisible(chromedp.CSS(`#feedback-status[data-status=answered]`)),
	)
	if got := pageText(t, tab, `#feedback-status`); got != "已答复" {
		t.Errorf("after answering the record says %q, want 已答复", got)
	}
	step("close it",
		chromedp.Click(chromedp.CSS(`#feedback-close-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#feedback-status[data-status=closed]`)),
	)
	if got := pageText(t, tab, `p.flash`); got != "已办结。" {
		t.Errorf("after closing the page says %q, want 已办结。", got)
	}
	if browserEval[bool](t, tab, `!!document.getElementById('feedback-answer')`) {
		t.Error("a closed record still offers the answer form")
	}

	step("the resident's wallet shows the badge",
		chromedp.Navigate(e.Server.URL+"/m/wallet"),
		chromedp.WaitVisible(chromedp.CSS(`#feedback-badge`)),
	)
	fits("the wallet with the badge")
	step("我的反馈 shows the answer",
		chromedp.Click(chromedp.CSS(`#nav-feedback`)),
		chromedp.WaitVisible(chromedp.CSS(`#my-feedback .answer-text`)),
	)
	if got := pageText(t, tab, `#my-feedback .answer-text`); got != "已约谈商户，消费券不得加价，可正常使用。" {
		t.Errorf("the resident reads the answer %q", got)
	}
	if got := pageText(t, tab, `#my-feedback .feedback-item .status`); got != "已办结" {
		t.Errorf("the resident sees the complaint %q, want 已办结", got)
	}
	if browserEval[bool](t, tab, `!!document.getElementById('feedback-badge')`) {
		t.Error("the badge stays on the page that shows the answer")
	}
	fits("我的反馈")
	if !strings.Contains(e.SMS.Last("13912340001"), "我的反馈") {
		t.Error("no text message told the resident of the answer")
	}
	for _, m := range console.all() {
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}
}
