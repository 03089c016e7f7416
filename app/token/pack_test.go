package token

import (
	"crypto"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// longestBaseURL is a longer public base URL than any we expect a district
// to configure (a subdomain of a commerce bureau's site, with a port).
const longestBaseURL = "https://xiaofeiquan.shangwu.chongqing.gov.cn:8443"

// rings returns a ring of each kind.
func rings(t testing.TB) map[Kind]*Ring {
	return map[Kind]*Ring{Ed25519: NewRing(seedKey(1)), SM2: NewRing(crypto.Signer(sm2Key(t)))}
}

// TestCompactToken: a token signed now carries exactly the code, the
// expiry and, when given, the not-before time, under a header of the
// algorithm, the short kid and typ "cqv"; it verifies, and reports no terms.
func TestCompactToken(t *testing.T) {
	for kind, r := range rings(t) {
		for _, nbf := range []time.Time{{}, t0.Add(-time.Hour)} {
			c := sample()
			c.Code, c.NotBefore = NewCode(), nbf
			tok, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			header, _ := base64.RawURLEncoding.DecodeString(parts[0])
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			wantHeader := `{"alg":"` + kind.Method().Alg() + `","kid":"` + r.ActiveKID() + `","typ":"cqv"}`
			wantPayload := `{"exp":` + itoa(c.Expires.Unix()) + `,"jti":"` + c.Code + `"`
			if !nbf.IsZero() {
				wantPayload += `,"nbf":` + itoa(nbf.Unix())
			}
			wantPayload += "}"
			if string(header) != wantHeader || string(payload) != wantPayload {
				t.Errorf("%s: header %s payload %s, want %s %s", kind, header, payload, wantHeader, wantPayload)
			}
			got, err := r.Verify(tok, t0, func(string) bool { t.Error("a compact token has no issuer to ask about"); return false })
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if got.Terms || got.Code != c.Code || !got.Expires.Equal(c.Expires) || !got.NotBefore.Equal(nbf) ||
				got.CampaignID != 0 || got.Issuer != "" || got.FaceFen != 0 {
				t.Errorf("%s: claims %+v", kind, got)
			}
		}
	}
}

func itoa(n int64) string { return big.NewInt(n).String() }

// TestPackRoundTrip: the packed form gives back the very token, verifies
// like it, and has one spelling: any changed digit is refused.
func TestPackRoundTrip(t *testing.T) {
	for kind, r := range rings(t) {
		c := sample()
		c.Code = NewCode()
		tok, err := r.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		packed, ok := Pack(tok)
		if !ok || !isDigits(packed) || len(packed) != packedFixed+10 {
			t.Fatalf("%s: Pack = %q, %v", kind, packed, ok)
		}
		if back, err := Unpack(packed); err != nil || back != tok {
			t.Fatalf("%s: Unpack = %q, %v; want %q", kind, back, err, tok)
		}
		if got, err := r.Verify(packed, t0, nil); err != nil || got.Code != c.Code {
			t.Fatalf("%s: Verify(packed) = %+v, %v", kind, got, err)
		}
		if got, err := r.Verify(ExtractToken(QRText(longestBaseURL, tok)+"\r\n"), t0, nil); err != nil || got.Code != c.Code {
			t.Fatalf("%s: Verify of the scanned QR text = %+v, %v", kind, got, err)
		}
		for i := range packed {
			b := []byte(packed)
			b[i] = '0' + (b[i]-'0'+1)%10
			if _, err := r.Verify(string(b), t0, nil); err == nil {
				t.Fatalf("%s: digit %d changed still verifies", kind, i)
			}
		}
		sigStart := len(packed) - packedSigLen
		tooBig := new(big.Int).Lsh(big.NewInt(1), 512).Text(10) // 2^512: 155 digits, 65 bytes
		for name, bad := range map[string]string{
			"empty":             "",
			"short":             packed[:len(packed)-1],
			"long":              packed + "0",
			"unknown alg":       "9" + packed[1:],
			"unknown flag":      packed[:1] + "7" + packed[2:],
			"nbf flag unset":    packed[:1] + "0" + packed[2:],
			"signature ≥ 2^512": packed[:sigStart] + tooBig,
		} {
			if _, err := Unpack(bad); err == nil {
				t.Errorf("%s: Unpack(%s) accepted", kind, name)
			}
		}
	}
	// A legacy token, or a code of letters, is not packed: the QR keeps
	// the URL form such vouchers had.
	r := NewRing(seedKey(1))
	legacy, err := r.SignLegacy(sample())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Pack(legacy); ok {
		t.Error("a legacy token was packed")
	}
	if got := QRText("https://q.example/", legacy); got != "https://q.example/v/"+legacy {
		t.Errorf("legacy QR text %q", got)
	}
	letters, err := r.Sign(sample()) // sample's code is a Crockford one
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Pack(letters); ok {
		t.Error("a token with a code of letters was packed")
	}
}

func TestQRTextUpperCasesSchemeAndHostOnly(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	c.Code = NewCode()
	tok, _ := r.Sign(c)
	packed, _ := Pack(tok)
	for base, want := range map[string]string{
		"https://xf.cq.gov.cn":         "HTTPS://XF.CQ.GOV.CN/V/",
		"https://xf.cq.gov.cn/":        "HTTPS://XF.CQ.GOV.CN/V/",
		"http://localhost:8080":        "HTTP://LOCALHOST:8080/V/",
		"http://10.0.0.5:8080/quan/cq": "HTTP://10.0.0.5:8080/quan/cq/V/",
	} {
		if got := QRText(base, tok); got != want+packed {
			t.Errorf("QRText(%q) = %q, want %q…", base, got, want)
		}
	}
}

// TestQRVersion: a voucher's QR at error correction M, as the voucher page
// renders it, is version 10 or less for both kinds of key, with and
// without nbf, at the longest base URL; the legacy URL form needed 15.
// go-qrcode picks the smallest version after merging its data-mode
// segments: here a numeric run after an alphanumeric prefix.
func TestQRVersion(t *testing.T) {
	version := func(text string) int {
		t.Helper()
		q, err := qrcode.New(text, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		return q.VersionNumber
	}
	for kind, r := range rings(t) {
		for _, nbf := range []bool{false, true} {
			c := sample()
			c.Code, c.NotBefore = NewCode(), time.Time{}
			if nbf {
				c.NotBefore = t0.Add(24 * time.Hour)
			}
			tok, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			text := QRText(longestBaseURL, tok)
			v := version(text)
			t.Logf("%s, nbf %v: token %d bytes, QR text %d characters (%d after /V/), version %d (%d×%d modules)",
				kind, nbf, len(tok), len(text), len(ExtractToken(text)), v, 17+4*v, 17+4*v)
			if v > 10 {
				t.Errorf("%s, nbf %v: version %d, want ≤ 10", kind, nbf, v)
			}
			if strings.ToUpper(text) != text {
				t.Errorf("QR text %q has lower case: byte mode", text)
			}
		}
	}
	legacy, err := NewRing(seedKey(1)).SignLegacy(Claims{Issuer: "500103", Code: "7K3M9QXZ2HJ4RT8V", CampaignID: 1234, TierID: 56,
		FaceFen: 3000, ThresholdFen: 10000, Category: "catering,culture_tourism", NotBefore: t0.Add(-time.Minute), Expires: t0.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	lv := version(QRText(longestBaseURL, legacy))
	t.Logf("legacy: token %d bytes, version %d", len(legacy), lv)
	if lv <= 10 {
		t.Errorf("legacy QR version %d: the comparison is void", lv)
	}
}
