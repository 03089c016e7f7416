package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// chartsHaveTables checks that every chart of a page points at a section
// of the page that holds a table with rows: the figures are there without
// a script, a chart library or sight.
func chartsHaveTables(t *testing.T, page string, wantCharts int) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*html.Node{}
	var charts []*html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if id := attr(n, "id"); id != "" {
			byID[id] = n
		}
		if strings.Contains(" "+attr(n, "class")+" ", " chart ") {
			charts = append(charts, n)
		}
	}
	if len(charts) != wantCharts {
		t.Errorf("%d charts, want %d", len(charts), wantCharts)
	}
	for _, c := range charts {
		sec, ok := byID[attr(c, "data-table")]
		if !ok {
			t.Errorf("chart %s: its table %q is not on the page", attr(c, "id"), attr(c, "data-table"))
			continue
		}
		rows := 0
		for n := range sec.Descendants() {
			if n.Type == html.ElementNode && n.Data == "tr" && n.Parent.Data == "tbody" {
				rows++
			}
		}
		if rows == 0 {
			t.Errorf("chart %s: section #%s has no table rows", attr(c, "id"), attr(c, "data-table"))
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// chartsCampaign is a campaign whose two claims led to one redemption of
// a large bill, 30 hours after its claim.
func chartsCampaign(t *testing.T, e *apptest.Env, name, bill string) app.Campaign {
	t.Helper()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Name: name, ValidDays: 3, Budget: "50000"})
	v := claimOne(t, e, c, "13800000001")
	claimOne(t, e, c, "13800000002")
	e.Clock.Advance(30 * time.Hour)
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), v.Code, bill, name); r.Status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	return c
}

// TestDashboardSaysFiguresAtAGlance: the dashboard's KPIs say large
// amounts in 万元 (the exact amount in the title), leverage as 1:x and the
// wait in hours; its tables keep exact amounts; every chart has its
// table; English says the same in its own units.
func TestDashboardSaysFiguresAtAGlance(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := chartsCampaign(t, e, "渝味360碗", "12345.67") // leverage 12,345.67 / 30 = 411.52
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	path := fmt.Sprintf("/officer/campaigns/%d/dashboard", c.ID)
	p := b.do(t, http.MethodGet, path, nil)
	if p.status != http.StatusOK {
		t.Fatalf("dashboard: %d", p.status)
	}
	for _, want := range []string{
		`id="kpi-consumption" title="¥12,345.67">1.23 万元<`,
		`id="kpi-subsidy" title="¥30.00">¥30.00<`, // below ¥10,000: exact
		`title="¥50,000.00">5.00 万元<`,             // the budget
		`id="kpi-leverage">1:411.52<`,
		`id="kpi-wait">30 小时<`,
		`<td class="num">¥12,345.67</td>`, // the tables stay exact
		`<td class="num">1:411.52</td>`,
		`核销率 50.00%`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`[0-9]×`).FindString(p.body); m != "" {
		t.Errorf("dashboard still writes a ratio as %q", m)
	}
	chartsHaveTables(t, p.body, 4)

	b.setCookie("lang", "en")
	p = b.do(t, http.MethodGet, path, nil)
	for _, want := range []string{`id="kpi-consumption" title="¥12,345.67">¥12.35k<`, `id="kpi-leverage">1:411.52<`, `id="kpi-wait">30 h<`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("English dashboard lacks %s", want)
		}
	}
}

// TestCompareShowsRedemptionRate: the comparison sets claimed beside
// redeemed with the 核销率 of each campaign, leverage as 1:x, and a table
// for each of its charts.
func TestCompareShowsRedemptionRate(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	chartsCampaign(t, e, "甲", "150")
	chartsCampaign(t, e, "乙", "12345.67")
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	p := b.do(t, http.MethodGet, "/officer/compare", nil)
	if p.status != http.StatusOK {
		t.Fatalf("compare: %d", p.status)
	}
	campaigns := p.body[strings.Index(p.body, `id="campaigns"`):]
	campaigns = campaigns[:strings.Index(campaigns, "</section>")]
	for _, want := range []string{
		`<th class="num">已领取</th><th class="num">已核销</th><th class="num">核销率</th>`,
		`<td>乙</td><td class="num"><strong>1:411.52</strong></td>`,
		`<td class="num">2</td><td class="num">1</td><td class="num">50.00%</td>`,
		`<strong>1:5.00</strong>`,
	} {
		if !strings.Contains(campaigns, want) {
			t.Errorf("the campaigns' table lacks %s:\n%s", want, campaigns)
		}
	}
	chartsHaveTables(t, p.body, 2)
}
