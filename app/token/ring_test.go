package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// RFC 8037 Appendix A.1 private key and A.3 thumbprint.
const (
	rfc8037D          = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037X          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func TestThumbprintRFC8037(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString(rfc8037X)
	if err != nil {
		t.Fatal(err)
	}
	if got := Thumbprint(ed25519.PublicKey(x)); got != rfc8037Thumbprint {
		t.Errorf("Thumbprint = %s, want %s", got, rfc8037Thumbprint)
	}
}

// TestRingKIDs: a key is published under its thumbprint (the kid of
// legacy tokens) and its short kid, 8 digits from the thumbprint's first
// 64 bits (0x90facafea9b15566 for the RFC 8037 key), which tokens carry now.
func TestRingKIDs(t *testing.T) {
	d, err := base64.RawURLEncoding.DecodeString(rfc8037D)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRing(ed25519.NewKeyFromSeed(d))
	if r.ActiveThumbprint() != rfc8037Thumbprint {
		t.Errorf("ActiveThumbprint = %s, want %s", r.ActiveThumbprint(), rfc8037Thumbprint)
	}
	const short = "56761958" // 0x90facafea9b15566 = 10447130256756761958
	if r.ActiveKID() != short {
		t.Errorf("ActiveKID = %s, want %s", r.ActiveKID(), short)
	}
	jwk := `{"kty":"OKP","crv":"Ed25519","x":"` + rfc8037X + `","kid":"%s","use":"sig","alg":"EdDSA"}`
	want := `{"keys":[` + fmt.Sprintf(jwk, short) + "," + fmt.Sprintf(jwk, rfc8037Thumbprint) + `]}`
	if got := string(r.JWKS()); got != want {
		t.Errorf("JWKS\n got %s\nwant %s", got, want)
	}
}

type jwksDoc struct {
	Keys []map[string]string `json:"keys"`
}

func TestJWKS(t *testing.T) {
	// Ten keys, so an unsorted map-order document is caught with near
	// certainty rather than one run in a few.
	var keys []crypto.Signer
	for i := range 10 {
		keys = append(keys, seedKey(byte(i+1)))
	}
	r := NewRing(keys...)
	var doc jwksDoc
	if err := json.Unmarshal(r.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 2*len(keys) {
		t.Fatalf("%d keys, want %d (each under two kids)", len(doc.Keys), 2*len(keys))
	}
	wantPub := map[string]ed25519.PublicKey{}
	for _, k := range keys {
		pub := pubOf(k.(ed25519.PrivateKey))
		wantPub[Thumbprint(pub)] = pub
		wantPub[verifyKey{Ed25519, pub}.shortKID()] = pub
	}
	var kids []string
	for _, k := range doc.Keys {
		if len(k) != 6 || k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["use"] != "sig" || k["alg"] != "EdDSA" {
			t.Errorf("key members %v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k["x"])
		if err != nil {
			t.Fatalf("x %q: %v", k["x"], err)
		}
		if !bytes.Equal(x, wantPub[k["kid"]]) {
			t.Errorf("kid %s: x decodes to %x, want %x", k["kid"], x, wantPub[k["kid"]])
		}
		if v := (verifyKey{Ed25519, ed25519.PublicKey(x)}); v.thumbprint() != k["kid"] && v.shortKID() != k["kid"] {
			t.Errorf("kid %s is neither the thumbprint of its x nor its short kid", k["kid"])
		}
		kids = append(kids, k["kid"])
	}
	if !slices.IsSorted(kids) {
		t.Errorf("kids not in stable sorted order: %v", kids)
	}
	// Same key set, different assembly order: byte-identical document.
	reversed := slices.Clone(keys)
	slices.Reverse(reversed)
	if other := NewRing(reversed...).JWKS(); !bytes.Equal(other, r.JWKS()) {
		t.Errorf("JWKS depends on ring order:\n%s\n%s", other, r.JWKS())
	}

	// A relying party using only the JWKS can check our signatures.
	tok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	pub := wantPub[decodeHeader(t, tok)["kid"].(string)]
	if !ed25519.Verify(pub, []byte(tok[:i]), sig) {
		t.Error("token signature does not verify with the published key")
	}

	if got := string(NewRing().JWKS()); got != `{"keys":[]}` {
		t.Errorf("empty ring JWKS = %s", got)
	}
}

func TestNewRingPanicsOnBadKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a 32-byte private key")
		}
	}()
	NewRing(ed25519.PrivateKey(make([]byte, 32)))
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func readActiveFile(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, activeFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func pemFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	r := NewRing(seedKey(1))
	oldKID := r.ActiveKID()
	oldTok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}

	kid, err := r.Rotate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if kid == oldKID || r.ActiveKID() != kid {
		t.Fatalf("Rotate returned %s, active %s, old %s", kid, r.ActiveThumbprint(), oldKID)
	}
	if _, err := r.Verify(oldTok, t0, nil); err != nil {
		t.Errorf("token from the retired key: %v", err)
	}
	newTok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	if h := decodeHeader(t, newTok); h["kid"] != kid {
		t.Errorf("new token kid %v, want %s", h["kid"], kid)
	}
	if _, err := r.Verify(newTok, t0, nil); err != nil {
		t.Errorf("new token: %v", err)
	}
	var doc jwksDoc
	if err := json.Unmarshal(r.JWKS(), &doc); err != nil || len(doc.Keys) != 4 {
		t.Errorf("JWKS after rotate: %d keys, %v", len(doc.Keys), err)
	}

	keyPath := filepath.Join(dir, r.ActiveThumbprint()+".pem")
	if m := fileMode(t, keyPath); m != 0o600 {
		t.Errorf("%s mode %04o, want 0600", keyPath, m)
	}
	if got := readActiveFile(t, dir); got != r.ActiveThumbprint() {
		t.Errorf("active file names %q, want %q", got, kid)
	}

	if _, err := r.Rotate(""); err == nil {
		t.Error("Rotate with no directory succeeded; the key would be lost on restart")
	}
}

func TestLoadOrCreatePersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "voucher")
	r1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	kid := r1.ActiveThumbprint()
	if kid == "" {
		t.Fatal("no active key")
	}
	if m := fileMode(t, dir); m != 0o700 {
		t.Errorf("dir mode %04o, want 0700", m)
	}
	files := pemFiles(t, dir)
	if len(files) != 1 || filepath.Base(files[0]) != kid+".pem" {
		t.Fatalf("key files %v, want [%s.pem]", files, kid)
	}
	if m := fileMode(t, files[0]); m != 0o600 {
		t.Errorf("key file mode %04o, want 0600", m)
	}
	if m := fileMode(t, filepath.Join(dir, activeFile)); m != 0o600 {
		t.Errorf("active file mode %04o, want 0600", m)
	}
	if got := readActiveFile(t, dir); got != kid {
		t.Errorf("active file %q, want %q", got, kid)
	}
	b, _ := os.ReadFile(files[0])
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Errorf("key file is not a PKCS#8 PEM: %q", b)
	}

	r2, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ActiveThumbprint() != kid {
		t.Fatalf("reload active %s, want %s", r2.ActiveThumbprint(), kid)
	}
	if len(pemFiles(t, dir)) != 1 {
		t.Error("reload created another key")
	}
	tok, err := r1.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := r2.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	// Ed25519 is deterministic: same key and claims give the same token.
	if tok != tok2 {
		t.Error("reloaded ring signs differently; it did not load the same private key")
	}

	newKID, err := r2.Rotate(dir)
	newKID = r2.ActiveThumbprint()
	if err != nil {
		t.Fatal(err)
	}
	r3, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r3.ActiveThumbprint() != newKID {
		t.Errorf("after rotate, reload active %s, want %s", r3.ActiveThumbprint(), newKID)
	}
	if _, err := r3.Verify(tok, t0, nil); err != nil {
		t.Errorf("pre-rotation token after reload: %v", err)
	}
	if !bytes.Equal(r3.JWKS(), r2.JWKS()) {
		t.Error("reloaded JWKS differs")
	}
}

