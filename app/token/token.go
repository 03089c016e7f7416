// Package token signs and verifies voucher tokens: compact JWS strings
// (EdDSA, or SM2SM3 in the commercial cryptography mode) printed as QR
// codes (packed, see pack.go), plus the 16-digit manual code printed under
// them.
//
// The token is a bearer proof that we issued the voucher with this code and
// that it is valid until "exp"; which campaign, tier and face value it is,
// and whether it is still unredeemed, is the database's business, keyed by
// the manual code carried in "jti". Tokens signed before the compact form
// (type LegacyTyp) also carry the voucher's terms; they keep verifying.
package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// Typ is our explicit JWS type (RFC 8725 §3.11), so that a JWT minted by
	// some other system sharing a key can never pass as a voucher. It is
	// short because every byte of the token is a byte of the QR.
	Typ = "cqv"

	// LegacyTyp is the type of tokens signed before the compact form, which
	// carry the voucher's terms as well; vouchers issued then still verify.
	LegacyTyp = "cqv+jwt"

	// MaxTokenLen bounds what Verify will even look at. Tokens are about
	// 200 bytes (legacy ones 350); the bound keeps hostile input
	// (CVE-2025-30204 style headers of dots) from reaching the parser at all.
	MaxTokenLen = 2048

	// Leeway absorbs clock skew between the issuing server and a merchant
	// terminal without meaningfully stretching a voucher's life.
	Leeway = 30 * time.Second
)

// Verify returns exactly one of these (possibly wrapped with detail), so
// callers can map them to user-facing messages with errors.Is.
var (
	ErrMalformed     = errors.New("token: malformed")
	ErrForged        = errors.New("token: forged (bad signature, algorithm, key id or type)")
	ErrExpired       = errors.New("token: expired")
	ErrNotYetValid   = errors.New("token: not yet valid")
	ErrWrongIssuer   = errors.New("token: unknown issuer")
	ErrMissingExpiry = errors.New("token: missing expiry")
)

// errTooLong is preallocated so that rejecting oversized input costs no
// allocation at all, which keeps a flood of junk scans cheap.
var errTooLong = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenLen)

// Claims carried by a voucher token. No personal data: the QR is shown on
// screens and photographed, so anything in it must be safe to leak.
//
// A token signed now carries Code, NotBefore (only while the voucher is not
// usable yet) and Expires: what an offline check needs. The terms (Issuer
// to Category) are carried only by legacy tokens, and Terms says so; a
// token without them leaves them to the database, and so must its reader.
type Claims struct {
	Terms        bool      // the token carries Issuer, CampaignID, TierID, FaceFen, ThresholdFen and Category
	Issuer       string    // district code that issued it, e.g. "500103" ("500000" = city-wide); JSON "iss"
	Code         string    // voucher manual code (16 characters, see code.go); JSON "jti"
	CampaignID   int64     // JSON "c"
	TierID       int64     // JSON "t"
	FaceFen      int64     // face value in fen; JSON "f"
	ThresholdFen int64     // 满X threshold in fen (0 = none); JSON "m"
	Category     string    // category code such as "catering"; JSON "k"
	NotBefore    time.Time // JSON "nbf" (unix seconds)
	Expires      time.Time // JSON "exp" (unix seconds)
}

// wireClaims is the JSON form of both kinds of token (a compact token has
// only jti, exp and nbf; see compactPayload).
type wireClaims struct {
	Iss string       `json:"iss"`
	Jti string       `json:"jti"`
	C   int64        `json:"c"`
	T   int64        `json:"t"`
	F   int64        `json:"f"`
	M   int64        `json:"m,omitempty"`
	K   string       `json:"k,omitempty"`
	Nbf *numericDate `json:"nbf,omitempty"`
	Exp *numericDate `json:"exp,omitempty"`
}

// numericDate is RFC 7519's NumericDate, which is a JSON number of seconds.
// jwt.NumericDate also reads a string holding a number ("exp":"4102444800"),
// so a token spelled that way would verify although no conforming issuer
// makes one; a second spelling of the same claim is how parsers disagree.
type numericDate struct{ jwt.NumericDate }

var errDateNotNumber = errors.New("NumericDate is not a JSON number")

