package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
	"cqvoucher/app/token"
)

// residentHome lists live and upcoming campaigns, filtered by category
// and district, with a claim button per tier.
func (s *Server) residentHome(c echo.Context) error {
	s.optionalResident(c)
	return s.homePage(c, http.StatusOK, nil)
}

// homePage renders the campaigns list; extra carries a claim's refusal.
func (s *Server) homePage(c echo.Context, status int, extra map[string]any) error {
	ctx := c.Request().Context()
	camps, err := s.app.LiveCampaigns(ctx)
	if err != nil {
		return err
	}
	category, district := c.QueryParam("category"), c.QueryParam("district")
	now := s.app.Now()
	var rows []map[string]any
	for _, camp := range camps {
		if category != "" && !has(camp.Categories, category) {
			continue
		}
		if district != "" && camp.District != district && camp.District != app.CityCode {
			continue
		}
		rows = append(rows, cardRow(camp, now))
	}
	ds, err := s.app.Districts(ctx)
	if err != nil {
		return err
	}
	cats, err := s.app.Categories(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"Rows": rows, "Names": s.names(c), "RequestKey": newIdempotencyKey(),
		"Districts": ds, "Categories": cats, "Category": category, "District": district, "ConsentDue": s.consentDue(c)}
	for k, v := range extra {
		data[k] = v
	}
	return s.page(c, status, "resident/home", "title.resident_home", data)
}

// cardRow is what the campaign card shows of a campaign (already read as
// of now): its phase, the next drop, and how far away the next openings
// are (see openingsIn).
func cardRow(camp app.Campaign, now time.Time) map[string]any {
	opens, next := openingsIn(camp, now)
	return map[string]any{"C": camp, "Phase": camp.Phase(now), "NextDrop": camp.NextDrop(now), "OpensInMs": opens, "NextInMs": next}
}

// openingsIn is how far away, in milliseconds of the server's clock, the
// opening of claims (while scheduled) and the next drop are; nil when
// there is none. The page counts down from these figures, not from the
// phone's own clock, which may be minutes off.
func openingsIn(camp app.Campaign, now time.Time) (opens, next *int64) {
	if camp.Phase(now) == app.PhaseScheduled {
		ms := camp.ClaimStartsAt.Sub(now).Milliseconds()
		opens = &ms
	}
	if d := camp.NextDrop(now); d != nil {
		ms := d.OpensAt.Sub(now).Milliseconds()
		next = &ms
	}
	return opens, next
}

// stockJSON is the campaign card's own feed (GET /m/campaigns/:id/stock.json):
// what can be claimed now, per tier, and when the next opening is. The
// countdown asks it when it reaches zero, so that the page shows a drop's
// stock and enables its buttons without a reload; it reads the same cached
// campaign, as of now, as the page and the claim's fast path.
type stockJSON struct {
	Phase     string      `json:"phase"`
	Tiers     []tierStock `json:"tiers"`
	OpensInMs *int64      `json:"opens_in_ms,omitempty"`
	NextInMs  *int64      `json:"next_drop_in_ms,omitempty"`
	NextAt    string      `json:"next_drop_at,omitempty"` // Asia/Shanghai, as the page shows it
}

type tierStock struct {
	ID        int64 `json:"id"`
	Claimable int64 `json:"claimable"`
}

