package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// t0 lies far from the wall clock on purpose: any test that passes only
// because the parser consulted time.Now instead of the supplied now fails.
var t0 = time.Date(2090, 3, 1, 10, 0, 0, 0, time.UTC)

var allSentinels = []error{ErrMalformed, ErrForged, ErrExpired, ErrNotYetValid, ErrWrongIssuer, ErrMissingExpiry}

func seedKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func sample() Claims {
	return Claims{
		Issuer:       "500103",
		Code:         "7K3M9QXZ2HJ4RT8V",
		CampaignID:   20260301,
		TierID:       3,
		FaceFen:      5000,
		ThresholdFen: 20000,
		Category:     "catering",
		NotBefore:    t0.Add(-time.Hour),
		Expires:      t0.Add(30 * 24 * time.Hour),
	}
}

// wireMap is sample() as the JSON claims object, for hand-built tokens.
func wireMap() map[string]any {
	c := sample()
	return map[string]any{
		"iss": c.Issuer, "jti": c.Code, "c": c.CampaignID, "t": c.TierID,
		"f": c.FaceFen, "m": c.ThresholdFen, "k": c.Category,
		"nbf": c.NotBefore.Unix(), "exp": c.Expires.Unix(),
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawToken builds a JWS by hand so tests can produce tokens our Sign refuses
// to make. sign gets the signing input and returns the raw signature.
func rawToken(t testing.TB, header, claims map[string]any, sign func(string) []byte) string {
	t.Helper()
	in := b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims))
	return in + "." + b64(sign(in))
}

func edSigner(k ed25519.PrivateKey) func(string) []byte {
	return func(in string) []byte { return ed25519.Sign(k, []byte(in)) }
}

func hdr(kid string) map[string]any {
	return map[string]any{"alg": "EdDSA", "kid": kid, "typ": LegacyTyp}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func decodeHeader(t testing.TB, tok string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// wantOnly asserts err matches want and no other sentinel, so a rejection for
// the wrong reason does not count as a pass.
func wantOnly(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	for _, s := range allSentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %v also matches %v", err, s)
		}
	}
}

func TestLegacyRoundTrip(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	c.Terms = true
	tok, err := r.SignLegacy(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Verify(tok, t0, func(iss string) bool { return iss == "500103" })
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !got.NotBefore.Equal(c.NotBefore) || !got.Expires.Equal(c.Expires) {
		t.Errorf("times: got nbf %v exp %v, want %v %v", got.NotBefore, got.Expires, c.NotBefore, c.Expires)
	}
	got.NotBefore, got.Expires, c.NotBefore, c.Expires = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != c {
		t.Errorf("claims:\n got %+v\nwant %+v", got, c)
	}

	h := decodeHeader(t, tok)
	want := map[string]any{"alg": "EdDSA", "kid": Thumbprint(pubOf(seedKey(1))), "typ": "cqv+jwt"}
	if len(h) != len(want) {
		t.Errorf("header %v, want exactly %v", h, want)
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header[%q] = %v, want %v", k, h[k], v)
		}
	}
}

