package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// bindJSON decodes a JSON body strictly: unknown fields and trailing data
// are errors, so a client's typo is reported rather than ignored.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return app.Invalid("json_required")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return app.Invalid("bad_json")
	}
	if dec.More() {
		return app.Invalid("bad_json")
	}
	return nil
}

// jsonList is a JSON array that is [] when empty, never null: openapi.json
// promises arrays, and clients (the live page's script among them) iterate
// them without a null check. A nil Go slice would marshal as null.
func jsonList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Code     string `json:"code"` // officers: the TOTP code or a recovery code
}

type sessionResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires_at,omitzero"`
	Account any       `json:"account"`
}

func (s *Server) apiOfficerLogin(c echo.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in, err := s.app.LoginOfficer(c.Request().Context(), req.Username, req.Password, req.Code)
	if err != nil {
		return err
	}
	if in.Enrol {
		// The second factor is enrolled on the sign-in page (it shows a QR).
		if err := s.app.SignOut(c.Request().Context(), in.Token); err != nil {
			return err
		}
		return app.Forbidden("totp_enrolment_required")
	}
	return c.JSON(http.StatusCreated, sessionResponse{Token: in.Token, Expires: s.app.SessionExpiry(app.KindOfficer), Account: in.Officer})
}

func (s *Server) apiCashierLogin(c echo.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cs, tok, err := s.app.LoginCashier(c.Request().Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sessionResponse{Token: tok, Expires: s.app.SessionExpiry(app.KindCashier), Account: cs})
}

