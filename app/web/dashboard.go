package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
	"cqvoucher/app/report"
)

// breakdowns names the dashboard's tables, in page order, with their
// Chinese export titles.
var breakdowns = []struct {
	key, title string
	keyKind    colKind
	rows       func(report.Dashboard) []report.Row
}{
	{"by_day", "按日", colDay, func(d report.Dashboard) []report.Row { return d.ByDay }},
	{"by_hour", "按小时", colIdent, func(d report.Dashboard) []report.Row { return d.ByHour }},
	{"by_tier", "按券种", colText, func(d report.Dashboard) []report.Row { return d.ByTier }},
	{"by_district", "按区县", colText, func(d report.Dashboard) []report.Row { return d.ByDistrict }},
	{"by_category", "按类别", colText, func(d report.Dashboard) []report.Row { return d.ByCategory }},
	{"by_merchant", "按商户", colText, func(d report.Dashboard) []report.Row { return d.ByMerchant }},
}

// campaignDashboard is the evaluation of one campaign, from its rollups;
// ?table=by_day&format=csv|xlsx exports one of its tables.
func (s *Server) campaignDashboard(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, d, err := s.app.Dashboard(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	names := s.names(c)
	if table := c.QueryParam("table"); table != "" && c.QueryParam("format") != "" {
		for _, b := range breakdowns {
			if b.key == table {
				return sendTable(c, breakdownTable(camp.Name+"_"+b.title, b.keyKind, b.rows(d), names))
			}
		}
		return app.NotFound("page_not_found")
	}
	signals, err := s.app.Signals(c.Request().Context(), camp, d)
	if err != nil {
		return err
	}
	type section struct {
		Key  string
		Rows []report.Row
	}
	var sections []section
	for _, b := range breakdowns {
		sections = append(sections, section{Key: b.key, Rows: b.rows(d)})
	}
	l := s.locale(c)
	st := app.CampaignStats(camp)
	charts := map[string]any{
		"format": l.ChartFormat(), "released": st.Released, "claimed": st.Claimed, "redeemed": st.Redeemed,
		"claim_rate_bp": st.ClaimRateBP, "redemption_rate_bp": st.RedemptionRateBP,
		"days": chartRows(d.ByDay, names), "hours": chartRows(d.ByHour, names), "districts": chartRows(d.ByDistrict, names),
		"labels": chartLabels(l),
	}
	var lottery *app.LotteryFigures
	if camp.LotteryDrawnAt != nil {
		if f, err := s.app.LotteryFiguresOf(c.Request().Context(), officerOf(c), camp.ID); err == nil {
			lottery = &f
		}
	}
	return s.page(c, http.StatusOK, "officer/dashboard", "title.dashboard", map[string]any{
		"C": camp, "D": d, "Stats": st, "Sections": sections, "Names": names, "Charts": charts,
		"Signals": signals, "Top3BP": d.TopShareBP(3), "Lottery": lottery,
	})
}

// chartRows are a breakdown's rows as the charts draw them: named, with
// the ratios worked out here so a chart shows the figure its table does.
func chartRows(rows []report.Row, names map[string]string) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		label := r.Key
		if n, ok := names[r.Key]; ok {
			label = n
		}
		out = append(out, map[string]any{"key": r.Key, "label": label, "claims": r.Claims, "redemptions": r.Redemptions,
			"subsidy_fen": r.SubsidyFen, "consumption_fen": r.ConsumptionFen, "leverage_bp": r.LeverageBP(), "redemption_rate_bp": r.RedemptionRateBP()})
	}
	return out
}

// chartLabels are the words of the charts' legends and tooltips.
func chartLabels(l *Locale) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"released", "claimed", "redeemed", "subsidy", "consumption", "leverage", "claim_rate", "redemption_rate"} {
		out[k] = l.T("stats." + k)
	}
	return out
}

func (s *Server) apiCampaignDashboard(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, d, err := s.app.Dashboard(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	signals, err := s.app.Signals(c.Request().Context(), camp, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"campaign": s.withStats(camp), "dashboard": d, "signals": jsonList(signals)})
}

// breakdownTable exports one evaluation table; keyKind is how its first
// column reads (days are dates, hours "09" stay as written).
func breakdownTable(name string, keyKind colKind, rows []report.Row, names map[string]string) table {
	t := table{name: name, cols: []column{{"维度", keyKind}, {"领取", colCount}, {"核销", colCount}, {"撤销", colCount},
		{"财政补贴（元）", colMoney}, {"带动消费（元）", colMoney}, {"拉动比", colRatio}, {"笔均消费（元）", colMoney}}}
	for _, r := range rows {
		key := r.Key
		if n, ok := names[key]; ok {
			key = n
		}
		t.add(key, r.Claims, r.Redemptions, r.Reversals, r.SubsidyFen, r.ConsumptionFen, r.LeverageBP(), r.AvgBillFen())
	}
	return t
}

// comparePage sets the officer's campaigns side by side; ?table=…&format=
// exports one of its tables.
func (s *Server) comparePage(c echo.Context) error {
	cmp, err := s.app.Compare(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	names := s.names(c)
	sections := []struct {
		Key  string
		Rows []report.Row
	}{{"campaigns", cmp.Campaigns}, {"by_season", cmp.BySeason}, {"by_tier", cmp.ByTier}, {"by_category", cmp.ByCategory}, {"by_district", cmp.ByDistrict}}
	if table := c.QueryParam("table"); table != "" && c.QueryParam("format") != "" {
		for _, sec := range sections {
			if sec.Key == table {
				return sendTable(c, breakdownTable("活动对比_"+table, colText, sec.Rows, names))
			}
		}
		return app.NotFound("page_not_found")
	}
	l := s.locale(c)
	charts := map[string]any{"format": l.ChartFormat(), "campaigns": chartRows(cmp.Campaigns, names), "labels": chartLabels(l)}
	return s.page(c, http.StatusOK, "officer/compare", "title.compare", map[string]any{"Sections": sections, "Names": names, "Charts": charts})
}

func (s *Server) apiCompare(c echo.Context) error {
	cmp, err := s.app.Compare(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	cmp.Campaigns, cmp.BySeason, cmp.ByTier = jsonList(cmp.Campaigns), jsonList(cmp.BySeason), jsonList(cmp.ByTier)
	cmp.ByCategory, cmp.ByDistrict = jsonList(cmp.ByCategory), jsonList(cmp.ByDistrict)
	return c.JSON(http.StatusOK, cmp)
}

// campaignLive is the page an officer watches during a drop; it refreshes
// itself from the JSON below every two seconds.
func (s *Server) campaignLive(c echo.Context) error {
	camp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	n, err := s.app.RemindersSentToday(c.Request().Context(), camp.ID)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "officer/live", "title.live", map[string]any{"C": camp, "Reminders": n})
}

func (s *Server) apiCampaignLive(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	v, err := s.app.Live(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	l := s.locale(c)
	labels := map[string]string{}
	for _, r := range v.Reasons {
		labels[r] = l.T("live.reason." + r)
	}
	tiers := make([]map[string]any, len(v.Stock))
	for i, t := range v.Stock {
		tiers[i] = map[string]any{"id": t.ID, "rule": app.TierLabeler(app.Campaign{Tiers: v.Stock})(t.ID), "remaining": t.Remaining, "released": t.Released, "claimed": t.ClaimedCount}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"live": v, "tiers": tiers, "reason_labels": labels})
}
