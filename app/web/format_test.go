package web_test

import (
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/web"
	"cqvoucher/templates"
)

func formatLocales(t *testing.T) (zh, en *web.Locale) {
	t.Helper()
	r, err := web.NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	return r.Locale("zh"), r.Locale("en")
}

// TestFormatMoney: amounts from ¥10,000 up read in 万元 (thousands and
// millions in English), rounded half up to two decimals; smaller ones
// stay exact.
func TestFormatMoney(t *testing.T) {
	zh, en := formatLocales(t)
	for _, c := range []struct {
		fen    app.Fen
		zh, en string
	}{
		{0, "¥0.00", "¥0.00"},
		{862000, "¥8,620.00", "¥8,620.00"},
		{999999, "¥9,999.99", "¥9,999.99"}, // just below the threshold: exact, not "1.00 万元"
		{1000000, "1.00 万元", "¥10.00k"},
		{1234567, "1.23 万元", "¥12.35k"},
		{1235000, "1.24 万元", "¥12.35k"}, // half up: ¥12,350 is 1.235 万
		{12345678, "12.35 万元", "¥123.46k"},
		{99999500, "100.00 万元", "¥1.00M"}, // ¥999,995 rounds up into millions, not "¥1,000.00k"
		{99949999, "99.95 万元", "¥999.50k"},
		{1234567890, "1,234.57 万元", "¥12.35M"},
		{-1234567, "-1.23 万元", "¥-12.35k"},
		{app.MaxCommitted, "9,223,372,036,854.78 万元", "¥92,233,720,368.55M"}, // saturated figures do not overflow
	} {
		if got := zh.Money(c.fen); got != c.zh {
			t.Errorf("zh Money(%d) = %q, want %q", c.fen, got, c.zh)
		}
		if got := en.Money(c.fen); got != c.en {
			t.Errorf("en Money(%d) = %q, want %q", c.fen, got, c.en)
		}
	}
}

func TestFormatLeverage(t *testing.T) {
	zh, en := formatLocales(t)
	for _, c := range []struct {
		bp   int64
		want string
	}{
		{0, "—"}, // nothing spent yet
		{10000, "1:1.00"},
		{42833, "1:4.28"},
		{51450, "1:5.15"}, // half up
		{42857, "1:4.29"},
	} {
		for _, l := range []*web.Locale{zh, en} {
			if got := l.Leverage(c.bp); got != c.want {
				t.Errorf("%s Leverage(%d) = %q, want %q", l.Lang, c.bp, got, c.want)
			}
		}
	}
}

func TestFormatDuration(t *testing.T) {
	zh, en := formatLocales(t)
	for _, c := range []struct {
		seconds int64
		zh, en  string
	}{
		{0, "0 分钟", "0 min"},
		{89, "1 分钟", "1 min"},
		{45 * 60, "45 分钟", "45 min"},
		{3569, "59 分钟", "59 min"},
		{3570, "1 小时", "1 h"}, // 59.5 minutes round to an hour, not "60 分钟"
		{9000, "2.5 小时", "2.5 h"},
		{30 * 3600, "30 小时", "30 h"},
		{30*3600 + 100, "30 小时", "30 h"},
		{47*3600 + 58*60, "2 天", "2 d"},
		{3*86400 + 12*3600, "3.5 天", "3.5 d"},
	} {
		if got := zh.Duration(c.seconds); got != c.zh {
			t.Errorf("zh Duration(%d) = %q, want %q", c.seconds, got, c.zh)
		}
		if got := en.Duration(c.seconds); got != c.en {
			t.Errorf("en Duration(%d) = %q, want %q", c.seconds, got, c.en)
		}
	}
}
