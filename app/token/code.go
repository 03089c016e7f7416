package token

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"unicode"
)

// CodeAlphabet is Crockford's base32: no I, L, O (confusable with 1 and 0)
// and no U, so codes read aloud over the phone survive.
const CodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is 16 symbols of 5 bits: 80 bits, far beyond guessing even at
// millions of attempts against millions of live vouchers.
const CodeLen = 16

var codeEncoding = base32.NewEncoding(CodeAlphabet).WithPadding(base32.NoPadding)

// codeIndex marks which ASCII bytes belong to the alphabet.
var codeIndex = func() (t [128]bool) {
	for i := 0; i < len(CodeAlphabet); i++ {
		t[CodeAlphabet[i]] = true
	}
	return t
}()

// NewCode returns a fresh random manual code (10 random bytes are exactly
// 16 base32 symbols, so every symbol carries full entropy).
func NewCode() string {
	var b [CodeLen * 5 / 8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; if it ever did,
		// issuing a predictable code would be worse than stopping.
		panic("token: crypto/rand: " + err.Error())
	}
	return codeEncoding.EncodeToString(b[:])
}

func validCode(s string) bool {
	if len(s) != CodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 128 || !codeIndex[s[i]] {
			return false
		}
	}
	return true
}

// FormatCode groups a code as XXXX-XXXX-XXXX-XXXX for printing. Anything
// NormalizeCode does not accept is returned unchanged rather than mangled.
func FormatCode(code string) string {
	n, ok := NormalizeCode(code)
	if !ok {
		return code
	}
	return n[0:4] + "-" + n[4:8] + "-" + n[8:12] + "-" + n[12:16]
}

// NormalizeCode turns what a cashier or resident typed into the canonical
// code. Chinese input methods readily produce full-width letters, full-width
// spaces and assorted dashes, so all of those are folded or dropped.
func NormalizeCode(s string) (string, bool) {
	var out [CodeLen]byte
	n := 0
	for _, r := range s {
		// Full-width ASCII variants (Ａ, １, －) map onto ASCII.
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || isDash(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r >= 128 || !codeIndex[r] || n == CodeLen {
			return "", false
		}
		out[n] = byte(r)
		n++
	}
	if n != CodeLen {
		return "", false
	}
	return string(out[:]), true
}

func isDash(r rune) bool {
	// Pd covers -, ‐ ‑ ‒ – — ―, ﹘ ﹣ and full-width －; the minus sign is a
	// math symbol but gets typed as a dash all the same.
	return unicode.Is(unicode.Pd, r) || r == '\u2212'
}

// ExtractToken pulls the JWT out of scanned QR text: either the bare token or
// a URL ending in /v/<jwt>, possibly with the CR/LF a scanner gun appends.
// It does not validate anything; Verify does.
func ExtractToken(scanned string) string {
	s := strings.TrimSpace(scanned)
	s = strings.TrimPrefix(s, "\uFEFF")
	if i := strings.LastIndex(s, "/v/"); i >= 0 {
		s = s[i+len("/v/"):]
		// A JWT never contains these, so they can only start a query,
		// fragment or trailing slash added by whoever built the URL.
		if j := strings.IndexAny(s, "?#/"); j >= 0 {
			s = s[:j]
		}
	}
	return s
}
