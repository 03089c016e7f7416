package app

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Fen is an amount of money in fen (分, 1/100 yuan). Money is never a float:
// a float cannot hold 0.1 exactly, and budgets are audited to the fen.
type Fen int64

// DefaultMaxBill is the largest bill a voucher is used against unless the
// campaign sets its own (¥100,000): one "000" too many at the till must not
// inflate the consumption a campaign claims to have driven.
const DefaultMaxBill Fen = 10_000_000

// MaxCommitted is where checked money arithmetic saturates.
const MaxCommitted Fen = math.MaxInt64

// MulFen is f × n, saturating at MaxCommitted (and at 0 below).
func MulFen(f Fen, n int64) Fen {
	if f <= 0 || n <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(f), uint64(n))
	if hi != 0 || lo > math.MaxInt64 {
		return MaxCommitted
	}
	return Fen(lo)
}

// AddFen is a + b for non-negative amounts, saturating at MaxCommitted.
func AddFen(a, b Fen) Fen {
	if a > MaxCommitted-b {
		return MaxCommitted
	}
	return a + b
}

// MaxFen caps any single amount we accept (¥10,000,000,000.00). Anything
// larger is a typo, and the cap keeps Σ face × quantity far from int64 overflow.
const MaxFen Fen = 1_000_000_000_000

// String formats the amount as yuan with two decimals, e.g. "12.50".
func (f Fen) String() string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(f)/100, int64(f)%100)
}

// Short formats whole yuan without decimals, as rules are written: 满100减30.
func (f Fen) Short() string {
	if f%100 == 0 {
		return fmt.Sprintf("%d", int64(f)/100)
	}
	return f.String()
}

// Grouped formats with thousands separators, as finance offices read
// budgets: "¥300,000.00".
func (f Fen) Grouped() string { return "¥" + GroupHundredths(int64(f)) }

// GroupHundredths writes a count of hundredths as a decimal with two
// places and thousands separators: 30000000 → "300,000.00". Fen are
// hundredths of a yuan; the dashboards' 万元 are hundredths too, of 万.
func GroupHundredths(h int64) string {
	s := Fen(h).String()
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "." + frac
}

// Yuan formats the amount for people: "¥12.50".
func (f Fen) Yuan() string { return "¥" + f.String() }

// ParseYuan reads an amount of yuan as people type it and returns fen.
//
// Accepted, deliberately: "100", "100.5", "100.50", full-width digits and
// point ("１００．５"), a leading ¥ or ￥, surrounding spaces and correctly
// grouped thousands separators ("1,000,000.00"). Refused: empty input,
// signs, exponents, more than two decimals (we never round money silently),
// anything that is not a digit, and amounts above MaxFen.
func ParseYuan(s string) (Fen, error) {
	s = strings.TrimSpace(toHalfWidth(s))
	s = strings.TrimPrefix(s, "¥")
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Invalid("money_empty")
	}
	intPart, fracPart, hasPoint := strings.Cut(s, ".")
	if hasPoint && (fracPart == "" || len(fracPart) > 2) {
		if len(fracPart) > 2 && allDigits(fracPart) {
			return 0, Invalid("money_precision")
		}
		return 0, Invalid("money_format")
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, Invalid("money_format")
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(fracPart) {
		return 0, Invalid("money_format")
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 11 { // beyond MaxFen, and beyond int64 before it overflows
		return 0, Invalid("money_too_large")
	}
	var yuan int64
	for _, r := range intPart {
		yuan = yuan*10 + int64(r-'0')
	}
	for len(fracPart) < 2 {
		fracPart += "0"
	}
	fen := Fen(yuan*100 + int64(fracPart[0]-'0')*10 + int64(fracPart[1]-'0'))
	if fen > MaxFen {
		return 0, Invalid("money_too_large")
	}
	return fen, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// toHalfWidth maps full-width digits, letters, point, comma, yen sign and
// the ideographic space to their ASCII forms, because Chinese input methods
// produce them by default.
func toHalfWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '．':
			return '.'
		case r == '，':
			return ','
		case r == '￥':
			return '¥'
		case r == '\u3000':
			return ' '
		case r >= 'Ａ' && r <= 'Ｚ':
			return 'A' + (r - 'Ａ')
		case r >= 'ａ' && r <= 'ｚ':
			return 'a' + (r - 'ａ')
		}
		return r
	}, s)
}
