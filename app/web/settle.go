package web

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

func fmtAny(v any) string { return fmt.Sprint(v) }

// dayRange reads ?from=&to= (Asia/Shanghai dates), defaulting to the
// `days` days before today, and today.
func (s *Server) dayRange(c echo.Context, days int) (string, string) {
	yesterday := s.app.Now().In(app.Shanghai).AddDate(0, 0, -1)
	from, to := c.FormValue("from"), c.FormValue("to")
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

// merchantStatements shows the owner's daily statements, exports them, or
// prints one fund's statement of the period (?print=1&funding_district=).
func (s *Server) merchantStatements(c echo.Context) error {
	from, to := s.dayRange(c, 30)
	f := app.StatementFilter{From: from, To: to}
	if c.QueryParam("print") != "" {
		f.District = c.QueryParam("funding_district")
		sts, tot, err := s.app.MerchantStatements(c.Request().Context(), cashierOf(c), f)
		if err != nil {
			return err
		}
		f.MerchantID = cashierOf(c).MerchantID
		return s.printStatement(c, "merchant/statement_print", f, sts, tot)
	}
	sts, _, err := s.app.MerchantStatements(c.Request().Context(), cashierOf(c), f)
	if err != nil {
		return err
	}
	if format := c.QueryParam("format"); format != "" {
		return sendTable(c, statementTable("对账单_"+from+"_"+to, sts, s.names(c)))
	}
	claws, err := s.app.MerchantClawbacks(c.Request().Context(), cashierOf(c))
	if err != nil {
		return err
	}
	var funds []string
	for _, st := range sts {
		if !slices.Contains(funds, st.FundingDistrict) {
			funds = append(funds, st.FundingDistrict)
		}
	}
	return s.page(c, http.StatusOK, "merchant/statements", "title.statements", map[string]any{"Statements": sts, "From": from, "To": to,
		"Names": s.names(c), "Funds": funds, "Clawbacks": claws})
}

// settlementPageSize is how many statements a page of the officers' list
// shows; the totals, the export and a payment cover the whole selection.
const settlementPageSize = 50

// statementFilter reads the officers' settlement filters from the query
// (or a confirmation's form): from, to, funding_district,
// merchant_district, merchant (part of a name), merchant_id, paid, page.
func (s *Server) statementFilter(c echo.Context) (app.StatementFilter, int) {
	from, to := s.dayRange(c, 7)
	f := app.StatementFilter{From: from, To: to, District: c.FormValue("funding_district"),
		MerchantDistrict: c.FormValue("merchant_district"), Merchant: strings.TrimSpace(c.FormValue("merchant")), Paid: c.FormValue("paid")}
	f.MerchantID, _ = strconv.ParseInt(c.FormValue("merchant_id"), 10, 64)
	page, _ := strconv.Atoi(c.FormValue("page"))
	if page < 1 {
		page = 1
	}
	return f, page
}

// filterQuery writes a filter back as the query that selects it.
func filterQuery(f app.StatementFilter) url.Values {
	q := url.Values{"from": {f.From}, "to": {f.To}}
	for k, v := range map[string]string{"funding_district": f.District, "merchant_district": f.MerchantDistrict,
		"merchant": f.Merchant, "paid": f.Paid} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.MerchantID != 0 {
		q.Set("merchant_id", strconv.FormatInt(f.MerchantID, 10))
	}
	return q
}

// officerSettlements lists a page of statements in the officer's scope
// with the totals of the whole selection, or exports the selection.
func (s *Server) officerSettlements(c echo.Context) error {
	ctx := c.Request().Context()
	o := officerOf(c)
	f, page := s.statementFilter(c)
	if format := c.QueryParam("format"); format != "" {
		sts, _, err := s.app.DistrictStatements(ctx, o, f)
		if err != nil {
			return err
		}
		if format == "csv" || format == "xlsx" {
			// The statements carry merchants' bank accounts: an export of
			// personal data is itself recorded in the audit log.
			if err := s.app.RecordExport(ctx, o, app.ActionExportSettlements, map[string]string{"from": f.From, "to": f.To, "format": format}); err != nil {
				return err
			}
		}
		return sendTable(c, statementTable("结算_"+f.From+"_"+f.To, sts, s.names(c)))
	}
	f.Limit, f.Offset = settlementPageSize, (page-1)*settlementPageSize
	sts, tot, err := s.app.DistrictStatements(ctx, o, f)
	if err != nil {
		return err
	}
	pages := int((tot.Statements + settlementPageSize - 1) / settlementPageSize)
	q := filterQuery(f)
	pageLink := func(n int) string {
		if n < 1 || n > pages {
			return ""
		}
		v := filterQuery(f)
		v.Set("page", strconv.Itoa(n))
		return "/officer/settlements?" + v.Encode()
	}
	districts, err := s.app.Districts(ctx)
	if err != nil {
		return err
	}
	holds, err := s.app.SettlementHolds(ctx, o)
	if err != nil {
		return err
	}
	data := map[string]any{"Statements": sts, "F": f, "Totals": tot, "Names": s.names(c), "Today": s.app.Today(), "Holds": holds,
		"Districts": districts, "Query": template.URL(q.Encode()), "Page": page, "Pages": pages, "Prev": pageLink(page - 1), "Next": pageLink(page + 1),
		"CanPay": o.Role != app.RoleAuditor}
	return s.page(c, http.StatusOK, "officer/settlements", "title.settlements", data)
}

// settlementPayForm shows what paying a selection will do: the fund, the
// period, how many statements for how many merchants and the sum, and the
// form that pays exactly that. A row's "mark paid" comes here too, with a
// selection of one statement.
// payListed is how many of the statements to pay the confirmation lists;
// the figures above the list cover them all.
const payListed = 200

func (s *Server) settlementPayForm(c echo.Context) error {
	return s.payPage(c, http.StatusOK, nil)
}

func (s *Server) payPage(c echo.Context, status int, err error) error {
	ctx := c.Request().Context()
	o := officerOf(c)
	f, _ := s.statementFilter(c)
	if f.District == "" {
		f.District = o.District // the fund PayStatements pays from
	}
	f.Paid = app.UnpaidOnly
	sts, _, serr := s.app.DistrictStatements(ctx, o, f)
	if serr != nil {
		return serr
	}
	// The figures are the store's preview of the payment itself: what the
	// form then asks it to pay. An auditor sees them and no form.
	pay, perr := s.app.PaymentPreview(ctx, o, f)
	if perr != nil && app.ErrorCode(perr) != app.EFORBIDDEN {
		return perr
	}
	today := s.app.Today()
	due := sts[:0:0]
	for _, st := range sts {
		if st.Day < today && !st.Held {
			due = append(due, st)
		}
	}
	more := 0
	if len(due) > payListed {
		due, more = due[:payListed], len(due)-payListed
	}
	data := map[string]any{"F": f, "Pay": pay, "Due": due, "More": more, "Names": s.names(c),
		"Query": template.URL(filterQuery(f).Encode()), "CanPay": perr == nil && pay.Statements > 0}
	s.withError(c, data, err)
	return s.page(c, status, "officer/settlement_pay", "title.settlement_pay", data)
}

// settlementPay pays the selection the confirmation showed. The figures
// the officer saw come back with the form; the store pays only if it
// finds exactly them.
func (s *Server) settlementPay(c echo.Context) error {
	f, _ := s.statementFilter(c)
	n, _ := strconv.ParseInt(c.FormValue("expect_statements"), 10, 64)
	fen, _ := strconv.ParseInt(c.FormValue("expect_fen"), 10, 64)
	claw, _ := strconv.ParseInt(c.FormValue("expect_clawback_fen"), 10, 64)
	b, err := s.app.PayStatements(c.Request().Context(), officerOf(c), f,
		app.Payment{Statements: n, SubsidyFen: app.Fen(fen), ClawbackFen: app.Fen(claw)})
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.payPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "statements_paid")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/settlements/batches/%d", b.ID))
}

