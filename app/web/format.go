package web

import (
	"strconv"
	"strings"

	"cqvoucher/app"
)

// How the evaluation pages say amounts, leverage and durations, in one
// place. Templates call these through the page's Locale
// ({{.L.Money .Stats.SubsidyFen}}); the charts' script (static/format.js)
// labels axes and tooltips from ChartFormat, the same scales and words,
// so a chart never says a figure differently from its KPI. Tables keep
// exact amounts ({{money …}}): they are what officers copy and check.

// moneyScale: amounts of at least from fen are shown in units of unit
// fen, with two decimals, written as text says ({n} is the number).
type moneyScale struct {
	from, unit int64
	text       string
}

// moneyScales, smallest first. Chinese finance reports count in 万元
// (¥10,000); English readers count in thousands and millions. Below the
// first scale an amount is shown exactly: "¥8,620.00". The words are
// here rather than in i18n/ because each language has its own scales.
var moneyScales = map[string][]moneyScale{
	"zh": {{1_000_000, 1_000_000, "{n} 万元"}},
	"en": {{1_000_000, 100_000, "¥{n}k"}, {100_000_000, 100_000_000, "¥{n}M"}},
}

func (l *Locale) scales() []moneyScale {
	if s, ok := moneyScales[l.Lang]; ok {
		return s
	}
	return moneyScales[languages[0]]
}

// Money says a large amount in the locale's unit, rounded half up to two
// decimals: 1234567 fen → "1.23 万元" / "¥12.35k"; below ¥10,000 it is
// exact, "¥8,620.00". An amount that rounds up to the next scale moves to
// it (¥999,999.99 is "¥1.00M", not "¥1,000.00k").
func (l *Locale) Money(f app.Fen) string {
	n, sign := int64(f), ""
	if n < 0 {
		n, sign = -n, "-"
	}
	var pick *moneyScale
	var h int64 // n in hundredths of pick's unit
	scales := l.scales()
	for i, s := range scales {
		if n < s.from && (pick == nil || h < s.from/(pick.unit/100)) {
			break
		}
		pick, h = &scales[i], roundHundredths(n, s.unit)
	}
	if pick == nil {
		return f.Grouped()
	}
	return strings.ReplaceAll(pick.text, "{n}", sign+app.GroupHundredths(h))
}

// roundHundredths is n in hundredths of unit, rounded half up.
func roundHundredths(n, unit int64) int64 {
	step := unit / 100
	q := n / step
	if 2*(n%step) >= step {
		q++
	}
	return q
}

// Leverage says consumption ÷ subsidy as "1:4.28" (¥1 of subsidy drove
// ¥4.28), the way 拉动比 is written in Chinese evaluations, in both
// languages; "—" when nothing was spent (a redemption's bill is never
// below its discount, so a real leverage is at least 1:1.00).
func (l *Locale) Leverage(bp int64) string {
	if bp <= 0 {
		return "—"
	}
	return l.T("fmt.leverage", "n", app.FormatBP(bp))
}

// Duration says a span of seconds in the unit that reads best: whole
// minutes under an hour, hours (one decimal) under two days, then days
// (one decimal), a ".0" dropped: "45 分钟", "30 小时", "3.5 天".
func (l *Locale) Duration(seconds int64) string {
	if minutes := (seconds + 30) / 60; minutes < 60 {
		return l.T("fmt.minutes", "n", minutes)
	}
	if tenths := (seconds + 180) / 360; tenths < 480 {
		return l.T("fmt.hours", "n", oneDecimal(tenths))
	}
	return l.T("fmt.days", "n", oneDecimal((seconds+4320)/8640))
}

func oneDecimal(tenths int64) string {
	s := strconv.FormatInt(tenths/10, 10)
	if d := tenths % 10; d != 0 {
		s += "." + strconv.FormatInt(d, 10)
	}
	return s
}

// ChartFormat is what static/format.js needs to format as Money and
// Leverage do: the scales with their words ("{n} 万元") and the ratio's.
func (l *Locale) ChartFormat() map[string]any {
	scales := make([]map[string]any, 0, len(l.scales()))
	for _, s := range l.scales() {
		scales = append(scales, map[string]any{"from": s.from, "unit": s.unit, "text": s.text})
	}
	return map[string]any{"money": scales, "leverage": l.T("fmt.leverage")}
}
