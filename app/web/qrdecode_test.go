package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// zbarRequire finds zbarimg (Debian's zbar-tools), an independent QR
// decoder. Without it the test skips, unless VOUCHER_ZBAR_TESTS=1 (CI)
// says it must run.
func zbarRequire(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("VOUCHER_ZBAR_TESTS") == "1" {
			t.Fatalf("VOUCHER_ZBAR_TESTS=1 but zbarimg is not installed (apt-get install zbar-tools): %v", err)
		}
		t.Skip("zbarimg not installed (apt-get install zbar-tools; set VOUCHER_ZBAR_TESTS=1 to require it)")
	}
	return path
}

// zbarDecode writes img to a file and returns what zbarimg reads from it
// ("" when it finds no QR).
func zbarDecode(t *testing.T, zbar string, img image.Image) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "qr.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", f).Output()
	if err != nil {
		// Exit status 4: no symbol found.
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 4 {
			return ""
		}
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimRight(string(out), "\n")
}

// shrink scales a square image down to size×size pixels by averaging the
// area each new pixel covers, as a screen photographed from a distance
// blurs a QR's modules into grey.
func shrink(src image.Image, size int) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, size, size))
	for y := range size {
		y0, y1 := y*h/size, max((y+1)*h/size, y*h/size+1)
		for x := range size {
			x0, x1 := x*w/size, max((x+1)*w/size, x*w/size+1)
			var sum, n int
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					sum += int(color.GrayModel.Convert(src.At(b.Min.X+sx, b.Min.Y+sy)).(color.Gray).Y)
					n++
				}
			}
			dst.SetGray(x, y, color.Gray{Y: uint8(sum / n)})
		}
	}
	return dst
}

// TestVoucherQRDecodesSmall: the voucher page's QR image, decoded by
// zbarimg, reads back as its QR text at full size and still shrunk from 512 to
// 112 px (the size of a QR shown small on a phone and photographed by a
// cheap camera), where the legacy QR (version 15 or 16) no longer decodes.
func TestVoucherQRDecodesSmall(t *testing.T) {
	zbar := zbarRequire(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	_, residentTok := e.ResidentSession(t, "13800138000")
	r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), residentTok, map[string]any{"tier_id": c.Tiers[0].ID})
	if r.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.Status, r.Raw)
	}
	code, qrText := r.Body["code"].(string), r.Body["qr_text"].(string)

	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/m/vouchers/"+code+"/qr.png", nil)
	req.AddCookie(&http.Cookie{Name: "cqv_resident", Value: residentTok})
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("qr.png: %d", res.StatusCode)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}

	// The same voucher as a legacy token would have carried it, rendered
	// as the page renders every QR.
	v, err := e.Store.VoucherByCode(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	legacyTok, err := e.App.Ring().SignLegacy(token.Claims{Issuer: c.District, Code: token.NewCode(), CampaignID: c.ID, TierID: v.TierID,
		FaceFen: int64(v.FaceFen), ThresholdFen: int64(v.ThresholdFen), Category: strings.Join(c.Categories, ","), Expires: v.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	legacyText := token.QRText("http://localhost:8080", legacyTok) // the test server's base URL, web.DefaultConfig
	legacyPNG, err := qrcode.Encode(legacyText, qrcode.Medium, 512)
	if err != nil {
		t.Fatal(err)
	}
	legacyImg, err := png.Decode(bytes.NewReader(legacyPNG))
	if err != nil {
		t.Fatal(err)
	}

	if got := zbarDecode(t, zbar, img); got != qrText {
		t.Fatalf("full size: zbarimg read %q, want %q", got, qrText)
	}
	if got := zbarDecode(t, zbar, legacyImg); got != legacyText {
		t.Fatalf("legacy, full size: zbarimg read %q", got)
	}
	// 512 px shrunk to 112: about 2.1 px a module for the version-7 QR
	// (45 modules and the quiet zone), 1.4 for the legacy one. The content
	// is random (code and signature), and so is the smallest size a symbol
	// still reads at: here the new QR reads down to about 90-100 px, the
	// legacy one to about 128, and 112 lies between with a margin on both
	// sides for every voucher tried.
	const small = 112
	if got := zbarDecode(t, zbar, shrink(img, small)); got != qrText {
		t.Errorf("at %d px: zbarimg read %q, want %q", small, got, qrText)
	}
	if got := zbarDecode(t, zbar, shrink(legacyImg, small)); got == legacyText {
		t.Errorf("at %d px the legacy QR decodes too: the size proves nothing", small)
	}
}
