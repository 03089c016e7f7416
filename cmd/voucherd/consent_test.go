package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app/apptest"
)

// TestBrowserSignInNeedsConsent is the sign-in on a phone: without the
// consent tick no code is sent, the browser holds the form and, if the
// form is sent anyway, the server says why; with the tick the code is sent
// and the resend button counts down the server's resend interval.
func TestBrowserSignInNeedsConsent(t *testing.T) {
	browserRequireChromium(t)
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser log:\n%s", logs.String())
		}
	})
	e := apptest.New(t, apptest.Options{})
	console := &browserConsole{}
	tab := browserTab(t, logs, console, "consent", chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	step := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, d)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// waitFor waits until a JavaScript condition holds on the page.
	waitFor := func(name, cond string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, 10*time.Second)
		defer cancel()
		if _, err := chromedp.Run(sctx, chromedp.Poll[bool](cond)); err != nil {
			t.Fatalf("%s (%s): %v\npage: %s", name, cond, err, browserEval[string](t, tab, `document.body.innerText`))
		}
	}
	const phone = "13912345678"
	send := `form[action="/m/login/code"] button[type="submit"]`
	step("phone viewport", 5*time.Second, chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
		chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	step("sign-in page", 10*time.Second,
		chromedp.Navigate(e.Server.URL+"/m/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="phone"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), phone),
	)
	if browserEval[bool](t, tab, `document.querySelector('input[name="consent"]').checked`) {
		t.Fatal("the consent box is ticked before the resident ticks it")
	}

	// 1. No tick: the browser keeps the form on the page, on the box.
	browserEval[bool](t, tab, `window.stayed = true`)
	step("send without the tick", 5*time.Second, chromedp.Tap(chromedp.CSS(send)))
	waitFor("the browser points at the consent box", `document.activeElement && document.activeElement.name === 'consent' && !document.activeElement.validity.valid`)
	if !browserEval[bool](t, tab, `window.stayed === true && !document.querySelector('input[name="code"]')`) {
		t.Fatal("the form was sent without the tick")
	}

	// 2. A browser that ignores "required" sends it anyway: the server
	// sends nothing and says why.
	browserEval[bool](t, tab, `(document.querySelector('input[name="consent"]').required = false, true)`)
	step("send anyway", 10*time.Second, chromedp.Tap(chromedp.CSS(send)), chromedp.WaitVisible(chromedp.CSS(`p.error`)))
	if got := pageText(t, tab, `p.error`); got != "请先勾选同意《用户协议》和《隐私政策》，未同意前不会发送验证码。" {
		t.Fatalf("refusal says %q", got)
	}
	if code := e.SMS.Code(phone); code != "" {
		t.Fatal("a code was sent without consent")
	}

	// 3. With the tick the code is sent, and the resend button waits.
	step("tick and send", 10*time.Second,
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
		chromedp.Tap(chromedp.CSS(send)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
	)
	if e.SMS.Code(phone) == "" {
		t.Fatal("with the tick no code was sent")
	}
	if got := pageText(t, tab, `p.ok`); !strings.Contains(got, "139****5678") || strings.Contains(got, phone) {
		t.Errorf("code step shows the number as %q, want it masked", got)
	}
	resend := `button.resend`
	left := browserEval[float64](t, tab, `parseInt(document.querySelector('`+resend+`').getAttribute('data-left'), 10)`)
	if left < 55 || left > 60 || !browserEval[bool](t, tab, `document.querySelector('`+resend+`').disabled`) {
		t.Fatalf("resend button: %v s left, disabled %v; want about 60 s and disabled", left, browserEval[bool](t, tab, `document.querySelector('`+resend+`').disabled`))
	}
	if got := pageText(t, tab, resend); !strings.HasSuffix(got, " 秒后可重新发送") {
		t.Errorf("resend button says %q", got)
	}
	// It counts: the seconds shown go down while the button stays disabled.
	waitFor("the countdown moves", `(function(){ var b = document.querySelector('`+resend+`');
		return b.disabled && parseInt(b.getAttribute('data-left'), 10) < `+itoa64(int64(left))+` && b.textContent.indexOf(b.getAttribute('data-left') + ' 秒后') === 0; })()`)
	for _, m := range console.all() {
		// The refused send of step 2 is a 422 the browser logs; nothing else may be.
		if m.bad() && !strings.Contains(m.String(), "status of 422") {
			t.Errorf("browser console: %s", m)
		}
	}
}
