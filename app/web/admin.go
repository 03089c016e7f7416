package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// auditFilter reads the audit page's filters from the query string.
func auditFilter(c echo.Context) app.AuditFilter {
	f := app.AuditFilter{
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Entity: c.QueryParam("entity"),
		District: c.QueryParam("district"),
	}
	f.EntityID, _ = strconv.ParseInt(c.QueryParam("entity_id"), 10, 64)
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("from"), app.Shanghai); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("to"), app.Shanghai); err == nil {
		f.To = t.AddDate(0, 0, 1) // the whole "to" day
	}
	return f
}

// auditPage browses the audit log with filters, newest first, 50 a page;
// ?format=csv|xlsx exports every row of the filter, not one page: an
// export is the record an auditor takes away.
func (s *Server) auditPage(c echo.Context) error {
	f := auditFilter(c)
	if c.QueryParam("format") != "" {
		f.BeforeID = 0 // ?before= pages the screen; the export link of an older page still means the whole filter
		return sendTable(c, table{name: "审计日志",
			cols: []column{{"编号", colCount}, {"时间", colTime}, {"操作人", colText}, {"操作", colText}, {"对象", colText}, {"对象编号", colCount},
				{"区县", colIdent}, {"修改前", colText}, {"修改后", colText}, {"前一条哈希", colIdent}, {"本条哈希", colIdent}},
			each: func(emit func(...any) error) error {
				return s.app.EachAuditEntry(c.Request().Context(), officerOf(c), f, func(r app.AuditEntry) error {
					return emit(r.ID, r.At, r.Actor, r.Action, r.Entity, r.EntityID, r.District, r.BeforeJSON, r.AfterJSON, r.PrevHash, r.Hash)
				})
			}})
	}
	rows, err := s.app.AuditLog(c.Request().Context(), officerOf(c), f)
	if err != nil {
		return err
	}
	data := map[string]any{"Rows": rows, "F": f, "Q": c.QueryParams(), "Names": s.names(c)}
	if len(rows) == 50 {
		q := c.QueryParams()
		q.Set("before", itoa(rows[len(rows)-1].ID))
		data["Older"] = "/officer/audit?" + q.Encode()
	}
	return s.page(c, http.StatusOK, "officer/audit", "title.audit", data)
}

func (s *Server) apiAudit(c echo.Context) error {
	rows, err := s.app.AuditLog(c.Request().Context(), officerOf(c), auditFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": jsonList(rows)})
}

// officersPage lists officer accounts with a form for a new one (city admin only).
func (s *Server) officersPage(c echo.Context) error {
	return s.officersForm(c, http.StatusOK, app.OfficerInput{Role: app.RoleDistrictOfficer}, nil, nil)
}

// officerRoles are the roles the account form offers.
var officerRoles = []string{app.RoleDistrictOfficer, app.RoleAuditor, app.RoleCityAdmin, app.RoleSystemAdmin, app.RoleSecurityAdmin, app.RoleAuditAdmin}

func (s *Server) officersForm(c echo.Context, status int, in app.OfficerInput, created *app.NewOfficer, err error) error {
	ctx := c.Request().Context()
	list, lerr := s.app.Officers(ctx, officerOf(c))
	if lerr != nil {
		return lerr
	}
	ds, derr := s.app.Districts(ctx)
	if derr != nil {
		return derr
	}
	data := map[string]any{"Officers": list, "In": in, "Districts": ds, "Names": s.names(c), "Errors": map[string]string{},
		"Now": s.app.Now(), "Roles": officerRoles}
	if created != nil {
		data["Created"] = created
	}
	s.withError(c, data, err)
	return s.page(c, status, "officer/officers", "title.officers", data)
}

func officerInputFromForm(c echo.Context) app.OfficerInput {
	return app.OfficerInput{
		Username: c.FormValue("username"), Name: c.FormValue("name"),
		Role: c.FormValue("role"), District: c.FormValue("district"), CanApprove: c.FormValue("can_approve") == "1",
	}
}

func (s *Server) officerCreate(c echo.Context) error {
	in := officerInputFromForm(c)
	created, err := s.app.CreateOfficer(c.Request().Context(), officerOf(c), in)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.officersForm(c, http.StatusUnprocessableEntity, in, nil, err)
		}
		return err
	}
	// The activation code is shown on this answer only (never in a URL, a
	// flash cookie or the log): the creator hands it to the holder, who
	// sets the password at /officer/activate.
	return s.officersForm(c, http.StatusCreated, app.OfficerInput{Role: app.RoleDistrictOfficer}, &created, nil)
}

func (s *Server) setDisabled(disabled bool, api bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return app.NotFound("officer_not_found")
		}
		if err := s.app.SetOfficerDisabled(c.Request().Context(), officerOf(c), id, disabled); err != nil {
			return err
		}
		if api {
			return c.NoContent(http.StatusNoContent)
		}
		s.flash(c, map[bool]string{true: "officer_disabled", false: "officer_enabled"}[disabled])
		return c.Redirect(http.StatusSeeOther, "/officer/officers")
	}
}

func (s *Server) officerDisable(c echo.Context) error    { return s.setDisabled(true, false)(c) }
func (s *Server) officerEnable(c echo.Context) error     { return s.setDisabled(false, false)(c) }
func (s *Server) apiOfficerDisable(c echo.Context) error { return s.setDisabled(true, true)(c) }
func (s *Server) apiOfficerEnable(c echo.Context) error  { return s.setDisabled(false, true)(c) }

func (s *Server) apiOfficers(c echo.Context) error {
	list, err := s.app.Officers(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"officers": list})
}

func (s *Server) apiOfficerCreate(c echo.Context) error {
	var in app.OfficerInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	created, err := s.app.CreateOfficer(c.Request().Context(), officerOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, created)
}
