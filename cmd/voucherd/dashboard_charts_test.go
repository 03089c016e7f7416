package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/app/web"
	"cqvoucher/seeds"
	"cqvoucher/templates"
)

// chartLayoutJS measures a drawn chart from its ECharts instance: the
// rectangles (canvas pixels) of its grid, its legend and every visible
// text of its axes, and the text its money and leverage axes write for
// a given value.
const chartLayoutJS = `((id) => {
  const c = echarts.getInstanceByDom(document.getElementById(id));
  const m = c.getModel();
  const rectOf = (el) => {
    const r = el.getBoundingRect().clone();
    const t = el.getComputedTransform();
    if (t) r.applyTransform(t);
    return {x: r.x, y: r.y, w: r.width, h: r.height};
  };
  const texts = (model) => {
    const out = [];
    c.getViewOfComponentModel(model).group.traverse((el) => {
      if (el.type === 'text' && !el.ignore && !el.invisible && el.style && el.style.text) out.push(Object.assign(rectOf(el), {text: String(el.style.text)}));
    });
    return out;
  };
  const g = m.getComponent('grid').coordinateSystem.getRect();
  const legend = m.getComponent('legend');
  const axes = [];
  for (const kind of ['xAxis', 'yAxis']) m.eachComponent(kind, (a) => axes.push({kind: kind, labels: texts(a)}));
  return {
    width: c.getWidth(), height: c.getHeight(),
    grid: {x: g.x, y: g.y, w: g.width, h: g.height},
    legend: legend ? rectOf(c.getViewOfComponentModel(legend).group) : null,
    axes: axes,
    option: c.getOption(),
  };
})`

type chartRect struct {
	X, Y, W, H float64
	Text       string
}

func (a chartRect) overlaps(b chartRect) bool {
	const slack = 0.5 // anti-aliased edges may touch
	return a.X+slack < b.X+b.W && b.X+slack < a.X+a.W && a.Y+slack < b.Y+b.H && b.Y+slack < a.Y+a.H
}

type chartLayout struct {
	Width, Height float64
	Grid          chartRect
	Legend        *chartRect
	Axes          []struct {
		Kind   string
		Labels []chartRect
	}
}

// checkChartLayout: the legend (if any) is above the plot and clear of
// every axis text; no two texts of one axis overlap; no text leaves the
// canvas.
func checkChartLayout(t *testing.T, ctx context.Context, id string) chartLayout {
	t.Helper()
	raw := browserEval[json.RawMessage](t, ctx, fmt.Sprintf(`JSON.stringify((%s)(%q), (k, v) => typeof v === 'function' ? undefined : v)`, chartLayoutJS, id))
	var s string
	var l chartLayout
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	if l.Legend != nil {
		if l.Legend.Y+l.Legend.H > l.Grid.Y {
			t.Errorf("%s: the legend reaches y=%.0f, into the plot that starts at y=%.0f", id, l.Legend.Y+l.Legend.H, l.Grid.Y)
		}
	}
	for _, a := range l.Axes {
		if len(a.Labels) == 0 {
			t.Errorf("%s: %s has no visible labels", id, a.Kind)
		}
		for i, r := range a.Labels {
			if l.Legend != nil && r.overlaps(*l.Legend) {
				t.Errorf("%s: %s label %q overlaps the legend", id, a.Kind, r.Text)
			}
			if r.X < 0 || r.Y < 0 || r.X+r.W > l.Width+0.5 || r.Y+r.H > l.Height+0.5 {
				t.Errorf("%s: %s label %q at %+v leaves the %vx%v canvas", id, a.Kind, r.Text, r, l.Width, l.Height)
			}
			for _, q := range a.Labels[i+1:] {
				if r.overlaps(q) {
					t.Errorf("%s: %s labels %q and %q overlap", id, a.Kind, r.Text, q.Text)
				}
			}
		}
	}
	return l
}

func axisTexts(l chartLayout, kind string) string {
	var out []string
	for _, a := range l.Axes {
		if a.Kind == kind {
			for _, r := range a.Labels {
				out = append(out, r.Text)
			}
		}
	}
	return strings.Join(out, " | ")
}

