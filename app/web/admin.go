package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// officersPage lists officer accounts with a form for a new one (city admin only).
func (s *Server) officersPage(c echo.Context) error {
	return s.officersForm(c, http.StatusOK, app.OfficerInput{Role: app.RoleDistrictOfficer}, nil, nil)
}

// officerRoles are the roles the account form offers.
var officerRoles = []string{app.RoleDistrictOfficer, app.RoleAuditor, app.RoleCityAdmin, app.RoleStation, app.RoleSystemAdmin, app.RoleSecurityAdmin, app.RoleAuditAdmin}

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
