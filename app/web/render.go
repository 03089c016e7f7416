package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// Languages offered, the first being the default.
var languages = []string{"zh", "en"}

// Locale is one language's messages. Templates call {{.L.T "key"}}; the
// locale travels in the page data rather than in the template's FuncMap,
// because changing shared functions per request races (miniflux learned it).
type Locale struct {
	Lang     string
	messages map[string]string
	fallback map[string]string
}

// T returns the message for key with {name} placeholders filled from
// pairs of arguments: T "err.sold_out" "next" "10:00".
func (l *Locale) T(key string, args ...any) string {
	msg, ok := l.messages[key]
	if !ok {
		if msg, ok = l.fallback[key]; !ok {
			return key
		}
	}
	for i := 0; i+1 < len(args); i += 2 {
		msg = strings.ReplaceAll(msg, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return msg
}

// Has says whether the language, or the default one, has a message for key.
func (l *Locale) Has(key string) bool {
	_, ok := l.messages[key]
	if !ok {
		_, ok = l.fallback[key]
	}
	return ok
}

// Err says an error in words: its reason's message with its parameters.
func (l *Locale) Err(err error) string {
	var e *app.Error
	if !asError(err, &e) {
		return l.T("err.internal")
	}
	return l.reason(e.Reason, e.Params)
}

func (l *Locale) reason(reason string, params map[string]string) string {
	args := make([]any, 0, 2*len(params))
	for k, v := range params {
		args = append(args, k, v)
	}
	return l.T("err."+reason, args...)
}

// FieldErrs translates an error's per-field reasons.
func (l *Locale) FieldErrs(err error) map[string]string {
	var e *app.Error
	if !asError(err, &e) || len(e.Fields) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.Fields))
	for f, r := range e.Fields {
		out[f] = l.reason(r, e.Params)
	}
	return out
}

// Action shows an audit action in words where the locale has them.
func (l *Locale) Action(action string) string {
	key := "audit." + strings.ReplaceAll(action, ".", "_")
	if msg := l.T(key); msg != key {
		return msg
	}
	return action
}

// Name picks the name in this locale's language.
func (l *Locale) Name(zh, en string) string {
	if l.Lang == "en" && en != "" {
		return en
	}
	return zh
}

// Renderer holds one parsed template set per page, built at start-up from
// the layout, the partials and the page, so a missing or broken page
// stops the server before it takes traffic.
type Renderer struct {
	pages   map[string]*template.Template
	locales map[string]*Locale
}

var funcs = template.FuncMap{
	"yuan":  func(f app.Fen) string { return f.Yuan() },
	"money": func(f app.Fen) string { return f.Grouped() },
	"fen":   func(n int64) app.Fen { return app.Fen(n) },
	"plain": func(f app.Fen) string { return f.String() },
	"short": func(f app.Fen) string { return f.Short() },
	"local": func(t time.Time) string { return app.FormatLocal(t) },
	// until shows an exclusive bound (an expiry at midnight) as the last
	// minute it allows: 23:59 of the day before.
	"until": func(t time.Time) string { return app.FormatUntil(t) },
	"untilptr": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return app.FormatUntil(*t)
	},
	"localptr": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return app.FormatLocal(*t)
	},
	"localdate": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(app.Shanghai).Format("2006-01-02")
	},
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"ptrtime": func(t time.Time) *time.Time { return &t },
	"share":   app.ShareBP,
	"deref_t": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"deref64": func(n *int64) int64 {
		if n == nil {
			return 0
		}
		return *n
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"rfc3339":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"datetimeLocal": func(t time.Time) string { return t.In(app.Shanghai).Format("2006-01-02T15:04") },
	"pct":           app.FormatPercentBP,
	"code":          func(s string) string { return formatCode(s) },
	"masked":        maskCode,
	"add":           func(a, b int) int { return a + b },
	"list":          func(items ...string) []string { return items },
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	},
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// NewRenderer parses every page under pages/ with the layouts and partials.
func NewRenderer(fsys fs.FS) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, locales: map[string]*Locale{}}
	raw := map[string]map[string]string{}
	for _, lang := range languages {
		m, err := readMessages(fsys, lang)
		if err != nil {
			return nil, err
		}
		raw[lang] = m
	}
	for _, lang := range languages {
		r.locales[lang] = &Locale{Lang: lang, messages: raw[lang], fallback: raw[languages[0]]}
	}
	shared := []string{}
	for _, dir := range []string{"layouts", "partials"} {
		names, err := fs.Glob(fsys, dir+"/*.html")
		if err != nil {
			return nil, err
		}
		shared = append(shared, names...)
	}
	err := fs.WalkDir(fsys, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		t, err := template.New(path.Base(p)).Funcs(funcs).ParseFS(fsys, append([]string{p}, shared...)...)
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")
		r.pages[name] = t
		return nil
	})
	return r, err
}

