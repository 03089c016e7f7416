package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"cqvoucher/app"
)

// Context keys for the signed-in account.
const (
	ctxOfficer  = "officer"
	ctxCashier  = "cashier"
	ctxResident = "resident"
	ctxToken    = "session_token"
)

// audience describes one kind of signed-in user: its session cookie and
// where its sign-in page is.
type audience struct {
	kind   string
	cookie string
	login  string
}

var (
	officers  = audience{kind: app.KindOfficer, cookie: "cqv_officer", login: "/officer/login"}
	cashiers  = audience{kind: app.KindCashier, cookie: "cqv_cashier", login: "/merchant/login"}
	residents = audience{kind: app.KindResident, cookie: "cqv_resident", login: "/m/login"}
)

func parseCIDR(s string) (net.IP, *net.IPNet, error) { return net.ParseCIDR(s) }

// sessionToken takes the session secret from the bearer header on the API
// and from the audience's cookie on pages; never both, so a page's cookie
// cannot be replayed against the CSRF-free API.
func sessionToken(c echo.Context, aud audience) string {
	if isAPI(c) {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if ck, err := c.Cookie(aud.cookie); err == nil {
		return ck.Value
	}
	return ""
}

// requireSignIn loads the session of an audience and its account, or sends
// the visitor to sign in (pages) or answers 401 (API).
func (s *Server) requireSignIn(aud audience) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			if key := c.Request().Header.Get("X-API-Key"); key != "" && aud.kind == app.KindCashier && isAPI(c) {
				// A POS terminal: its key stands for its own cashier account.
				cs, err := s.app.CashierByAPIKey(ctx, key)
				if err != nil {
					return err
				}
				c.Set(ctxCashier, cs)
				return next(c)
			}
			tok := sessionToken(c, aud)
			se, err := s.app.Session(ctx, aud.kind, tok)
			if err == nil {
				switch aud.kind {
				case app.KindOfficer:
					var o app.Officer
					if o, err = s.app.Officer(ctx, se.SubjectID); err == nil {
						c.Set(ctxOfficer, o)
					}
				case app.KindCashier:
					var cs app.Cashier
					if cs, err = s.app.Cashier(ctx, se.SubjectID); err == nil {
						c.Set(ctxCashier, cs)
					}
				case app.KindResident:
					if isAPI(c) {
						// The API needs only who it is and the consent read
						// with the session; the record is read where a rule
						// needs it (the real-name step).
						r := app.Resident{ID: se.SubjectID}
						if se.ConsentVersion != "" {
							r.ConsentVersion = &se.ConsentVersion
						}
						c.Set(ctxResident, r)
						break
					}
					var r app.Resident
					if r, err = s.app.Resident(ctx, se.SubjectID); err == nil {
						c.Set(ctxResident, r)
					}
				}
			}
			if err != nil {
				if app.ErrorCode(err) == app.EINTERNAL {
					return err
				}
				if isAPI(c) {
					return app.Unauthorized("signed_out")
				}
				s.log.InfoContext(c.Request().Context(), "sign-in required", "path", c.Request().URL.Path, "kind", aud.kind)
				return c.Redirect(http.StatusSeeOther, aud.login)
			}
			c.Set(ctxToken, tok)
			return next(c)
		}
	}
}

// hopelessClaim answers an API press that cannot succeed before the
// session is even looked up (see app.HopelessClaim). A press with an
// Idempotency-Key goes the whole way: it may be the retry of a press that
// won, and must get its voucher back.
func (s *Server) hopelessClaim(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Header.Get("Idempotency-Key") != "" {
			return next(c)
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return next(c)
		}
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 4096))
		if err != nil {
			return next(c)
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			TierID int64 `json:"tier_id"`
		}
		if json.Unmarshal(body, &req) != nil {
			return next(c)
		}
		if err := s.app.HopelessClaim(id, req.TierID); err != nil {
			return err
		}
		return next(c)
	}
}

