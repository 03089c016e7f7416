package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/golang-jwt/jwt/v5"
)

func sm2Key(t testing.TB) *sm2.PrivateKey {
	t.Helper()
	k, err := SM2.generate()
	if err != nil {
		t.Fatal(err)
	}
	return k.(*sm2.PrivateKey)
}

func sm2Signer(k *sm2.PrivateKey) func(string) []byte {
	return func(in string) []byte {
		sig, err := SigningMethodSM2SM3.Sign(in, k)
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func kidOf(t testing.TB, k crypto.Signer) string {
	t.Helper()
	v, err := kindOf(k)
	if err != nil {
		t.Fatal(err)
	}
	return v.thumbprint()
}

func TestSM2RoundTrip(t *testing.T) {
	k := sm2Key(t)
	r := NewRing(k)
	if r.ActiveKind() != SM2 {
		t.Fatalf("ActiveKind = %s", r.ActiveKind())
	}
	tok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	h := decodeHeader(t, tok)
	if h["alg"] != AlgSM2SM3 || h["kid"] != r.ActiveKID() || h["typ"] != Typ || len(h) != 3 {
		t.Errorf("header %v", h)
	}
	parts := strings.Split(tok, ".")
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != sm2SigSize {
		t.Errorf("signature is %d bytes, want r||s of %d", len(sig), sm2SigSize)
	}
	got, err := r.Verify(tok, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Code: sample().Code, NotBefore: sample().NotBefore, Expires: sample().Expires}
	if !got.NotBefore.Equal(want.NotBefore) || !got.Expires.Equal(want.Expires) {
		t.Errorf("times: got nbf %v exp %v, want %v %v", got.NotBefore, got.Expires, want.NotBefore, want.Expires)
	}
	got.NotBefore, got.Expires, want.NotBefore, want.Expires = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("claims %+v, want %+v", got, want)
	}
	// One flipped bit of the payload: the SM2 signature no longer holds.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload[len(payload)-2] ^= 1
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	_, err = r.Verify(tampered, t0, nil)
	wantOnly(t, err, ErrForged)
	// Another SM2 key's signature under this kid is a forgery too.
	stranger := rawToken(t, with(hdr(kidOf(t, k)), "alg", AlgSM2SM3), wireMap(), sm2Signer(sm2Key(t)))
	_, err = r.Verify(stranger, t0, nil)
	wantOnly(t, err, ErrForged)
}

// TestKeysVerifyOnlyTheirOwnAlgorithm: in a ring of both kinds, each kid
// verifies tokens of its own kind's algorithm only. The Ed25519 signature
// is 64 bytes like an SM2 r||s, so the swap is well formed and only the
// per-key pin refuses it.
func TestKeysVerifyOnlyTheirOwnAlgorithm(t *testing.T) {
	ed, gm := seedKey(1), sm2Key(t)
	r := NewRing(ed, gm)
	edKID, gmKID := kidOf(t, ed), kidOf(t, gm)
	cases := map[string]string{
		"SM2SM3 token under the Ed25519 kid": rawToken(t, with(hdr(edKID), "alg", AlgSM2SM3), wireMap(), sm2Signer(gm)),
		"EdDSA token under the SM2 kid":      rawToken(t, hdr(gmKID), wireMap(), edSigner(ed)),
		"SM2SM3 alg, Ed25519 signature":      rawToken(t, with(hdr(edKID), "alg", AlgSM2SM3), wireMap(), edSigner(ed)),
		"EdDSA alg, SM2 signature":           rawToken(t, hdr(gmKID), wireMap(), sm2Signer(gm)),
	}
	for name, tok := range cases {
		_, err := r.Verify(tok, t0, nil)
		wantOnly(t, err, ErrForged)
		if !strings.Contains(err.Error(), errMethod.Error()) {
			t.Errorf("%s: refused for another reason than the key's algorithm: %v", name, err)
		}
	}
	// The same tokens with the right pairing verify: the refusals above
	// are the pin's, not a broken signer.
	for name, tok := range map[string]string{
		"EdDSA": rawToken(t, hdr(edKID), wireMap(), edSigner(ed)),
		"SM2":   rawToken(t, with(hdr(gmKID), "alg", AlgSM2SM3), wireMap(), sm2Signer(gm)),
	} {
		if _, err := r.Verify(tok, t0, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// keyFor hands out the SM2 key only to SM2SM3 and the Ed25519 key
	// only to EdDSA.
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodEdDSA, jwt.SigningMethodES256, jwt.SigningMethodHS256} {
		tk := &jwt.Token{Method: m, Header: map[string]any{"alg": m.Alg(), "kid": gmKID, "typ": Typ}}
		if k, err := r.keyFor(tk); err == nil {
			t.Errorf("%s under the SM2 kid: keyFor handed out %T", m.Alg(), k)
		}
	}
	tk := &jwt.Token{Method: SigningMethodSM2SM3, Header: map[string]any{"alg": AlgSM2SM3, "kid": edKID, "typ": Typ}}
	if k, err := r.keyFor(tk); err == nil {
		t.Errorf("SM2SM3 under the Ed25519 kid: keyFor handed out %T", k)
	}
}

func TestSM2VerifyRejectsMalformedSignatures(t *testing.T) {
	k := sm2Key(t)
	in := "a.b"
	good, err := SigningMethodSM2SM3.Sign(in, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := SigningMethodSM2SM3.Verify(in, good, &k.PublicKey); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	n := sm2.P256().Params().N
	for name, sig := range map[string][]byte{
		"empty":     nil,
		"short":     good[:63],
		"long":      append(append([]byte{}, good...), 0),
		"zero":      make([]byte, 64),
		"r = n":     append(n.FillBytes(make([]byte, 32)), good[32:]...),
		"ASN.1 DER": sm2DERSignature(good),
	} {
		if err := SigningMethodSM2SM3.Verify(in, sig, &k.PublicKey); !errors.Is(err, jwt.ErrSignatureInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// Keys of the wrong type or curve are refused, never coerced.
	ed := seedKey(1)
	for name, key := range map[string]any{"ed25519": ed.Public(), "sm2 private": k} {
		if err := SigningMethodSM2SM3.Verify(in, good, key); !errors.Is(err, jwt.ErrInvalidKeyType) {
			t.Errorf("verify with %s: got %v", name, err)
		}
	}
	if _, err := SigningMethodSM2SM3.Sign(in, ed); !errors.Is(err, jwt.ErrInvalidKeyType) {
		t.Errorf("sign with ed25519: got %v", err)
	}
}

func TestSM2JWKS(t *testing.T) {
	k := sm2Key(t)
	r := NewRing(seedKey(1), k)
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(r.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	// The key is listed under its thumbprint and under its short kid (the
	// JWKS is sorted by kid, so which comes last varies with the key).
	var found, short map[string]string
	for _, j := range doc.Keys {
		switch {
		case j["kty"] == "EC" && j["kid"] == r.ActiveThumbprint():
			found = j
		case j["kty"] == "EC" && j["kid"] == r.ActiveKID():
			short = j
		}
	}
	if len(doc.Keys) != 4 || found == nil || short == nil {
		t.Fatalf("JWKS %s", r.JWKS())
	}
	if short["x"] != found["x"] || short["y"] != found["y"] {
		t.Errorf("the short kid names another key: %v, %v", short, found)
	}
	if len(found) != 7 || found["crv"] != "SM2" || found["alg"] != AlgSM2SM3 || found["use"] != "sig" {
		t.Errorf("SM2 key members %v", found)
	}
	x, errX := base64.RawURLEncoding.DecodeString(found["x"])
	y, errY := base64.RawURLEncoding.DecodeString(found["y"])
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		t.Fatalf("x %q y %q: %v %v", found["x"], found["y"], errX, errY)
	}
	pub := &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	if !pub.Equal(&k.PublicKey) {
		t.Error("x, y are not the ring's SM2 public key")
	}
	// A verifier recomputes the kid from the published members (RFC 7638).
	canon := `{"crv":"SM2","kty":"EC","x":"` + found["x"] + `","y":"` + found["y"] + `"}`
	if want := thumbprintOfJSON(canon); found["kid"] != want {
		t.Errorf("kid %s, thumbprint of the JWK is %s", found["kid"], want)
	}
	// The published key verifies the ring's tokens.
	tok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{AlgSM2SM3}), jwt.WithTimeFunc(func() time.Time { return t0 })); err != nil {
		t.Errorf("token does not verify with the published key: %v", err)
	}
}

// TestOpenFollowsTheConfiguredKind: a directory of Ed25519 keys opened for
// SM2 gets an SM2 signing key, and every voucher signed before the change
// keeps verifying, after a restart and after a change back.
func TestOpenFollowsTheConfiguredKind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ed, err := Open(dir, Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	edTok, err := ed.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}

	gm, err := Open(dir, SM2)
	if err != nil {
		t.Fatal(err)
	}
	if gm.ActiveKind() != SM2 || gm.ActiveKID() == ed.ActiveKID() || readActiveFile(t, dir) != gm.ActiveThumbprint() {
		t.Fatalf("after the change: kind %s, kid %s (was %s), active file %s", gm.ActiveKind(), gm.ActiveKID(), ed.ActiveKID(), readActiveFile(t, dir))
	}
	gmTok, err := gm.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	if decodeHeader(t, gmTok)["alg"] != AlgSM2SM3 {
		t.Fatalf("gm ring signs %v", decodeHeader(t, gmTok)["alg"])
	}
	checkPrivateKeyFile(t, filepath.Join(dir, gm.ActiveThumbprint()+keySuffix))

	// Restart in the same mode: the same SM2 key, no new one.
	again, err := Open(dir, SM2)
	if err != nil {
		t.Fatal(err)
	}
	if again.ActiveKID() != gm.ActiveKID() || len(pemFiles(t, dir)) != 2 {
		t.Fatalf("restart made a new key: %s vs %s, files %v", again.ActiveKID(), gm.ActiveKID(), pemFiles(t, dir))
	}
	// Rotating a gm ring makes another SM2 key.
	if _, err := again.Rotate(dir); err != nil {
		t.Fatal(err)
	}
	if again.ActiveKind() != SM2 || !strings.Contains(string(mustRead(t, filepath.Join(dir, again.ActiveThumbprint()+keySuffix))), "PRIVATE KEY") {
		t.Fatalf("rotate in gm mode made a %s key", again.ActiveKind())
	}
	rotTok, err := again.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}

	// Back to the default: a new Ed25519 key signs, every old token verifies.
	back, err := Open(dir, Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if back.ActiveKind() != Ed25519 || back.ActiveKID() == ed.ActiveKID() {
		t.Fatalf("back: kind %s kid %s", back.ActiveKind(), back.ActiveKID())
	}
	for name, tok := range map[string]string{"ed25519 before": edTok, "sm2": gmTok, "sm2 rotated": rotTok} {
		for _, ring := range []*Ring{again, back} {
			if _, err := ring.Verify(tok, t0, nil); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestOpenChangesKindOnce: processes starting at once in the new mode end
// with one new signing key between them, not one each.
func TestOpenChangesKindOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if _, err := Open(dir, Ed25519); err != nil {
		t.Fatal(err)
	}
	const n = 8
	kids := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			r, err := Open(dir, SM2)
			if err != nil {
				errs <- err
				return
			}
			kids <- r.ActiveKID()
		}()
	}
	seen := map[string]bool{}
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case kid := <-kids:
			seen[kid] = true
		}
	}
	if len(seen) != 1 || len(pemFiles(t, dir)) != 2 {
		t.Errorf("%d signing keys chosen, %d key files; want one new key", len(seen), len(pemFiles(t, dir)))
	}
}

func TestOpenRefusesUnknownKind(t *testing.T) {
	if _, err := Open(t.TempDir(), Kind("rsa")); err == nil {
		t.Error("Open accepted kind rsa")
	}
	if _, err := ParseKind("gm"); err == nil {
		t.Error(`ParseKind("gm"): the mode name is not a key kind`)
	}
}

func checkPrivateKeyFile(t *testing.T, path string) {
	t.Helper()
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", path, m)
	}
	block, _ := pem.Decode(mustRead(t, path))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("%s is not a PKCS#8 PEM", path)
	}
	k, err := parsePKCS8(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.(*sm2.PrivateKey); !ok {
		t.Errorf("%s holds a %T", path, k)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func thumbprintOfJSON(canon string) string {
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
