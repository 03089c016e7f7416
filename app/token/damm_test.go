package token

import (
	"math/rand/v2"
	"testing"
)

// TestCheckDigitCatchesEverySlip: for many codes, every single wrong digit
// (each position, each of the 9 other digits) and every swap of two
// different adjacent digits is refused by its check digit, as a Damm
// check digit promises; and the codes themselves pass.
func TestCheckDigitCatchesEverySlip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2026))
	codes := []string{"0000000000000000", NewCode()}
	// Random bodies with their check digit, and codes of long runs and
	// patterns, where a weak check (a plain sum) goes blind.
	for range 5000 {
		var b [codeRandomDigits]byte
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		codes = append(codes, string(b[:])+string(rune('0'+dammDigit(string(b[:])))))
	}
	for d := range byte(10) {
		body := ""
		for i := range codeRandomDigits {
			body += string(rune('0' + (d+byte(i%2))%10))
		}
		codes = append(codes, body+string(rune('0'+dammDigit(body))))
	}
	substitutions, swaps := 0, 0
	for _, code := range codes {
		if CodeMistyped(code) {
			t.Fatalf("valid code %s refused", code)
		}
		b := []byte(code)
		for i := range b {
			orig := b[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[i] = d
				if !CodeMistyped(string(b)) {
					t.Fatalf("%s with digit %d as %c passes the check", code, i, d)
				}
				substitutions++
			}
			b[i] = orig
		}
		for i := 0; i+1 < len(b); i++ {
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
			if !CodeMistyped(string(b)) {
				t.Fatalf("%s with digits %d and %d swapped passes the check", code, i, i+1)
			}
			swaps++
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
	t.Logf("%d codes: %d single-digit substitutions and %d adjacent swaps, all caught", len(codes), substitutions, swaps)
}

// TestCodeMistypedOnlyJudgesDigitCodes: older codes of letters have no
// check digit, and are left to the lookup.
func TestCodeMistypedOnlyJudgesDigitCodes(t *testing.T) {
	for _, c := range []string{"7K3M9QXZ2HJ4RT8V", "ABCDEFGHJKMNPQRS", "", "123"} {
		if CodeMistyped(c) {
			t.Errorf("CodeMistyped(%q) = true", c)
		}
	}
	if n, ok := NormalizeCode("４８２９－１３０５ ７２６１\u30009347"); !ok || n != "4829130572619347" || CodeMistyped(n) {
		t.Errorf("full-width, dashed, spaced digit code: %q %v", n, ok)
	}
	if n, ok := NormalizeCode("4829 1305 7261 9348"); !ok || !CodeMistyped(n) {
		t.Errorf("one digit off: %q %v, want normalised and mistyped", n, ok)
	}
}