func TestRoundTripOptionalFields(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	c.ThresholdFen, c.Category, c.NotBefore = 0, "", time.Time{}
	tok, err := r.SignLegacy(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Verify(tok, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ThresholdFen != 0 || got.Category != "" || !got.NotBefore.IsZero() || !got.Expires.Equal(c.Expires) {
		t.Errorf("got %+v", got)
	}
}

func TestTypicalLegacyTokenIsShort(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	c.Code = NewCode()
	c.Category = "supermarket"
	c.CampaignID, c.TierID = 987654, 12
	c.FaceFen, c.ThresholdFen = 100000, 500000
	tok, err := r.SignLegacy(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 400 {
		t.Fatalf("typical token is %d chars, want ≤ 400 so it scans off a phone screen: %s", len(tok), tok)
	}
	// Also as the URL form a phone camera opens.
	if u := "https://xf.cq.gov.cn/v/" + tok; len(u) > 430 {
		t.Errorf("URL form is %d chars", len(u))
	}
	t.Logf("token %d chars", len(tok))
}

func TestSignRefusesBadClaims(t *testing.T) {
	r := NewRing(seedKey(1))
	cases := map[string]func(*Claims){
		"no issuer":     func(c *Claims) { c.Issuer = "" },
		"no expiry":     func(c *Claims) { c.Expires = time.Time{} },
		"nbf after exp": func(c *Claims) { c.NotBefore = c.Expires.Add(time.Second) },
		"bad code":      func(c *Claims) { c.Code = "7K3M-9QXZ-2HJ4-RT8V" },
		"no campaign":   func(c *Claims) { c.CampaignID = 0 },
		"no tier":       func(c *Claims) { c.TierID = 0 },
		"zero face":     func(c *Claims) { c.FaceFen = 0 },
		"neg threshold": func(c *Claims) { c.ThresholdFen = -1 },
		"too long":      func(c *Claims) { c.Category = strings.Repeat("x", MaxTokenLen) },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			c := sample()
			mut(&c)
			if tok, err := r.SignLegacy(c); err == nil {
				t.Fatalf("Sign accepted %+v: %s", c, tok)
			}
		})
	}
	if _, err := NewRing().SignLegacy(sample()); err == nil {
		t.Error("empty ring signed a token")
	}
}

func TestVerifyRejects(t *testing.T) {
	key := seedKey(1)
	other := seedKey(2)
	r := NewRing(other, key) // both verify; key signs
	kid := Thumbprint(pubOf(key))
	otherKID := Thumbprint(pubOf(other))
	attacker := seedKey(9)
	attackerKID := Thumbprint(pubOf(attacker))
	good, err := r.SignLegacy(sample())
	if err != nil {
		t.Fatal(err)
	}
	exp, nbf := sample().Expires, sample().NotBefore

	type tc struct {
		name   string
		tok    string
		now    time.Time
		issuer func(string) bool
		want   error
	}
	cases := []tc{
		{name: "alg none", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "alg", "none"), wireMap(), func(string) []byte { return nil })},
		{name: "alg none with a real signature", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "alg", "none"), wireMap(), edSigner(key))},
		{name: "HS256 keyed with the public key", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "alg", "HS256"), wireMap(), func(in string) []byte {
				m := hmac.New(sha256.New, pubOf(key))
				m.Write([]byte(in))
				return m.Sum(nil)
			})},
		{name: "unregistered alg", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "alg", "Ed448"), wireMap(), edSigner(key))},
		{name: "face value raised, signature kept", want: ErrForged,
			tok: func() string {
				parts := strings.Split(good, ".")
				forged := rawToken(t, hdr(kid), with(wireMap(), "f", 500000), edSigner(attacker))
				fp := strings.Split(forged, ".")
				return parts[0] + "." + fp[1] + "." + parts[2]
			}()},
		{name: "signature from another ring key under this kid", want: ErrForged,
			tok: rawToken(t, hdr(kid), wireMap(), edSigner(other))},
		{name: "active key's signature under the other ring kid", want: ErrForged,
			tok: rawToken(t, hdr(otherKID), wireMap(), edSigner(key))},
		// Signed by a ring key, so only a strict by-kid lookup rejects it; a
		// "try every key" or "fall back to active" lookup would accept.
		{name: "unknown kid", want: ErrForged,
			tok: rawToken(t, hdr("no-such-kid"), wireMap(), edSigner(key))},
		{name: "missing kid", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "kid", nil), wireMap(), edSigner(key))},
		{name: "non-string kid", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "kid", 7), wireMap(), edSigner(key))},
		{name: "embedded jwk header", want: ErrForged,
			tok: rawToken(t, with(hdr(attackerKID), "jwk", map[string]any{
				"kty": "OKP", "crv": "Ed25519", "x": b64(pubOf(attacker)), "kid": attackerKID,
			}), wireMap(), edSigner(attacker))},
		{name: "jku header", want: ErrForged,
			tok: rawToken(t, with(hdr(attackerKID), "jku", "https://evil.example/jwks.json"), wireMap(), edSigner(attacker))},
		{name: "typ JWT", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "typ", "JWT"), wireMap(), edSigner(key))},
		{name: "typ missing", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "typ", nil), wireMap(), edSigner(key))},
		{name: "crit header", want: ErrForged,
			tok: rawToken(t, with(hdr(kid), "crit", []string{"exp"}), wireMap(), edSigner(key))},
		{name: "missing exp", want: ErrMissingExpiry,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", nil), edSigner(key))},
		{name: "expired beyond leeway", want: ErrExpired, tok: good, now: exp.Add(Leeway + time.Second)},
		{name: "expired long ago", want: ErrExpired, tok: good, now: exp.Add(365 * 24 * time.Hour)},
		{name: "not yet valid beyond leeway", want: ErrNotYetValid, tok: good, now: nbf.Add(-Leeway - time.Second)},
		{name: "wrong issuer", want: ErrWrongIssuer, tok: good,
			issuer: func(iss string) bool { return iss == "500104" }},
		{name: "empty issuer, nil checker", want: ErrWrongIssuer,
			tok: rawToken(t, hdr(kid), with(wireMap(), "iss", ""), edSigner(key))},
		{name: "missing issuer", want: ErrWrongIssuer,
			tok: rawToken(t, hdr(kid), with(wireMap(), "iss", nil), edSigner(key))},
		{name: "empty jti", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "jti", ""), edSigner(key))},
		{name: "jti not a code", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "jti", "7K3M9QXZ2HJ4RT8U"), edSigner(key))},
		{name: "jti with dashes", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "jti", "7K3M-9QXZ-2HJ4-RT8V"), edSigner(key))},
		{name: "c zero", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "c", 0), edSigner(key))},
		{name: "t missing", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "t", nil), edSigner(key))},
		{name: "f zero", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "f", 0), edSigner(key))},
		{name: "f negative", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "f", -5000), edSigner(key))},
		{name: "m negative", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "m", -1), edSigner(key))},
		{name: "f not an integer", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "f", "5000"), edSigner(key))},
		{name: "exp not a number", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", "tomorrow"), edSigner(key))},
		// RFC 7519 §2: a NumericDate is a JSON number. A string holding a
		// number is another spelling that some parsers read and others refuse.
		{name: "exp a numeric string", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", fmt.Sprint(exp.Unix())), edSigner(key))},
		{name: "nbf a numeric string", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "nbf", fmt.Sprint(nbf.Unix())), edSigner(key))},
		{name: "exp a numeric string with spaces", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", " "+fmt.Sprint(exp.Unix())), edSigner(key))},
		{name: "exp true", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", true), edSigner(key))},
		{name: "exp an object", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "exp", map[string]any{"n": exp.Unix()}), edSigner(key))},
		{name: "nbf an array", want: ErrMalformed,
			tok: rawToken(t, hdr(kid), with(wireMap(), "nbf", []int64{nbf.Unix()}), edSigner(key))},
		{name: "empty", want: ErrMalformed, tok: ""},
		{name: "one segment", want: ErrMalformed, tok: "abc"},
		{name: "two segments", want: ErrMalformed, tok: "abc.def"},
		{name: "four segments", want: ErrMalformed, tok: good + ".x"},
		{name: "header not base64", want: ErrMalformed, tok: "!!!" + good[strings.Index(good, "."):]},
		{name: "header not JSON", want: ErrMalformed, tok: b64([]byte("nope")) + good[strings.Index(good, "."):]},
		{name: "padded base64", want: ErrMalformed, tok: strings.Replace(good, ".", "=.", 1)},
		{name: "whitespace around", want: ErrMalformed, tok: " " + good + "\n"},
		{name: "1 MiB of dots", want: ErrMalformed, tok: strings.Repeat(".", 1<<20)},
		{name: "1 MiB header", want: ErrMalformed, tok: strings.Repeat("e", 1<<20) + good[strings.Index(good, "."):]},
		{name: "just over MaxTokenLen", want: ErrMalformed, tok: strings.Repeat("a", MaxTokenLen+1)},
	}
	// A signature spelled with non-zero trailing bits decodes to the same
	// bytes under lax base64, i.e. a second spelling of a valid token.
	{
		last := strings.IndexByte(base64URLAlphabet, good[len(good)-1])
		alt := good[:len(good)-1] + string(base64URLAlphabet[last|1])
		cases = append(cases, tc{name: "non-canonical signature encoding", want: ErrMalformed, tok: alt})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = t0
			}
			got, err := r.Verify(c.tok, now, c.issuer)
			wantOnly(t, err, c.want)
			if got != (Claims{}) {
				t.Errorf("claims returned alongside error: %+v", got)
			}
		})
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestLeewayEdges(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	tok, err := r.SignLegacy(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{
		c.NotBefore.Add(-Leeway + time.Second),
		c.NotBefore,
		c.Expires.Add(-time.Second),
		c.Expires.Add(Leeway - time.Second),
	} {
		if _, err := r.Verify(tok, now, nil); err != nil {
			t.Errorf("at %v: %v", now, err)
		}
	}
}

// TestZeroNowMeansWallClock guards the zero-time rule: taken literally, year 1
// precedes every expiry and a token without nbf would never expire.
func TestZeroNowMeansWallClock(t *testing.T) {
	key := seedKey(1)
	r := NewRing(key)
	old := with(wireMap(), "nbf", nil, "exp", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	tok := rawToken(t, hdr(r.ActiveKID()), old, edSigner(key))
	_, err := r.Verify(tok, time.Time{}, nil)
	wantOnly(t, err, ErrExpired)
}

func TestBoundaryLength(t *testing.T) {
	key := seedKey(1)
	r := NewRing(key)
	mk := func(n int) string {
		return rawToken(t, hdr(r.ActiveKID()), with(wireMap(), "k", strings.Repeat("x", n)), edSigner(key))
	}
	n := 0
	for len(mk(n+1)) <= MaxTokenLen {
		n++
	}
	fits, over := mk(n), mk(n+1)
	if len(fits) > MaxTokenLen || len(over) <= MaxTokenLen {
		t.Fatalf("lengths %d, %d", len(fits), len(over))
	}
	if _, err := r.Verify(fits, t0, nil); err != nil {
		t.Errorf("%d-byte token: %v", len(fits), err)
	}
	_, err := r.Verify(over, t0, nil)
	wantOnly(t, err, ErrMalformed)
}

// TestOversizeRejectedBeforeParsing: zero allocations shows the length check
// runs before the parser, which would at least allocate the segment slice.
func TestOversizeRejectedBeforeParsing(t *testing.T) {
	r := NewRing(seedKey(1))
	good, _ := r.SignLegacy(sample())
	for name, tok := range map[string]string{
		"dots":   strings.Repeat(".", 1<<20),
		"header": strings.Repeat("e", 1<<20) + good[strings.Index(good, "."):],
	} {
		var err error
		allocs := testing.AllocsPerRun(20, func() { _, err = r.Verify(tok, t0, nil) })
		if allocs != 0 {
			t.Errorf("%s: %v allocations rejecting a 1 MiB token", name, allocs)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestParserPinsEdDSA checks the parser configuration on its own, as if the
// key lookup had been broken to hand out the raw key bytes: the method pin
// alone must still stop HS256 and none.
func TestParserPinsEdDSA(t *testing.T) {
	key := seedKey(1)
	kid := Thumbprint(pubOf(key))
	hs := rawToken(t, with(hdr(kid), "alg", "HS256"), wireMap(), func(in string) []byte {
		m := hmac.New(sha256.New, pubOf(key))
		m.Write([]byte(in))
		return m.Sum(nil)
	})
	none := rawToken(t, with(hdr(kid), "alg", "none"), wireMap(), func(string) []byte { return nil })
	confused := func(tk *jwt.Token) (any, error) {
		if tk.Method == jwt.SigningMethodNone {
			return jwt.UnsafeAllowNoneSignatureType, nil
		}
		return []byte(pubOf(key)), nil
	}
	for name, tok := range map[string]string{"HS256": hs, "none": none} {
		// Sanity: an unpinned parser really would accept these, so the
		// assertion below is testing the pin and not something else.
		if _, err := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return t0 })).
			ParseWithClaims(tok, &wireClaims{}, confused); err != nil {
			t.Fatalf("%s: unpinned parser rejected it (%v); test is not meaningful", name, err)
		}
		_, err := newParser(t0).ParseWithClaims(tok, &wireClaims{}, confused)
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("%s: pinned parser gave %v", name, err)
		}
	}
}

// TestKeyForOnlyServesEdDSA covers the lookup's own method check, which backs
// up the parser pin should someone loosen WithValidMethods.
func TestKeyForOnlyServesEdDSA(t *testing.T) {
	r := NewRing(seedKey(1))
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodNone, jwt.SigningMethodES256} {
		tk := &jwt.Token{Method: m, Header: map[string]any{"alg": m.Alg(), "kid": r.ActiveKID(), "typ": Typ}}
		if k, err := r.keyFor(tk); err == nil {
			t.Errorf("%s: keyFor handed out %T", m.Alg(), k)
		}
	}
	tk := &jwt.Token{Method: jwt.SigningMethodEdDSA, Header: hdr(r.ActiveKID())}
	if k, err := r.keyFor(tk); err != nil {
		t.Errorf("EdDSA: %v", err)
	} else if _, ok := k.(ed25519.PublicKey); !ok {
		t.Errorf("EdDSA: got %T, want ed25519.PublicKey", k)
	}
}

