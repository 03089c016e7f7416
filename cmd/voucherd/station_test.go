package main

// A community service station in a real Chromium: the staff member signs
// in, sends the resident's code, claims for them with it and opens the
// voucher's printable card; then a cashier's fake camera films the QR
// image the card shows (its PNG, pixel for pixel, as the video frame) and
// the cashier redeems it: the printed card is the voucher.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/seeds"
)

const stationPhone = "13912345670"

func TestBrowserStationAssistedClaimPrintedCardRedeems(t *testing.T) {
	browserRequireChromium(t)
	cameraRequireDecoder(t)
	p := browserProductTab(t, "station", 15*time.Second)
	m, base, ctx, step := p.m, p.base, p.tab, p.step
	bg := context.Background()
	eval := func(expr string) string { t.Helper(); return browserEval[string](t, ctx, expr) }

	// The demo campaign's ¥30 off ¥100 tier, and a station of its district.
	cs, err := m.Store.Campaigns(bg, app.CampaignFilter{})
	if err != nil || len(cs) == 0 {
		t.Fatalf("demo campaign: %v", err)
	}
	c, err := m.Store.Campaign(bg, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var tier app.Tier
	for _, tr := range c.Tiers {
		if tr.FaceFen == 3000 && tr.ThresholdFen == 10000 {
			tier = tr
		}
	}
	district := c.District
	if district == app.CityCode {
		district = "500103"
	}
	staff := stationStaff(t, m, district)

	step("viewport", chromedp.EmulateViewport(1280, 900))
	step("staff sign in",
		chromedp.Navigate(base+"/officer/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), staff.Username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "demo1234"),
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), browserDemoCode()),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#station-code`)),
	)
	if path := eval(`location.pathname`); path != "/station" {
		t.Fatalf("station staff land on %s, want /station", path)
	}
	if n := eval(`String(document.querySelectorAll('header a[href^="/officer"]').length)`); n != "0" {
		t.Errorf("the station's pages link to %s officer pages", n)
	}
	step("send the resident's code",
		chromedp.SendKeys(chromedp.CSS(`#station-code input[name=phone]`), stationPhone),
		chromedp.Click(chromedp.CSS(`#station-code input[name=consent]`)),
		chromedp.Click(chromedp.CSS(`#station-code button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#station-claim`)),
	)
	code := stationSMSCode(t, p.logs, stationPhone)
	shot(t, ctx, "station-claim-form.png")
	step("claim for the resident",
		chromedp.SendKeys(chromedp.CSS(`#station-claim input[name=code]`), code),
		chromedp.SetValue(chromedp.CSS(`#station-claim select[name=tier]`), fmt.Sprintf("%d:%d", c.ID, tier.ID)),
		chromedp.Click(chromedp.CSS(`#station-claim button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#voucher-card`)),
	)
	step("QR loaded", chromedp.Poll[chromedp.Void](`document.getElementById('card-qr').complete && document.getElementById('card-qr').naturalWidth > 0`,
		chromedp.WithPollingTimeout(5*time.Second)))
	voucherCode := eval(`document.getElementById('voucher-card').dataset.code`)
	v, err := m.Store.VoucherByCode(bg, voucherCode)
	if err != nil || v.AssistedBy == nil || *v.AssistedBy != staff.ID || v.PrintedAt == nil {
		t.Fatalf("the voucher of the card: %v %+v", err, v)
	}
	if got := strings.ReplaceAll(eval(`document.getElementById('card-code').textContent`), " ", ""); !strings.EqualFold(strings.ReplaceAll(got, "-", ""), strings.ReplaceAll(v.Code, "-", "")) {
		t.Errorf("card shows code %q, voucher is %s", got, v.Code)
	}
	shot(t, ctx, "station-card-a6.png")

	// Printed, the page is the card alone: no site frame, no buttons.
	step("print media", stationMedia("print"))
	if hidden := eval(`[document.querySelector('header.top'), document.querySelector('footer'), document.querySelector('.station-card-tools')].every(el => !el || getComputedStyle(el).display === 'none') ? 'yes' : 'no'`); hidden != "yes" {
		t.Error("the printed page shows the site's header, footer or the print buttons")
	}
	shot(t, ctx, "station-card-a6-print.png")
	step("receipt layout",
		chromedp.Navigate(base+"/station/vouchers/"+v.Code+"/card?layout=receipt"),
		chromedp.WaitVisible(chromedp.CSS(`.voucher-card.card-receipt`)),
	)
	shot(t, ctx, "station-card-receipt-print.png")
	step("screen media", stationMedia(""))

	// The card's QR image, as the station's printer gets it.
	qrPNG := stationFetch(t, ctx, base, "/station/vouchers/"+v.Code+"/qr.png")
	video := filepath.Join(t.TempDir(), "card-qr.y4m")
	stationWriteY4M(t, video, qrPNG)

	// A cashier films the card.
	console := &browserConsole{}
	cashier := browserTab(t, p.logs, console, "cashier",
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	cstep := func(name string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(cashier, d)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	cstep("cashier sign in", 15*time.Second,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/merchant/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "cashier.jfb"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo1234"),
		chromedp.Click(chromedp.CSS(`form[action="/merchant/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#camera-start`)),
		chromedp.SendKeys(chromedp.CSS(`#bill`), "120"),
		chromedp.Click(chromedp.CSS(`#camera-start`)),
		chromedp.WaitVisible(chromedp.CSS(`#quote button.confirm`)),
	)
	cstep("confirm", 15*time.Second,
		chromedp.Click(chromedp.CSS(`#quote button.confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt`)),
	)
	if got, _ := m.Store.VoucherByCode(bg, v.Code); got.Status != app.VoucherRedeemed {
		t.Errorf("after the cashier scanned the card: voucher %s", got.Status)
	}

	// The resident's wallet lists it as claimed at the station and printed.
	tok := stationResidentSession(t, m, v.ResidentID)
	step("resident's wallet",
		browserSetCookie(base, "cqv_resident", tok),
		chromedp.Navigate(base+"/m/wallet?tab=redeemed"),
		chromedp.WaitVisible(chromedp.CSS(`#wallet`)),
	)
	if got := eval(`(document.getElementById('assisted-` + v.Code + `') || {textContent: ''}).textContent`); got != "代领·已打印" {
		t.Errorf("wallet row says %q, want 代领·已打印", got)
	}
	for _, msg := range append(p.console.all(), console.all()...) {
		if msg.bad() {
			t.Errorf("browser reported a problem: %s", msg)
		}
	}
}

// stationMedia emulates a CSS media type ("print"; "" for the screen again).
func stationMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

// stationStaff adds a station account of the district, with the demo
// officers' password and second factor.
func stationStaff(t *testing.T, m *Main, district string) app.Officer {
	t.Helper()
	ctx := context.Background()
	h, err := app.HashPassword("demo1234")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o := app.Officer{Username: "station.staff", Name: "社区服务站 李芳", PasswordHash: h, Role: app.RoleStation, District: district,
		CreatedAt: now, ActivatedAt: &now}
	if err := m.Store.CreateOfficer(ctx, &o, app.SystemAudit(now, app.ActionOfficerCreate, "officer", district, nil)); err != nil {
		t.Fatal(err)
	}
	demo, err := seeds.ReadDemo()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.EnrolTOTPDirectly(ctx, o, demo.TOTPSecret); err != nil {
		t.Fatal(err)
	}
	return o
}

// stationSMSCode reads the newest code sent to phone from the demo
// outbox's log lines.
func stationSMSCode(t *testing.T, logs *browserLog, phone string) string {
	t.Helper()
	masked := app.Resident{Phone: phone}.MaskedPhone()
	var code string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "to="+masked) {
			if mm := cameraSMSCodeRE.FindStringSubmatch(line); mm != nil {
				code = mm[1]
			}
		}
	}
	if code == "" {
		t.Fatalf("no SMS code to %s in the log", masked)
	}
	return code
}

