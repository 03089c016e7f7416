package token

import (
	"crypto/rand"
	"math/big"
	"strings"
	"unicode"
)

// A manual code is 16 digits: 15 random ones and a Damm check digit, read
// aloud and typed on a till's keypad in four groups (1234 5678 9012 3456).
// Vouchers issued before carry 16 symbols of Crockford's base32; those
// codes stay valid and are still accepted wherever a code is typed.

// CodeAlphabet is Crockford's base32: no I, L, O (confusable with 1 and 0)
// and no U. The digit codes are spelled in its first ten symbols, so every
// code, old or new, is a string of this alphabet.
const CodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the length of a code of either kind.
const CodeLen = 16

// codeRandomDigits are the random part of a digit code: 10^15 codes, which
// the wrong-code limits keep out of a guesser's reach (docs/security.md).
const codeRandomDigits = CodeLen - 1

// codeIndex marks which ASCII bytes belong to the alphabet.
var codeIndex = func() (t [128]bool) {
	for i := 0; i < len(CodeAlphabet); i++ {
		t[CodeAlphabet[i]] = true
	}
	return t
}()

var codeSpace = new(big.Int).Exp(big.NewInt(10), big.NewInt(codeRandomDigits), nil)

// NewCode returns a fresh random manual code: 15 uniformly random digits
// and their Damm check digit.
func NewCode() string {
	n, err := rand.Int(rand.Reader, codeSpace)
	if err != nil {
		// crypto/rand does not fail on supported platforms; if it ever did,
		// issuing a predictable code would be worse than stopping.
		panic("token: crypto/rand: " + err.Error())
	}
	digits := n.Text(10)
	digits = strings.Repeat("0", codeRandomDigits-len(digits)) + digits
	return digits + string(rune('0'+dammDigit(digits)))
}

// dammTable is the quasigroup of order 10 of H. M. Damm's thesis (2004),
// weakly totally anti-symmetric: its check digit detects every single wrong
// digit and every swap of two adjacent digits.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammDigit is the interim digit after the ASCII digits s: the check digit
// to append to s, and 0 exactly when s ends in its right check digit.
func dammDigit(s string) byte {
	var interim byte
	for i := 0; i < len(s); i++ {
		interim = dammTable[interim][s[i]-'0']
	}
	return interim
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// CodeMistyped reports whether a normalised code is a digit code whose
// check digit does not match: a slip of the finger or of the ear, to be
// refused before anything is looked up. A code issued before the digit
// codes that happens to be all digits (one in 10^8) fails this check nine
// times in ten; its QR still scans.
func CodeMistyped(code string) bool {
	return len(code) == CodeLen && isDigits(code) && dammDigit(code) != 0
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

// FormatCode groups a code for printing: a digit code as 1234 5678 9012
// 3456, as it is read aloud, an older code as XXXX-XXXX-XXXX-XXXX, as it
// was printed. Anything NormalizeCode does not accept is returned
// unchanged rather than mangled.
func FormatCode(code string) string {
	n, ok := NormalizeCode(code)
	if !ok {
		return code
	}
	sep := codeSeparator(n)
	return n[0:4] + sep + n[4:8] + sep + n[8:12] + sep + n[12:16]
}

// MaskCode shows only a code's last four characters, grouped as
// FormatCode groups it (**** **** **** 3456): enough to match a complaint
// to a line, too little to spend the voucher.
func MaskCode(code string) string {
	n, ok := NormalizeCode(code)
	if !ok {
		n = code
	}
	if len(n) < 4 {
		return "****-****-****-****"
	}
	sep := codeSeparator(n)
	return "****" + sep + "****" + sep + "****" + sep + n[len(n)-4:]
}

func codeSeparator(code string) string {
	if isDigits(code) {
		return " "
	}
	return "-"
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

// ExtractToken pulls the token out of scanned QR text: the bare token or a
// URL ending in /V/<packed token> or, as vouchers issued before the packed
// form carry it, /v/<jwt>; possibly with the CR/LF a scanner gun appends.
// It does not validate anything; Verify does.
func ExtractToken(scanned string) string {
	s := strings.TrimSpace(scanned)
	s = strings.TrimPrefix(s, "\uFEFF")
	if i := max(strings.LastIndex(s, "/v/"), strings.LastIndex(s, "/V/")); i >= 0 {
		s = s[i+len("/v/"):]
		// A token never contains these, so they can only start a query,
		// fragment or trailing slash added by whoever built the URL.
		if j := strings.IndexAny(s, "?#/"); j >= 0 {
			s = s[:j]
		}
	}
	return s
}