func TestIssuerCallback(t *testing.T) {
	r := NewRing(seedKey(1))
	c := sample()
	c.Issuer = "500000"
	tok, err := r.SignLegacy(c)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	_, err = r.Verify(tok, t0, func(iss string) bool { asked = append(asked, iss); return true })
	if err != nil || len(asked) != 1 || asked[0] != "500000" {
		t.Errorf("err %v, asked %v", err, asked)
	}
	if _, err := r.Verify(tok, t0, nil); err != nil {
		t.Errorf("nil checker: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if g == 0 {
					if _, err := r.Rotate(dir); err != nil {
						errs <- err
						return
					}
					_ = r.JWKS()
					continue
				}
				tok, err := r.SignLegacy(sample())
				if err != nil {
					errs <- err
					return
				}
				if _, err := r.Verify(tok, t0, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reloaded, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.ActiveKID() != r.ActiveKID() {
		t.Errorf("reloaded active %s, ring active %s", reloaded.ActiveKID(), r.ActiveKID())
	}
}

// benchRings are the two modes side by side: Ed25519 (the default) and SM2.
func benchRings(b *testing.B) map[Kind]*Ring {
	return map[Kind]*Ring{Ed25519: NewRing(seedKey(1)), SM2: NewRing(sm2Key(b))}
}

func BenchmarkSign(b *testing.B) {
	rings := benchRings(b)
	for _, kind := range []Kind{Ed25519, SM2} {
		b.Run(string(kind), func(b *testing.B) {
			r, c := rings[kind], sample()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.SignLegacy(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	rings := benchRings(b)
	for _, kind := range []Kind{Ed25519, SM2} {
		b.Run(string(kind), func(b *testing.B) {
			r := rings[kind]
			tok, err := r.SignLegacy(sample())
			if err != nil {
				b.Fatal(err)
			}
			known := func(iss string) bool { return iss == "500103" }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Verify(tok, t0, known); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
