package token

import (
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	seen := make(map[string]bool)
	var digitSeen [CodeLen][10]bool
	for range 4000 {
		c := NewCode()
		if len(c) != CodeLen || !isDigits(c) {
			t.Fatalf("code %q is not %d digits", c, CodeLen)
		}
		if dammDigit(c) != 0 || CodeMistyped(c) {
			t.Fatalf("code %q fails its own check digit", c)
		}
		if n, ok := NormalizeCode(c); !ok || n != c {
			t.Fatalf("NormalizeCode(%q) = %q, %v", c, n, ok)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[c] = true
		for i := range CodeLen {
			digitSeen[i][c[i]-'0'] = true
		}
	}
	// Every digit turns up at every position, so no position is stuck
	// (leading zeros kept, the check digit computed, not copied).
	for i := range CodeLen {
		for d := range 10 {
			if !digitSeen[i][d] {
				t.Errorf("digit %d never seen at position %d", d, i)
			}
		}
	}
}

func TestFormatCode(t *testing.T) {
	for in, want := range map[string]string{
		"7K3M9QXZ2HJ4RT8V":    "7K3M-9QXZ-2HJ4-RT8V",
		"7k3m 9qxz 2hj4 rt8v": "7K3M-9QXZ-2HJ4-RT8V",
		"7K3M-9QXZ-2HJ4-RT8V": "7K3M-9QXZ-2HJ4-RT8V",
		"short":               "short",
		"7K3M9QXZ2HJ4RT8VV":   "7K3M9QXZ2HJ4RT8VV",
		"7K3M9QXZ2HJ4RT8U":    "7K3M9QXZ2HJ4RT8U",
		"":                    "",
		"1234567890123452":    "1234 5678 9012 3452",
		"1234-5678-9012-3452": "1234 5678 9012 3452",
		"１２３４５６７８９０１２３４５２": "1234 5678 9012 3452",
		"ＯＯＯＯＯＯＯＯＯＯＯＯＯＯＯＯ": "0000 0000 0000 0000",
	} {
		if got := FormatCode(in); got != want {
			t.Errorf("FormatCode(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"1234567890123452":    "**** **** **** 3452",
		"7K3M-9QXZ-2HJ4-RT8V": "****-****-****-RT8V",
		"abc":                 "****-****-****-****",
	} {
		if got := MaskCode(in); got != want {
			t.Errorf("MaskCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	const canon = "7K3M9QXZ2HJ4RT8V"
	ok := []struct{ in, want string }{
		{canon, canon},
		{"7k3m9qxz2hj4rt8v", canon},
		{"7K3M-9QXZ-2HJ4-RT8V", canon},
		{"  7K3M 9QXZ 2HJ4 RT8V\n", canon},
		{"\t7k3m-9qxz - 2hj4-rt8v\r\n", canon},
		{"7K3M\u30009QXZ\u30002HJ4\u3000RT8V", canon},       // full-width (ideographic) space
		{"7K3M\uFF0D9QXZ\u20142HJ4\u2013RT8V", canon},       // full-width hyphen, em dash, en dash
		{"7K3M\u20109QXZ\u22122HJ4\uFE63RT8V", canon},       // hyphen, minus sign, small hyphen-minus
		{"7K3M\u00A09QXZ\u200B2HJ4\uFEFFRT8V", canon},       // no-break space, zero-width space, BOM
		{"７Ｋ３Ｍ９ＱＸＺ２ＨＪ４ＲＴ８Ｖ", canon},                         // full-width letters and digits
		{"O0O0O0O0O0O0O0O0", "0000000000000000"},            // O → 0
		{"o0o0o0o0o0o0o0o0", "0000000000000000"},            // o → 0
		{"IiLlIiLlIiLlIiLl", "1111111111111111"},            // I, L → 1
		{"abcdefghjkmnpqrs", "ABCDEFGHJKMNPQRS"},            // lower case
		{"TVWXYZ0123456789", "TVWXYZ0123456789"},            // rest of the alphabet
		{"7K3M-9QXZ-2HJ4-RT8V--", canon},                    // trailing dashes
		{"--------7K3M9QXZ2HJ4RT8V--------", canon},         // dashes don't count towards length
		{"\u3000\u30007K3M9QXZ2HJ4RT8V\u3000\u3000", canon}, // trims full-width space
	}
	for _, c := range ok {
		got, valid := NormalizeCode(c.in)
		if !valid || got != c.want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, true", c.in, got, valid, c.want)
		}
	}

	bad := []string{
		"",
		"7K3M9QXZ2HJ4RT8",   // 15
		"7K3M9QXZ2HJ4RT8VV", // 17
		"7K3M-9QXZ-2HJ4-RT8",
		"7K3M9QXZ2HJ4RT8U",    // U is not in Crockford base32
		"7K3M9QXZ2HJ4RT8u",    // nor u
		"7K3M9QXZ2HJ4RT8*",    // symbol
		"7K3M9QXZ2HJ4RT8_",    // underscore is not a dash
		"7K3M9QXZ2HJ4RT8.",    // dot
		"7K3M9QXZ2HJ4RT8优",    // CJK
		"7K3M9QXZ2HJ4RT8\xff", // invalid UTF-8
		"7K3M9QXZ2HJ4RT8ı",    // dotless i must not upper-case into I
		strings.Repeat("7", 1<<20),
		"------------------",
	}
	for _, in := range bad {
		if got, valid := NormalizeCode(in); valid || got != "" {
			t.Errorf("NormalizeCode(%.40q) = %q, %v; want rejection", in, got, valid)
		}
	}
}

func TestExtractToken(t *testing.T) {
	r := NewRing(seedKey(1))
	jwt, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"bare":                   jwt,
		"bare with scanner CRLF": jwt + "\r\n",
		"bare with LF":           jwt + "\n",
		"bare with spaces":       "  " + jwt + " \t",
		"bare with BOM":          "\uFEFF" + jwt,
		"URL":                    "https://xf.cq.gov.cn/v/" + jwt,
		"URL with newline":       "https://xf.cq.gov.cn/v/" + jwt + "\n",
		"URL with query":         "https://xf.cq.gov.cn/v/" + jwt + "?from=wechat",
		"URL with fragment":      "https://xf.cq.gov.cn/v/" + jwt + "#top",
		"URL with slash":         "https://xf.cq.gov.cn/v/" + jwt + "/",
		"URL with path prefix":   "http://10.0.0.5:8080/cq/v/" + jwt,
		"URL with /v/ in prefix": "https://h.example/v/x/v/" + jwt,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got := ExtractToken(in)
			if got != jwt {
				t.Fatalf("ExtractToken(%q) = %q", in, got)
			}
			if _, err := r.Verify(got, t0, nil); err != nil {
				t.Errorf("extracted token does not verify: %v", err)
			}
		})
	}
	for in, want := range map[string]string{
		"":                        "",
		"   \n":                   "",
		"https://xf.cq.gov.cn/v/": "",
		"garbage":                 "garbage",
	} {
		if got := ExtractToken(in); got != want {
			t.Errorf("ExtractToken(%q) = %q, want %q", in, got, want)
		}
	}
}
