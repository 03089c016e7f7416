package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

func fmtAny(v any) string { return fmt.Sprint(v) }

// dayRange reads ?from=&to= (Asia/Shanghai dates), defaulting to the
// `days` days before today, and today.
func (s *Server) dayRange(c echo.Context, days int) (string, string) {
	yesterday := s.app.Now().In(app.Shanghai).AddDate(0, 0, -1)
	from, to := c.QueryParam("from"), c.QueryParam("to")
	if from == "" {
		from = yesterday.AddDate(0, 0, 1-days).Format("2006-01-02")
	}
	if to == "" {
		to = s.app.Today()
	}
	return from, to
}

func statementTable(name string, sts []app.Statement, names map[string]string) table {
	t := table{name: name, cols: []column{{"日期", colDay}, {"商户编号", colCount}, {"商户", colText}, {"商户区县", colText}, {"结算账号", colIdent},
		{"核销笔数", colCount}, {"撤销笔数", colCount}, {"应付补贴（元）", colMoney}, {"带动消费（元）", colMoney}, {"已支付时间", colTime}, {"出资区县", colText}}}
	for _, st := range sts {
		t.add(st.Day, st.MerchantID, st.MerchantName, names[st.District], st.Account, st.Redemptions, st.Reversals,
			st.SubsidyFen, st.ConsumptionFen, st.PaidAt, names[st.FundingDistrict])
	}
	return t
}

// merchantStatements shows the owner's daily statements, or exports them.
func (s *Server) merchantStatements(c echo.Context) error {
	from, to := s.dayRange(c, 30)
	sts, err := s.app.MerchantStatements(c.Request().Context(), cashierOf(c), from, to)
	if err != nil {
		return err
	}
	if f := c.QueryParam("format"); f != "" {
		return sendTable(c, statementTable("对账单_"+from+"_"+to, sts, s.names(c)))
	}
	return s.page(c, http.StatusOK, "merchant/statements", "title.statements", map[string]any{"Statements": sts, "From": from, "To": to, "Names": s.names(c)})
}

// officerSettlements lists statements of the district's merchants, with a
// button to mark each paid, or exports them.
func (s *Server) officerSettlements(c echo.Context) error {
	return s.settlementsPage(c, http.StatusOK, nil)
}

func (s *Server) settlementsPage(c echo.Context, status int, err error) error {
	from, to := s.dayRange(c, 7)
	sts, serr := s.app.DistrictStatements(c.Request().Context(), officerOf(c), from, to)
	if serr != nil {
		return serr
	}
	if f := c.QueryParam("format"); f != "" {
		if f == "csv" || f == "xlsx" {
			// The statements carry merchants' bank accounts: an export of
			// personal data is itself recorded in the audit log.
			if err := s.app.RecordExport(c.Request().Context(), officerOf(c), app.ActionExportSettlements,
				map[string]string{"from": from, "to": to, "format": f}); err != nil {
				return err
			}
		}
		return sendTable(c, statementTable("结算_"+from+"_"+to, sts, s.names(c)))
	}
	var total app.Fen
	for _, st := range sts {
		total += st.SubsidyFen
	}
	data := map[string]any{"Statements": sts, "From": from, "To": to, "Names": s.names(c), "Today": s.app.Today(), "Total": total}
	if err != nil {
		data["Error"] = s.locale(c).Err(err)
	}
	return s.page(c, status, "officer/settlements", "title.settlements", data)
}

// statementKey reads which statement to pay: merchant and day from the
// path, the funding district from the form or query (funding_district;
// empty: the officer's own district).
func statementKey(c echo.Context) (app.StatementKey, error) {
	merchant, err := strconv.ParseInt(c.Param("merchant"), 10, 64)
	if err != nil {
		return app.StatementKey{}, app.NotFound("merchant_not_found")
	}
	return app.StatementKey{MerchantID: merchant, Day: c.Param("day"), FundingDistrict: c.FormValue("funding_district")}, nil
}

func (s *Server) officerMarkPaid(c echo.Context) error {
	key, err := statementKey(c)
	if err != nil {
		return err
	}
	if _, err := s.app.MarkPaid(c.Request().Context(), officerOf(c), key); err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.settlementsPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "statement_paid")
	return c.Redirect(http.StatusSeeOther, "/officer/settlements?"+url.Values{"from": {c.FormValue("from")}, "to": {c.FormValue("to")}}.Encode())
}

func (s *Server) apiMerchantStatements(c echo.Context) error {
	from, to := s.dayRange(c, 30)
	sts, err := s.app.MerchantStatements(c.Request().Context(), cashierOf(c), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"statements": jsonList(sts)})
}

func (s *Server) apiSettlements(c echo.Context) error {
	from, to := s.dayRange(c, 7)
	sts, err := s.app.DistrictStatements(c.Request().Context(), officerOf(c), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"statements": jsonList(sts)})
}

func (s *Server) apiMarkPaid(c echo.Context) error {
	key, err := statementKey(c)
	if err != nil {
		return err
	}
	st, err := s.app.MarkPaid(c.Request().Context(), officerOf(c), key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}
