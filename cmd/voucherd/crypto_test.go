package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/token"
)

func openProduct(t *testing.T, cfg Config) *Main {
	t.Helper()
	m, err := Open(context.Background(), cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func jwksKinds(t *testing.T, r *token.Ring) map[string]int {
	t.Helper()
	var doc struct {
		Keys []struct {
			Kty, Crv, Alg, X string
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	// Each key is published under two kids (its short kid and its
	// thumbprint): count keys, not entries.
	n, seen := map[string]int{}, map[string]bool{}
	for _, k := range doc.Keys {
		if !seen[k.X] {
			seen[k.X] = true
			n[k.Kty+"/"+k.Crv+"/"+k.Alg]++
		}
	}
	return n
}

// TestCryptoModeGM: a deployment that moves from the default to -crypto gm
// signs new vouchers with SM2 and chains new audit rows with SM3, while
// its Ed25519 vouchers keep verifying and its audit log verifies whole;
// keys rotate in gm mode makes SM2 keys.
func TestCryptoModeGM(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://localhost", Demo: true, Synchronous: "FULL"}
	claims := token.Claims{Issuer: "500103", Code: token.NewCode(), CampaignID: 1, TierID: 1, FaceFen: 3000,
		Expires: time.Now().Add(time.Hour)}

	m := openProduct(t, cfg)
	edTok, err := m.App.Ring().Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()

	cfg.Crypto = "gm"
	m = openProduct(t, cfg)
	defer func() { m.Close() }()
	ring := m.App.Ring()
	if ring.ActiveKind() != token.SM2 {
		t.Fatalf("gm mode signs with %s keys", ring.ActiveKind())
	}
	gmTok, err := ring.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gmTok, "eyJhbGciOiJTTTJTTTMi") { // {"alg":"SM2SM3"
		t.Errorf("gm voucher %.40s… is not SM2SM3", gmTok)
	}
	for name, tok := range map[string]string{"Ed25519 voucher from before": edTok, "SM2 voucher": gmTok} {
		if _, err := ring.Verify(tok, time.Now(), nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := jwksKinds(t, ring); got["OKP/Ed25519/EdDSA"] != 1 || got["EC/SM2/SM2SM3"] != 1 || len(got) != 2 {
		t.Errorf("JWKS keys %v", got)
	}

	// The demo's rows were chained with SHA-256; this one is SM3.
	if err := m.Store.AppendAudit(ctx, app.SystemAudit(time.Now(), "keys.mode", "system", "500000", map[string]string{"crypto": "gm"})); err != nil {
		t.Fatal(err)
	}
	rows, err := m.Store.AuditLog(ctx, app.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	algs := map[string]int{}
	for _, r := range rows {
		algs[r.HashAlg]++
	}
	if rows[0].HashAlg != app.AuditSM3 || algs[app.AuditSHA256] != len(rows)-1 {
		t.Errorf("hash algorithms %v, newest %s", algs, rows[0].HashAlg)
	}
	var out bytes.Buffer
	if err := auditVerify(ctx, m.Store, &out); err != nil || !strings.HasPrefix(out.String(), fmt.Sprintf("audit log intact: %d rows", len(rows))) {
		t.Errorf("audit verify across the change: %q, %v", out.String(), err)
	}
	m.Close()

	if err := run(ctx, []string{"keys", "rotate", "-data", cfg.DataDir, "-crypto", "gm"}, quietLog()); err != nil {
		t.Fatal(err)
	}
	m = openProduct(t, cfg)
	if got := jwksKinds(t, m.App.Ring()); got["EC/SM2/SM2SM3"] != 2 || got["OKP/Ed25519/EdDSA"] != 1 {
		t.Errorf("after keys rotate -crypto gm: JWKS keys %v", got)
	}
	if kid := m.App.Ring().ActiveKID(); kid == ring.ActiveKID() || m.App.Ring().ActiveKind() != token.SM2 {
		t.Errorf("rotation did not make a new SM2 signing key")
	}
}

func TestCryptoFlag(t *testing.T) {
	c, _, err := parseFlags(nil)
	if err != nil || c.Crypto != "ed25519" || c.cryptoMode().keys != token.Ed25519 || c.cryptoMode().audit != app.AuditSHA256 {
		t.Errorf("default: %q %+v, %v", c.Crypto, c.cryptoMode(), err)
	}
	t.Setenv("VOUCHERD_CRYPTO", "gm")
	c, _, err = parseFlags(nil)
	if err != nil || c.cryptoMode().keys != token.SM2 || c.cryptoMode().audit != app.AuditSM3 {
		t.Errorf("VOUCHERD_CRYPTO=gm: %+v, %v", c.cryptoMode(), err)
	}
	if _, _, err := parseFlags([]string{"-crypto", "sm2"}); err == nil || !strings.Contains(err.Error(), "ed25519 or gm") {
		t.Errorf("-crypto sm2: %v", err)
	}
}
