// Package report turns stored rollups into the evaluation an officer reads:
// the funnel, subsidy, consumption driven, leverage, reach and their
// breakdowns (DESIGN.md §1). It does arithmetic only; reading rows is the
// store's job, so the same code serves the page, the exports and the test
// that recomputes every figure from raw rows.
package report

import (
	"sort"
	"strconv"
	"strings"
)

// Cell is one rollup row of one campaign: an Asia/Shanghai hour
// ("2026-11-25 10"), a tier (its id) or a merchant (its id, with name,
// district and category), depending on the list it is in.
type Cell struct {
	Key            string `db:"key"`
	MerchantName   string `db:"merchant_name"`
	District       string `db:"district_code"`
	Category       string `db:"category_code"`
	Claims         int64  `db:"claims"`
	Redemptions    int64  `db:"redemptions"`
	Reversals      int64  `db:"reversals"`
	SubsidyFen     int64  `db:"subsidy_fen"`
	ConsumptionFen int64  `db:"consumption_fen"`
	ClaimToRedeemS int64  `db:"claim_to_redeem_s"`
	NearThreshold  int64  `db:"near_threshold"` // live redemptions with a bill within 5 % above the threshold
}

// Parts are a campaign's rollups, one list per dimension. Each list sums
// to the same totals (merchants have no claims: a claim has no merchant).
type Parts struct {
	Hours     []Cell
	Tiers     []Cell
	Merchants []Cell
}

// Row is one line of a breakdown.
type Row struct {
	Key            string `json:"key"`
	Claims         int64  `json:"claims"`
	Redemptions    int64  `json:"redemptions"`
	Reversals      int64  `json:"reversals"`
	SubsidyFen     int64  `json:"subsidy_fen"`
	ConsumptionFen int64  `json:"consumption_fen"`
	NearThreshold  int64  `json:"near_threshold"`
	waitS          int64
}

// LeverageBP is consumption ÷ subsidy in basis points (35000 = 3.50×).
func (r Row) LeverageBP() int64 { return ratioBP(r.ConsumptionFen, r.SubsidyFen) }

// RedemptionRateBP is redemptions ÷ claims in basis points (核销率; 2500 =
// 25.00 %). Rows by merchant, district or category have no claims (a claim
// has no merchant), so theirs is 0.
func (r Row) RedemptionRateBP() int64 { return ratioBP(r.Redemptions, r.Claims) }

// AvgBillFen is the average bill of the row's redemptions.
func (r Row) AvgBillFen() int64 {
	if r.Redemptions == 0 {
		return 0
	}
	return r.ConsumptionFen / r.Redemptions
}

func (r *Row) add(c Cell) {
	r.Claims += c.Claims
	r.Redemptions += c.Redemptions
	r.Reversals += c.Reversals
	r.SubsidyFen += c.SubsidyFen
	r.ConsumptionFen += c.ConsumptionFen
	r.waitS += c.ClaimToRedeemS
	r.NearThreshold += c.NearThreshold
}

// Dashboard is the whole evaluation of one campaign.
type Dashboard struct {
	Total      Row   `json:"total"`
	AvgWaitS   int64 `json:"avg_claim_to_redeem_s"` // mean seconds from claim to redemption
	ByDay      []Row `json:"by_day"`
	ByHour     []Row `json:"by_hour"` // 24 rows, hour of the day, all days together
	ByTier     []Row `json:"by_tier"`
	ByMerchant []Row `json:"by_merchant"`
	ByDistrict []Row `json:"by_district"`
	ByCategory []Row `json:"by_category"`
	// The busiest single hour of redemptions, and the median of the hours
	// that had any: a burst stands out against the median.
	PeakHour      string `json:"peak_hour"`
	PeakHourCount int64  `json:"peak_hour_redemptions"`
	MedianHour    int64  `json:"median_hour_redemptions"`
}

func into(m map[string]*Row, key string, c Cell) {
	r, ok := m[key]
	if !ok {
		r = &Row{Key: key}
		m[key] = r
	}
	r.add(c)
}

// Build aggregates a campaign's rollups; tierLabel names a tier (满100减30).
func Build(p Parts, tierLabel func(int64) string) Dashboard {
	var d Dashboard
	day, hour, tier := map[string]*Row{}, map[string]*Row{}, map[string]*Row{}
	merchant, district, category := map[string]*Row{}, map[string]*Row{}, map[string]*Row{}
	for h := 0; h < 24; h++ {
		hour[twoDigits(h)] = &Row{Key: twoDigits(h)}
	}
	var counts []int64
	for _, c := range p.Hours {
		dayKey, hourKey, _ := strings.Cut(c.Key, " ")
		into(day, dayKey, c)
		into(hour, hourKey, c)
		if c.Redemptions > 0 {
			counts = append(counts, c.Redemptions)
			if c.Redemptions > d.PeakHourCount || (c.Redemptions == d.PeakHourCount && c.Key < d.PeakHour) {
				d.PeakHour, d.PeakHourCount = c.Key, c.Redemptions
			}
		}
	}
	if len(counts) > 0 {
		sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
		d.MedianHour = counts[len(counts)/2]
	}
	for _, c := range p.Tiers {
		d.Total.add(c)
		id, _ := strconv.ParseInt(c.Key, 10, 64)
		into(tier, tierLabel(id), c)
	}
	for _, c := range p.Merchants {
		into(merchant, c.MerchantName, c)
		into(district, c.District, c)
		into(category, c.Category, c)
	}
	if d.Total.Redemptions > 0 {
		d.AvgWaitS = d.Total.waitS / d.Total.Redemptions
	}
	d.ByDay = sorted(day, func(a, b Row) bool { return a.Key < b.Key })
	d.ByHour = sorted(hour, func(a, b Row) bool { return a.Key < b.Key })
	bySubsidy := func(a, b Row) bool {
		if a.SubsidyFen != b.SubsidyFen {
			return a.SubsidyFen > b.SubsidyFen
		}
		return a.Key < b.Key
	}
	d.ByTier = sorted(tier, func(a, b Row) bool { return a.Key < b.Key })
	d.ByMerchant = sorted(merchant, bySubsidy)
	d.ByDistrict = sorted(district, bySubsidy)
	d.ByCategory = sorted(category, bySubsidy)
	return d
}

