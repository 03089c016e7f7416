package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// residentPrivacy is the notice residents read before signing in: what is
// stored, why, how long, how it is protected (docs/privacy.md, in short).
func (s *Server) residentPrivacy(c echo.Context) error {
	s.optionalResident(c)
	return s.page(c, http.StatusOK, "resident/privacy", "title.privacy", termsData(s.app.Terms()))
}

// residentMe is "我的信息": everything stored about the signed-in
// resident, with the way to ask for its deletion.
func (s *Server) residentMe(c echo.Context) error {
	pd, err := s.app.PersonalData(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	now := s.app.Now()
	vouchers := make([]map[string]any, len(pd.Vouchers))
	for i, v := range pd.Vouchers {
		vouchers[i] = map[string]any{"V": v, "State": v.State(now)}
	}
	return s.page(c, http.StatusOK, "resident/me", "title.my_data", map[string]any{
		"Me": pd.Resident, "Sessions": pd.Sessions, "Vouchers": vouchers, "Feedback": pd.Feedback, "Names": s.names(c),
		"Consent": s.consentOf(pd.Resident), "TermsVersion": s.app.Terms().Version,
	})
}

// residentEraseForm is the confirmation step before deletion.
func (s *Server) residentEraseForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "resident/erase", "title.erase", nil)
}

// residentErase deletes the resident's personal data once confirmed, and
// signs them out: their session is gone with the rest.
func (s *Server) residentErase(c echo.Context) error {
	err := s.app.EraseResident(c.Request().Context(), residentOf(c), c.FormValue("confirm") == "yes")
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/erase", "title.erase",
			map[string]any{"Error": s.locale(c).Err(err)})
	}
	if err := s.endSession(c, residents); err != nil {
		return err
	}
	s.flash(c, "account_erased")
	return c.Redirect(http.StatusSeeOther, "/m")
}

// personalDataJSON is GET /api/v1/resident/me.
type personalDataJSON struct {
	Account  residentAccountJSON `json:"account"`
	Sessions []sessionJSON       `json:"sessions"`
	Vouchers []voucherJSON       `json:"vouchers"`
	Feedback []feedbackJSON      `json:"feedback"`
}

type residentAccountJSON struct {
	ID        int64     `json:"id"`
	Phone     string    `json:"phone"` // masked: 138****1234
	RealName  bool      `json:"real_name"`
	CreatedAt time.Time `json:"created_at"`
	// Consent is the resident's agreement to the 用户协议 and 隐私政策 on
	// record; null when none is.
	Consent *consentJSON `json:"consent"`
}

type sessionJSON struct {
	SignedInAt time.Time `json:"signed_in_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Server) apiPersonalData(c echo.Context) error {
	pd, err := s.app.PersonalData(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	r := pd.Resident
	out := personalDataJSON{
		Account:  residentAccountJSON{ID: r.ID, Phone: r.MaskedPhone(), RealName: r.RealName(), CreatedAt: r.CreatedAt.UTC(), Consent: s.consentOf(r)},
		Sessions: make([]sessionJSON, len(pd.Sessions)),
		Vouchers: s.walletJSON(pd.Vouchers),
		Feedback: make([]feedbackJSON, len(pd.Feedback)),
	}
	for i, f := range pd.Feedback {
		out.Feedback[i] = feedbackJSON{Feedback: f, Unread: f.Unread()}
	}
	for i, se := range pd.Sessions {
		out.Sessions[i] = sessionJSON{SignedInAt: se.CreatedAt.UTC(), ExpiresAt: se.ExpiresAt.UTC()}
	}
	return c.JSON(http.StatusOK, out)
}

// apiErase is POST /api/v1/resident/me/erasure {"confirm": true}.
func (s *Server) apiErase(c echo.Context) error {
	var req struct {
		Confirm bool `json:"confirm"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.app.EraseResident(c.Request().Context(), residentOf(c), req.Confirm); err != nil {
		return err
	}
	if err := s.endSession(c, residents); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "erased"})
}
