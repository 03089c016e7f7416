package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// Voiding a voucher, with four eyes: one officer asks on the void page
// (the voucher's facts and a required reason), another decides on the
// request's page. The API mirrors both; /.well-known/revoked.json
// publishes the voided for offline verifiers and the cashier page.

// voidForm shows the voucher named by ?code= and the reason box, or only
// the code box.
func (s *Server) voidForm(c echo.Context) error { return s.voidPage(c, http.StatusOK, nil) }

func (s *Server) voidPage(c echo.Context, status int, err error) error {
	data := map[string]any{"Code": c.FormValue("code"), "Reason": c.FormValue("reason"), "Names": s.names(c)}
	if code := c.FormValue("code"); code != "" {
		v, verr := s.app.VoucherForOfficer(c.Request().Context(), officerOf(c), code)
		switch {
		case verr == nil:
			data["V"], data["State"] = v, v.State(s.app.Now())
		case app.ErrorCode(verr) == app.EINTERNAL:
			return verr
		case err == nil:
			err = verr
		}
	}
	s.withError(c, data, err)
	return s.page(c, status, "officer/void", "title.void", data)
}

func (s *Server) voidRequest(c echo.Context) error {
	r, err := s.app.RequestVoid(c.Request().Context(), officerOf(c), c.FormValue("code"), c.FormValue("reason"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.voidPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "void_requested")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/voids/%d", r.ID))
}

// voidList lists the requests, pending first.
func (s *Server) voidList(c echo.Context) error {
	rs, err := s.app.VoidRequests(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "officer/voids", "title.voids", map[string]any{"Requests": rs, "Names": s.names(c)})
}

// voidShow shows one request with, for an officer who may decide it,
// what approving does and the two buttons.
func (s *Server) voidShow(c echo.Context) error { return s.voidShowPage(c, http.StatusOK, nil) }

func (s *Server) voidShowPage(c echo.Context, status int, err error) error {
	id, perr := paramID(c)
	if perr != nil {
		return perr
	}
	o := officerOf(c)
	r, rerr := s.app.VoidRequestFor(c.Request().Context(), o, id)
	if rerr != nil {
		return rerr
	}
	data := map[string]any{"R": r, "Names": s.names(c), "Note": c.FormValue("note"),
		"CanDecide": r.Pending() && o.CanApprove && o.CanChange(r.District) && o.Role != app.RoleAuditor && o.ID != r.RequestedBy,
		"Own":       r.Pending() && o.ID == r.RequestedBy}
	s.withError(c, data, err)
	return s.page(c, status, "officer/void_show", "title.void_show", data)
}

// voidDecide approves or rejects the request on its page.
func (s *Server) voidDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c)
		if err != nil {
			return err
		}
		if _, err := s.app.DecideVoid(c.Request().Context(), officerOf(c), id, approve, c.FormValue("note")); err != nil {
			if app.ErrorCode(err) == app.EINTERNAL || app.ErrorCode(err) == app.ENOTFOUND {
				return err
			}
			return s.voidShowPage(c, statusOf[app.ErrorCode(err)], err)
		}
		s.flash(c, map[bool]string{true: "void_approved", false: "void_rejected"}[approve])
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/voids/%d", id))
	}
}

type voidBody struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

func (s *Server) apiVoidRequest(c echo.Context) error {
	var in voidBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.app.RequestVoid(c.Request().Context(), officerOf(c), in.Code, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) apiVoids(c echo.Context) error {
	rs, err := s.app.VoidRequests(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"voids": jsonList(rs)})
}

func (s *Server) apiVoidDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c)
		if err != nil {
			return err
		}
		var in voidBody
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		r, err := s.app.DecideVoid(c.Request().Context(), officerOf(c), id, approve, in.Note)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	}
}

// revoked publishes the voided vouchers per signing key, for verifiers
// that check tokens offline (docs/revocation.md); the cashier page reads
// it too.
func (s *Server) revoked(c echo.Context) error {
	keys, err := s.app.RevokedList(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.JSON(http.StatusOK, map[string]any{"keys": keys})
}