// paymentBatches lists the latest payment batches with their files.
func (s *Server) paymentBatches(c echo.Context) error {
	bs, err := s.app.PaymentBatches(c.Request().Context(), officerOf(c), 200)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "officer/batches", "title.batches", map[string]any{"Batches": bs, "Names": s.names(c)})
}

// paymentBatch shows one batch, or sends its payment file (?format=csv).
// The file is one line per merchant: 户名, 账号, 金额, 附言 (the
// reference), as docs/settlement.md documents for the bank.
func (s *Server) paymentBatch(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	o := officerOf(c)
	if c.QueryParam("format") == "" {
		b, err := s.app.PaymentBatch(c.Request().Context(), o, id)
		if err != nil {
			return err
		}
		return s.page(c, http.StatusOK, "officer/batch", "title.batch", map[string]any{"B": b, "Names": s.names(c)})
	}
	b, lines, err := s.app.PaymentFile(c.Request().Context(), o, id)
	if err != nil {
		return err
	}
	t := table{name: fmt.Sprintf("付款文件_%s_%d", b.FundingDistrict, b.ID), cols: []column{{"户名", colText}, {"账号", colIdent},
		{"金额（元）", colMoney}, {"附言", colIdent}, {"商户编号", colCount}, {"对账单数", colCount}, {"起始日期", colDay}, {"截止日期", colDay},
		{"应付补贴（元）", colMoney}, {"扣回（元）", colMoney}}}
	for _, l := range lines {
		t.add(l.MerchantName, l.Account, l.NetFen(), b.Reference(l.MerchantID), l.MerchantID, l.Statements, l.FromDay, l.ToDay,
			l.SubsidyFen, l.ClawbackFen)
	}
	if c.QueryParam("format") == "csv" {
		return sendBankFile(c, t)
	}
	return sendTable(c, t)
}