// readMessages reads one language's messages from i18n/.
func readMessages(fsys fs.FS, lang string) (map[string]string, error) {
	body, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
	}
	return m, nil
}

// Locale returns the messages of a language (the default for unknown ones).
func (r *Renderer) Locale(lang string) *Locale {
	if l, ok := r.locales[lang]; ok {
		return l
	}
	return r.locales[languages[0]]
}

// Render implements echo.Renderer: name is a page such as "officer/campaign".
// The page is rendered into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (r *Renderer) Render(w io.Writer, name string, data any, c echo.Context) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", data); err != nil {
		return err
	}
	_, err := buf.WriteTo(w)
	return err
}

// page renders a page with the common data around the handler's own.
func (s *Server) page(c echo.Context, status int, name string, title string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	l := s.locale(c)
	data["L"] = l
	data["Title"] = l.T(title)
	data["CSRF"], _ = c.Get("csrf").(string)
	data["Path"] = c.Request().URL.Path
	data["Home"] = homeOf(c)
	data["Back"] = backOf(c, data["Home"].(string))
	data["Large"] = largeText(c)
	data["Demo"] = s.cfg.Demo
	data["Now"] = s.app.Now()
	if _, ok := data["Flash"]; !ok {
		data["Flash"] = s.takeFlash(c)
	}
	if o, ok := c.Get(ctxOfficer).(app.Officer); ok {
		data["Officer"] = o
	}
	if cs, ok := c.Get(ctxCashier).(app.Cashier); ok {
		data["Cashier"] = cs
	}
	if r, ok := c.Get(ctxResident).(app.Resident); ok {
		data["Resident"] = r
		data["FeedbackUnread"] = s.feedbackUnread(c, r)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Render(status, name, data)
}

// withError puts a refused form's message and per-field messages into a
// page's data, so the form is shown again as typed with each message
// beside its field. Errors defaults to an empty map: templates index it.
func (s *Server) withError(c echo.Context, data map[string]any, err error) {
	if _, ok := data["Errors"]; !ok {
		data["Errors"] = map[string]string{}
	}
	if err == nil {
		return
	}
	l := s.locale(c)
	data["Error"] = l.Err(err)
	if fe := l.FieldErrs(err); fe != nil {
		data["Errors"] = fe
	}
}

// locale picks the language: the lang cookie set by the switch, else Accept-Language.
func (s *Server) locale(c echo.Context) *Locale {
	if ck, err := c.Cookie("lang"); err == nil {
		return s.tpl.Locale(ck.Value)
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return s.tpl.Locale("zh")
		case strings.HasPrefix(tag, "en"):
			return s.tpl.Locale("en")
		}
	}
	return s.tpl.Locale(languages[0])
}

const flashCookie = "flash"

// flash leaves a message key for the next page (after a 303 redirect).
func (s *Server) flash(c echo.Context, key string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: key, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	// Only known message keys are shown, so a forged cookie cannot put words on our page.
	msg := s.locale(c).T("flash." + ck.Value)
	if msg == "flash."+ck.Value {
		return ""
	}
	return msg
}

// homeOf is the first page of whoever is looking: the brand in the header
// and an error page's way back lead a cashier to the till and a resident
// to the campaigns, not to the landing page that asks who they are.
func homeOf(c echo.Context) string {
	path := c.Request().URL.Path
	under := func(prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }
	switch {
	case under("/station") || officerOf(c).Role == app.RoleStation:
		return "/station"
	case c.Get(ctxOfficer) != nil || under("/officer"):
		return "/officer"
	case c.Get(ctxCashier) != nil || under("/merchant"):
		return "/merchant"
	case c.Get(ctxResident) != nil || under("/m"):
		return "/m"
	}
	return "/"
}

// backOf is where switching the language or the display mode returns to:
// the page as shown, query included (the wallet's tab, the voucher chosen
// for feedback). A page that answers a form (the till's check, the SMS
// step) cannot be fetched again, so it returns to the audience's first
// page instead of to an error.
func backOf(c echo.Context, home string) string {
	if c.Request().Method != http.MethodGet {
		return home
	}
	return c.Request().URL.RequestURI()
}