func (s *Server) residentStock(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, err := s.app.PublicCampaign(c.Request().Context(), id)
	if err != nil {
		return err
	}
	now := s.app.Now()
	out := stockJSON{Phase: camp.Phase(now), Tiers: make([]tierStock, len(camp.Tiers))}
	for i, t := range camp.Tiers {
		out.Tiers[i] = tierStock{ID: t.ID, Claimable: t.Remaining}
	}
	out.OpensInMs, out.NextInMs = openingsIn(camp, now)
	if d := camp.NextDrop(now); d != nil {
		out.NextAt = app.FormatLocal(d.OpensAt)
	}
	// Every phone asks at the same second: let a shared cache or the
	// browser keep the answer for a moment, never longer.
	c.Response().Header().Set("Cache-Control", "public, max-age=1")
	return c.JSON(http.StatusOK, out)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// publicCampaignAndMerchants reads the campaign of the path's :id as the
// public sees it, and the merchants where it can be used (the campaign
// page and its help page show both), for a resident signed in or not.
func (s *Server) publicCampaignAndMerchants(c echo.Context) (app.Campaign, []app.Merchant, error) {
	id, err := paramID(c)
	if err != nil {
		return app.Campaign{}, nil, err
	}
	ctx := c.Request().Context()
	s.optionalResident(c)
	camp, err := s.app.PublicCampaign(ctx, id)
	if err != nil {
		return app.Campaign{}, nil, err
	}
	merchants, err := s.app.EligibleMerchants(ctx, camp)
	return camp, merchants, err
}

// residentCampaign shows one campaign's rules and where it can be used,
// with a search over the eligible merchants.
func (s *Server) residentCampaign(c echo.Context) error {
	camp, merchants, err := s.publicCampaignAndMerchants(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	names := s.names(c)
	merchants = filterMerchants(merchants, q, "", names)
	now := s.app.Now()
	data := map[string]any{
		"R":     cardRow(camp, now),
		"Names": names, "Merchants": merchants, "Q": q, "RequestKey": newIdempotencyKey(), "ConsentDue": s.consentDue(c),
	}
	if camp.LotteryClosesAt != nil {
		if ds, err := s.app.Districts(c.Request().Context()); err == nil {
			data["Districts"] = ds
		}
	}
	if r, ok := c.Get(ctxResident).(app.Resident); ok && camp.LotteryClosesAt != nil {
		if reg, err := s.app.MyRegistration(c.Request().Context(), r, camp.ID); err == nil {
			data["Registration"] = reg
		}
	}
	return s.page(c, http.StatusOK, "resident/campaign", "title.campaign_public", data)
}

// residentIdentityForm is the real-name step.
func (s *Server) residentIdentityForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "resident/identity", "title.identity", map[string]any{"Back": safeBack(c.QueryParam("back")), "NeedsName": s.app.IdentityNeedsName()})
}

func (s *Server) residentIdentity(c echo.Context) error {
	back := safeBack(c.FormValue("back"))
	if err := s.app.VerifyIdentity(c.Request().Context(), residentOf(c), c.FormValue("name"), c.FormValue("id_number")); err != nil {
		if app.ErrorCode(err) == app.EINTERNAL && app.ErrorReason(err) != "identity_unavailable" {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/identity", "title.identity",
			map[string]any{"Back": back, "Error": s.locale(c).Err(err), "NeedsName": s.app.IdentityNeedsName()})
	}
	s.flash(c, "identity_verified")
	return c.Redirect(http.StatusSeeOther, back)
}