// sendBankFile writes the payment file for the bank's import, not for a
// spreadsheet: plain UTF-8 CSV without a byte-order mark, each value as it
// is (no ="…" or apostrophe guards, which a bank would take into the
// account number or the name), amounts as yuan with two decimals, CRLF
// line ends. docs/settlement.md documents it.
func sendBankFile(c echo.Context, t table) error {
	attachment(c, t, "csv", "text/csv; charset=utf-8")
	w := csv.NewWriter(c.Response())
	w.UseCRLF = true
	headers := make([]string, len(t.cols))
	for i, col := range t.cols {
		headers[i] = col.header
	}
	if err := w.Write(headers); err != nil {
		return err
	}
	rec := make([]string, len(t.cols))
	if err := t.forEach(func(values ...any) error {
		for i, v := range values {
			if f, ok := v.(app.Fen); ok {
				rec[i] = f.String()
			} else {
				rec[i] = fmt.Sprint(v)
			}
		}
		return w.Write(rec)
	}); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// statementPrint is the printable statement of one merchant from one fund
// over a period: every day's figures, the totals, and what is paid.
func (s *Server) statementPrint(c echo.Context) error {
	f, _ := s.statementFilter(c)
	if f.MerchantID == 0 {
		return app.Invalid("merchant_required")
	}
	o := officerOf(c)
	if f.District == "" {
		f.District = o.District
	}
	f.Paid = ""
	sts, tot, err := s.app.DistrictStatements(c.Request().Context(), o, f)
	if err != nil {
		return err
	}
	return s.printStatement(c, "officer/statement_print", f, sts, tot)
}

// printStatement shows the page (one per audience) of one merchant's
// statement from one fund.
func (s *Server) printStatement(c echo.Context, page string, f app.StatementFilter, sts []app.Statement, tot app.StatementTotals) error {
	m := app.Statement{MerchantID: f.MerchantID, FundingDistrict: f.District}
	if len(sts) > 0 {
		m = sts[0]
	}
	return s.page(c, http.StatusOK, page, "title.statement_print", map[string]any{"F": f, "M": m,
		"Statements": sts, "Totals": tot, "Names": s.names(c), "PrintedAt": s.app.Now()})
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

func (s *Server) apiMerchantStatements(c echo.Context) error {
	from, to := s.dayRange(c, 30)
	sts, _, err := s.app.MerchantStatements(c.Request().Context(), cashierOf(c), app.StatementFilter{From: from, To: to})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"statements": jsonList(sts)})
}

// apiSettlements lists statements with the page's filters; limit (at most
// apiSettlementLimit) and offset page them, and totals cover them all.
func (s *Server) apiSettlements(c echo.Context) error {
	f, _ := s.statementFilter(c)
	f.Limit, _ = strconv.Atoi(c.QueryParam("limit"))
	f.Offset, _ = strconv.Atoi(c.QueryParam("offset"))
	if f.Limit <= 0 || f.Limit > apiSettlementLimit {
		f.Limit = apiSettlementLimit
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	sts, tot, err := s.app.DistrictStatements(c.Request().Context(), officerOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"statements": jsonList(sts), "totals": tot})
}

const apiSettlementLimit = 1000

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