func TestLoadOrCreateRefusesLooseKeyFile(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			if _, err := LoadOrCreate(dir); err != nil {
				t.Fatal(err)
			}
			path := pemFiles(t, dir)[0]
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(dir)
			if err == nil {
				t.Fatalf("loaded a key file with mode %04o", mode)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("error does not name the file and the fix: %v", err)
			}
		})
	}
}

func TestLoadOrCreateRefusesWritableDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err == nil || !strings.Contains(err.Error(), "writable") {
		t.Errorf("world-writable key directory: %v", err)
	}
}

func writeKey(t *testing.T, dir, name string, priv any) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateRejectsBadDirectories(t *testing.T) {
	k1, k2 := seedKey(1), seedKey(2)
	kid1, kid2 := Thumbprint(pubOf(k1)), Thumbprint(pubOf(k2))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := map[string]func(t *testing.T, dir string){
		"renamed key file": func(t *testing.T, dir string) {
			writeKey(t, dir, kid2+".pem", k1)
		},
		"active names a missing key": func(t *testing.T, dir string) {
			writeKey(t, dir, kid1+".pem", k1)
			os.WriteFile(filepath.Join(dir, activeFile), []byte(kid2+"\n"), 0o600)
		},
		"two keys, no active": func(t *testing.T, dir string) {
			writeKey(t, dir, kid1+".pem", k1)
			writeKey(t, dir, kid2+".pem", k2)
		},
		"not PEM": func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, kid1+".pem"), []byte("hello"), 0o600)
		},
		"not an Ed25519 key": func(t *testing.T, dir string) {
			writeKey(t, dir, "ec.pem", ec)
		},
		"symlinked directory as key": func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o700)
			os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, kid1+".pem"))
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setup(t, dir)
			if r, err := LoadOrCreate(dir); err == nil {
				t.Fatalf("loaded, active %s", r.ActiveThumbprint())
			} else {
				t.Log(err)
			}
		})
	}
	if _, err := LoadOrCreate(""); err == nil {
		t.Error("empty directory name accepted")
	}
}

func TestLoadOrCreateRecoversMissingActive(t *testing.T) {
	dir := t.TempDir()
	k := seedKey(1)
	kid := Thumbprint(pubOf(k))
	writeKey(t, dir, kid+".pem", k)
	// Leftovers from an interrupted write and unrelated files are ignored.
	os.WriteFile(filepath.Join(dir, ".active.tmp123"), []byte("junk"), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("voucher keys"), 0o644)
	r, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.ActiveThumbprint() != kid {
		t.Errorf("active %s, want %s", r.ActiveThumbprint(), kid)
	}
	if got := readActiveFile(t, dir); got != kid {
		t.Errorf("active file %q not written", got)
	}
}
