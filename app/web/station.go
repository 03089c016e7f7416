package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/skip2/go-qrcode"

	"cqvoucher/app"
)

// Community service stations (社区服务站): staff claim vouchers for
// residents who come in (assisted claims) and print them as cards. Their
// accounts open these pages and this API only; every other officer route
// refuses them (notStation), and these refuse every other role.

// stationRoutes registers the station's pages and API.
func (s *Server) stationRoutes(e *echo.Echo, api *echo.Group, smsLimit echo.MiddlewareFunc) {
	sg := e.Group("/station", s.requireSignIn(officers), onlyStation)
	sg.GET("", s.stationHome)
	sg.POST("/code", s.stationSendCode, smsLimit)
	sg.POST("/claims", s.stationClaim)
	sg.GET("/vouchers/:code/card", s.stationCard)
	sg.GET("/vouchers/:code/qr.png", s.stationVoucherQR)
	sg.POST("/logout", s.officerLogout)

	as := api.Group("/station", s.requireSignIn(officers), onlyStation)
	as.POST("/sms", s.apiStationSendCode, smsLimit)
	as.POST("/claims", s.apiStationClaim)
	as.GET("/vouchers/:code", s.apiStationVoucher)
	as.DELETE("/sessions", s.apiOfficerLogout)
}

// notStation keeps station staff out of the officer pages and API,
// except signing out.
func notStation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if officerOf(c).Role == app.RoleStation && !isSignOut(c) {
			return app.Forbidden("not_for_station")
		}
		return next(c)
	}
}

func isSignOut(c echo.Context) bool {
	p := c.Request().URL.Path
	return (c.Request().Method == http.MethodPost && p == "/officer/logout") ||
		(c.Request().Method == http.MethodDelete && p == "/api/v1/officer/sessions")
}

// onlyStation lets only station staff in.
func onlyStation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if officerOf(c).Role != app.RoleStation {
			return app.Forbidden("station_only")
		}
		return next(c)
	}
}

// stationCampaigns are the live campaigns the station claims for: its
// district's and the city's.
func (s *Server) stationCampaigns(c echo.Context) ([]app.Campaign, error) {
	o := officerOf(c)
	cs, err := s.app.LiveCampaigns(c.Request().Context())
	if err != nil {
		return nil, err
	}
	out := cs[:0:0]
	for _, camp := range cs {
		if camp.District == o.District || camp.District == app.CityCode {
			out = append(out, camp)
		}
	}
	return out, nil
}

// stationPage renders the station's claim form with data.
func (s *Server) stationPage(c echo.Context, status int, data map[string]any) error {
	cs, err := s.stationCampaigns(c)
	if err != nil {
		return err
	}
	data["Campaigns"] = cs
	data["Names"] = s.names(c)
	data["NeedsName"] = s.app.IdentityNeedsName()
	if _, ok := data["RequestKey"]; !ok {
		data["RequestKey"] = newRequestKey()
	}
	return s.page(c, status, "station/home", "title.station", data)
}

func (s *Server) stationHome(c echo.Context) error {
	return s.stationPage(c, http.StatusOK, map[string]any{})
}

// stationSendCode sends the resident's sign-in code; the form then asks
// for it, with the campaign.
func (s *Server) stationSendCode(c echo.Context) error {
	raw := c.FormValue("phone")
	phone, err := s.app.StationSendCode(app.WithRequester(c.Request().Context(), c.RealIP()), officerOf(c), raw, consented(c))
	data := map[string]any{"Phone": raw}
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL && app.ErrorReason(err) != "sms_failed" {
			return err
		}
		data["Error"] = s.locale(c).Err(err)
		return s.stationPage(c, statusOf[app.ErrorCode(err)], data)
	}
	data["Phone"], data["MaskedPhone"], data["CodeSent"] = phone, app.Resident{Phone: phone}.MaskedPhone(), true
	return s.stationPage(c, http.StatusOK, data)
}

