package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// Officers' merchant review: a paged list (pending applications first),
// each merchant's file with what to verify, and a confirmation page per
// decision whose form alone acts. The list and the file change nothing;
// the API's twins call the same App functions.

// officerMerchants is the review list: status tabs with their counts, a
// district (city-wide officers) and name/USCC filter, 50 a page.
func (s *Server) officerMerchants(c echo.Context) error {
	q := c.QueryParams()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	ctx := c.Request().Context()
	o := officerOf(c)
	list, err := s.app.MerchantsFor(ctx, o, app.MerchantFilter{
		Status: q.Get("status"), District: q.Get("district"), Search: q.Get("q"), Offset: (page - 1) * app.MerchantPageSize,
	})
	if err != nil {
		return err
	}
	f := list.Filter
	// link is this list with the filter as applied and one value changed;
	// any other change starts again at page 1.
	link := func(key, value string) string {
		v := url.Values{}
		for k, x := range map[string]string{"status": f.Status, "q": f.Search} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if o.SeesAllDistricts() && f.District != "" {
			v.Set("district", f.District)
		}
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		if len(v) == 0 {
			return "/officer/merchants"
		}
		return "/officer/merchants?" + v.Encode()
	}
	type tab struct {
		Status, URL string
		Count       int
		Active      bool
	}
	all := 0
	for _, n := range list.ByStatus {
		all += n
	}
	tabs := []tab{{Status: "", URL: link("status", ""), Count: all, Active: f.Status == ""}}
	for _, st := range app.MerchantStatuses {
		tabs = append(tabs, tab{Status: st, URL: link("status", st), Count: list.ByStatus[st], Active: f.Status == st})
	}
	pages := max((list.Total+app.MerchantPageSize-1)/app.MerchantPageSize, 1)
	data := map[string]any{"List": list, "F": f, "Tabs": tabs, "Names": s.names(c), "Page": page, "Pages": pages}
	if page > 1 {
		data["PrevURL"] = link("page", strconv.Itoa(page-1))
	}
	if page < pages {
		data["NextURL"] = link("page", strconv.Itoa(page+1))
	}
	if o.SeesAllDistricts() {
		ds, err := s.app.Districts(ctx)
		if err != nil {
			return err
		}
		data["Districts"] = ds
	}
	return s.page(c, http.StatusOK, "officer/merchants", "title.officer_merchants", data)
}

// merchantParam is the :id of the path.
func merchantParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.NotFound("merchant_not_found")
	}
	return id, nil
}

// officerMerchant is a merchant's file: the licence fields as submitted,
// the USCC's checksum, masked contact data, the review history and the
// decisions open to this officer (links to their confirmations).
func (s *Server) officerMerchant(c echo.Context) error {
	id, err := merchantParam(c)
	if err != nil {
		return err
	}
	file, err := s.app.MerchantFileFor(c.Request().Context(), officerOf(c), id)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "officer/merchant", "title.officer_merchant",
		map[string]any{"File": file, "M": file.Merchant, "Names": s.names(c)})
}

// merchantConfirm says what a review decision will do, with the form
// that makes it.
func (s *Server) merchantConfirm(c echo.Context) error {
	return s.merchantConfirmPage(c, http.StatusOK, nil)
}

func (s *Server) merchantConfirmPage(c echo.Context, status int, err error) error {
	action := c.Param("action")
	if !app.IsReviewAction(action) {
		return echo.ErrNotFound
	}
	id, perr := merchantParam(c)
	if perr != nil {
		return perr
	}
	file, ferr := s.app.MerchantFileFor(c.Request().Context(), officerOf(c), id)
	if ferr != nil {
		return ferr
	}
	if !file.CanDecide {
		return app.Forbidden("read_only")
	}
	m := file.Merchant
	l := s.locale(c)
	page := "/officer/merchants/" + itoa(id)
	check := l.T("merchant.uscc_ok")
	if !m.USCCChecksumOK {
		check = l.T("merchant.uscc_mismatch")
	}
	cf := confirmation{
		Heading: l.T("merchant.confirm.title."+action, "name", m.Name), Post: page + "/" + action, Cancel: page,
		Button: l.T("merchant.confirm.button." + action), Warn: action == "suspend" || action == "reject",
		Effects: []string{l.T("merchant.confirm."+action, "cashiers", file.Cashiers)},
		Facts: []fact{
			{l.T("field.merchant_name"), m.Name}, {l.T("field.uscc"), m.USCC + " · " + check},
			{l.T("field.district"), s.names(c)[m.District]}, {l.T("field.status"), l.T("merchant_status." + m.Status)},
			{l.T("merchant.cashiers"), itoa(int64(file.Cashiers))},
			{l.T("merchant.unpaid"), l.T("merchant.unpaid_value", "n", file.Unpaid, "amount", file.UnpaidFen.Grouped())},
		},
	}
	if action == "approve" && !m.USCCChecksumOK {
		cf.Problem = l.T("merchant.confirm.uscc_mismatch")
	}
	if action == "suspend" && file.Unpaid > 0 {
		cf.Effects = append(cf.Effects, l.T("merchant.confirm.suspend_unpaid", "n", file.Unpaid, "amount", file.UnpaidFen.Grouped()))
	}
	if app.ReviewNeedsReason(action) {
		cf.Reason = &reasonField{Label: l.T("merchant.reason." + action), Value: c.FormValue("reason")}
	}
	return s.confirmationPage(c, status, cf, err)
}

// officerReviewMerchant makes a decision posted from its confirmation
// page; a refusal shows that page again with the reason and what was typed.
func (s *Server) officerReviewMerchant(c echo.Context) error {
	id, err := merchantParam(c)
	if err != nil {
		return err
	}
	action := c.Param("action")
	if err := s.app.ReviewMerchant(c.Request().Context(), officerOf(c), id, action, c.FormValue("reason")); err != nil {
		switch app.ErrorCode(err) {
		case app.EINTERNAL, app.ENOTFOUND, app.EFORBIDDEN:
			return err
		}
		return s.merchantConfirmPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "merchant_"+action)
	return c.Redirect(http.StatusSeeOther, "/officer/merchants/"+itoa(id))
}

// apiOfficerMerchants is the review list: ?status=&district=&q=&limit=&offset=.
func (s *Server) apiOfficerMerchants(c echo.Context) error {
	q := c.QueryParams()
	f := app.MerchantFilter{Status: q.Get("status"), District: q.Get("district"), Search: q.Get("q")}
	for key, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return &app.Error{Code: app.EINVALID, Reason: "bad_request", Fields: map[string]string{key: "bad_request"}}
			}
			*dst = n
		}
	}
	list, err := s.app.MerchantsFor(c.Request().Context(), officerOf(c), f)
	if err != nil {
		return err
	}
	list.Merchants = jsonList(list.Merchants)
	return c.JSON(http.StatusOK, list)
}

func (s *Server) apiReviewMerchant(c echo.Context) error {
	id, err := merchantParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	if err := s.app.ReviewMerchant(c.Request().Context(), officerOf(c), id, c.Param("action"), req.Reason); err != nil {
		return err
	}
	m, err := s.app.Merchant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