func (s *Server) apiResidentSendCode(c echo.Context) error {
	var req struct {
		Phone   string `json:"phone"`
		Consent bool   `json:"consent"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if !req.Consent {
		return app.ErrConsentRequired()
	}
	if _, err := s.app.SendSignInCode(app.WithRequester(c.Request().Context(), c.RealIP()), req.Phone); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"status": "sent", "terms_version": s.app.Terms().Version,
		"resend_after_seconds": int(s.app.SMSResendAfter().Seconds())})
}

func (s *Server) apiResidentLogin(c echo.Context) error {
	var req struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, tok, err := s.app.LoginResident(app.WithRequester(c.Request().Context(), c.RealIP()), req.Phone, req.Code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sessionResponse{Token: tok, Expires: s.app.SessionExpiry(app.KindResident), Account: map[string]any{"id": r.ID, "phone": r.MaskedPhone()}})
}

func (s *Server) apiLogout(aud audience) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.endSession(c, aud); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) apiOfficerLogout(c echo.Context) error  { return s.apiLogout(officers)(c) }
func (s *Server) apiCashierLogout(c echo.Context) error  { return s.apiLogout(cashiers)(c) }
func (s *Server) apiResidentLogout(c echo.Context) error { return s.apiLogout(residents)(c) }

// campaignJSON is a campaign with its phase and evaluation figures.
type campaignJSON struct {
	app.Campaign
	Phase string    `json:"phase"`
	Stats app.Stats `json:"stats"`
}

func (s *Server) withStats(c app.Campaign) campaignJSON {
	return campaignJSON{Campaign: c, Phase: c.Phase(s.app.Now()), Stats: app.CampaignStats(c)}
}

func (s *Server) apiLiveCampaigns(c echo.Context) error {
	cs, err := s.app.LiveCampaigns(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(cs))
	for i, camp := range cs {
		// Residents see the rules and the stock, not the budget figures.
		out[i] = map[string]any{
			"id": camp.ID, "name": camp.Name, "district": camp.District, "category": camp.Category,
			"phase": camp.Phase(s.app.Now()), "claim_starts_at": camp.ClaimStartsAt, "claim_ends_at": camp.ClaimEndsAt,
			"valid_days": camp.ValidDays, "per_resident_limit": camp.PerResidentLimit, "tiers": camp.Tiers,
			"per_day_limit": camp.PerDayLimit, "per_tier_limit": camp.PerTierLimit, "require_real_name": camp.RequireRealName,
			"validity_mode": camp.ValidityMode, "valid_from": camp.ValidFrom, "valid_until": camp.ValidUntil,
			"categories": camp.Categories, "season": camp.Season,
		}
		if next := camp.NextDrop(s.app.Now()); next != nil {
			out[i]["next_drop_at"] = next.OpensAt
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": out})
}

func (s *Server) apiOfficerCampaigns(c echo.Context) error {
	cs, err := s.app.OfficerCampaigns(c.Request().Context(), officerOf(c))
	if err != nil {
		return err
	}
	out := make([]campaignJSON, len(cs))
	for i, camp := range cs {
		out[i] = s.withStats(camp)
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": out})
}

func (s *Server) apiCampaignCreate(c echo.Context) error {
	var in app.CampaignInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	camp, err := s.app.CreateCampaign(c.Request().Context(), officerOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.withStats(camp))
}

func (s *Server) apiCampaignUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in app.CampaignInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.app.UpdateDraft(c.Request().Context(), officerOf(c), id, in); err != nil {
		return err
	}
	return s.apiCampaignShow(c)
}

func (s *Server) apiCampaignShow(c echo.Context) error {
	camp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.withStats(camp))
}

// apiCampaignActions mirrors the page actions; each answers with the
// campaign as it is afterwards. Bodies carry the action's fields, if any.
func (s *Server) apiCampaignActions() map[string]echo.HandlerFunc {
	type body struct {
		Reason        string `json:"reason"`
		ClaimEnds     string `json:"claim_ends"`
		TierID        int64  `json:"tier_id"`
		Quantity      string `json:"quantity"`
		Budget        string `json:"budget"`
		Opinion       string `json:"opinion"`        // an approval's 审批意见
		LotteryCloses string `json:"lottery_closes"` // Asia/Shanghai "2006-01-02T15:04"
		MoveFrom      int64  `json:"move_from"`
		MoveTo        int64  `json:"move_to"`
		MoveN         int64  `json:"move_n"`
	}
	act := func(do func(c echo.Context, o app.Officer, id int64, b body) error) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, err := paramID(c)
			if err != nil {
				return err
			}
			var b body
			if c.Request().ContentLength != 0 {
				if err := bindJSON(c, &b); err != nil {
					return err
				}
			}
			if err := do(c, officerOf(c), id, b); err != nil {
				return err
			}
			return s.apiCampaignShow(c)
		}
	}
	ctx := func(c echo.Context) context.Context { return c.Request().Context() }
	return map[string]echo.HandlerFunc{
		"submit": act(func(c echo.Context, o app.Officer, id int64, _ body) error {
			return s.app.SubmitCampaign(ctx(c), o, id)
		}),
		"approve": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.ApproveCampaign(ctx(c), o, id, b.Opinion)
		}),
		"reject": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.RejectCampaign(ctx(c), o, id, b.Reason)
		}),
		"pause": act(func(c echo.Context, o app.Officer, id int64, _ body) error { return s.app.PauseCampaign(ctx(c), o, id) }),
		"resume": act(func(c echo.Context, o app.Officer, id int64, _ body) error {
			return s.app.ResumeCampaign(ctx(c), o, id)
		}),
		"end": act(func(c echo.Context, o app.Officer, id int64, _ body) error { return s.app.EndCampaign(ctx(c), o, id) }),
		"extend": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.ExtendCampaign(ctx(c), o, id, b.ClaimEnds)
		}),
		"quantity": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.AddQuantity(ctx(c), o, id, b.TierID, b.Quantity)
		}),
		"budget": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.RequestBudgetRaise(ctx(c), o, id, b.Budget)
		}),
		"budget/approve": act(func(c echo.Context, o app.Officer, id int64, _ body) error {
			return s.app.ApproveBudgetRaise(ctx(c), o, id)
		}),
		"lottery": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			_, err := s.app.SetLottery(ctx(c), o, id, b.LotteryCloses)
			return err
		}),
		"draw": act(func(c echo.Context, o app.Officer, id int64, _ body) error {
			_, _, err := s.app.DrawLottery(ctx(c), o, id)
			return err
		}),
		"move": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.RequestQuantityMove(ctx(c), o, id, app.QuantityMove{From: b.MoveFrom, To: b.MoveTo, N: b.MoveN})
		}),
		"move/approve": act(func(c echo.Context, o app.Officer, id int64, _ body) error {
			return s.app.ApproveQuantityMove(ctx(c), o, id)
		}),
		"move/decline": act(func(c echo.Context, o app.Officer, id int64, b body) error {
			return s.app.DeclineQuantityMove(ctx(c), o, id, b.Reason)
		}),
	}
}

func (s *Server) apiEligibleMerchants(c echo.Context) error {
	camp, err := s.campaignOf(c)
	if err != nil {
		return err
	}
	ms, err := s.app.EligibleMerchants(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"merchants": ms})
}

// voucherJSON is a voucher as its holder sees it, with the QR text.
type voucherJSON struct {
	app.Voucher
	State  string `json:"state"`
	QRText string `json:"qr_text"`
}

func (s *Server) apiClaim(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var req struct {
		TierID int64 `json:"tier_id"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	v, err := s.app.Claim(c.Request().Context(), residentOf(c), id, req.TierID, c.Request().Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, voucherJSON{Voucher: v, State: v.State(s.app.Now()), QRText: s.qrText(v.Token)})
}

// apiIdentity is the real-name step: the ID number is checked and only
// its keyed hash kept.
func (s *Server) apiIdentity(c echo.Context) error {
	var req struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.app.VerifyIdentity(c.Request().Context(), residentOf(c), req.Name, req.IDNumber); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"real_name": true})
}