// TestBrowserDashboardChartsReadAtAGlance opens a generated season's
// dashboard and comparison in headless Chromium (1280×900, Chinese) and
// measures the drawn charts: legends clear of the plots and axis labels,
// no overlapping labels, money axes in 万元, leverage as 1:x; and the
// charts' formatter (format.js) says amounts as the server does.
// Screenshots go to VOUCHER_BROWSER_SHOTS for a human to look at.
func TestBrowserDashboardChartsReadAtAGlance(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	if _, err := seeds.LoadSeason(context.Background(), m.Store, m.App, seeds.SeasonOptions{Redemptions: 3000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	// The demo officer of 渝中区 sees the season's 渝中 campaign, the largest.
	var campaignID int64
	if err := m.Store.QueryRow(context.Background(), `SELECT id FROM campaigns WHERE district_code = '500103' AND season <> '' LIMIT 1`).Scan(&campaignID); err != nil {
		t.Fatal(err)
	}

	step("open the dashboard",
		chromedp.Navigate(fmt.Sprintf("%s/officer/campaigns/%d/dashboard", base, campaignID)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-districts canvas`)),
	)
	layouts := map[string]chartLayout{}
	for _, id := range []string{"chart-funnel", "chart-days", "chart-hours", "chart-districts"} {
		layouts[id] = checkChartLayout(t, ctx, id)
	}
	if y := axisTexts(layouts["chart-days"], "yAxis"); !strings.Contains(y, "万元") || !strings.Contains(y, "1:") {
		t.Errorf("by-day axes say %q, want amounts in 万元 and leverage as 1:x", y)
	}
	// Dates are short on the axis (the table has the year).
	for _, d := range strings.Split(axisTexts(layouts["chart-days"], "xAxis"), " | ") {
		if !regexp.MustCompile(`^[0-9]{2}-[0-9]{2}$`).MatchString(d) {
			t.Errorf("by-day axis date %q, want MM-DD", d)
		}
	}
	if x := axisTexts(layouts["chart-districts"], "xAxis"); !strings.Contains(x, "1:") {
		t.Errorf("district leverage axis says %q, want 1:x", x)
	}
	// The axis formatter of the money axis, called as ECharts calls it.
	if got := browserEval[string](t, ctx, `echarts.getInstanceByDom(document.getElementById('chart-days')).getOption().yAxis[0].axisLabel.formatter(1500000)`); !strings.HasSuffix(got, "万元") {
		t.Errorf("money axis formatter(¥15,000) = %q, want 万元", got)
	}
	// format.js and the server say the same amounts the same way.
	r, err := web.NewRenderer(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	zh, en := r.Locale("zh"), r.Locale("en")
	for _, fen := range []app.Fen{0, 862000, 999999, 1000000, 1235000, 99999500, 1234567890} {
		for _, l := range []struct {
			lang string
			want string
			spec any
		}{{"zh", zh.Money(fen), zh.ChartFormat()}, {"en", en.Money(fen), en.ChartFormat()}} {
			spec, _ := json.Marshal(l.spec)
			if got := browserEval[string](t, ctx, fmt.Sprintf(`cqvFormat(%s).money(%d)`, spec, fen)); got != l.want {
				t.Errorf("format.js %s money(%d) = %q, the server says %q", l.lang, fen, got, l.want)
			}
		}
	}
	if got := browserEval[string](t, ctx, `document.getElementById('kpi-consumption').textContent`); !strings.HasSuffix(got, " 万元") {
		t.Errorf("consumption KPI %q, want 万元", got)
	}
	shot(t, ctx, "dashboard.png")

	step("switch to English",
		chromedp.Navigate(fmt.Sprintf("%s/lang/en?back=/officer/campaigns/%d/dashboard", base, campaignID)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-days canvas`)),
	)
	if y := axisTexts(checkChartLayout(t, ctx, "chart-days"), "yAxis"); !strings.Contains(y, "k") || strings.Contains(y, "万") {
		t.Errorf("English by-day axes say %q, want thousands of yuan (¥20k)", y)
	}
	shot(t, ctx, "dashboard-en.png")
	step("back to Chinese", chromedp.Navigate(base+"/lang/zh?back=/officer"))

	step("open the comparison",
		chromedp.Navigate(base+"/officer/compare"),
		chromedp.WaitVisible(chromedp.CSS(`#chart-compare-redemption canvas`)),
	)
	checkChartLayout(t, ctx, "chart-compare-leverage")
	redemption := checkChartLayout(t, ctx, "chart-compare-redemption")
	if redemption.Legend == nil {
		t.Errorf("the claimed/redeemed chart has no legend")
	}
	if n := browserEval[float64](t, ctx, `document.querySelectorAll('#campaigns tbody tr').length`); n < 1 {
		t.Errorf("the campaigns' table has %v rows", n)
	}
	shot(t, ctx, "compare.png")
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
