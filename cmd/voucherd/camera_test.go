package main

// A cashier scans a resident's voucher with the camera of the cashier page,
// in a real headless Chromium whose camera is fake: a one-frame Y4M video of
// the voucher's QR code, written by the test. The page decodes it with jsQR
// (templates/static/vendor/jsQR.js, installed by `make assets`) and the
// cashier redeems it. The product runs whole (Open + Serve) on a temporary
// directory and a local port.
//
// Skips like browser_test.go: without /usr/bin/chromium it skips, unless
// VOUCHER_BROWSER_TESTS=1 (set by CI), which also requires the embedded
// jsQR.js: then either missing fails the test. VOUCHER_BROWSER_SHOTS=DIR
// keeps screenshots of the cashier's pages in DIR.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jmoiron/sqlx"
	qrcode "github.com/skip2/go-qrcode"

	"cqvoucher/app"
	"cqvoucher/app/token"
	"cqvoucher/templates"
)

const (
	cameraWidth  = 640
	cameraHeight = 480
	cameraPhone  = "13987654321"
	cameraBill   = "128.50"
)

func TestCameraCashierScansAndRedeems(t *testing.T) {
	browserRequireChromium(t)
	cameraRequireDecoder(t)
	started := time.Now()
	logs := &browserLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server and browser log:\n%s", logs.String())
		}
	})
	m, base := cameraStartProduct(t, logs)

	// A resident with a voucher of the demo campaign's ¥30 off ¥100 tier,
	// claimed through the product's own domain.
	v, qrText := cameraClaimVoucher(t, m, logs)
	if want := token.QRText(m.Config.BaseURL, v.Token); qrText != want || !strings.Contains(qrText, "/V/") {
		t.Fatalf("QR text %q, want %q", qrText, want)
	}
	t.Logf("voucher %s, QR text of %d characters", v.Code, len(qrText))

	// The fake camera films the QR on a white card, large in the frame.
	video := filepath.Join(t.TempDir(), "voucher-qr.y4m")
	cameraWriteY4M(t, video, qrText)

	console := &browserConsole{}
	ctx := browserTab(t, logs, console, "cashier",
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"),
		// The camera: allowed without a prompt, fake, playing our file.
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	t.Logf("Chromium up after %v", time.Since(started).Round(time.Millisecond))

	step := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// navigateBy runs steps that make the page navigate (a click, or a
	// decode that submits the form) and checks the status of the document
	// it lands on.
	navigateBy := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		resp, err := chromedp.RunResponse(sctx, steps...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp == nil || resp.Status != 200 {
			t.Fatalf("%s: want a 200 page, got %+v", name, resp)
		}
	}
	eval := func(expr string) string { t.Helper(); return browserEval[string](t, ctx, expr) }
	// VOUCHER_BROWSER_SHOTS=DIR keeps pictures of the pages for a human.
	shot := func(name string) {
		t.Helper()
		dir := os.Getenv("VOUCHER_BROWSER_SHOTS")
		if dir == "" {
			return
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}

	// A counter PC's screen.
	step("viewport", 5*time.Second, chromedp.EmulateViewport(1280, 900))

	// 1. The cashier signs in.
	step("open /merchant/login", 10*time.Second,
		chromedp.Navigate(base+"/merchant/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "cashier.jfb"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo1234"),
	)
	navigateBy("sign in", 10*time.Second, chromedp.Click(chromedp.CSS(`form[action="/merchant/login"] button[type="submit"]`)))
	if path := eval(`location.pathname`); path != "/merchant" {
		t.Fatalf("after sign-in: at %s, want /merchant", path)
	}

	// 2. The scan page offers the camera, large, and the scanner gun's field
	// keeps the focus it had.
	step("camera button shown", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#camera-start`)))
	if label := strings.TrimSpace(eval(`document.getElementById('camera-start').textContent`)); label != "摄像头扫码" {
		t.Errorf("camera button says %q, want 摄像头扫码", label)
	}
	if focus := eval(`document.activeElement ? document.activeElement.id : ''`); focus != "voucher" {
		t.Errorf("focus on %q when the scan page opens, want the voucher field (scanner gun)", focus)
	}
	type box struct{ Width, Height, FontSize float64 }
	b := browserEval[box](t, ctx, `(() => {
		const el = document.getElementById('camera-start'), r = el.getBoundingClientRect();
		return {Width: r.width, Height: r.height, FontSize: parseFloat(getComputedStyle(el).fontSize)};
	})()`)
	if b.Height < 44 || b.FontSize < 18 {
		t.Errorf("camera button %.0fx%.0f px, font %.0f px: want at least 44 px high and an 18 px font for a counter", b.Width, b.Height, b.FontSize)
	}

	shot("cashier-scan.png")

	// The scanner gun still works beside the camera: it types into the
	// focused field and presses Enter, which sends the check form.
	navigateBy("scanner gun", 10*time.Second, chromedp.SendKeys(chromedp.CSS(`#voucher`), v.Code+kb.Enter))
	if path := eval(`location.pathname`); path != "/merchant/check" {
		t.Fatalf("after the scanner gun's Enter: at %s, want /merchant/check", path)
	}
	if ok := eval(`(document.querySelector('#scan-form p.ok') || {textContent: ''}).textContent`); v.CampaignName == "" || !strings.Contains(ok, v.CampaignName) {
		t.Errorf("after the scanner gun: want the voucher's campaign %q shown, got %q", v.CampaignName, ok)
	}
	step("back to /merchant", 10*time.Second,
		chromedp.Navigate(base+"/merchant"),
		chromedp.WaitVisible(chromedp.CSS(`#camera-start`)),
	)

	// 3. Without a bill: the scan fills the voucher field, the camera stops
	// and the bill field takes the focus.
	scanStart := time.Now()
	step("scan without a bill", 15*time.Second,
		chromedp.Click(chromedp.CSS(`#camera-start`)),
		chromedp.Poll[chromedp.Void](`document.getElementById('voucher').value !== ''`,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)),
	)
	t.Logf("decoded %v after the camera button", time.Since(scanStart).Round(time.Millisecond))
	if got := eval(`document.getElementById('voucher').value`); got != qrText {
		t.Fatalf("voucher field holds %q after the scan, want the QR text %q", got, qrText)
	}
	if focus := eval(`document.activeElement ? document.activeElement.id : ''`); focus != "bill" {
		t.Errorf("focus on %q after the scan, want the bill field", focus)
	}
	step("camera released", 5*time.Second, chromedp.Poll[chromedp.Void](
		`document.getElementById('camera-video').srcObject === null && document.getElementById('camera-view').hidden`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(3*time.Second)))
	if s := strings.TrimSpace(eval(`document.getElementById('camera-status').textContent`)); s != "已识别券码，请输入消费金额" {
		t.Errorf("status after the scan %q", s)
	}
	shot("cashier-scanned.png")

	// 4. The usual order at a counter: bill first, then the scan, which
	// sends the form by itself.
	step("open /merchant again", 10*time.Second,
		chromedp.Navigate(base+"/merchant"),
		chromedp.WaitVisible(chromedp.CSS(`#camera-start`)),
		chromedp.SendKeys(chromedp.CSS(`#bill`), cameraBill),
	)
	scanStart = time.Now()
	navigateBy("scan with the bill typed: the form goes by itself", 15*time.Second, chromedp.Click(chromedp.CSS(`#camera-start`)))
	t.Logf("quote shown %v after the camera button", time.Since(scanStart).Round(time.Millisecond))
	if path := eval(`location.pathname`); path != "/merchant/check" {
		t.Fatalf("after the scan: at %s, want /merchant/check", path)
	}
	if rej := eval(`(document.getElementById('rejection') || {textContent: ''}).textContent.trim()`); rej != "" {
		t.Fatalf("the scanned voucher was refused: %s", rej)
	}
	step("quote shown", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#quote button.confirm`)))
	if got := eval(`document.querySelector('#quote input[name="voucher"]').value`); got != qrText {
		t.Fatalf("the quote carries voucher %q, want the QR text %q", got, qrText)
	}
	if pay := strings.TrimSpace(eval(`document.getElementById('quote-pay').textContent`)); pay != "¥98.50" {
		t.Errorf("quote says pay %q, want ¥98.50", pay)
	}

	// 5. Confirm: the receipt.
	navigateBy("confirm", 10*time.Second, chromedp.Click(chromedp.CSS(`#quote button.confirm`)))
	step("receipt shown", 5*time.Second, chromedp.WaitVisible(chromedp.CSS(`#receipt`)))
	shot("cashier-receipt.png")
	receipt := strings.Join(strings.Fields(eval(`document.getElementById('receipt').innerText`)), " ")
	if !regexp.MustCompile(`实付 ¥98\.50\b`).MatchString(receipt) {
		t.Errorf("receipt does not show 实付 ¥98.50: %q", receipt)
	}
	if pay := strings.TrimSpace(eval(`document.getElementById('to-pay').textContent`)); pay != "¥98.50" {
		t.Errorf("receipt says pay %q, want ¥98.50", pay)
	}

	// 6. The database: exactly one redemption of this voucher, of this bill.
	d, err := sqlx.Open("sqlite3", "file:"+filepath.Join(m.Config.DataDir, "voucher.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var rows []struct {
		Bill     int64 `db:"bill_fen"`
		Discount int64 `db:"discount_fen"`
	}
	if err := d.Select(&rows, `SELECT bill_fen, discount_fen FROM redemptions WHERE voucher_id = ?`, v.ID); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Bill != 12850 || rows[0].Discount != 3000 {
		t.Errorf("redemptions of voucher %s: %+v, want exactly one of bill 12850 fen, discount 3000 fen", v.Code, rows)
	}
	var status string
	if err := d.Get(&status, `SELECT status FROM vouchers WHERE id = ?`, v.ID); err != nil {
		t.Fatal(err)
	}
	if status != app.VoucherRedeemed {
		t.Errorf("voucher status %q, want %q", status, app.VoucherRedeemed)
	}

	// 7. No console errors, exceptions or CSP violations on any page; and
	// the watch is proven to hear one.
	for _, msg := range console.all() {
		t.Logf("console: %s", msg)
		if msg.bad() {
			t.Errorf("browser reported a problem: %s", msg)
		}
	}
	cameraProveCSPWatch(t, ctx, console)
	t.Logf("camera scan test took %v", time.Since(started).Round(time.Millisecond))
}

// cameraRequireDecoder checks that the binary embeds the real jsQR (not
// the stub `make assets` writes without npm): required when
// VOUCHER_BROWSER_TESTS=1, else its absence skips the test.
func cameraRequireDecoder(t *testing.T) {
	t.Helper()
	body, err := fs.ReadFile(templates.FS, "static/vendor/jsQR.js")
	if err == nil && len(body) > 10_000 && strings.Contains(string(body), "jsQR") {
		return
	}
	why := fmt.Sprintf("templates/static/vendor/jsQR.js is missing or a stub (%d bytes, %v): run `make assets` (needs npm)", len(body), err)
	if os.Getenv("VOUCHER_BROWSER_TESTS") == "1" {
		t.Fatalf("VOUCHER_BROWSER_TESTS=1 but %s", why)
	}
	t.Skipf("camera test skipped: %s", why)
}

// cameraStartProduct opens and serves the product in demo mode until the
// test ends, with its QR base URL equal to where it listens.
func cameraStartProduct(t *testing.T, logs *browserLog) (*Main, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	var m *Main
	var err error
	dir := t.TempDir()
	for range 3 {
		var addr string
		if addr, err = browserFreeAddr(); err != nil {
			break
		}
		m, err = Open(ctx, Config{
			Addr: addr, DataDir: dir, BaseURL: "http://" + addr, Demo: true, Synchronous: "FULL",
		}, logger)
		if err == nil {
			break
		}
	}
	if err != nil {
		cancel()
		t.Fatalf("opening the product: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		requireBalancedBooks(t, dir)
	})
	return m, "http://" + m.Addr()
}

var cameraSMSCodeRE = regexp.MustCompile(`验证码 ([0-9]{6})`)

// cameraClaimVoucher signs a resident in (the SMS code read from the demo
// outbox's log line) and claims the ¥30 off ¥100 tier of the demo
// campaign. It returns the voucher and the text its QR carries.
func cameraClaimVoucher(t *testing.T, m *Main, logs *browserLog) (app.Voucher, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := m.App.SendSignInCode(ctx, cameraPhone); err != nil {
		t.Fatalf("sending the sign-in code: %v", err)
	}
	var code string
	masked := app.Resident{Phone: cameraPhone}.MaskedPhone() // the log never holds a full number
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "to="+masked) {
			if mm := cameraSMSCodeRE.FindStringSubmatch(line); mm != nil {
				code = mm[1]
			}
		}
	}
	if code == "" {
		t.Fatalf("no SMS code to %s in the log", cameraPhone)
	}
	r, _, err := m.App.LoginResident(ctx, cameraPhone, code)
	if err != nil {
		t.Fatalf("resident sign-in: %v", err)
	}
	cs, err := m.Store.Campaigns(ctx, app.CampaignFilter{})
	if err != nil || len(cs) == 0 {
		t.Fatalf("demo campaign: %v (%d campaigns)", err, len(cs))
	}
	c, err := m.Store.Campaign(ctx, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var tier *app.Tier
	for i := range c.Tiers {
		if c.Tiers[i].FaceFen == 3000 && c.Tiers[i].ThresholdFen == 10000 {
			tier = &c.Tiers[i]
		}
	}
	if tier == nil {
		t.Fatalf("demo campaign %q has no ¥30 off ¥100 tier: %+v", c.Name, c.Tiers)
	}
	v, err := m.App.Claim(ctx, r, c.ID, tier.ID, "camera-test")
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if v.ID == 0 || v.Token == "" {
		t.Fatalf("claimed voucher without id or token: %+v", v)
	}
	// The product's qrText: what the resident's QR image carries.
	return v, token.QRText(m.Config.BaseURL, v.Token)
}

// cameraWriteY4M writes a one-frame 640×480 Y4M video (4:2:0, which
// Chromium's fake camera loops) of text's QR code, black on white, as large
// as whole pixels per module allow, centred.
func cameraWriteY4M(t *testing.T, path, text string) {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap() // with the 4-module quiet zone
	n := len(bm)
	scale := min(cameraWidth, cameraHeight) / n
	if scale < 3 {
		t.Fatalf("QR of %d modules is too big for a %dx%d frame", n, cameraWidth, cameraHeight)
	}
	const black, white = 16, 235
	left, top := (cameraWidth-n*scale)/2, (cameraHeight-n*scale)/2
	y := make([]byte, cameraWidth*cameraHeight)
	for i := range y {
		y[i] = white
	}
	for r := 0; r < n*scale; r++ {
		for c := 0; c < n*scale; c++ {
			if bm[r/scale][c/scale] {
				y[(top+r)*cameraWidth+left+c] = black
			}
		}
	}
	chroma := make([]byte, cameraWidth/2*cameraHeight/2)
	for i := range chroma {
		chroma[i] = 128
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\nFRAME\n", cameraWidth, cameraHeight)
	w.Write(y)
	w.Write(chroma) // U
	w.Write(chroma) // V
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("fake camera: %s, QR version %d, %d modules at %d px each", filepath.Base(path), q.VersionNumber, n, scale)
}

// cameraProveCSPWatch breaks the page's CSP on purpose and expects the
// console watch to report it, so that its silence before means something.
func cameraProveCSPWatch(t *testing.T, ctx context.Context, console *browserConsole) {
	t.Helper()
	before := len(console.all())
	browserEval[chromedp.Void](t, ctx, `(() => {
		const s = document.createElement('script');
		s.src = 'https://csp-canary.invalid/x.js';
		document.body.appendChild(s);
	})()`)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, msg := range console.all()[before:] {
			if msg.csp() {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("a deliberate CSP violation was not reported to the console watch, so its silence proves nothing")
}
