package web

import (
	"io/fs"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"cqvoucher/app"
)

// routes registers every route, grouped by audience. Each group states who
// may call it; no handler is reachable outside its group's checks.
func (s *Server) routes(fsys fs.FS) {
	e := s.echo
	// The request's id goes into its context: every line the request
	// causes, in this layer and in the domain, is logged with it
	// (app.RequestIDHandler).
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(app.WithRequestID(c.Request().Context(), id)))
		},
	}))
	e.Use(s.accessLog())
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders)
	e.Use(middleware.BodyLimit("64K"))
	e.Use(refuseInvalidText)
	e.Use(middleware.ContextTimeout(30 * time.Second))
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		// The API authenticates by bearer token, never by cookie, so a
		// cross-site form cannot ride on it; pages carry a token in every form.
		Skipper:        func(c echo.Context) bool { return isAPI(c) },
		TokenLookup:    "form:csrf",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieMaxAge:   csrfMaxAge,
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode, // Strict would mint a new token on every link from WeChat and break open tabs
	}))

	ip := func(c echo.Context) string { return c.RealIP() }
	loginLimit := s.limiter(s.cfg.LoginPerMinute, time.Minute, ip)
	smsLimit := s.limiter(s.cfg.SMSPerMinute, time.Minute, ip)
	// A resident's presses are limited per resident, not per address:
	// thousands of phones share a carrier's NAT address at 10:00.
	claimLimit := s.limiter(max(1, int(s.cfg.ClaimsPerSecond)), time.Second, func(c echo.Context) string {
		return "r" + itoa(residentOf(c).ID)
	})

	// Public.
	static, _ := fs.Sub(fsys, "static")
	e.GET("/static/*", staticFiles(static))
	e.GET("/", s.home)
	e.GET("/healthz", s.healthz)
	e.GET("/open-data", s.openData)
	e.GET("/campaigns/:id/lottery.json", s.lotteryPublication)
	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/.well-known/revoked.json", s.revoked)
	e.GET("/lang/:lang", s.switchLanguage)
	e.GET("/display/:mode", s.switchDisplay)
	e.GET("/v/:token", s.voucherLink)
	e.GET("/V/:token", s.voucherLink) // the QR's packed form (token.QRText)
	if s.outbox != nil {
		e.GET("/demo/sms", s.demoOutbox)
	}

	// Officers' pages.
	e.GET("/officer/login", s.officerLoginForm)
	e.POST("/officer/login", s.officerLogin, loginLimit)
	og := e.Group("/officer", s.requireSignIn(officers), notStation)
	og.POST("/logout", s.officerLogout)
	og.GET("", s.officerCampaigns)
	og.GET("/campaigns/new", s.campaignNewForm)
	og.POST("/campaigns", s.campaignCreate)
	og.GET("/campaigns/:id", s.campaignShow)
	og.GET("/campaigns/:id/preview", s.campaignPreview)
	og.GET("/campaigns/:id/dashboard", s.campaignDashboard)
	og.GET("/campaigns/:id/forecast", s.campaignForecast)
	og.GET("/campaigns/:id/live", s.campaignLive)
	og.GET("/campaigns/:id/live.json", s.apiCampaignLive) // the page's own feed, by its session cookie
	og.GET("/campaigns/:id/edit", s.campaignEditForm)
	og.GET("/campaigns/:id/approve", s.campaignApproveForm)
	og.GET("/campaigns/:id/confirm/:action", s.campaignConfirm)
	og.GET("/campaigns/:id/confirm/budget/approve", s.campaignConfirm) // actions of two segments
	og.GET("/campaigns/:id/confirm/move/approve", s.campaignConfirm)
	og.GET("/campaigns/:id/confirm/move/decline", s.campaignConfirm)
	og.POST("/campaigns/:id", s.campaignUpdate)
	for action, h := range s.campaignActions() {
		og.POST("/campaigns/:id/"+action, h)
	}
	og.GET("/audit", s.auditPage)
	og.GET("/compare", s.comparePage)
	og.GET("/settlements", s.officerSettlements)
	og.GET("/settlements/pay", s.settlementPayForm)
	og.POST("/settlements/pay", s.settlementPay)
	og.GET("/settlements/statement", s.statementPrint)
	og.GET("/settlements/hold", s.holdForm("hold"))
	og.POST("/settlements/hold", s.hold("hold"))
	og.GET("/settlements/release", s.holdForm("release"))
	og.POST("/settlements/release", s.hold("release"))
	og.GET("/settlements/batches", s.paymentBatches)
	og.GET("/settlements/batches/:id", s.paymentBatch)
	og.GET("/vouchers/void", s.voidForm)
	og.POST("/vouchers/void", s.voidRequest)
	og.GET("/voids", s.voidList)
	og.GET("/voids/:id", s.voidShow)
	og.POST("/voids/:id/approve", s.voidDecide(true))
	og.POST("/voids/:id/reject", s.voidDecide(false))
	og.GET("/merchants", s.officerMerchants)
	og.GET("/merchants/:id", s.officerMerchant)
	og.GET("/merchants/:id/confirm/:action", s.merchantConfirm)
	og.POST("/merchants/:id/:action", s.officerReviewMerchant)
	og.GET("/officers", s.officersPage)
	og.POST("/officers", s.officerCreate)
	og.POST("/officers/:id/disable", s.officerDisable)
	og.POST("/officers/:id/enable", s.officerEnable)
	og.GET("/contacts", s.officerContacts)
	og.POST("/contacts/:district", s.officerSaveContact)
	og.GET("/feedback", s.officerFeedbackList)
	og.GET("/feedback/:id", s.officerFeedbackShow)
	og.POST("/feedback/:id/answer", s.officerAnswerFeedback)
	og.POST("/feedback/:id/close", s.officerCloseFeedback)

	// Residents' pages (phone-first).
	e.GET("/m", s.residentHome)
	e.GET("/m/campaigns/:id", s.residentCampaign)
	e.GET("/m/campaigns/:id/stock.json", s.residentStock)
	e.GET("/m/campaigns/:id/help", s.residentCampaignHelp)
	e.GET("/m/help", s.residentHelp)
	e.GET("/m/login", s.residentLoginForm)
	e.GET("/m/privacy", s.residentPrivacy)
	e.GET("/m/terms", s.residentTerms)
	e.POST("/m/login/code", s.residentSendCode, smsLimit)
	e.POST("/m/login", s.residentLogin, loginLimit)
	rg := e.Group("/m", s.requireSignIn(residents))
	rg.POST("/logout", s.residentLogout)
	rg.GET("/wallet", s.residentWallet)
	rg.GET("/identity", s.residentIdentityForm)
	rg.GET("/me", s.residentMe)
	rg.GET("/me/delete", s.residentEraseForm)
	rg.POST("/me/delete", s.residentErase)
	rg.POST("/identity", s.residentIdentity)
	rg.GET("/consent", s.residentConsentForm)
	rg.POST("/consent", s.residentConsent)
	rg.GET("/vouchers/:code", s.residentVoucher)
	rg.GET("/vouchers/:code/qr.png", s.residentVoucherQR)
	rg.GET("/vouchers/:code/state.json", s.residentVoucherState)
	rg.POST("/vouchers/:code/reminder", s.residentReminder)
	rg.POST("/campaigns/:id/claim", s.residentClaim, claimLimit)
	rg.POST("/campaigns/:id/register", s.residentRegister, claimLimit)
	rg.GET("/feedback", s.residentFeedbackList)
	rg.GET("/feedback/new", s.residentFeedbackForm)
	rg.POST("/feedback", s.residentFileFeedback)

	// Cashiers' pages.
	e.GET("/merchant/apply", s.merchantApplyForm)
	e.POST("/merchant/apply", s.merchantApply, smsLimit) // a form a bot would fill: limited like SMS
	e.GET("/merchant/login", s.merchantLoginForm)
	e.POST("/merchant/login", s.merchantLogin, loginLimit)
	mg := e.Group("/merchant", s.requireSignIn(cashiers))
	mg.POST("/logout", s.merchantLogout)
	mg.GET("", s.merchantScan)
	mg.POST("/check", s.merchantCheck)
	mg.POST("/redeem", s.merchantRedeem)
	mg.GET("/redemptions", s.merchantRedemptions)
	mg.GET("/statements", s.merchantStatements)
	mg.GET("/staff", s.merchantStaff)
	mg.POST("/staff", s.merchantAddCashier)
	mg.POST("/staff/:id/remove", s.merchantRemoveCashier)
	mg.POST("/api-keys", s.merchantCreateAPIKey)
	mg.POST("/api-keys/:id/revoke", s.merchantRevokeAPIKey)
	mg.POST("/redemptions/:id/reverse", s.merchantReverse)

	// JSON API.
	api := e.Group("/api/v1")
	// The API's description, for POS vendors and anyone integrating.
	api.GET("/openapi.json", func(c echo.Context) error {
		b, err := fs.ReadFile(fsys, "static/openapi.json")
		if err != nil {
			return app.NotFound("page_not_found")
		}
		return c.Blob(http.StatusOK, "application/json", b)
	})
	api.POST("/officer/sessions", s.apiOfficerLogin, loginLimit)
	api.POST("/cashier/sessions", s.apiCashierLogin, loginLimit)
	api.POST("/resident/sms", s.apiResidentSendCode, smsLimit)
	api.POST("/resident/sessions", s.apiResidentLogin, loginLimit)
	api.GET("/campaigns/live", s.apiLiveCampaigns)
	api.POST("/merchants/applications", s.apiMerchantApply, smsLimit)

	ao := api.Group("/officer", s.requireSignIn(officers), notStation)
	ao.DELETE("/sessions", s.apiOfficerLogout)
	ao.GET("/campaigns", s.apiOfficerCampaigns)
	ao.POST("/campaigns", s.apiCampaignCreate)
	ao.GET("/campaigns/:id", s.apiCampaignShow)
	ao.PUT("/campaigns/:id", s.apiCampaignUpdate)
	for action, h := range s.apiCampaignActions() {
		ao.POST("/campaigns/:id/"+action, h)
	}
	ao.GET("/campaigns/:id/merchants", s.apiEligibleMerchants)
	ao.GET("/campaigns/:id/dashboard", s.apiCampaignDashboard)
	ao.GET("/campaigns/:id/live", s.apiCampaignLive)
	ao.GET("/audit", s.apiAudit)
	ao.GET("/compare", s.apiCompare)
	ao.GET("/settlements", s.apiSettlements)
	ao.GET("/settlements/pay", s.apiPaymentPreview)
	ao.POST("/settlements/pay", s.apiPayStatements)
	ao.GET("/voids", s.apiVoids)
	ao.POST("/voids", s.apiVoidRequest)
	ao.POST("/voids/:id/approve", s.apiVoidDecide(true))
	ao.POST("/voids/:id/reject", s.apiVoidDecide(false))
	ao.GET("/settlements/holds", s.apiHolds)
	ao.POST("/settlements/holds", s.apiHold("hold"))
	ao.POST("/settlements/holds/release", s.apiHold("release"))
	ao.POST("/settlements/:merchant/:day/pay", s.apiMarkPaid)
	ao.GET("/merchants", s.apiOfficerMerchants)
	ao.POST("/merchants/:id/:action", s.apiReviewMerchant)
	ao.GET("/officers", s.apiOfficers)
	ao.POST("/officers", s.apiOfficerCreate)
	ao.POST("/officers/:id/disable", s.apiOfficerDisable)
	ao.POST("/officers/:id/enable", s.apiOfficerEnable)
	s.officerAuthRoutes(e, og, ao, loginLimit)
	s.stationRoutes(e, api, smsLimit)

	// Presses that cannot succeed are answered before sign-in is checked:
	// the answer (sold out, not open) is the same for anyone and public.
	api.POST("/resident/campaigns/:id/claims", s.apiClaim, s.hopelessClaim, s.requireSignIn(residents), claimLimit)
	ar := api.Group("/resident", s.requireSignIn(residents))
	ar.DELETE("/sessions", s.apiResidentLogout)
	ar.GET("/vouchers", s.apiWallet)
	ar.POST("/campaigns/:id/registrations", s.apiRegister, claimLimit)
	ar.GET("/campaigns/:id/registration", s.apiMyRegistration)
	ar.POST("/vouchers/:code/reminder", s.apiReminder)
	ar.POST("/identity", s.apiIdentity)
	ar.POST("/consent", s.apiResidentConsent)
	ar.GET("/me", s.apiPersonalData)
	ar.POST("/me/erasure", s.apiErase)
	ar.GET("/feedback", s.apiMyFeedback)
	ar.POST("/feedback", s.apiFileFeedback)

	ac := api.Group("/cashier", s.requireSignIn(cashiers))
	ac.DELETE("/sessions", s.apiCashierLogout)
	ac.POST("/inspect", s.apiInspect)
	ac.POST("/redemptions", s.apiRedeem)
	ac.GET("/redemptions", s.apiRedemptions)
	ac.POST("/redemptions/:id/reverse", s.apiReverse)
	ac.GET("/statements", s.apiMerchantStatements)
	ac.GET("/staff", s.apiStaff)
	ac.POST("/staff", s.apiAddCashier)
	ac.POST("/staff/:id/remove", s.apiRemoveCashier)
	ac.GET("/api-keys", s.apiAPIKeys)
	ac.POST("/api-keys", s.apiCreateAPIKey)
	ac.POST("/api-keys/:id/revoke", s.apiRevokeAPIKey)
}

// staticFiles serves the files under static/ and nothing else: a directory
// (static/ itself, static/vendor) is not found rather than listed, and a
// name that is no valid path (bad UTF-8, "..", empty elements) is not found
// rather than handed to the file server, which answered such names with a
// 500. Browsers may keep a file for a day; the URLs carry no version yet,
// so not longer.
func staticFiles(fsys fs.FS) echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(fsys))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if !utf8.ValidString(name) || !fs.ValidPath(name) {
			return app.NotFound("page_not_found")
		}
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
			return app.NotFound("page_not_found")
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