func (d *numericDate) UnmarshalJSON(b []byte) error {
	// encoding/json hands over the value's bytes exactly; a JSON number
	// begins with a minus sign or a digit, and nothing else does.
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errDateNotNumber
	}
	return d.NumericDate.UnmarshalJSON(b)
}

func (d *numericDate) asJWT() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}

func newNumericDate(t time.Time) *numericDate { return &numericDate{*jwt.NewNumericDate(t)} }

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return w.Exp.asJWT(), nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return w.Nbf.asJWT(), nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Iss, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return "", nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func toWire(c Claims) *wireClaims {
	w := &wireClaims{
		Iss: c.Issuer, Jti: c.Code,
		C: c.CampaignID, T: c.TierID, F: c.FaceFen, M: c.ThresholdFen, K: c.Category,
		Exp: newNumericDate(c.Expires),
	}
	if !c.NotBefore.IsZero() {
		w.Nbf = newNumericDate(c.NotBefore)
	}
	return w
}

func (w *wireClaims) claims() Claims {
	c := Claims{
		Terms: true, Issuer: w.Iss, Code: w.Jti,
		CampaignID: w.C, TierID: w.T, FaceFen: w.F, ThresholdFen: w.M, Category: w.K,
	}
	if w.Nbf != nil {
		c.NotBefore = w.Nbf.Time
	}
	if w.Exp != nil {
		c.Expires = w.Exp.Time
	}
	return c
}

// checkTerms validates the voucher terms shared by Sign and Verify. Expiry is
// deliberately not checked here: on the Verify side that is the parser's job
// (WithExpirationRequired), and a second copy would hide its removal.
func (c Claims) checkTerms() error {
	switch {
	case !validCode(c.Code):
		return fmt.Errorf("jti %q is not a 16-character code", c.Code)
	case c.CampaignID <= 0:
		return fmt.Errorf("campaign id %d must be positive", c.CampaignID)
	case c.TierID <= 0:
		return fmt.Errorf("tier id %d must be positive", c.TierID)
	case c.FaceFen <= 0:
		return fmt.Errorf("face value %d fen must be positive", c.FaceFen)
	case c.ThresholdFen < 0:
		return fmt.Errorf("threshold %d fen must not be negative", c.ThresholdFen)
	}
	return nil
}