// startSession hands a new session to the client: a cookie on pages (the
// token is returned for the API by the caller). The CSRF token changes with
// it: a token seen or planted before sign-in (on a shared counter PC, say)
// must not be good for forms of the signed-in session.
func (s *Server) startSession(c echo.Context, aud audience, tok string) {
	c.SetCookie(&http.Cookie{
		Name: aud.cookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	s.rotateCSRF(c)
}

func (s *Server) endSession(c echo.Context, aud audience) error {
	tok := sessionToken(c, aud)
	c.SetCookie(&http.Cookie{Name: aud.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies})
	s.rotateCSRF(c)
	if tok == "" {
		return nil
	}
	return s.app.SignOut(c.Request().Context(), tok)
}

// The CSRF cookie: echo's CSRF middleware issues it and checks every
// page form against it; rotateCSRF replaces it.
const (
	csrfCookie = "cqv_csrf"
	csrfMaxAge = 24 * 3600
)

// rotateCSRF gives the browser a new CSRF token in this response, in place
// of the one the CSRF middleware has just set (one Set-Cookie for the name,
// so no browser has to decide between two), and hands the new token to a
// page rendered by this response.
func (s *Server) rotateCSRF(c echo.Context) {
	if isAPI(c) {
		return // the API authenticates by bearer token and has no CSRF token
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	h := c.Response().Header()
	var kept []string
	for _, v := range h.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(v, csrfCookie+"=") {
			kept = append(kept, v)
		}
	}
	h.Del(echo.HeaderSetCookie)
	for _, v := range kept {
		h.Add(echo.HeaderSetCookie, v)
	}
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: tok, Path: "/", MaxAge: csrfMaxAge, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	c.Set("csrf", tok)
}

// accessLog logs one line per request. It logs the route pattern, not the
// URL: a voucher link /v/<token> is a bearer instrument, and no secret
// belongs in a log.
func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogRoutePath: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			// request_id comes from the context (app.RequestIDHandler).
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("route", v.RoutePath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP))
			if s.cfg.ObserveRequest != nil {
				route := v.RoutePath
				if route == "" {
					route = "unmatched"
				}
				s.cfg.ObserveRequest(v.Method, route, v.Status, v.Latency)
			}
			return nil
		},
	})
}

// refuseInvalidText refuses, before any handler runs, a request whose
// typed input is not clean text: a form field (pages read the query and the
// form body alike, so both) or a string of a JSON body that is not UTF-8
// or holds a control character. Such bytes never come from a keyboard; a
// NUL cuts the text short in C-based tools that later read the database,
// and bytes that are not UTF-8 show as garbage in every export. One check
// here keeps them out of every form and API body without a line in each
// handler. Reads are left alone: they store nothing.
func refuseInvalidText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			return next(c)
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		if mt == echo.MIMEApplicationJSON {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return err // over the body limit: echo's 413
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !utf8.Valid(body) || !cleanJSON(body) {
				return errInvalidText
			}
			return next(c)
		}
		if isAPI(c) {
			return next(c) // the API reads JSON bodies only (bindJSON)
		}
		// FormParams parses the body once (url-encoded or multipart) and
		// keeps it on the request, where the CSRF check and the handler read it.
		form, err := c.FormParams()
		if err != nil {
			return next(c) // an unparseable form: handlers see no fields
		}
		for k, vs := range form {
			if !cleanText(k) {
				return errInvalidText
			}
			for _, v := range vs {
				if !cleanText(v) {
					return errInvalidText
				}
			}
		}
		return next(c)
	}
}

var errInvalidText = app.Invalid("invalid_text")

// cleanText is text a person can have typed: valid UTF-8 with no control
// characters but tab and line breaks (a textarea's), and no U+FFFD, which
// is what broken bytes or a lone surrogate escape ("\ud800") decode to.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < ' ' || r == 0x7f || r == utf8.RuneError:
			return false
		}
	}
	return true
}

// cleanJSON reports whether every string of a JSON body, keys included, is
// clean text. A body that is no JSON at all passes: bindJSON refuses it
// with its own reason.
func cleanJSON(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		if s, ok := tok.(string); ok && !cleanText(s) {
			return false
		}
	}
}

// securityHeaders sets the headers every response should carry.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		// Scripts and styles only from us; the camera stays with our own
		// origin. base-uri 'none': an injected <base> cannot move the
		// page's relative links and forms to another site.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		if s.cfg.SecureCookies {
			// Secure cookies mean the site is served over HTTPS: browsers
			// then refuse plain HTTP to it (and its subdomains) for a year,
			// so no first request can be downgraded.
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

func officerOf(c echo.Context) app.Officer   { o, _ := c.Get(ctxOfficer).(app.Officer); return o }
func cashierOf(c echo.Context) app.Cashier   { cs, _ := c.Get(ctxCashier).(app.Cashier); return cs }
func residentOf(c echo.Context) app.Resident { r, _ := c.Get(ctxResident).(app.Resident); return r }
