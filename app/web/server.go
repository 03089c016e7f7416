// Package web is the HTTP face of the voucher system: server-rendered
// pages for officers, residents and cashiers (zh-CN first, English by a
// switch) and a JSON API under /api/v1. It binds input, calls package app,
// and maps app errors to responses in one place.
package web

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"cqvoucher/app"
	"cqvoucher/app/token"
)

// Config is what the web layer needs beyond the domain.
type Config struct {
	// BaseURL prefixes the QR text (<base>/v/<token>) so any phone camera can open it.
	BaseURL string
	// Demo shows the SMS outbox page and demo hints. Never in production.
	Demo bool
	// SecureCookies marks cookies Secure (serve over HTTPS).
	SecureCookies bool
	// TrustedProxies lists CIDRs of reverse proxies whose X-Forwarded-For
	// is believed; empty means the peer address is the client.
	TrustedProxies []string
	// Rate limits per client IP: sign-in attempts and SMS sends per minute.
	LoginPerMinute int
	SMSPerMinute   int
	// ClaimsPerSecond limits one resident's claim presses.
	ClaimsPerSecond float64
	// ObserveRequest, if set, is told of every request answered: its
	// method, its route pattern (never the path itself, which names
	// vouchers and campaigns), its status and how long it took.
	ObserveRequest func(method, route string, status int, took time.Duration)
}

// DefaultConfig suits production behind no proxy.
func DefaultConfig() Config {
	return Config{BaseURL: "http://localhost:8080", LoginPerMinute: 20, SMSPerMinute: 10, ClaimsPerSecond: 5}
}

// Server holds the routes and their dependencies.
type Server struct {
	app    *app.App
	cfg    Config
	tpl    *Renderer
	log    *slog.Logger
	echo   *echo.Echo
	outbox *Outbox // demo SMS outbox; nil outside demo mode
	qr     *qrCache
}

