package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
	"cqvoucher/app/token"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// home is the landing page with the three ways in.
func (s *Server) home(c echo.Context) error {
	return s.page(c, http.StatusOK, "public/home", "title.home", nil)
}

// healthz answers 200 when the database reads and writes, for load
// balancers; otherwise 503 with the reason (for the operator reading the
// balancer's log: "writes failing: ... database or disk is full").
func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.app.Ping(ctx); err != nil {
		s.log.ErrorContext(c.Request().Context(), "health check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// jwks publishes the voucher verification keys, so anyone can check a voucher offline.
func (s *Server) jwks(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", s.app.Ring().JWKS())
}

// switchLanguage remembers the chosen language and goes back where the user was.
func (s *Server) switchLanguage(c echo.Context) error {
	lang := c.Param("lang")
	if lang != "zh" && lang != "en" {
		return app.NotFound("page_not_found")
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	back := localTarget(c.QueryParam("back"))
	if back == "" {
		back = "/"
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// switchDisplay turns the large-text mode (适老化) on or off for this
// browser, remembered for a year like the language, and goes back.
func (s *Server) switchDisplay(c echo.Context) error {
	mode := c.Param("mode")
	if mode != displayLarge && mode != "normal" {
		return app.NotFound("page_not_found")
	}
	c.SetCookie(&http.Cookie{Name: displayCookie, Value: mode, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	back := localTarget(c.QueryParam("back"))
	if back == "" {
		back = "/"
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// The large-text mode's cookie: base font of 20 px, high contrast, big
// targets on every resident and cashier page (app.css, body.large).
const (
	displayCookie = "display"
	displayLarge  = "large"
)

// largeText reports whether this browser chose the large-text mode.
func largeText(c echo.Context) bool {
	ck, err := c.Cookie(displayCookie)
	return err == nil && ck.Value == displayLarge
}

// localTarget turns a redirect target taken from input into a path on this
// site, or "" when it is not one. It judges the target as a browser will
// read the Location header (WHATWG URL parsing): leading and trailing C0
// controls and spaces are stripped, tab and newline removed anywhere, and
// a backslash read as "/". Without that, "/\t/evil.example" passes a naive check and
// the browser, dropping the tab, goes to //evil.example. The normalised
// text is what is returned, so the check and the redirect see one string.
func localTarget(raw string) string {
	if !utf8.ValidString(raw) {
		return ""
	}
	p := strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	p = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, p)
	if strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ""
	}
	// One leading slash, not two: "//host" is another origin.
	if len(p) == 0 || p[0] != '/' || (len(p) > 1 && p[1] == '/') {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}

// voucherLink is where a phone camera lands when it scans a voucher QR
// outside the cashier page: it says what the voucher is, that it is
// genuine, and whether it can still be used (valid, used when and where,
// expired, or used and then reversed), but redeems nothing. It is public:
// it names the shop, never the resident.
func (s *Server) voucherLink(c echo.Context) error {
	v, m, err := s.app.PublicMoment(c.Request().Context(), c.Param("token"))
	data := map[string]any{}
	switch {
	case err == nil:
		data["V"], data["M"] = v, m
		data["Face"], data["Threshold"] = v.FaceFen, v.ThresholdFen
		data["Expires"] = v.ExpiresAt
	case errors.Is(err, token.ErrExpired):
		data["Problem"] = "voucher_link.expired"
	case isTokenError(err):
		data["Problem"] = "err.forged"
	default:
		return err // the database failed: an error page, not "forged"
	}
	return s.page(c, http.StatusOK, "public/voucher", "title.voucher_link", data)
}

// isTokenError says whether a voucher token was refused as a token (bad
// form, signature, issuer or time), as opposed to a failed lookup.
func isTokenError(err error) bool {
	for _, e := range []error{token.ErrMalformed, token.ErrForged, token.ErrNotYetValid, token.ErrWrongIssuer, token.ErrMissingExpiry} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Outbox is the demo SMS sender: it writes each message to the log and
// keeps the latest ones for the demo page, so a demo needs no SMS gateway.
type Outbox struct {
	mu   sync.Mutex
	log  contextLogger
	msgs []OutboxMessage
	keep bool
}

// OutboxMessage is one sent message.
type OutboxMessage struct {
	Phone string
	Text  string
	At    time.Time
}

// MaskedPhone is the number as the demo page shows it (138****8000):
// enough to find one's own code, not a list of whose numbers were used.
func (m OutboxMessage) MaskedPhone() string { return app.Resident{Phone: m.Phone}.MaskedPhone() }

// contextLogger logs with the request's context, which names the request.
type contextLogger interface {
	InfoContext(ctx context.Context, msg string, args ...any)
}

// NewOutbox returns a log sender; keep also retains messages for the demo page.
func NewOutbox(log contextLogger, keep bool) *Outbox {
	return &Outbox{log: log, keep: keep}
}

// Send implements app.SMSSender.
func (o *Outbox) Send(ctx context.Context, phone, text string) error {
	// The log is kept longer than the code lives: it names the number masked.
	o.log.InfoContext(ctx, "sms", "to", app.Resident{Phone: phone}.MaskedPhone(), "text", text)
	if !o.keep {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, OutboxMessage{Phone: phone, Text: text, At: time.Now()})
	if len(o.msgs) > 50 {
		o.msgs = o.msgs[len(o.msgs)-50:]
	}
	return nil
}

// Latest returns the kept messages, newest first.
func (o *Outbox) Latest() []OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]OutboxMessage, len(o.msgs))
	for i, m := range o.msgs {
		out[len(o.msgs)-1-i] = m
	}
	return out
}

// demoOutbox shows the demo SMS messages (demo mode only).
func (s *Server) demoOutbox(c echo.Context) error {
	return s.page(c, http.StatusOK, "public/sms", "title.demo_sms", map[string]any{"Messages": s.outbox.Latest()})
}
