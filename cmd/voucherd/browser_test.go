package main

// A resident's journey in a real headless Chromium, on a phone-sized screen:
// sign in with an SMS code, claim a voucher, see its QR. It runs the whole
// product (Open + Serve) on a temporary directory and a local port.
//
// Needs /usr/bin/chromium (apt-get install -y chromium). Without it the test
// skips, unless VOUCHER_BROWSER_TESTS=1, which CI sets after installing
// Chromium: then a missing browser fails the test, so a skip can never pass
// for a green run. VOUCHER_BROWSER_SHOTS=DIR keeps the screenshot in DIR
// (otherwise it goes to a temporary directory that the test removes).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"cqvoucher/app/apptest"
	"cqvoucher/seeds"
)

const (
	browserChromium = "/usr/bin/chromium"
	// The phone: an iPhone 12–15 sized screen, in CSS pixels.
	browserPhoneWidth  = 390
	browserPhoneHeight = 844
	// A resident types the number the way it is printed on a card.
	browserPhone       = "139 1234 5678"
	browserPhoneDigits = "13912345678"
)

var browserManualCodeRE = regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`)

func TestBrowserResidentClaimsAndSeesQR(t *testing.T) {
	browserRequireChromium(t)
	started := time.Now()
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server and browser log:\n%s", logs.String())
		}
	})
	base := browserStartProduct(t, logs)

	// The whole test, browser included, gets one budget; single steps get
	// shorter ones below.
	console := &browserConsole{}
	ctx := browserTab(t, logs, console, "main",
		// A Chongqing resident's phone speaks Chinese: Accept-Language zh-CN.
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	t.Logf("Chromium up after %v", time.Since(started).Round(time.Millisecond))

	step := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// submit taps a button that submits a form, waits for the next page and
	// checks the HTTP status of the document it lands on.
	submit := func(name, button string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(sctx, chromedp.Tap(chromedp.CSS(button)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp == nil || resp.Status != 200 {
			t.Fatalf("%s: want a 200 page, got %+v", name, resp)
		}
	}
	location := func() string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		loc, err := chromedp.Run(sctx, chromedp.Location())
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		return loc
	}

	// A phone, held upright, with touch.
	step("phone viewport", 5*time.Second,
		chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight,
			chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait),
	)

	// 1. The sign-in page: phone number, 获取验证码.
	step("open /m/login", 10*time.Second,
		chromedp.Navigate(base+"/m/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="phone"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="phone"]`), browserPhone),
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
	)
	submit("send code (获取验证码)", `form[action="/m/login/code"] button[type="submit"]`)
	step("code step shown", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)))

	// 2. The SMS arrives: the demo outbox, read in a second tab of the same
	// browser, as a resident would switch to the messages app.
	code := browserReadSMSCode(t, ctx, base, console)
	t.Logf("SMS code for %s: %s", browserPhoneDigits, code)

	// 3. Back in the first tab: type the code, 登录.
	step("type code", 5*time.Second, chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), code))
	submit("sign in (登录)", `form[action="/m/login"] button[type="submit"]`)
	if loc := location(); !strings.HasSuffix(loc, "/m/wallet") {
		t.Fatalf("after sign-in: want the wallet, at %s", loc)
	}

	// 4. The campaigns: 立即领取 on the first tier of the live demo campaign.
	claim := `form[action$="/claim"] button`
	step("open /m", 10*time.Second,
		chromedp.Navigate(base+"/m"),
		chromedp.WaitVisible(chromedp.CSS(claim)),
	)
	label := browserEval[string](t, ctx, `document.querySelector('form[action$="/claim"] button').textContent.trim()`)
	if label != "立即领取" {
		t.Fatalf("first claim button says %q, want 立即领取", label)
	}
	tierRule := strings.TrimSpace(browserEval[string](t, ctx, `document.querySelector('.tiers li .rule').textContent`))
	submit("claim (立即领取)", claim)
	loc := location()
	if !regexp.MustCompile(`/m/vouchers/[^/]+$`).MatchString(loc) {
		t.Fatalf("after claim: want a voucher page, at %s", loc)
	}

	// 5. The voucher page: a QR that loaded, big enough to scan from the
	// phone's screen, and the manual code under it.
	step("QR shown", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := chromedp.Run(sctx, chromedp.Poll[bool](`document.querySelector('img.qr').complete`,
		chromedp.WithPollingTimeout(5*time.Second)))
	cancel()
	if err != nil {
		t.Fatalf("QR image never finished loading: %v", err)
	}
	type qrBox struct {
		NaturalWidth  float64 `json:"naturalWidth"`
		NaturalHeight float64 `json:"naturalHeight"`
		Width         float64 `json:"width"`
		Height        float64 `json:"height"`
		Left          float64 `json:"left"`
		Right         float64 `json:"right"`
		ViewportWidth float64 `json:"viewportWidth"`
	}
	qr := browserEval[qrBox](t, ctx, `(() => {
		const img = document.querySelector('img.qr');
		const r = img.getBoundingClientRect();
		return {naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
			width: r.width, height: r.height, left: r.left, right: r.right,
			viewportWidth: document.documentElement.clientWidth};
	})()`)
	t.Logf("QR: natural %vx%v, rendered %.1fx%.1f CSS px at x %.1f..%.1f of a %v px wide viewport",
		qr.NaturalWidth, qr.NaturalHeight, qr.Width, qr.Height, qr.Left, qr.Right, qr.ViewportWidth)
	if qr.NaturalWidth <= 0 || qr.NaturalHeight <= 0 {
		t.Errorf("QR image did not decode (naturalWidth %v): broken image", qr.NaturalWidth)
	}
	if qr.ViewportWidth != browserPhoneWidth {
		t.Errorf("viewport is %v CSS px wide, want %d: the phone emulation did not take", qr.ViewportWidth, browserPhoneWidth)
	}
	if qr.Width < 250 {
		t.Errorf("QR is %.1f CSS px wide on a %d px phone, want at least 250 to scan from the screen", qr.Width, browserPhoneWidth)
	}
	if qr.Left < 0 || qr.Right > qr.ViewportWidth {
		t.Errorf("QR spans x %.1f..%.1f, outside the %v px viewport", qr.Left, qr.Right, qr.ViewportWidth)
	}
	if rule := strings.TrimSpace(browserEval[string](t, ctx, `document.querySelector('.voucher-full .rule').textContent`)); rule != tierRule {
		t.Errorf("voucher page shows rule %q, but the first tier pressed was %q", rule, tierRule)
	}
	manual := strings.TrimSpace(browserEval[string](t, ctx, `document.getElementById('manual-code').textContent`))
	if !browserManualCodeRE.MatchString(manual) {
		t.Errorf("manual code %q does not match %s", manual, browserManualCodeRE)
	}

	// 6. A picture of what the resident sees, for a human to look at.
	shot := func() []byte {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		return png
	}()
	dir := os.Getenv("VOUCHER_BROWSER_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "resident-voucher.png")
	if !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG")
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))

	// 7. Nothing went wrong in the page: no console errors, no uncaught
	// exceptions, no Content-Security-Policy violations on any page visited.
	for _, m := range console.all() {
		t.Logf("console: %s", m)
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}

	// The watch above would also pass if it heard nothing at all. Prove it
	// hears: break the page's CSP on purpose and expect the report.
	before := len(console.all())
	browserEval[chromedp.Void](t, ctx, `(() => {
		const img = new Image();
		img.src = 'https://csp-canary.invalid/pixel.png';
		document.body.appendChild(img);
	})()`)
	deadline := time.Now().Add(3 * time.Second)
	for {
		heard := false
		for _, m := range console.all()[before:] {
			if m.csp() {
				t.Logf("deliberate CSP violation heard: %s", m)
				heard = true
				break
			}
		}
		if heard {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("a deliberate CSP violation was not reported to the console watch, so its silence above proves nothing")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("journey took %v", time.Since(started).Round(time.Millisecond))
}

// browserRequireChromium skips or fails the test when there is no browser, as
// the file comment says.
// browserTab starts headless Chromium with the flags this machine needs
// (BROWSER-TESTING.md) plus extra ones, and opens a tab whose console the
// given watcher hears. The tab is started with no step timeout (it lives as
// long as the context of its first run); the whole test gets 60 s. It is
// closed when the test ends.
func browserTab(t *testing.T, logs *browserLog, console *browserConsole, tab string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browserChromium),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in CI containers
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(logs),
	}, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// A net against a hung browser, not a measure of speed: the longest
	// test (axe on 80 page views) ran past a minute on a machine that two
	// other test runs kept busy. Each step has its own, shorter timeout.
	testCtx, cancelTest := context.WithTimeout(allocCtx, 5*time.Minute)
	ctx, cancelBrowser := chromedp.NewContext(testCtx,
		chromedp.WithErrorf(logs.Printf),
		chromedp.WithLogf(logs.Printf),
		chromedp.WithListener(console.listen(tab)),
	)
	t.Cleanup(func() { cancelBrowser(); cancelTest(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func browserRequireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(browserChromium); err == nil {
		return
	} else if os.Getenv("VOUCHER_BROWSER_TESTS") == "1" {
		t.Fatalf("VOUCHER_BROWSER_TESTS=1 but %s is missing (%v): install it with apt-get install -y chromium", browserChromium, err)
	} else {
		t.Skipf("no browser at %s (%v): browser test skipped; install chromium and set VOUCHER_BROWSER_TESTS=1 to make it required", browserChromium, err)
	}
}

// browserStartProduct starts the product with demo data on a free port
// (see cameraStartProduct) and returns its address.
func browserStartProduct(t *testing.T, logs *browserLog) string {
	t.Helper()
	_, base := cameraStartProduct(t, logs)
	return base
}

// browserStep runs steps on a tab as one test step, each call with its own
// timeout, and fails the test naming the step.
type browserStep func(what string, actions ...chromedp.Action[chromedp.Void])

// browserChineseTab starts Chromium for the test in Chinese, with the log
// printed if the test fails, and returns the tab, what its console heard,
// and a step runner giving each step perStep.
func browserChineseTab(t *testing.T, name string, perStep time.Duration) (context.Context, *browserConsole, browserStep) {
	t.Helper()
	return browserChineseTabLogging(t, browserFailureLog(t), name, perStep)
}

// browserFailureLog is a log that the test prints if it fails.
func browserFailureLog(t *testing.T) *browserLog {
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server and browser log:\n%s", logs.String())
		}
	})
	return logs
}

