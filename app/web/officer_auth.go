package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"cqvoucher/app"
)

// officersEnrolling are officers between the password and the second
// factor's enrolment: their session opens the enrolment page only.
var officersEnrolling = audience{kind: app.KindOfficerEnrol, cookie: "cqv_officer_enrol", login: "/officer/login"}

// officerAuthRoutes adds activation, second-factor enrolment and the
// security administrator's account actions.
func (s *Server) officerAuthRoutes(e *echo.Echo, og, ao *echo.Group, loginLimit echo.MiddlewareFunc) {
	e.GET("/officer/activate", s.activateForm)
	e.POST("/officer/activate", s.activate, loginLimit)
	e.GET("/officer/2fa", s.enrolForm)
	e.GET("/officer/2fa/qr.png", s.enrolQR)
	e.POST("/officer/2fa", s.enrolFinish, loginLimit)
	og.POST("/officers/:id/reset-2fa", s.officerAction(false, s.app.ResetSecondFactor, "officer_2fa_reset"))
	og.POST("/officers/:id/unlock", s.officerAction(false, s.app.UnlockOfficer, "officer_unlocked"))
	ao.POST("/officers/:id/reset-2fa", s.officerAction(true, s.app.ResetSecondFactor, ""))
	ao.POST("/officers/:id/unlock", s.officerAction(true, s.app.UnlockOfficer, ""))
}

func (s *Server) activateForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "officer/activate", "title.officer_activate",
		map[string]any{"Username": c.QueryParam("username"), "Errors": map[string]string{}})
}

// activate sets a new account's password with its activation code.
func (s *Server) activate(c echo.Context) error {
	username := c.FormValue("username")
	_, err := s.app.ActivateOfficer(c.Request().Context(), username, c.FormValue("code"), c.FormValue("password"), c.FormValue("password_repeat"))
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			return err
		}
		data := map[string]any{"Username": username}
		s.withError(c, data, err)
		return s.page(c, http.StatusUnprocessableEntity, "officer/activate", "title.officer_activate", data)
	}
	s.flash(c, "officer_activated")
	return c.Redirect(http.StatusSeeOther, "/officer/login")
}

// enrolForm shows the QR of a new TOTP secret and asks for one code.
func (s *Server) enrolForm(c echo.Context) error {
	return s.enrolPage(c, http.StatusOK, nil)
}

func (s *Server) enrolPage(c echo.Context, status int, err error) error {
	en, serr := s.app.StartEnrolment(c.Request().Context(), sessionToken(c, officersEnrolling))
	if serr != nil {
		if app.ErrorCode(serr) == app.EUNAUTHORIZED || app.ErrorCode(serr) == app.ECONFLICT {
			return c.Redirect(http.StatusSeeOther, "/officer/login")
		}
		return serr
	}
	data := map[string]any{"Secret": en.Secret, "Username": en.Officer.Username}
	s.withError(c, data, err)
	return s.page(c, status, "officer/enrol", "title.officer_enrol", data)
}

// enrolQR is the enrolment secret as a QR image, rendered here: the
// secret must not travel to a third-party QR service.
func (s *Server) enrolQR(c echo.Context) error {
	en, err := s.app.StartEnrolment(c.Request().Context(), sessionToken(c, officersEnrolling))
	if err != nil {
		return app.NotFound("page_not_found")
	}
	png, err := qrcode.Encode(en.URL, qrcode.Medium, 256)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}

// enrolFinish checks the first code, enables the second factor, signs
// the officer in and shows the recovery codes, once.
func (s *Server) enrolFinish(c echo.Context) error {
	tok, codes, err := s.app.FinishEnrolment(c.Request().Context(), sessionToken(c, officersEnrolling), c.FormValue("code"))
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.enrolPage(c, http.StatusUnprocessableEntity, err)
		}
		if app.ErrorCode(err) == app.EUNAUTHORIZED || app.ErrorCode(err) == app.ECONFLICT {
			return c.Redirect(http.StatusSeeOther, "/officer/login")
		}
		return err
	}
	c.SetCookie(&http.Cookie{Name: officersEnrolling.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies})
	s.startSession(c, officers, tok)
	return s.page(c, http.StatusOK, "officer/recovery", "title.officer_recovery", map[string]any{"Codes": codes})
}

// officerAction runs a security administrator's action on an account.
func (s *Server) officerAction(api bool, act func(ctx context.Context, by app.Officer, id int64) error, flash string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return app.NotFound("officer_not_found")
		}
		if err := act(c.Request().Context(), officerOf(c), id); err != nil {
			return err
		}
		if api {
			return c.NoContent(http.StatusNoContent)
		}
		s.flash(c, flash)
		return c.Redirect(http.StatusSeeOther, "/officer/officers")
	}
}