func (s *Server) apiWallet(c echo.Context) error {
	vs, err := s.app.Wallet(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"vouchers": s.walletJSON(vs)})
}

func (s *Server) walletJSON(vs []app.Voucher) []voucherJSON {
	out := make([]voucherJSON, len(vs))
	for i, v := range vs {
		out[i] = voucherJSON{Voucher: v, State: v.State(s.app.Now()), QRText: s.qrText(v.Token)}
	}
	return out
}

// redeemRequest names the voucher by what was scanned (QR text or token)
// or typed (manual code), and the bill in yuan as a string.
type redeemRequest struct {
	Voucher string `json:"voucher"`
	Bill    string `json:"bill"`
}

func (s *Server) parseRedeem(c echo.Context) (redeemRequest, app.Fen, error) {
	var req redeemRequest
	if err := bindJSON(c, &req); err != nil {
		return req, 0, err
	}
	if strings.TrimSpace(req.Bill) == "" {
		return req, 0, nil
	}
	bill, err := app.ParseYuan(req.Bill)
	if err != nil {
		return req, 0, &app.Error{Code: app.EINVALID, Reason: app.ErrorReason(err), Fields: map[string]string{"bill": app.ErrorReason(err)}}
	}
	return req, bill, nil
}

func (s *Server) apiInspect(c echo.Context) error {
	req, bill, err := s.parseRedeem(c)
	if err != nil {
		return err
	}
	q, err := s.app.Inspect(c.Request().Context(), cashierOf(c), req.Voucher, bill)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, counterQuoteOf(q))
}

// apiRedeem needs an Idempotency-Key header: a POS that lost the answer
// sends the same request again and gets the first result.
func (s *Server) apiRedeem(c echo.Context) error {
	req, bill, err := s.parseRedeem(c)
	if err != nil {
		return err
	}
	rc, err := s.app.Redeem(c.Request().Context(), cashierOf(c), req.Voucher, bill, c.Request().Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rc.Redemption.Replayed {
		status = http.StatusOK
	}
	return c.JSON(status, counterReceiptOf(rc))
}