func sorted(m map[string]*Row, less func(a, b Row) bool) []Row {
	out := make([]Row, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func ratioBP(num, den int64) int64 {
	if den == 0 {
		return 0
	}
	return (num*20000/den + 1) / 2
}

// TopShareBP is the share of subsidy (basis points) taken by the n
// merchants that took most: a concentration signal, not a verdict.
func (d Dashboard) TopShareBP(n int) int64 {
	var top int64
	for i, r := range d.ByMerchant {
		if i == n {
			break
		}
		top += r.SubsidyFen
	}
	return ratioBP(top, d.Total.SubsidyFen)
}

// Signal is something worth a look in the figures: not a verdict.
type Signal struct {
	Kind    string `json:"kind"`    // near_threshold, concentration, burst, reversals, repeat_pairs
	Subject string `json:"subject"` // the merchant or hour concerned, "" for the campaign
	Count   int64  `json:"count"`
	ShareBP int64  `json:"share_bp,omitempty"`
}

// Signals lists what stands out. Thresholds are deliberately simple and
// stated: officers read them as places to look.
func (d Dashboard) Signals(repeatPairs int64) []Signal {
	var out []Signal
	// Bills clustered just above the threshold: over half of a merchant's
	// redemptions (at least 10) within 5 % above it.
	for _, m := range d.ByMerchant {
		if m.Redemptions >= 10 && m.NearThreshold*2 > m.Redemptions {
			out = append(out, Signal{Kind: "near_threshold", Subject: m.Key, Count: m.NearThreshold, ShareBP: ratioBP(m.NearThreshold, m.Redemptions)})
		}
	}
	// A few merchants taking most of the subsidy: the top 3 over half, among at least 6.
	if len(d.ByMerchant) >= 6 {
		if share := d.TopShareBP(3); share > 5000 {
			out = append(out, Signal{Kind: "concentration", Count: 3, ShareBP: share})
		}
	}
	// A burst: one hour with at least 5 times the median hour (and 20 redemptions).
	if d.PeakHourCount >= 20 && d.MedianHour > 0 && d.PeakHourCount >= 5*d.MedianHour {
		out = append(out, Signal{Kind: "burst", Subject: d.PeakHour, Count: d.PeakHourCount})
	}
	// Reversals after redemption: a merchant reversing 10 % or more (at least 5).
	for _, m := range d.ByMerchant {
		if m.Reversals >= 5 && m.Reversals*10 >= m.Redemptions+m.Reversals {
			out = append(out, Signal{Kind: "reversals", Subject: m.Key, Count: m.Reversals, ShareBP: ratioBP(m.Reversals, m.Redemptions+m.Reversals)})
		}
	}
	// The same resident at the same merchant three times or more.
	if repeatPairs > 0 {
		out = append(out, Signal{Kind: "repeat_pairs", Count: repeatPairs})
	}
	return out
}

// Comparison sets campaigns side by side and sums their breakdowns across
// campaigns: which seasons, tiers, categories and districts drove the
// most consumption per yuan of subsidy.
type Comparison struct {
	Campaigns  []Row `json:"campaigns"`
	BySeason   []Row `json:"by_season"`
	ByTier     []Row `json:"by_tier"`
	ByCategory []Row `json:"by_category"`
	ByDistrict []Row `json:"by_district"`
}

// CampaignCells is one campaign's rollups with its name, season and tier labels.
type CampaignCells struct {
	Name, Season string
	Parts        Parts
	TierLabel    func(int64) string
}

// Compare builds the comparison; every breakdown is sorted by leverage.
func Compare(cs []CampaignCells) Comparison {
	var out Comparison
	season, tier, category, district := map[string]*Row{}, map[string]*Row{}, map[string]*Row{}, map[string]*Row{}
	for _, camp := range cs {
		total := Row{Key: camp.Name}
		for _, c := range camp.Parts.Tiers {
			total.add(c)
			into(season, camp.Season, c)
			id, _ := strconv.ParseInt(c.Key, 10, 64)
			into(tier, camp.TierLabel(id), c)
		}
		for _, c := range camp.Parts.Merchants {
			into(category, c.Category, c)
			into(district, c.District, c)
		}
		out.Campaigns = append(out.Campaigns, total)
	}
	byLeverage := func(a, b Row) bool {
		if a.LeverageBP() != b.LeverageBP() {
			return a.LeverageBP() > b.LeverageBP()
		}
		return a.Key < b.Key
	}
	sort.SliceStable(out.Campaigns, func(i, j int) bool { return byLeverage(out.Campaigns[i], out.Campaigns[j]) })
	out.BySeason = sorted(season, byLeverage)
	out.ByTier = sorted(tier, byLeverage)
	out.ByCategory = sorted(category, byLeverage)
	out.ByDistrict = sorted(district, byLeverage)
	return out
}