// stationResidentSession opens a session for the resident directly (their
// own sign-in would wait out the code's resend interval).
func stationResidentSession(t *testing.T, m *Main, residentID int64) string {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC()
	if err := m.Store.CreateSession(context.Background(), app.Session{TokenHash: app.HashSessionToken(tok), Kind: app.KindResident,
		SubjectID: residentID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeenAt: &now}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// stationFetch gets a page of the staff tab's session (its cookie is
// HttpOnly, so it is read from the browser's cookie store).
func stationFetch(t *testing.T, ctx context.Context, base, path string) []byte {
	t.Helper()
	url := base + path
	var cookies []*network.Cookie
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		cookies = res.Cookies
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, ck := range cookies {
		if ck.Name == "cqv_officer" {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	return body
}

// stationWriteY4M writes a one-frame Y4M video of a PNG image (the card's
// QR), scaled to the frame's height by nearest pixel, centred on white.
func stationWriteY4M(t *testing.T, path string, pngData []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	side := cameraHeight
	left := (cameraWidth - side) / 2
	y := make([]byte, cameraWidth*cameraHeight)
	for i := range y {
		y[i] = 235
	}
	for r := 0; r < side; r++ {
		for c := 0; c < side; c++ {
			px := img.At(b.Min.X+c*b.Dx()/side, b.Min.Y+r*b.Dy()/side)
			cr, cg, cb, _ := px.RGBA()
			if (cr+cg+cb)/3 < 0x8000 {
				y[r*cameraWidth+left+c] = 16
			}
		}
	}
	chroma := bytes.Repeat([]byte{128}, cameraWidth/2*cameraHeight/2)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\nFRAME\n", cameraWidth, cameraHeight)
	w.Write(y)
	w.Write(chroma)
	w.Write(chroma)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