// stationClaim claims for the resident and opens the voucher's card.
func (s *Server) stationClaim(c echo.Context) error {
	in := app.AssistedClaimInput{Phone: c.FormValue("phone"), Code: c.FormValue("code"),
		IDNumber: c.FormValue("id_number"), Name: c.FormValue("name"), RequestKey: c.FormValue("request_key")}
	in.CampaignID, in.TierID = splitTier(c.FormValue("tier"))
	refused := func(err error) error {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.stationPage(c, statusOf[app.ErrorCode(err)], map[string]any{"Phone": in.Phone, "CodeSent": true,
			"MaskedPhone": maskedInput(in.Phone), "Tier": c.FormValue("tier"), "RequestKey": in.RequestKey,
			"Error": s.locale(c).Err(err)})
	}
	ctx := app.WithRequester(c.Request().Context(), c.RealIP())
	// A lottery's vouchers come by the draw: the station registers the
	// resident for it instead (the same button, the campaign decides).
	if camp, err := s.app.PublicCampaign(ctx, in.CampaignID); err == nil && camp.LotteryClosesAt != nil && camp.LotteryDrawnAt == nil {
		reg, err := s.app.AssistedRegistration(ctx, officerOf(c), in)
		if err != nil {
			return refused(err)
		}
		return s.stationPage(c, http.StatusOK, map[string]any{"Registered": reg, "RegisteredCampaign": camp.Name})
	}
	v, err := s.app.AssistedClaim(ctx, officerOf(c), in)
	if err != nil {
		return refused(err)
	}
	s.flash(c, "station_claimed")
	return c.Redirect(http.StatusSeeOther, "/station/vouchers/"+v.Code+"/card")
}

// splitTier reads "campaign:tier" from the form's one choice.
func splitTier(s string) (int64, int64) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			cid, _ := strconv.ParseInt(s[:i], 10, 64)
			tid, _ := strconv.ParseInt(s[i+1:], 10, 64)
			return cid, tid
		}
	}
	return 0, 0
}

// cardLayout is the card's size: A6 (the default) or a receipt printer's
// 80 mm roll.
func cardLayout(c echo.Context) string {
	if c.QueryParam("layout") == "receipt" {
		return "receipt"
	}
	return "a6"
}

// stationCard is the printable card of a voucher claimed at the station:
// the same signed QR and code as on the resident's phone, so it redeems
// the same way. Each opening is recorded as a print.
func (s *Server) stationCard(c echo.Context) error {
	layout := cardLayout(c)
	v, err := s.app.PrintCard(c.Request().Context(), officerOf(c), c.Param("code"), layout)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "station/card", "title.station_card", map[string]any{
		"V": v, "State": v.State(s.app.Now()), "Layout": layout, "Names": s.names(c)})
}

// stationVoucherQR is the card's QR, made as the resident's is.
func (s *Server) stationVoucherQR(c echo.Context) error {
	v, err := s.app.StationVoucher(c.Request().Context(), officerOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	png, err := s.voucherQR(v)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "image/png", png)
}

// voucherQR is a voucher's QR image, from the cache when it is there.
func (s *Server) voucherQR(v app.Voucher) ([]byte, error) {
	if png, ok := s.qr.get(v.Code); ok {
		return png, nil
	}
	png, err := qrcode.Encode(s.qrText(v.Token), qrcode.Medium, 512)
	if err != nil {
		return nil, err
	}
	s.qr.put(v.Code, png)
	return png, nil
}

func (s *Server) apiStationSendCode(c echo.Context) error {
	var req struct {
		Phone  string `json:"phone"`
		Agreed bool   `json:"agreed"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	phone, err := s.app.StationSendCode(app.WithRequester(c.Request().Context(), c.RealIP()), officerOf(c), req.Phone, req.Agreed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"phone": app.Resident{Phone: phone}.MaskedPhone(),
		"resend_after": int(s.app.SMSResendAfter().Seconds())})
}

// stationVoucherJSON is a voucher as the station's API shows it.
type stationVoucherJSON struct {
	voucherJSON
	Assisted bool `json:"assisted"`
}

func (s *Server) apiStationClaim(c echo.Context) error {
	var in app.AssistedClaimInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		in.RequestKey = k
	}
	v, err := s.app.AssistedClaim(app.WithRequester(c.Request().Context(), c.RealIP()), officerOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, stationVoucherJSON{voucherJSON{Voucher: v, State: v.State(s.app.Now()), QRText: s.qrText(v.Token)}, true})
}

func (s *Server) apiStationVoucher(c echo.Context) error {
	v, err := s.app.StationVoucher(c.Request().Context(), officerOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, stationVoucherJSON{voucherJSON{Voucher: v, State: v.State(s.app.Now()), QRText: s.qrText(v.Token)}, true})
}

// newRequestKey makes the claim form's idempotency key: a staff member's
// second press of the same form gets the voucher the first produced.
func newRequestKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "st-" + hex.EncodeToString(b)
}
