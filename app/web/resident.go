package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"cqvoucher/app"
)

// residentHome lists live and upcoming campaigns with a claim button per tier.
func (s *Server) residentHome(c echo.Context) error {
	camps, err := s.app.LiveCampaigns(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.app.Now()
	rows := make([]map[string]any, len(camps))
	for i, camp := range camps {
		rows[i] = map[string]any{"C": camp, "Phase": camp.Phase(now), "NextDrop": camp.NextDrop(now)}
	}
	data := map[string]any{"Rows": rows, "Names": s.names(c), "RequestKey": newIdempotencyKey()}
	s.optionalResident(c)
	return s.page(c, http.StatusOK, "resident/home", "title.resident_home", data)
}

// optionalResident marks the resident as signed in on public pages that
// look different for them, without requiring it.
func (s *Server) optionalResident(c echo.Context) {
	ctx := c.Request().Context()
	if se, err := s.app.Session(ctx, app.KindResident, sessionToken(c, residents)); err == nil {
		if r, err := s.app.Resident(ctx, se.SubjectID); err == nil {
			c.Set(ctxResident, r)
		}
	}
}

func (s *Server) residentLoginForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "resident/login", "title.resident_login", map[string]any{"Phone": c.QueryParam("phone")})
}

// residentSendCode sends a sign-in code and shows the code step.
func (s *Server) residentSendCode(c echo.Context) error {
	raw := c.FormValue("phone")
	phone, err := s.app.SendSignInCode(c.Request().Context(), raw)
	data := map[string]any{"Phone": raw}
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL && app.ErrorReason(err) != "sms_failed" {
			return err
		}
		data["Error"] = s.locale(c).Err(err)
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/login", "title.resident_login", data)
	}
	data["Phone"], data["CodeSent"] = phone, true
	return s.page(c, http.StatusOK, "resident/login", "title.resident_login", data)
}

func (s *Server) residentLogin(c echo.Context) error {
	phone := c.FormValue("phone")
	_, tok, err := s.app.LoginResident(c.Request().Context(), phone, c.FormValue("code"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/login", "title.resident_login",
			map[string]any{"Phone": phone, "CodeSent": true, "Error": s.locale(c).Err(err)})
	}
	s.startSession(c, residents, tok)
	return c.Redirect(http.StatusSeeOther, "/m/wallet")
}

func (s *Server) residentLogout(c echo.Context) error {
	if err := s.endSession(c, residents); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/m")
}

// residentClaim claims one voucher; the answer, good or bad, is shown on the wallet.
func (s *Server) residentClaim(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	tier, _ := strconv.ParseInt(c.FormValue("tier"), 10, 64)
	v, err := s.app.Claim(c.Request().Context(), residentOf(c), id, tier, c.FormValue("request_key"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.claimAnswer(c, statusOf[app.ErrorCode(err)], s.locale(c).Err(err))
	}
	s.flash(c, "voucher_claimed")
	return c.Redirect(http.StatusSeeOther, "/m/vouchers/"+v.Code)
}

func (s *Server) claimAnswer(c echo.Context, status int, msg string) error {
	camps, err := s.app.LiveCampaigns(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.app.Now()
	rows := make([]map[string]any, len(camps))
	for i, camp := range camps {
		rows[i] = map[string]any{"C": camp, "Phase": camp.Phase(now), "NextDrop": camp.NextDrop(now)}
	}
	return s.page(c, status, "resident/home", "title.resident_home", map[string]any{"Rows": rows, "Names": s.names(c), "Error": msg, "RequestKey": newIdempotencyKey()})
}

func (s *Server) residentWallet(c echo.Context) error {
	vs, err := s.app.Wallet(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	now := s.app.Now()
	rows := make([]map[string]any, len(vs))
	for i, v := range vs {
		rows[i] = map[string]any{"V": v, "State": v.State(now)}
	}
	return s.page(c, http.StatusOK, "resident/wallet", "title.wallet", map[string]any{"Rows": rows, "Names": s.names(c)})
}

// residentVoucher shows one voucher large, as a QR with the manual code under it.
func (s *Server) residentVoucher(c echo.Context) error {
	v, err := s.app.VoucherOf(c.Request().Context(), residentOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "resident/voucher", "title.voucher",
		map[string]any{"V": v, "State": v.State(s.app.Now()), "Names": s.names(c)})
}

// residentVoucherQR renders the voucher's QR. Its content never changes,
// so the browser may keep the image as long as it likes.
func (s *Server) residentVoucherQR(c echo.Context) error {
	v, err := s.app.VoucherOf(c.Request().Context(), residentOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(s.qrText(v.Token), qrcode.Medium, 512)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "image/png", png)
}

// qrText is what a voucher's QR carries: a URL any phone camera can open,
// which the cashier page also understands.
func (s *Server) qrText(tok string) string { return s.cfg.BaseURL + "/v/" + tok }