// apiPaymentPreview says what paying the selection (the list's filters)
// would do now: what a client confirms before POSTing the payment.
func (s *Server) apiPaymentPreview(c echo.Context) error {
	f, _ := s.statementFilter(c)
	p, err := s.app.PaymentPreview(c.Request().Context(), officerOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// payRequest is the API's payment of a selection: the page's filters and
// the figures the client confirmed (GET /api/v1/officer/settlements/pay,
// the preview: statements, subsidy_fen, clawback_fen).
type payRequest struct {
	From             string `json:"from"`
	To               string `json:"to"`
	FundingDistrict  string `json:"funding_district"`
	MerchantDistrict string `json:"merchant_district"`
	Merchant         string `json:"merchant"`
	MerchantID       int64  `json:"merchant_id"`
	ExpectStatements int64  `json:"expect_statements"`
	ExpectFen        int64  `json:"expect_fen"`
	ExpectClawback   int64  `json:"expect_clawback_fen"`
}

func (s *Server) apiPayStatements(c echo.Context) error {
	var in payRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	f := app.StatementFilter{From: in.From, To: in.To, District: in.FundingDistrict, MerchantDistrict: in.MerchantDistrict,
		Merchant: strings.TrimSpace(in.Merchant), MerchantID: in.MerchantID}
	b, err := s.app.PayStatements(c.Request().Context(), officerOf(c), f,
		app.Payment{Statements: in.ExpectStatements, SubsidyFen: app.Fen(in.ExpectFen), ClawbackFen: app.Fen(in.ExpectClawback)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

// holdActions are the two halves of a hold on a fund's payments to a
// merchant, each confirmed on its own page with its reason.
var holdActions = map[string]func(a *app.App, c echo.Context, by app.Officer, merchant int64, fund, why string) error{
	"hold": func(a *app.App, c echo.Context, by app.Officer, merchant int64, fund, why string) error {
		return a.HoldStatements(c.Request().Context(), by, merchant, fund, why)
	},
	"release": func(a *app.App, c echo.Context, by app.Officer, merchant int64, fund, why string) error {
		return a.ReleaseStatements(c.Request().Context(), by, merchant, fund, why)
	},
}

// holdForm shows what holding (or releasing) a merchant's payments does:
// its unpaid statements from the fund and their sum, and the reason box.
func (s *Server) holdForm(action string) echo.HandlerFunc {
	return func(c echo.Context) error { return s.holdPage(c, action, http.StatusOK, nil) }
}

func (s *Server) holdPage(c echo.Context, action string, status int, err error) error {
	o := officerOf(c)
	merchant, _ := strconv.ParseInt(c.FormValue("merchant_id"), 10, 64)
	fund := c.FormValue("funding_district")
	if fund == "" {
		fund = o.District
	}
	from, to := s.dayRange(c, 90)
	f := app.StatementFilter{MerchantID: merchant, District: fund, From: from, To: to, Paid: app.UnpaidOnly}
	sts, tot, serr := s.app.DistrictStatements(c.Request().Context(), o, f)
	if serr != nil {
		return serr
	}
	// The merchant is named to an officer of its district, or of a fund
	// that owes it: a 渝中 officer may hold what 渝中 owes a 江北 shop.
	name := ""
	if m, merr := s.app.Merchant(c.Request().Context(), merchant); merr == nil && (o.Sees(m.District) || len(sts) > 0) {
		name = m.Name
	}
	data := map[string]any{"Action": action, "MerchantID": merchant, "MerchantName": name, "Fund": fund, "Totals": tot,
		"Names": s.names(c), "Reason": c.FormValue("reason"), "CanAct": o.CanChange(fund)}
	s.withError(c, data, err)
	return s.page(c, status, "officer/settlement_hold", "title.settlement_"+action, data)
}

// hold acts on the confirmed form, or shows it again with the refusal.
func (s *Server) hold(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		merchant, _ := strconv.ParseInt(c.FormValue("merchant_id"), 10, 64)
		err := holdActions[action](s.app, c, officerOf(c), merchant, c.FormValue("funding_district"), c.FormValue("reason"))
		if err != nil {
			if app.ErrorCode(err) == app.EINTERNAL {
				return err
			}
			return s.holdPage(c, action, statusOf[app.ErrorCode(err)], err)
		}
		s.flash(c, "statements_"+action)
		return c.Redirect(http.StatusSeeOther, "/officer/settlements?paid=unpaid&merchant_id="+strconv.FormatInt(merchant, 10))
	}
}

// holdRequest is the API's hold or release: reason is the hold's reason,
// or what the review found.
type holdRequest struct {
	MerchantID      int64  `json:"merchant_id"`
	FundingDistrict string `json:"funding_district"`
	Reason          string `json:"reason"`
}

func (s *Server) apiHold(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in holdRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		if err := holdActions[action](s.app, c, officerOf(c), in.MerchantID, in.FundingDistrict, in.Reason); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) apiHolds(c echo.Context) error {
	hs, err := s.app.SettlementHolds(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"holds": jsonList(hs)})
}
