package token

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
)

// The packed form is a compact token as the QR carries it: digits only.
//
// A compact JWS is base64url, which a QR can hold only in byte mode, 8 bits
// a character for 6 bits of content; with a URL in front that needed
// version 11 or more at error correction M, too dense for a cheap phone to
// read off another phone's screen. But everything in a compact token is
// either fixed or a number: the protected header is fixed by algorithm and
// kid, the payload by code, expiry and not-before, and the signature is a
// 64-byte number. Written as decimal digits, these fill the QR's numeric
// mode (3⅓ bits a digit) with almost no waste, and the symbol is version
// 7 at the longest host name we expect (TestQRVersion).
//
// The packing is lossless and public: anyone can rebuild the very compact
// JWS that was signed (Unpack, or the few lines of scripts in
// app/token/testdata/verify-jose.mjs) and verify it with any JOSE library
// against /.well-known/jwks.json. Layout, all decimal digits:
//
//	1 digit   algorithm: 1 EdDSA, 2 SM2SM3
//	1 digit   0 without nbf, 1 with
//	8 digits  kid (the short kid)
//	16 digits jti (the manual code)
//	10 digits exp (Unix seconds)
//	10 digits nbf, when present
//	155 digits the signature (r||s, 64 bytes) as a big-endian number
//
// A token this cannot carry (a legacy token, a code of letters) is not
// packed; its QR carries the URL with the JWS as it is.

const (
	packedKIDLen = 8
	packedSigLen = 155 // decimal digits of 2^512-1
	packedFixed  = 2 + packedKIDLen + CodeLen + 10 + packedSigLen
	sigBytes     = 64
)

var packedAlgs = map[byte]string{'1': "EdDSA", '2': AlgSM2SM3}

func b64s(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// compactHeader is the protected header of a compact token, byte for byte.
func compactHeader(alg, kid string) string {
	return `{"alg":"` + alg + `","kid":"` + kid + `","typ":"` + Typ + `"}`
}

// compactPayload is the payload of a compact token, byte for byte; nbf 0
// means none.
func compactPayload(jti string, exp, nbf int64) string {
	p := `{"exp":` + strconv.FormatInt(exp, 10) + `,"jti":"` + jti + `"`
	if nbf != 0 {
		p += `,"nbf":` + strconv.FormatInt(nbf, 10)
	}
	return p + "}"
}

// Pack writes a compact token in the packed form, or reports false for a
// token it cannot carry exactly (anything Unpack would not give back
// byte for byte).
func Pack(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	var h struct{ Alg, Kid, Typ string }
	var p struct {
		Exp, Nbf int64
		Jti      string
	}
	if !decodeJSON(parts[0], &h) || !decodeJSON(parts[1], &p) {
		return "", false
	}
	var algDigit byte
	for d, alg := range packedAlgs {
		if alg == h.Alg {
			algDigit = d
		}
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if algDigit == 0 || err != nil || len(sig) != sigBytes ||
		len(h.Kid) != packedKIDLen || !isDigits(h.Kid) || !isDigits(p.Jti) ||
		!tenDigits(p.Exp) || (p.Nbf != 0 && !tenDigits(p.Nbf)) ||
		parts[0] != b64s(compactHeader(h.Alg, h.Kid)) || parts[1] != b64s(compactPayload(p.Jti, p.Exp, p.Nbf)) {
		return "", false
	}
	var b strings.Builder
	b.WriteByte(algDigit)
	if p.Nbf != 0 {
		b.WriteByte('1')
	} else {
		b.WriteByte('0')
	}
	b.WriteString(h.Kid)
	b.WriteString(p.Jti)
	b.WriteString(strconv.FormatInt(p.Exp, 10))
	if p.Nbf != 0 {
		b.WriteString(strconv.FormatInt(p.Nbf, 10))
	}
	digits := new(big.Int).SetBytes(sig).Text(10)
	b.WriteString(strings.Repeat("0", packedSigLen-len(digits)))
	b.WriteString(digits)
	return b.String(), true
}

func decodeJSON(part string, v any) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(part)
	return err == nil && json.Unmarshal(raw, v) == nil
}

func tenDigits(n int64) bool { return n >= 1e9 && n < 1e10 }

var maxSig = new(big.Int).Lsh(big.NewInt(1), 8*sigBytes)

// Unpack rebuilds the compact JWS from its packed form. Each token has one
// packed spelling: a wrong length, an unknown algorithm or flag, or a
// signature number of more than 64 bytes is malformed.
func Unpack(digits string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: packed token: %s", ErrMalformed, why)
	}
	if !isDigits(digits) {
		return bad("not all digits")
	}
	alg, ok := packedAlgs[digits[0]]
	if !ok {
		return bad("unknown algorithm")
	}
	want := packedFixed
	switch digits[1] {
	case '0':
	case '1':
		want += 10
	default:
		return bad("unknown flag")
	}
	if len(digits) != want {
		return bad(fmt.Sprintf("%d digits, want %d", len(digits), want))
	}
	rest := digits[2:]
	take := func(n int) string { s := rest[:n]; rest = rest[n:]; return s }
	kid, jti := take(packedKIDLen), take(CodeLen)
	exp, _ := strconv.ParseInt(take(10), 10, 64)
	var nbf int64
	if digits[1] == '1' {
		nbf, _ = strconv.ParseInt(take(10), 10, 64)
	}
	if !tenDigits(exp) || (digits[1] == '1' && !tenDigits(nbf)) {
		return bad("time out of range")
	}
	n, _ := new(big.Int).SetString(rest, 10)
	if n.Cmp(maxSig) >= 0 {
		return bad("signature out of range")
	}
	sig := n.FillBytes(make([]byte, sigBytes))
	return b64s(compactHeader(alg, kid)) + "." + b64s(compactPayload(jti, exp, nbf)) + "." +
		base64.RawURLEncoding.EncodeToString(sig), nil
}

// QRText is what a voucher's QR carries: a URL any phone camera opens. A
// packed token goes after /V/ in a URL whose scheme and host are in upper
// case (both are case-insensitive), so the whole text is in the QR's
// alphanumeric and numeric modes; a path in the base URL is kept as it is.
// A token that cannot be packed keeps the form vouchers had before,
// <base>/v/<jwt>.
func QRText(baseURL, tok string) string {
	baseURL = strings.TrimRight(baseURL, "/")
	packed, ok := Pack(tok)
	if !ok {
		return baseURL + "/v/" + tok
	}
	if u, err := url.Parse(baseURL); err == nil && u.Scheme != "" && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" {
		baseURL = strings.ToUpper(u.Scheme) + "://" + strings.ToUpper(u.Host) + u.EscapedPath()
	}
	return baseURL + "/V/" + packed
}

// KeyID reads the kid of a compact JWS's header, without verifying it:
// which key signed a token already stored (a revocation list names it).
func KeyID(tok string) (string, error) {
	head, _, ok := strings.Cut(tok, ".")
	var h struct {
		KID string `json:"kid"`
	}
	if !ok || !decodeJSON(head, &h) || h.KID == "" {
		return "", fmt.Errorf("%w: no kid in the header", ErrMalformed)
	}
	return h.KID, nil
}
