package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// joseModule is panva/jose, pinned in package-lock.json (a devDependency)
// and installed by `make assets`.
const joseModule = "../../node_modules/jose/package.json"

// joseRequire finds node and jose. Without them the test skips, unless
// VOUCHER_BROWSER_TESTS=1 (CI), which installs the npm packages and wants
// every independent check run.
func joseRequire(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(joseModule)
	}
	if err != nil {
		if os.Getenv("VOUCHER_BROWSER_TESTS") == "1" {
			t.Fatalf("VOUCHER_BROWSER_TESTS=1 but node or jose is missing (make assets installs jose): %v", err)
		}
		t.Skipf("node or jose missing (%v): set VOUCHER_BROWSER_TESTS=1 to require it", err)
	}
	return node
}

type joseResult struct {
	OK      bool           `json:"ok"`
	Error   string         `json:"error"`
	Header  map[string]any `json:"header"`
	Payload map[string]any `json:"payload"`
}

// TestJoseVerifiesVoucherQR: panva/jose, given only the JWKS a real test
// server publishes, verifies the QR of a voucher claimed now (packed, as
// the QR carries it) and the /v/ link of a voucher issued the legacy way,
// and refuses an altered QR and a JWT of another type signed by our key.
func TestJoseVerifiesVoucherQR(t *testing.T) {
	node := joseRequire(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	_, residentTok := e.ResidentSession(t, "13800138000")
	r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), residentTok, map[string]any{"tier_id": c.Tiers[0].ID})
	if r.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.Status, r.Raw)
	}
	code, qrText := r.Body["code"].(string), r.Body["qr_text"].(string)
	now := e.Clock.Now()
	ring := e.App.Ring()

	legacy, err := ring.SignLegacy(token.Claims{Issuer: c.District, Code: token.NewCode(), CampaignID: c.ID, TierID: c.Tiers[0].ID,
		FaceFen: 3000, ThresholdFen: 10000, Category: "catering", Expires: now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// One digit of the signature changed.
	altered := qrText[:len(qrText)-1] + string(rune('0'+(qrText[len(qrText)-1]-'0'+1)%10))
	other := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"jti": code, "exp": now.Add(time.Hour).Unix()})
	other.Header["kid"] = ring.ActiveKID() // typ stays "JWT"
	otherJWT, err := other.SignedString(e.Key)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(node, "testdata/jose-verify.mjs", e.Server.URL+"/.well-known/jwks.json", strconv.FormatInt(now.Unix(), 10),
		qrText, "http://localhost:8080/v/"+legacy, altered, otherJWT)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got []joseResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var res joseResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("node printed %q: %v", sc.Text(), err)
		}
		got = append(got, res)
	}
	if len(got) != 4 {
		t.Fatalf("node printed %d results: %s", len(got), out)
	}

	fresh, old := got[0], got[1]
	if !fresh.OK || fresh.Header["kid"] != ring.ActiveKID() || fresh.Header["typ"] != "cqv" || fresh.Header["alg"] != "EdDSA" ||
		fresh.Payload["jti"] != code || len(fresh.Payload) != 2 {
		t.Errorf("the QR of a voucher claimed now: %+v", fresh)
	}
	if !old.OK || old.Header["kid"] != ring.ActiveThumbprint() || old.Header["typ"] != "cqv+jwt" || old.Payload["c"] != float64(c.ID) {
		t.Errorf("the /v/ link of a legacy voucher: %+v", old)
	}
	if got[2].OK || got[2].Error != "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" {
		t.Errorf("altered QR: %+v", got[2])
	}
	if got[3].OK || got[3].Error != "ERR_JWT_CLAIM_VALIDATION_FAILED" {
		t.Errorf("a JWT of type JWT signed by the voucher key: %+v", got[3])
	}
}
