package app

import "testing"

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Fen
	}{
		{"100", 10000},
		{"100.5", 10050},
		{"100.50", 10050},
		{"１００", 10000},   // full-width digits from a Chinese input method
		{"１２８．５", 12850}, // full-width point
		{" 0.01 ", 1},
		{"¥88", 8800},
		{"￥88.8", 8880},
		{"1,000,000.00", 100000000},
		{"007", 700},
		{"0", 0},
		{"10000000000", MaxFen}, // ¥10 billion, the cap itself
	} {
		got, err := ParseYuan(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseYuanRefuses(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"1e3", "money_format"},
		{"-1", "money_format"},
		{"+1", "money_format"},
		{"100.555", "money_precision"},
		{"", "money_empty"},
		{"   ", "money_empty"},
		{"¥abc", "money_format"},
		{"99999999999999999999", "money_too_large"},
		{"10000000000.01", "money_too_large"},
		{"100.", "money_format"},
		{".5", "money_format"},
		{"1,00", "money_format"},
		{"1,0000", "money_format"},
		{"0x10", "money_format"},
		{"12 34", "money_format"},
		{"NaN", "money_format"},
		{"100。5", "money_format"}, // a full stop is not a decimal point
	} {
		got, err := ParseYuan(tc.in)
		if ErrorReason(err) != tc.reason || ErrorCode(err) != EINVALID {
			t.Errorf("ParseYuan(%q) = %d, %v; want %s", tc.in, got, err, tc.reason)
		}
	}
}

func TestFenFormat(t *testing.T) {
	for _, tc := range []struct {
		f    Fen
		want string
	}{{0, "¥0.00"}, {1, "¥0.01"}, {12850, "¥128.50"}, {-3000, "¥-30.00"}} {
		if got := tc.f.Yuan(); got != tc.want {
			t.Errorf("%d.Yuan() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestFenGrouped(t *testing.T) {
	for f, want := range map[Fen]string{0: "¥0.00", 99999: "¥999.99", 100000: "¥1,000.00", 30000000: "¥300,000.00", 123456789012: "¥1,234,567,890.12", -100000: "¥-1,000.00"} {
		if got := f.Grouped(); got != want {
			t.Errorf("%d.Grouped() = %q, want %q", f, got, want)
		}
	}
}

func TestRatios(t *testing.T) {
	c := Campaign{BudgetFen: 1000000, ClaimedCount: 3, RedeemedCount: 2, SubsidyFen: 6000, ConsumptionFen: 25700,
		Tiers: []Tier{{FaceFen: 3000, Quantity: 100, Released: 60}}}
	s := CampaignStats(c)
	if FormatBP(s.LeverageBP) != "4.28" || FormatPercentBP(s.RedemptionRateBP) != "66.67" || s.OutOfPocketFen != 19700 ||
		s.Released != 60 || s.Planned != 100 || s.ClaimRateBP != 500 || s.CommittedFen != 300000 || s.LeftFen != 994000 {
		t.Fatalf("stats = %+v (leverage %s, rate %s)", s, FormatBP(s.LeverageBP), FormatPercentBP(s.RedemptionRateBP))
	}
	if z := CampaignStats(Campaign{}); z.LeverageBP != 0 || z.RedemptionRateBP != 0 {
		t.Fatalf("empty campaign ratios should be 0, got %+v", z)
	}
}

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000": "13800138000", "+86 138 0013 8000": "13800138000", "0086-138-0013-8000": "13800138000",
		"１３８００１３８０００": "13800138000",
	} {
		if got, err := NormalizeMobile(in); err != nil || got != want {
			t.Errorf("NormalizeMobile(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "12800138000", "1380013800", "138001380001", "abc", "+1 138 0013 8000"} {
		if _, err := NormalizeMobile(in); ErrorReason(err) != "phone_invalid" {
			t.Errorf("NormalizeMobile(%q) accepted", in)
		}
	}
}

func TestEndOfDayAfter(t *testing.T) {
	// 23:30 UTC on 24 Nov is 07:30 on 25 Nov in Shanghai: day 0 ends at the
	// midnight that closes 25 Nov in Shanghai, an exclusive bound.
	claimed := mustUTC("2026-11-24T23:30:00Z")
	if got := EndOfDayAfter(claimed, 0); !got.Equal(mustUTC("2026-11-25T16:00:00Z")) {
		t.Fatalf("EndOfDayAfter = %v", got)
	}
	if got := FormatUntil(EndOfDayAfter(claimed, 0)); got != "2026-11-25 23:59" {
		t.Fatalf("the bound is shown as %q, want the last minute it allows", got)
	}
	if got := EndOfDayAfter(claimed, 6); !got.Equal(mustUTC("2026-12-01T16:00:00Z")) {
		t.Fatalf("EndOfDayAfter 6 = %v", got)
	}
}

func TestMoneyArithmeticCannotOverflow(t *testing.T) {
	huge := Campaign{BudgetFen: MaxFen, Tiers: []Tier{{FaceFen: MaxFen, Quantity: 10_000_000}}}
	if got := huge.Committed(); got != MaxCommitted || got <= huge.BudgetFen {
		t.Errorf("committed %d for ¥10^10 × 10^7: want the saturated MaxCommitted, above the budget", got)
	}
	if got := AddFen(MaxCommitted-1, 5); got != MaxCommitted {
		t.Errorf("AddFen wrapped: %d", got)
	}
	if got := MulFen(3000, 7); got != 21000 {
		t.Errorf("MulFen(3000, 7) = %d", got)
	}
	for _, c := range []Campaign{
		{SubsidyFen: 1, ConsumptionFen: MaxCommitted, ClaimedCount: 1, RedeemedCount: 1, Tiers: []Tier{{Released: 1}}},
		{SubsidyFen: 3, ConsumptionFen: 1 << 61, ClaimedCount: 1 << 62, RedeemedCount: 1 << 62, Tiers: []Tier{{Released: 1}}},
	} {
		s := CampaignStats(c)
		if s.LeverageBP <= 0 || s.RedemptionRateBP <= 0 || s.ClaimRateBP <= 0 {
			t.Errorf("ratios of huge figures went non-positive: %+v", s)
		}
		_ = FormatBP(s.LeverageBP) // must not overflow
	}
	if got := ratioBP(1<<62, 3); got <= 0 {
		t.Errorf("ratioBP(2^62, 3) = %d", got)
	}
	if got := ratioBP(30, 7); got != 42857 {
		t.Errorf("ratioBP(30, 7) = %d, want 42857", got)
	}
}
