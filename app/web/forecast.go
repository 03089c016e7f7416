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
func (s *Server) campaignForecast(c echo.Context) error { return s.forecastPage(c, http.StatusOK, nil) }

// forecastPage shows the page, with a refused move request's reason.
func (s *Server) forecastPage(c echo.Context, status int, refused error) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, f, err := s.app.Forecast(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	label := app.TierLabeler(camp)
	q := c.QueryParams()
	for _, k := range []string{"move_from", "move_to", "move_n"} { // a refused request's form, shown again
		if v := c.FormValue(k); v != "" {
			q.Set(k, v)
		}
	}
	data := map[string]any{"C": camp, "F": f, "Names": s.names(c), "Label": label, "Q": q}
	if c.FormValue("move_n") != "" {
		w, werr := f.WhatIf(camp, moveOf(c))
		if werr != nil {
			s.withError(c, data, werr)
		} else {
			data["W"] = w
		}
	}
	if refused != nil {
		s.withError(c, data, refused)
	}
	if _, ok := data["Errors"]; !ok {
		s.withError(c, data, nil)
	}
	o := officerOf(c)
	data["CanRequest"] = o.CanChange(camp.District) && o.Role != app.RoleAuditor && camp.ReleaseMode == app.ReleaseOnce &&
		camp.PendingMoveN == nil && (camp.Status == app.StatusApproved || camp.Status == app.StatusPaused)
	return s.page(c, status, "officer/forecast", "title.forecast", data)
}

// moveOf reads a quantity move from the form or query: move_from,
// move_to (tier ids) and move_n.
func moveOf(c echo.Context) app.QuantityMove {
	from, _ := strconv.ParseInt(c.FormValue("move_from"), 10, 64)
	to, _ := strconv.ParseInt(c.FormValue("move_to"), 10, 64)
	n, _ := strconv.ParseInt(c.FormValue("move_n"), 10, 64)
	return app.QuantityMove{From: from, To: to, N: n}
}
