package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/report"
)

// TestDashboardEqualsRawRecomputation generates a small season over three
// days (claims, redemptions at several merchants and districts, reversals,
// expiries) and checks that every figure the dashboard shows from its
// rollups equals the figure recomputed from the raw rows.
func TestDashboardEqualsRawRecomputation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{
		District: app.CityCode, Limit: 3, ValidDays: 1, Budget: "100000",
		Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "200"}, {Face: "10", Threshold: "0", Quantity: "200"}},
	})
	var cashiers []app.Cashier
	for i, d := range []string{"500103", "500105", "500106"} {
		m := e.NewMerchant(t, fmt.Sprintf("店%d", i), d, "catering")
		cashiers = append(cashiers, e.NewCashier(t, m, fmt.Sprintf("c%d", i)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var residents []app.Resident
	for i := 0; i < 40; i++ {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1390000%04d", i))
		residents = append(residents, r)
	}
	var reds []app.Receipt
	for day := 0; day < 3; day++ {
		for _, r := range residents {
			tier := c.Tiers[rng.IntN(2)]
			v, err := e.App.Claim(ctx, r, c.ID, tier.ID, "")
			if err != nil {
				continue // limit reached: fine
			}
			if rng.IntN(4) == 0 {
				continue // left to expire
			}
			e.Clock.Advance(time.Duration(rng.IntN(50_000)) * time.Millisecond) // sub-second: whole seconds hid a rounding bug
			bill := app.Fen(10000 + rng.IntN(20000))
			rc, err := e.App.Redeem(ctx, cashiers[rng.IntN(3)], v.Code, bill, fmt.Sprintf("k%d-%d", day, r.ID))
			if err != nil {
				t.Fatal(err)
			}
			reds = append(reds, rc)
		}
		// A few refunds, the same day.
		for i := 0; i < len(reds) && i < 3+day; i += 2 {
			rc := reds[len(reds)-1-i]
			cs := cashiers[0]
			for _, x := range cashiers {
				if x.MerchantID == rc.Redemption.MerchantID {
					cs = x
				}
			}
			if _, err := e.App.Reverse(ctx, cs, rc.Redemption.ID); err != nil && app.ErrorReason(err) != "already_reversed" {
				t.Fatal(err)
			}
		}
		e.Clock.Advance(7 * time.Hour) // into the evening, then the next day
		e.Clock.Advance(17 * time.Hour)
		if _, err := e.App.SweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
	}

	rolled, err := e.Store.RollupParts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := e.Store.RawParts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	label := app.TierLabeler(c)
	fromRollups, fromRaw := report.Build(rolled, label), report.Build(raw, label)
	if fromRaw.Total.Redemptions == 0 || fromRaw.Total.Reversals == 0 || len(fromRaw.ByDay) != 3 || len(fromRaw.ByDistrict) != 3 {
		t.Fatalf("the generated season is too thin to test: %+v", fromRaw.Total)
	}
	if !reflect.DeepEqual(fromRollups, fromRaw) {
		t.Fatalf("dashboard from rollups differs from raw rows:\nrollups %+v\nraw     %+v", fromRollups, fromRaw)
	}
	// The campaign's counters and reach agree with the raw rows too.
	camp, _ := e.Store.Campaign(ctx, c.ID)
	if camp.RedeemedCount != fromRaw.Total.Redemptions || int64(camp.SubsidyFen) != fromRaw.Total.SubsidyFen ||
		int64(camp.ConsumptionFen) != fromRaw.Total.ConsumptionFen || camp.ClaimedCount != fromRaw.Total.Claims ||
		camp.ReversedCount != fromRaw.Total.Reversals {
		t.Fatalf("campaign counters %+v disagree with raw totals %+v", camp, fromRaw.Total)
	}
	residentsReach, merchantsReach, err := e.Store.RawReach(ctx, c.ID)
	if err != nil || camp.ReachResidents != residentsReach || camp.ReachMerchants != merchantsReach {
		t.Fatalf("reach %d/%d, raw %d/%d (%v)", camp.ReachResidents, camp.ReachMerchants, residentsReach, merchantsReach, err)
	}
	var expired int64
	for _, tier := range camp.Tiers {
		expired += tier.Expired
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE status = 'claimed' AND expires_at <= ?`, e.Clock.Now()); expired != n || n == 0 {
		t.Fatalf("expired counted %d, raw %d", expired, n)
	}
}

func TestDashboardPageAndExports(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), v.Code, "128.50", "k"); r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	officer := officerToken(t, e, e.Maker)
	r := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/dashboard", c.ID), officer, nil)
	total, _ := r.Body["dashboard"].(map[string]any)["total"].(map[string]any)
	if r.Status != 200 || total["redemptions"] != 1.0 || total["subsidy_fen"] != 3000.0 || total["consumption_fen"] != 12850.0 {
		t.Fatalf("dashboard API: %d %s", r.Status, r.Raw)
	}
	status, _, body := download(t, e, fmt.Sprintf("/officer/campaigns/%d/dashboard", c.ID), officer)
	if status != 200 || !strings.Contains(string(body), `id="kpi-leverage">1:4.28`) || !strings.Contains(string(body), "解放碑老火锅") {
		t.Fatalf("dashboard page: %d", status)
	}
	status, ctype, body := download(t, e, fmt.Sprintf("/officer/campaigns/%d/dashboard?table=by_merchant&format=csv", c.ID), officer)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.Contains(string(body), "解放碑老火锅,0,1,0,30.00,128.50,4.28,128.50") {
		t.Fatalf("merchant table CSV: %d %q", status, body)
	}
	jiangbei := officerToken(t, e, e.NewOfficer(t, "jb", "500105", true))
	if status, _, _ := download(t, e, fmt.Sprintf("/officer/campaigns/%d/dashboard", c.ID), jiangbei); status != 404 {
		t.Fatalf("another district's dashboard: %d", status)
	}
}

func TestSignals(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 3, Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}}})
	// Twelve bills of ¥100–¥104 at one shop: just above the ¥100 threshold.
	for i := 0; i < 12; i++ {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370000%04d", i))
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Redeem(ctx, e.Cashier, v.Code, app.Fen(10000+i*30), fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// One resident three times at the same shop.
	r, _ := e.ResidentSession(t, "13600000000")
	for i := 0; i < 3; i++ {
		v, _ := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if _, err := e.App.Redeem(ctx, e.Cashier, v.Code, 50000, fmt.Sprintf("p%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	camp, d, err := e.App.Dashboard(ctx, e.Maker, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	signals, err := e.App.Signals(ctx, camp, d)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]report.Signal{}
	for _, s := range signals {
		kinds[s.Kind] = s
	}
	if s, ok := kinds["near_threshold"]; !ok || s.Count != 12 || s.Subject != e.Merchant.Name {
		t.Fatalf("near-threshold signal: %+v", signals)
	}
	if s, ok := kinds["repeat_pairs"]; !ok || s.Count != 1 {
		t.Fatalf("repeat-pairs signal: %+v", signals)
	}
}

func TestOpenDataHasAggregatesOnly(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	redeem(t, e, e.CashierSession(t, e.Cashier), v.Code, "128.50", "k")
	draft, _ := e.App.CreateCampaign(context.Background(), e.Maker, app.CampaignInput{Name: "草稿不公开", District: "500103", Category: "catering",
		Budget: "1000", Tiers: []app.TierInput{{Face: "10", Quantity: "10"}}, ClaimStarts: e.Clock.Now().Format(time.RFC3339),
		ClaimEnds: e.Clock.Now().Add(time.Hour).Format(time.RFC3339), ValidDays: "1", PerResidentLimit: "1"})
	r := e.API(t, http.MethodGet, "/open-data?format=json", "", nil)
	rows, _ := r.Body["campaigns"].([]any)
	if r.Status != 200 || len(rows) != 1 {
		t.Fatalf("open data: %d %s", r.Status, r.Raw)
	}
	row := rows[0].(map[string]any)
	if row["redeemed"] != 1.0 || row["subsidy_fen"] != 3000.0 || row["consumption_fen"] != 12850.0 || row["leverage_bp"] != 42833.0 {
		t.Fatalf("open data row: %v", row)
	}
	for _, secret := range []string{"13800138000", "138****8000", e.Merchant.Name, v.Code, draft.Name} {
		if strings.Contains(r.Raw, secret) {
			t.Fatalf("open data shows %q", secret)
		}
	}
	if status, _, body := download(t, e, "/open-data", ""); status != 200 || !strings.Contains(string(body), c.Name) {
		t.Fatalf("open data page: %d", status)
	}
}

func TestCompareCampaigns(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a := e.LiveCampaign(t, apptest.CampaignSpec{Name: "甲", Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}}})
	b := e.LiveCampaign(t, apptest.CampaignSpec{Name: "乙", Tiers: []app.TierInput{{Face: "10", Threshold: "0", Quantity: "10"}}})
	cashier := e.CashierSession(t, e.Cashier)
	va, vb := claimOne(t, e, a, "13800000001"), claimOne(t, e, b, "13800000002")
	redeem(t, e, cashier, va.Code, "150", "a") // leverage 150/30 = 5.00
	redeem(t, e, cashier, vb.Code, "80", "b")  // leverage 80/10 = 8.00
	r := e.API(t, http.MethodGet, "/api/v1/officer/compare", officerToken(t, e, e.Maker), nil)
	rows, _ := r.Body["campaigns"].([]any)
	if r.Status != 200 || len(rows) != 2 || rows[0].(map[string]any)["key"] != "乙" {
		t.Fatalf("compare: %d %s", r.Status, r.Raw)
	}
	tiers, _ := r.Body["by_tier"].([]any)
	if len(tiers) != 2 || tiers[0].(map[string]any)["key"] != "10元" || tiers[1].(map[string]any)["key"] != "满100减30" {
		t.Fatalf("by tier: %s", r.Raw)
	}
}

func TestLiveView(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "2"}}})
	path := fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID)
	for i := 0; i < 5; i++ {
		_, tok := e.ResidentSession(t, fmt.Sprintf("1350000%04d", i))
		e.API(t, http.MethodPost, path, tok, map[string]any{"tier_id": c.Tiers[0].ID})
	}
	r := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID), officerToken(t, e, e.Maker), nil)
	live, _ := r.Body["live"].(map[string]any)
	refusals, _ := live["refusals_by_reason"].(map[string]any)
	if r.Status != 200 || live["claims_last_10s"] != 2.0 || refusals["sold_out"] != 3.0 {
		t.Fatalf("live view: %d %s", r.Status, r.Raw)
	}
	tiers, _ := r.Body["tiers"].([]any)
	if len(tiers) != 1 || tiers[0].(map[string]any)["remaining"] != 0.0 {
		t.Fatalf("live stock: %s", r.Raw)
	}
	// The window runs on the App's clock: 10 s later the claims have left
	// the last ten seconds, however slow the machine.
	e.Clock.Advance(10 * time.Second)
	r = e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID), officerToken(t, e, e.Maker), nil)
	if live, _ := r.Body["live"].(map[string]any); r.Status != 200 || live["claims_last_10s"] != 0.0 {
		t.Fatalf("live view 10 s later: %d %s", r.Status, r.Raw)
	}
}

func TestAuditExport(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	e.LiveCampaign(t, apptest.CampaignSpec{})
	tok := officerToken(t, e, e.Maker)
	status, ctype, body := download(t, e, "/officer/audit?entity=campaign&format=csv", tok)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(string(body), "\ufeff编号,时间,操作人,操作") ||
		!strings.Contains(string(body), "campaign.approve") {
		t.Fatalf("audit CSV: %d %q", status, body)
	}
}