// Sign issues a compact token with the active key: the code, the expiry
// and, when set, the not-before time; the terms of c are not carried (the
// database holds them). It refuses claims that Verify would reject, so a
// signed token is always a verifiable one.
func (r *Ring) Sign(c Claims) (string, error) {
	if err := c.checkTimes(); err != nil {
		return "", err
	}
	if !validCode(c.Code) {
		return "", fmt.Errorf("token: refusing to sign: jti %q is not a 16-character code", c.Code)
	}
	kid, key, kind := r.signer()
	if key == nil {
		return "", errors.New("token: ring has no signing key")
	}
	input := b64s(compactHeader(kind.Method().Alg(), kid)) + "." + b64s(compactPayload(c.Code, c.Expires.Unix(), unixOrZero(c.NotBefore)))
	sig, err := kind.Method().Sign(input, key)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (c Claims) checkTimes() error {
	if c.Expires.IsZero() {
		return errors.New("token: refusing to sign: no expiry")
	}
	if !c.NotBefore.IsZero() && !c.NotBefore.Before(c.Expires) {
		return errors.New("token: refusing to sign: not-before is not before expiry")
	}
	return nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// SignLegacy issues a token as vouchers were issued before the compact
// form: with the voucher's terms, the thumbprint as kid and type
// LegacyTyp. Nothing issues these any more; it exists so that the
// promise that such vouchers keep working can be tested.
func (r *Ring) SignLegacy(c Claims) (string, error) {
	if c.Issuer == "" {
		return "", errors.New("token: refusing to sign: empty issuer")
	}
	if err := c.checkTimes(); err != nil {
		return "", err
	}
	if err := c.checkTerms(); err != nil {
		return "", fmt.Errorf("token: refusing to sign: %w", err)
	}

	kid, key, kind := r.signer()
	if key == nil {
		return "", errors.New("token: ring has no signing key")
	}
	r.mu.RLock()
	long := r.pubs[kid].thumbprint()
	r.mu.RUnlock()
	t := jwt.NewWithClaims(kind.Method(), toWire(c))
	t.Header["kid"] = long
	t.Header["typ"] = LegacyTyp
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	if len(s) > MaxTokenLen {
		return "", fmt.Errorf("token: refusing to sign: %d bytes exceeds %d", len(s), MaxTokenLen)
	}
	return s, nil
}

// newParser holds every library-side check in one place so tests can exercise
// the configuration directly, independent of the key lookup.
func newParser(now time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(validAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		// Strict base64 gives each token exactly one spelling, so the string
		// itself can safely serve as a cache or log key.
		jwt.WithStrictDecoding(),
	)
}

// Verify checks a token, compact, packed (as the QR carries it) or
// legacy, at time now. issuerKnown decides which districts are trusted
// issuers of a legacy token; nil accepts any non-empty issuer. A zero now
// means the current time: treating it as year 1 would accept every token
// lacking nbf regardless of its expiry.
func (r *Ring) Verify(tok string, now time.Time, issuerKnown func(iss string) bool) (Claims, error) {
	if len(tok) > MaxTokenLen {
		return Claims{}, errTooLong
	}
	if isDigits(tok) {
		jws, err := Unpack(tok)
		if err != nil {
			return Claims{}, err
		}
		tok = jws
	}
	if now.IsZero() {
		now = time.Now()
	}
	var w wireClaims
	t, err := newParser(now).ParseWithClaims(tok, &w, r.keyFor)
	if err != nil {
		return Claims{}, classify(err)
	}
	if typ, _ := t.Header["typ"].(string); typ == Typ {
		// The terms a compact token might spell are not ours to read:
		// only code and times are signed for.
		all := w.claims()
		c := Claims{Code: all.Code, NotBefore: all.NotBefore, Expires: all.Expires}
		if !validCode(c.Code) {
			return Claims{}, fmt.Errorf("%w: jti %q is not a 16-character code", ErrMalformed, c.Code)
		}
		return c, nil
	}
	c := w.claims()
	if c.Issuer == "" || (issuerKnown != nil && !issuerKnown(c.Issuer)) {
		return Claims{}, fmt.Errorf("%w: %q", ErrWrongIssuer, c.Issuer)
	}
	if err := c.checkTerms(); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, nil
}

var (
	errBadTyp     = errors.New("wrong typ header")
	errCrit       = errors.New("crit header not supported")
	errUnknownKID = errors.New("unknown kid")
	errMethod     = errors.New("signed with another algorithm than its key's")
)

// keyFor resolves the verification key from our own ring by kid only.
// Key-carrying headers (jwk, jku, x5u, x5c) are never consulted: honouring
// them would let anyone sign with a key of their choosing.
func (r *Ring) keyFor(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != Typ && typ != LegacyTyp {
		return nil, fmt.Errorf("%w: %q", errBadTyp, t.Header["typ"])
	}
	// RFC 7515 §4.1.11: a recipient that does not understand a critical
	// extension must reject the token; we understand none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	kid, _ := t.Header["kid"].(string)
	k, ok := r.publicKey(kid)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errUnknownKID, kid)
	}
	// Each key verifies with its own kind's algorithm only, whatever the
	// token's alg says: an Ed25519 kid never vouches for an SM2SM3 token
	// nor the other way round, and no key reaches a verifier of another
	// algorithm.
	if t.Method != k.kind.Method() {
		return nil, fmt.Errorf("%w: key %q is %s, token says %s", errMethod, kid, k.kind.Method().Alg(), t.Method.Alg())
	}
	return k.pub, nil
}

// classify maps the library's error vocabulary onto ours, keeping only our
// sentinel in the chain (the library's detail survives as text).
func classify(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		sentinel = ErrForged
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		sentinel = ErrMissingExpiry
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		sentinel = ErrNotYetValid
	default:
		// Fail closed on anything the library adds later.
		sentinel = ErrMalformed
	}
	return fmt.Errorf("%w: %v", sentinel, err)
}

var _ jwt.Claims = (*wireClaims)(nil)
