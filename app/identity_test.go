package app

import (
	"testing"
	"time"
)

func TestNormalizeResidentID(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"11010519491231002X", "11010519491231002X", true},
		{"11010519491231002x", "11010519491231002X", true}, // lower-case x
		{" 370101190102039973 ", "370101190102039973", true},
		{"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", true}, // full-width from an input method
		{"110105194912310021", "", false},                  // wrong check character
		{"110105194902310026", "", false},                  // 31 February (check character right)
		{"110105194913310021", "", false},                  // month 13 (check character right)
		{"11010520300101001X", "", false},                  // born in 2030 (check character right)
		{"990105194912310023", "", false},                  // no province 99 (check character right)
		{"11010519491231002", "", false},                   // 17 characters
		{"1101051949123100X2", "", false},                  // X in the wrong place
		{"", "", false},
	} {
		got, ok := NormalizeResidentID(tc.in, now)
		if ok != tc.ok || got != tc.want {
			t.Errorf("NormalizeResidentID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCheckUSCC(t *testing.T) {
	for _, tc := range []struct {
		in                string
		shape, checksumOK bool
	}{
		{"91350100M000100Y43", true, true},
		{"91350100m000100y43", true, true},   // lower case typed
		{"91350100M000100Y4Z", false, false}, // Z is not in the alphabet: refused, not reviewed
		{"91350100M000100Y44", true, false},  // wrong check character: manual review
		{"91350100M000100Y4", false, false},  // 17 characters
		{"91350100I000100Y43", false, false}, // I is not in the alphabet
		{"", false, false},
	} {
		_, shape, ok := CheckUSCC(tc.in)
		if shape != tc.shape || ok != tc.checksumOK {
			t.Errorf("CheckUSCC(%q) = shape %v, checksum %v; want %v, %v", tc.in, shape, ok, tc.shape, tc.checksumOK)
		}
	}
}