// safeBack is where the real-name step returns to: the resident's own
// page, or their home when the target is not a path on this site.
func safeBack(p string) string {
	if back := localTarget(p); back != "" {
		return back
	}
	return "/m"
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

// residentTerms is the 用户协议 a resident agrees to before a sign-in code
// is sent, with the version the consent refers to.
func (s *Server) residentTerms(c echo.Context) error {
	s.optionalResident(c)
	return s.page(c, http.StatusOK, "resident/terms", "title.terms", termsData(s.app.Terms()))
}

// termsData is what the texts' pages show of the terms: the version, and
// the organiser and contact an operator named.
func termsData(t app.Terms) map[string]any {
	return map[string]any{"Version": t.Version, "Organiser": t.Organiser, "Contact": t.Contact}
}

// residentConsentForm asks a signed-in resident to agree to the current
// texts: the claim sends them here when the consent on record is to older
// texts (or none is), and back where they were once they agree.
func (s *Server) residentConsentForm(c echo.Context) error {
	return s.consentPage(c, http.StatusOK, nil)
}

func (s *Server) consentPage(c echo.Context, status int, err error) error {
	data := map[string]any{"Version": s.app.Terms().Version, "Back": safeBack(c.FormValue("back"))}
	// Opened by a resident whose consent is already to these texts (from a
	// bookmark, or 我的信息): say so rather than that the texts changed.
	if full, rerr := s.app.Resident(c.Request().Context(), residentOf(c).ID); rerr == nil && s.app.ConsentCurrent(full) {
		data["Current"] = true
	}
	if err != nil {
		data["Error"] = s.locale(c).Err(err)
	}
	return s.page(c, status, "resident/consent", "title.consent", data)
}

func (s *Server) residentConsent(c echo.Context) error {
	_, err := s.app.AgreeToTerms(c.Request().Context(), residentOf(c), consented(c), c.FormValue("version"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.consentPage(c, statusOf[app.ErrorCode(err)], err)
	}
	s.flash(c, "consent_recorded")
	return c.Redirect(http.StatusSeeOther, safeBack(c.FormValue("back")))
}

// consentDue reports whether the signed-in resident of a page must agree
// to the current texts before claiming: the page says so before the press.
func (s *Server) consentDue(c echo.Context) bool {
	r, ok := c.Get(ctxResident).(app.Resident)
	return ok && !s.app.ConsentCurrent(r)
}

// consentJSON is a resident's consent on record, in API answers.
type consentJSON struct {
	Version     string    `json:"version"`
	ConsentedAt time.Time `json:"consented_at"`
	// Current is whether it is to the texts in force: when not, claims are
	// refused with consent_renewal_required until the resident agrees again.
	Current bool `json:"current"`
}

func (s *Server) consentOf(r app.Resident) *consentJSON {
	if r.ConsentedAt == nil || r.ConsentVersion == nil {
		return nil
	}
	return &consentJSON{Version: *r.ConsentVersion, ConsentedAt: r.ConsentedAt.UTC(), Current: s.app.ConsentCurrent(r)}
}

// apiResidentConsent is POST /api/v1/resident/consent {"consent": true,
// "version": "…"}: the API twin of residentConsent. The version is the one
// the client showed (GET /m/terms, or params.version of the refusal).
func (s *Server) apiResidentConsent(c echo.Context) error {
	var req struct {
		Consent bool   `json:"consent"`
		Version string `json:"version"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := s.app.AgreeToTerms(c.Request().Context(), residentOf(c), req.Consent, req.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"consent": s.consentOf(r)})
}

// consented reports whether the form's consent box was ticked: the page
// requires it too, but only the server's check counts.
func consented(c echo.Context) bool { return c.FormValue("consent") == "1" }

// residentSendCode sends a sign-in code and shows the code step, whose
// resend button counts down the server's resend interval.
func (s *Server) residentSendCode(c echo.Context) error {
	raw := c.FormValue("phone")
	data := map[string]any{"Phone": raw}
	var phone string
	err := app.ErrConsentRequired()
	if consented(c) {
		phone, err = s.app.SendSignInCode(app.WithRequester(c.Request().Context(), c.RealIP()), raw)
	}
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL && app.ErrorReason(err) != "sms_failed" {
			return err
		}
		data["Error"] = s.locale(c).Err(err)
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/login", "title.resident_login", data)
	}
	data["Phone"], data["MaskedPhone"], data["CodeSent"] = phone, app.Resident{Phone: phone}.MaskedPhone(), true
	data["ResendAfter"] = int(s.app.SMSResendAfter().Seconds())
	return s.page(c, http.StatusOK, "resident/login", "title.resident_login", data)
}

func (s *Server) residentLogin(c echo.Context) error {
	phone := c.FormValue("phone")
	_, tok, err := s.app.LoginResident(app.WithRequester(c.Request().Context(), c.RealIP()), phone, c.FormValue("code"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "resident/login", "title.resident_login",
			map[string]any{"Phone": phone, "MaskedPhone": maskedInput(phone), "CodeSent": true, "Error": s.locale(c).Err(err)})
	}
	s.startSession(c, residents, tok)
	return c.Redirect(http.StatusSeeOther, "/m/wallet")
}

// maskedInput masks a number as typed, for showing it back (138****8000);
// what is not a mobile number is shown as typed.
func maskedInput(raw string) string {
	if phone, err := app.NormalizeMobile(raw); err == nil {
		return app.Resident{Phone: phone}.MaskedPhone()
	}
	return raw
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
		if app.ErrorReason(err) == "real_name_required" {
			return c.Redirect(http.StatusSeeOther, "/m/identity?back=/m")
		}
		if app.ErrorReason(err) == "consent_renewal_required" {
			return c.Redirect(http.StatusSeeOther, "/m/consent?back=/m")
		}
		var ae *app.Error
		asError(err, &ae)
		return s.claimAnswer(c, overloadStatus(c, ae, statusOf[app.ErrorCode(err)]), s.locale(c).Err(err))
	}
	flash := "voucher_claimed"
	if c.FormValue("remind") == "1" {
		// The voucher is issued whatever happens here: a failure only
		// leaves the reminder off, which the voucher page shows.
		if _, err := s.app.SetReminder(c.Request().Context(), residentOf(c), v.Code, true); err != nil {
			s.log.WarnContext(c.Request().Context(), "reminder at claim not set", "err", err)
		} else {
			flash = "voucher_claimed_reminder"
		}
	}
	s.flash(c, flash)
	return c.Redirect(http.StatusSeeOther, "/m/vouchers/"+v.Code)
}

func (s *Server) claimAnswer(c echo.Context, status int, msg string) error {
	return s.homePage(c, status, map[string]any{"Error": msg})
}

// residentWallet shows the resident's vouchers in tabs: usable, used, expired.
func (s *Server) residentWallet(c echo.Context) error {
	vs, err := s.app.Wallet(c.Request().Context(), residentOf(c))
	if err != nil {
		return err
	}
	tab := c.QueryParam("tab")
	if tab != app.VoucherRedeemed && tab != app.VoucherExpired {
		tab = app.VoucherClaimed
	}
	now := s.app.Now()
	counts := map[string]int{}
	var rows []map[string]any
	for _, v := range vs {
		state := v.State(now)
		shown := state
		if state == app.VoucherVoided { // no longer usable: with the expired, saying why
			shown = app.VoucherExpired
		}
		counts[shown]++
		if shown == tab {
			rows = append(rows, map[string]any{"V": v, "State": state})
		}
	}
	return s.page(c, http.StatusOK, "resident/wallet", "title.wallet",
		map[string]any{"Rows": rows, "Names": s.names(c), "Tab": tab, "Counts": counts, "Empty": len(vs) == 0})
}

// residentVoucher shows one voucher large, as a QR with the manual code
// under it; once used, a large 已使用 with the shop, the time and the
// amount saved. The page follows the voucher through
// residentVoucherState (voucher-live.js), so it flips at the till.
func (s *Server) residentVoucher(c echo.Context) error {
	v, err := s.app.VoucherOf(c.Request().Context(), residentOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	m, err := s.app.MomentOf(c.Request().Context(), v)
	if err != nil {
		return err
	}
	rem, err := s.app.ReminderOf(c.Request().Context(), v)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "resident/voucher", "title.voucher",
		map[string]any{"V": v, "M": m, "State": m.State, "Names": s.names(c), "Reminder": rem})
}

// residentReminder turns the voucher's expiry reminder on or off (the
// voucher page's form: on=1 or on=0).
func (s *Server) residentReminder(c echo.Context) error {
	on := c.FormValue("on") == "1"
	if _, err := s.app.SetReminder(c.Request().Context(), residentOf(c), c.Param("code"), on); err != nil {
		return err
	}
	if on {
		s.flash(c, "reminder_on")
	} else {
		s.flash(c, "reminder_off")
	}
	return c.Redirect(http.StatusSeeOther, "/m/vouchers/"+c.Param("code"))
}

// apiReminder is residentReminder's API twin: {"on": true|false}.
func (s *Server) apiReminder(c echo.Context) error {
	var in struct {
		On *bool `json:"on"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.On == nil {
		return app.Invalid("reminder_on_missing")
	}
	rem, err := s.app.SetReminder(c.Request().Context(), residentOf(c), c.Param("code"), *in.On)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"reminder": rem})
}

// voucherStateFeed is the voucher page's live feed: only what the page
// redraws, already worded in the reader's language.
type voucherStateFeed struct {
	State    string `json:"state"`
	Label    string `json:"label"`
	Merchant string `json:"merchant,omitempty"`
	UsedAt   string `json:"used_at,omitempty"`
	Saved    string `json:"saved,omitempty"`
}

// residentVoucherState answers the open voucher page's short poll.
//
// Short polling, not server-sent events: a redemption is written by the
// writer in another request, and polling needs no fan-out from it, holds
// no connection per page, and passes every proxy. The page asks every
// 1.5 s while it is visible (so a flip shows within 2 s) and not at all
// while hidden; an unchanged answer is a 304 without body, by ETag. Each
// poll is one indexed read of the voucher (and its redemption). At
// 100,000 open pages that is about 67,000 small reads a second; the
// arithmetic is in docs/performance.md.
func (s *Server) residentVoucherState(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.app.VoucherOf(ctx, residentOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	m, err := s.app.MomentOf(ctx, v)
	if err != nil {
		return err
	}
	l := s.locale(c)
	feed := voucherStateFeed{State: m.State, Label: l.T("voucher." + m.State)}
	if m.UsedAt != nil {
		feed.Merchant, feed.UsedAt, feed.Saved = m.Merchant, app.FormatLocal(*m.UsedAt), m.SavedFen.Yuan()
	}
	body, err := json.Marshal(feed)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	// no-cache, not no-store: the browser may keep the answer, but must
	// ask each time (the 304 is the cheap answer).
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Cookie, Accept-Language")
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, body)
}

// residentVoucherQR renders the voucher's QR. Its content never changes,
// so the browser may keep the image as long as it likes.
func (s *Server) residentVoucherQR(c echo.Context) error {
	v, err := s.app.VoucherOf(c.Request().Context(), residentOf(c), c.Param("code"))
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

// qrText is what a voucher's QR carries: a URL any phone camera can open,
// which the cashier page also understands (token.QRText: version 7 or less
// for a voucher issued now, so a cheap phone reads it off another's screen).
func (s *Server) qrText(tok string) string { return token.QRText(s.cfg.BaseURL, tok) }
