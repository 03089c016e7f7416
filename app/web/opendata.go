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
	case "": // the page
	case "json":
		return c.JSON(http.StatusOK, map[string]any{"campaigns": jsonList(rows)})
	default: // csv, xlsx, or sendTable's refusal of anything else
		t := table{name: "消费券公开数据", cols: []column{{"活动", colText}, {"消费季", colText}, {"区县", colText}, {"类别", colText},
			{"投放", colCount}, {"领取", colCount}, {"核销", colCount}, {"财政补贴（元）", colMoney}, {"带动消费（元）", colMoney},
			{"拉动比", colRatio}, {"核销率（%）", colPercent}, {"核销居民数", colCount}, {"核销商户数", colCount}}}
		for _, r := range rows {
			t.add(r.Name, r.Season, r.District, r.Categories, r.Released, r.Claimed, r.Redeemed,
				r.SubsidyFen, r.ConsumptionFen, r.LeverageBP, r.RedemptionBP, r.Residents, r.Merchants)
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
