package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
	"cqvoucher/app/report"
)

// openRow is one campaign as the public may see it: aggregates only, no
// person, no merchant, no account.
type openRow struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Season         string `json:"season"`
	District       string `json:"district"`
	Categories     string `json:"categories"`
	Released       int64  `json:"released"`
	Claimed        int64  `json:"claimed"`
	Redeemed       int64  `json:"redeemed"`
	SubsidyFen     int64  `json:"subsidy_fen"`
	ConsumptionFen int64  `json:"consumption_fen"`
	LeverageBP     int64  `json:"leverage_bp"`
	RedemptionBP   int64  `json:"redemption_rate_bp"`
	Residents      int64  `json:"residents_reached"`
	Merchants      int64  `json:"merchants_reached"`
}

func (s *Server) openRows(c echo.Context) ([]openRow, error) {
	cs, err := s.app.PublishedCampaigns(c.Request().Context())
	if err != nil {
		return nil, err
	}
	names := s.names(c)
	out := make([]openRow, 0, len(cs))
	for _, camp := range cs {
		st := app.CampaignStats(camp)
		cats := ""
		for i, k := range camp.Categories {
			if i > 0 {
				cats += "、"
			}
			cats += names[k]
		}
		out = append(out, openRow{ID: camp.ID, Name: camp.Name, Season: camp.Season, District: names[camp.District], Categories: cats,
			Released: st.Released, Claimed: st.Claimed, Redeemed: st.Redeemed, SubsidyFen: int64(st.SubsidyFen), ConsumptionFen: int64(st.ConsumptionFen),
			LeverageBP: st.LeverageBP, RedemptionBP: st.RedemptionRateBP, Residents: camp.ReachResidents, Merchants: camp.ReachMerchants})
	}
	return out, nil
}

// openData is the public page of aggregates: anyone may read how the
// money worked, campaign by campaign; ?format=csv|xlsx|json exports it.
func (s *Server) openData(c echo.Context) error {
	rows, err := s.openRows(c)
	if err != nil {
		return err
	}
	switch c.QueryParam("format") {
	case "json":
		return c.JSON(http.StatusOK, map[string]any{"campaigns": rows})
	case "csv", "xlsx":
		t := table{name: "消费券公开数据", headers: []string{"活动", "消费季", "区县", "类别", "投放", "领取", "核销", "财政补贴（元）", "带动消费（元）", "拉动比", "核销率（%）", "核销居民数", "核销商户数"}}
		for _, r := range rows {
			t.rows = append(t.rows, []any{r.Name, r.Season, r.District, r.Categories, r.Released, r.Claimed, r.Redeemed,
				app.Fen(r.SubsidyFen).String(), app.Fen(r.ConsumptionFen).String(), app.FormatBP(r.LeverageBP), app.FormatPercentBP(r.RedemptionBP), r.Residents, r.Merchants})
		}
		return sendTable(c, t)
	}
	var subsidy, consumption int64
	for _, r := range rows {
		subsidy += r.SubsidyFen
		consumption += r.ConsumptionFen
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return s.page(c, http.StatusOK, "public/opendata", "title.opendata", map[string]any{
		"Rows": rows, "Subsidy": app.Fen(subsidy), "Consumption": app.Fen(consumption), "LeverageBP": report.Row{SubsidyFen: subsidy, ConsumptionFen: consumption}.LeverageBP(),
	})
}