// browserProduct is the product with demo data and a Chinese tab, both
// writing to the log the test prints if it fails.
type browserProduct struct {
	m       *Main
	base    string
	logs    *browserLog
	tab     context.Context
	console *browserConsole
	step    browserStep
}

func browserProductTab(t *testing.T, name string, perStep time.Duration) browserProduct {
	t.Helper()
	p := browserProduct{logs: browserFailureLog(t)}
	p.m, p.base = cameraStartProduct(t, p.logs)
	p.tab, p.console, p.step = browserChineseTabLogging(t, p.logs, name, perStep)
	return p
}

// browserChineseTabLogging is browserChineseTab writing to logs.
func browserChineseTabLogging(t *testing.T, logs *browserLog, name string, perStep time.Duration) (context.Context, *browserConsole, browserStep) {
	t.Helper()
	console := &browserConsole{}
	tab := browserTab(t, logs, console, name, chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(tab, perStep)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	return tab, console, run
}

// browserOfficerSignIn signs the demo approver in on the officers' login
// page and waits for the campaigns list.
func browserOfficerSignIn(base string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/officer/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "yuzhong.approver"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "demo1234"),
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), browserDemoCode()),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/officer/campaigns/new"]`)),
	}
}

// browserDemoCode is the demo officers' TOTP code now (seeds/demo.json's secret).
func browserDemoCode() string {
	demo, err := seeds.ReadDemo()
	if err != nil {
		panic(err)
	}
	code, err := totp.GenerateCode(demo.TOTPSecret, time.Now())
	if err != nil {
		panic(err)
	}
	return code
}

func browserFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// browserReadSMSCode opens the demo SMS outbox in a second tab, reads the
// newest code sent to browserPhoneDigits and closes the tab.
func browserReadSMSCode(t *testing.T, parent context.Context, base string, console *browserConsole) string {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithListener(console.listen("sms")))
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a second tab: %v", err)
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx,
		chromedp.Navigate(base+"/demo/sms"),
		chromedp.WaitVisible(chromedp.CSS(`td.sms-text`)),
	); err != nil {
		t.Fatalf("reading /demo/sms: %v", err)
	}
	// Rows are newest first; take the first one for our number.
	text, err := chromedp.Run(sctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		for (const tr of document.querySelectorAll('tbody tr')) {
			if (tr.cells[0].textContent.trim() === %q) return tr.querySelector('.sms-text').textContent;
		}
		return '';
	})()`, browserPhoneDigits[:3]+"****"+browserPhoneDigits[7:])))
	if err != nil {
		t.Fatalf("reading /demo/sms: %v", err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(text)
	if code == "" {
		t.Fatalf("no 6-digit code in the SMS to %s: %q", browserPhoneDigits, text)
	}
	return code
}

// browserEval evaluates a JavaScript expression in the main tab.
func browserEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// browserConsole keeps what the tabs wrote to their consoles: calls of the
// console API, uncaught exceptions, and entries of the browser log (where
// Chromium reports failed loads and CSP violations).
type browserConsole struct {
	mu   sync.Mutex
	msgs []browserMessage
}

type browserMessage struct {
	tab, kind, level, source, text, url string
}

func (m browserMessage) String() string {
	s := fmt.Sprintf("[%s] %s %s", m.tab, m.kind, m.level)
	if m.source != "" {
		s += " (" + m.source + ")"
	}
	s += ": " + m.text
	if m.url != "" {
		s += " @ " + m.url
	}
	return s
}

// csp reports whether the message is a Content-Security-Policy violation.
func (m browserMessage) csp() bool {
	return m.source == string(log.EntrySourceSecurity) || strings.Contains(m.text, "Content Security Policy")
}

// bad reports whether the message is something a healthy page never says.
func (m browserMessage) bad() bool {
	return m.kind == "exception" || m.level == "error" || m.csp()
}

// listen returns a func for chromedp.WithListener. It runs in the tab's event
// loop, so it only records.
func (c *browserConsole) listen(tab string) func(ev any) {
	return func(ev any) {
		var m browserMessage
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				switch {
				case len(a.Value) > 0:
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				case a.Description != "":
					parts = append(parts, a.Description)
				default:
					parts = append(parts, string(a.Type))
				}
			}
			m = browserMessage{tab: tab, kind: "console", level: string(ev.Type), text: strings.Join(parts, " ")}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				m.level = "error"
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			m = browserMessage{tab: tab, kind: "exception", level: "error", text: text, url: d.URL}
		case *log.EventEntryAdded:
			e := ev.Entry
			m = browserMessage{tab: tab, kind: "log", level: string(e.Level), source: string(e.Source), text: e.Text, url: e.URL}
		default:
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	}
}

func (c *browserConsole) all() []browserMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]browserMessage(nil), c.msgs...)
}

// browserLog collects the server's and the browser's log lines; the test
// prints them only when it fails.
type browserLog = apptest.LogBuffer

// browserOfficerProduct starts the demo product for an officer's browser
// test: the server's and the browser's log (shown if the test fails), and
// a signed-in tab of the district finance bureau's PC (1280×900, Chinese)
// with step, which runs named actions within 15 s each.
func browserOfficerProduct(t *testing.T) (m *Main, base string, ctx context.Context, console *browserConsole,
	step func(name string, steps ...chromedp.Action[chromedp.Void])) {
	t.Helper()
	browserRequireChromium(t)
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server and browser log:\n%s", logs.String())
		}
	})
	m, base = cameraStartProduct(t, logs)
	console = &browserConsole{}
	ctx = browserTab(t, logs, console, "officer", chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	step = func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("sign in", browserOfficerSignIn(base)...)
	return m, base, ctx, console, step
}