// New builds the server. outbox may be nil (no demo SMS page).
func New(a *app.App, cfg Config, fsys fs.FS, outbox *Outbox, log *slog.Logger) (*Server, error) {
	tpl, err := NewRenderer(fsys)
	if err != nil {
		return nil, err
	}
	if err := checkTermsVersion(fsys, a.Terms()); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if _, ok := log.Handler().(app.RequestIDHandler); !ok {
		log = slog.New(app.RequestIDHandler{Handler: log.Handler()})
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	// 5,000 images of ~3 KB: about 15 MB, the wallets in use at a busy hour.
	s := &Server{app: a, cfg: cfg, tpl: tpl, log: log, outbox: outbox, qr: newQRCache(5000)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Renderer = tpl
	e.HTTPErrorHandler = s.handleError
	// Rate limiters key on the client address; X-Forwarded-For from anyone
	// but a configured proxy would let a bot pick a new address per request.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		var opts []echo.TrustOption
		for _, cidr := range cfg.TrustedProxies {
			_, n, err := parseCIDR(cidr)
			if err != nil {
				return nil, err
			}
			opts = append(opts, echo.TrustIPRange(n))
		}
		opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	s.echo = e
	s.routes(fsys)
	return s, nil
}

// Routes lists the registered routes (for the API description's test).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// statusOf is the one mapping from app error codes to HTTP statuses.
var statusOf = map[string]int{
	app.EINVALID:      http.StatusUnprocessableEntity,
	app.EUNAUTHORIZED: http.StatusUnauthorized,
	app.EFORBIDDEN:    http.StatusForbidden,
	app.ENOTFOUND:     http.StatusNotFound,
	app.ECONFLICT:     http.StatusConflict,
	app.ERATELIMITED:  http.StatusTooManyRequests,
	app.EINTERNAL:     http.StatusInternalServerError,
}

func asError(err error, target **app.Error) bool { return errors.As(err, target) }

// apiError is the JSON body of every API error: a stable code and reason
// that clients switch on, and a message for people.
type apiError struct {
	Code    string            `json:"code"`
	Reason  string            `json:"reason"`
	Message string            `json:"message"`
	Params  map[string]string `json:"params,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// handleError is the one place errors become responses, and the one place
// internal errors are logged (with the request's method and path, never
// its body, which may carry codes or passwords).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *app.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = &app.Error{Code: httpCode(he.Code), Reason: httpReason(he)}
	default:
		ae = &app.Error{Code: app.EINTERNAL, Reason: "internal"}
	}
	status := statusOf[ae.Code]
	if he != nil {
		status = he.Code
	}
	if errors.As(err, new(badRequest)) {
		status = http.StatusBadRequest
	}
	status = overloadStatus(c, ae, status)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	l := s.locale(c)
	if isAPI(c) {
		_ = c.JSON(status, map[string]apiError{"error": {Code: ae.Code, Reason: ae.Reason, Message: l.Err(ae), Params: ae.Params, Fields: ae.Fields}})
		return
	}
	if perr := s.page(c, status, "public/error", "title.error", map[string]any{"Message": l.Err(ae), "Status": status}); perr != nil {
		s.log.ErrorContext(c.Request().Context(), "error page failed", "err", perr)
		_ = c.String(status, l.Err(ae))
	}
}

// overloadStatus is status, unless ae is an overload ("too_busy"): that
// is not the client's fault, and is 503 with when to come back
// (Retry-After), on a page as in the API.
func overloadStatus(c echo.Context, ae *app.Error, status int) int {
	if ae == nil || ae.Reason != "too_busy" {
		return status
	}
	c.Response().Header().Set("Retry-After", ae.Params["retry_after"])
	return http.StatusServiceUnavailable
}

func httpCode(status int) string {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return app.ENOTFOUND
	case http.StatusUnauthorized:
		return app.EUNAUTHORIZED
	case http.StatusForbidden:
		return app.EFORBIDDEN
	case http.StatusTooManyRequests:
		return app.ERATELIMITED
	case http.StatusRequestEntityTooLarge, http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return app.EINVALID
	}
	if status >= 500 {
		return app.EINTERNAL
	}
	return app.EINVALID
}

func httpReason(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "page_not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusForbidden, http.StatusBadRequest:
		if msg, _ := he.Message.(string); strings.Contains(msg, "csrf") {
			return "csrf"
		}
	}
	if he.Code >= 500 {
		return "internal"
	}
	return "bad_request"
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// limiter builds a per-client rate limit of n requests per interval, on
// the App's clock: limits then mean the same on a loaded machine and in
// tests that move time by hand.
func (s *Server) limiter(n int, per time.Duration, key func(echo.Context) string) echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               newClockLimiter(n, per, s.app.Now),
		IdentifierExtractor: func(c echo.Context) (string, error) { return key(c), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "60")
			return app.RateLimited("rate_limited")
		},
		ErrorHandler: func(c echo.Context, err error) error { return app.RateLimited("rate_limited") },
	})
}

// clockLimiter is echo's RateLimiterStore on token buckets (n per interval,
// bursts of n) that read an injected clock. Echo's memory store reads the
// wall clock, so its counts depended on how fast requests ran.
type clockLimiter struct {
	now   func() time.Time
	limit rate.Limit
	burst int
	// idle is how long a visitor's bucket takes to refill completely: a
	// visitor unseen that long is indistinguishable from a new one, so
	// forgetting it loses nothing and keeps memory to the clients of one
	// interval.
	idle time.Duration

	mu        sync.Mutex
	visitors  map[string]*visitor
	lastSweep time.Time
}

type visitor struct {
	bucket *rate.Limiter
	seen   time.Time
}

func newClockLimiter(n int, per time.Duration, now func() time.Time) *clockLimiter {
	return &clockLimiter{now: now, limit: rate.Limit(float64(n) / per.Seconds()), burst: n, idle: per, visitors: make(map[string]*visitor)}
}

// Allow takes one token from id's bucket at the clock's current time.
func (l *clockLimiter) Allow(id string) (bool, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.forgetIdle(now)
	}
	v, ok := l.visitors[id]
	if !ok {
		v = &visitor{bucket: rate.NewLimiter(l.limit, l.burst)}
		l.visitors[id] = v
	}
	v.seen = now
	return v.bucket.AllowN(now, 1), nil
}

// forgetIdle drops visitors whose buckets are full again; it runs at most
// once an interval, so its cost is spread over that interval's requests.
func (l *clockLimiter) forgetIdle(now time.Time) {
	for id, v := range l.visitors {
		if now.Sub(v.seen) >= l.idle {
			delete(l.visitors, id)
		}
	}
	l.lastSweep = now
}

func formatCode(s string) string { return token.FormatCode(s) }
