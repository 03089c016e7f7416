package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// campaignForecast shows a campaign's pacing and outlook with its
// assumptions, each tier's, and, with ?move_from=&move_to=&move_n=, the
// outlook after moving quantity between tiers. The what-if changes
// nothing.
func (s *Server) campaignForecast(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, f, err := s.app.Forecast(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	label := app.TierLabeler(camp)
	data := map[string]any{"C": camp, "F": f, "Names": s.names(c), "Label": label, "Q": c.QueryParams()}
	if c.QueryParam("move_n") != "" {
		from, _ := strconv.ParseInt(c.QueryParam("move_from"), 10, 64)
		to, _ := strconv.ParseInt(c.QueryParam("move_to"), 10, 64)
		n, _ := strconv.ParseInt(c.QueryParam("move_n"), 10, 64)
		w, werr := f.WhatIf(camp, app.QuantityMove{From: from, To: to, N: n})
		if werr != nil {
			s.withError(c, data, werr)
		} else {
			data["W"] = w
		}
	}
	if _, ok := data["Errors"]; !ok {
		s.withError(c, data, nil)
	}
	return s.page(c, http.StatusOK, "officer/forecast", "title.forecast", data)
}
