package web_test

// Web hardening: redirect targets, invalid text, static files, the CSRF
// token across sign-in, security headers, and masked voucher codes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
	"cqvoucher/app/web"
	"cqvoucher/templates"
)

// redirectCases are back= values as they travel in a URL or a form:
// percent-encoded, so each is decoded once by the server, as a browser's
// request would be. want is the Location the server may answer with; ""
// means the fallback (or a refusal of the whole request).
var redirectCases = []struct{ raw, want string }{
	// Paths on this site, some spelled the way a browser would normalise.
	{"/m/wallet", "/m/wallet"},
	{"/m/campaigns/1?tab=used", "/m/campaigns/1?tab=used"},
	{"%20/m/wallet", "/m/wallet"},
	{"/m/wal%09let", "/m/wallet"},
	{"/m%5Cwallet", "/m/wallet"},
	{"/%252F/evil.example", "/%2F/evil.example"}, // a path segment "%2F", not a second slash
	{"/@evil.example", "/@evil.example"},
	// Other origins, however spelled.
	{"//evil.example", ""},
	{"/%09/evil.example", ""},
	{"/%0a/evil.example", ""},
	{"/%0d/evil.example", ""},
	{"/%0d%0a/evil.example", ""},
	{"/%09%09%0a/evil.example", ""},
	{"%09//evil.example", ""},
	{"%20//evil.example", ""},
	{"%01//evil.example", ""},
	{"%1f//evil.example", ""},
	{"%00//evil.example", ""},
	{"/%00/evil.example", ""},
	{"/%5Cevil.example", ""},
	{"%5C/evil.example", ""},
	{"%5C%5Cevil.example", ""},
	{"/%5C%09evil.example", ""},
	{"%2F%2Fevil.example", ""},
	{"/%2Fevil.example", ""},
	{"///evil.example", ""},
	{"https://evil.example/", ""},
	{"HTTPS://evil.example", ""},
	{"https:evil.example", ""},
	{"https:/evil.example", ""},
	{"%09https://evil.example", ""},
	{"javascript:alert(1)", ""},
	{"java%09script:alert(1)", ""},
	{"data:text/html,hi", ""},
	{"evil.example", ""},
	{"%E3%80%80//evil.example", ""}, // an ideographic space is not stripped, so not a path either
	{"/%ff/evil.example", ""},
	{"%ff//evil.example", ""},
	{"", ""},
}

// whatwgOnOrigin reports whether a Location value, read as a browser reads
// it (the WHATWG URL parser's preprocessing, written out here apart from
// the server's code), stays on this origin.
func whatwgOnOrigin(loc string) bool {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' }) // C0 controls and space
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	return strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//")
}

func TestRedirectTargetsStayOnThisSite(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, tok := e.ResidentSession(t, "13800138000")
	resident := authzNewBrowser(t, e)
	resident.setCookie("cqv_resident", tok)

	check := func(t *testing.T, route, raw, want, fallback string, p authzPage) {
		t.Helper()
		if want == "" {
			want = fallback
		}
		switch {
		case p.status == http.StatusSeeOther && p.location == want && whatwgOnOrigin(p.location):
		case p.status == http.StatusUnprocessableEntity && p.location == "" && want == fallback:
			// Refused as invalid text: no redirect at all.
		default:
			t.Errorf("%s back=%q: %d → %q, want 303 → %q", route, raw, p.status, p.location, want)
		}
	}
	for _, c := range redirectCases {
		// The language switch takes back= from its query.
		p := resident.do(t, http.MethodGet, "/lang/en?back="+c.raw, nil)
		check(t, "/lang/en", c.raw, c.want, "/", p)

		// The real-name step takes it from its form.
		back, err := url.QueryUnescape(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		p = resident.do(t, http.MethodPost, "/m/identity", url.Values{"id_number": {"11010519491231002X"}, "back": {back}})
		check(t, "POST /m/identity", c.raw, c.want, "/m", p)
	}
}

// badText are strings no keyboard types, as they reach the server.
var badText = map[string]string{
	"NUL":                "十八梯\x00抄手",
	"byte 0xff":          "十八梯\xff抄手",
	"a cut UTF-8 rune":   "十八梯\xe6\x8a",
	"escape (ESC)":       "十八梯\x1b[31m抄手",
	"replacement rune":   "十八梯\ufffd抄手",
	"NUL in a long text": strings.Repeat("渝", 200) + "\x00",
}

// rawJSON sends a JSON body exactly as given (json.Marshal would repair
// broken UTF-8), checked against openapi.json like every API call.
func rawJSON(t *testing.T, e *apptest.Env, method, path, bearer string, body []byte) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	apptest.CheckAgainstDescription(t, req, res, raw)
	out := apptest.Response{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// withRawString is a JSON object with one field's value spelled as given:
// raw bytes (not UTF-8) or an escape such as \u0000.
func withRawString(t *testing.T, fields map[string]any, field, spelled string) []byte {
	t.Helper()
	const mark = "\u0001MARK\u0001"
	fields[field] = mark
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	quoted, _ := json.Marshal(mark)
	return bytes.Replace(b, quoted, []byte(`"`+spelled+`"`), 1)
}

func TestInvalidTextIsRefusedAndNothingStored(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	browsers, tokens := authzSignIn(t, e, e.Maker)
	maker, makerTok := browsers[0], tokens[0]
	campaigns := func() int64 { return e.Count(t, `SELECT COUNT(*) FROM campaigns`) }
	merchants := func() int64 { return e.Count(t, `SELECT COUNT(*) FROM merchants`) }
	beforeCampaigns, beforeMerchants := campaigns(), merchants()
	refusedPage := func(t *testing.T, what string, p authzPage) {
		t.Helper()
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "输入含有无效字符") {
			t.Errorf("%s: %d %.300s", what, p.status, p.body)
		}
	}

	for name, bad := range badText {
		t.Run(name, func(t *testing.T) {
			// Pages: a campaign's name, a merchant's application, a phone for SMS.
			form := authzCampaignForm(e)
			form.Set("name", bad)
			refusedPage(t, "campaign form", maker.do(t, http.MethodPost, "/officer/campaigns", form))
			// The same field in the query of the form's URL: pages read both.
			refusedPage(t, "campaign form, bad query", maker.do(t, http.MethodPost, "/officer/campaigns?name="+url.QueryEscape(bad), authzCampaignForm(e)))

			apply := url.Values{}
			for k, v := range application(func(a map[string]string) { a["address"] = bad }) {
				apply.Set(k, v)
			}
			refusedPage(t, "merchant application form", maker.do(t, http.MethodPost, "/merchant/apply", apply))
			refusedPage(t, "SMS form", maker.do(t, http.MethodPost, "/m/login/code", url.Values{"phone": {"13800138000" + bad}, "consent": {"1"}}))
		})
	}
	// The API, with the bad text spelled as raw bytes and as JSON escapes.
	// A raw control character is no JSON at all (RFC 8259 §7), so that
	// body is refused as bad_json; it is stored no more than the others.
	spellings := []struct{ name, spelled, reason string }{
		{"raw NUL", "a\x00b", "bad_json"}, {"raw 0xff", "a\xffb", "invalid_text"}, {"escaped NUL", `a\u0000b`, "invalid_text"},
		{"escaped ESC", `a\u001bb`, "invalid_text"}, {"lone surrogate", `a\ud800b`, "invalid_text"},
		{"escaped replacement", `a\ufffdb`, "invalid_text"},
	}
	for _, sp := range spellings {
		t.Run("API "+sp.name, func(t *testing.T) {
			refused := func(what string, r apptest.Response) {
				t.Helper()
				if r.Status != http.StatusUnprocessableEntity || r.Reason() != sp.reason {
					t.Errorf("%s: %d %s, want 422 %s", what, r.Status, r.Raw, sp.reason)
				}
			}
			body := campaignBody(e, nil)
			refused("campaign", rawJSON(t, e, http.MethodPost, "/api/v1/officer/campaigns", makerTok, withRawString(t, body, "name", sp.spelled)))
			app := map[string]any{}
			for k, v := range application(nil) {
				app[k] = v
			}
			refused("merchant application", rawJSON(t, e, http.MethodPost, "/api/v1/merchants/applications", "", withRawString(t, app, "name", sp.spelled)))
			refused("SMS", rawJSON(t, e, http.MethodPost, "/api/v1/resident/sms", "", withRawString(t, map[string]any{"consent": true}, "phone", "13800138000"+sp.spelled)))
			// A key is text too.
			refused("bad key", rawJSON(t, e, http.MethodPost, "/api/v1/resident/sms", "", []byte(`{"consent":true,"phone":"13800138000","`+sp.spelled+`":1}`)))
		})
	}
	if n := campaigns(); n != beforeCampaigns {
		t.Errorf("campaigns: %d, want %d: refused input was stored", n, beforeCampaigns)
	}
	if n := merchants(); n != beforeMerchants {
		t.Errorf("merchants: %d, want %d: refused input was stored", n, beforeMerchants)
	}
	if code := e.SMS.Code("13800138000"); code != "" {
		t.Errorf("an SMS code was sent for a refused phone: %q", code)
	}

	// Text a person types still goes through: tabs and line breaks included.
	form := authzCampaignForm(e)
	form.Set("name", "渝中\t消费券\r\n第一期 🎉")
	if p := maker.do(t, http.MethodPost, "/officer/campaigns", form); p.status != http.StatusSeeOther {
		t.Fatalf("a clean campaign form: %d %.300s", p.status, p.body)
	}
	if n := campaigns(); n != beforeCampaigns+1 {
		t.Fatalf("campaigns after a clean form: %d", n)
	}
}

// syncBuffer is a log sink that the server's goroutines may share.
type syncBuffer = apptest.LogBuffer

func TestStaticServesFilesOnly(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	var logged syncBuffer
	srv, err := web.New(e.App, web.DefaultConfig(), templates.FS, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		// A raw request line: a client library would clean or escape the path.
		req, err := http.NewRequest(http.MethodGet, hs.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = path
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	for _, p := range []string{"/static/", "/static/vendor", "/static/vendor/", "/static/%ff", "/static/%ff/app.css",
		"/static/app.css/", "/static/%c0%ae%c0%ae/app.css", "/static/../static/app.css", "/static/./app.css", "/static//app.css",
		"/static/%00", "/static/no-such-file.css"} {
		status, body, h := get(p)
		if status != http.StatusNotFound || strings.Contains(body, `href="app.css"`) || !strings.Contains(h.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s %.200s, want our own 404 page", p, status, h.Get("Content-Type"), body)
		}
	}
	if status, body, h := get("/static/app.css"); status != http.StatusOK || body == "" || h.Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("GET /static/app.css: %d %q", status, h.Get("Cache-Control"))
	}
	if strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("static requests logged errors:\n%s", logged.String())
	}
}

func TestSignInRotatesTheCSRFToken(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	// csrfRefused: a form with this browser's current token field is refused
	// as a cross-site request (403, the page-expired message).
	csrfRefused := func(p authzPage) bool {
		return p.status == http.StatusForbidden && strings.Contains(p.body, "页面已过期")
	}
	cases := []struct {
		who     string
		signIn  func(t *testing.T, b *authzBrowser) authzPage
		landing string
		form    func() (string, url.Values) // a form of the signed-in session
	}{
		{"officer", func(t *testing.T, b *authzBrowser) authzPage {
			return b.do(t, http.MethodPost, "/officer/login", url.Values{"username": {e.Maker.Username}, "password": {apptest.Password}, "code": {apptest.TOTPCode(e.Clock.Now())}})
		}, "/officer", func() (string, url.Values) { return "/officer/campaigns", authzCampaignForm(e) }},
		{"cashier", func(t *testing.T, b *authzBrowser) authzPage {
			return b.do(t, http.MethodPost, "/merchant/login", url.Values{"username": {e.Cashier.Username}, "password": {apptest.Password}})
		}, "/merchant", func() (string, url.Values) { return "/merchant/check", url.Values{"code": {"7K3M-9QXZ-2HJ4-RT8V"}} }},
		{"resident", func(t *testing.T, b *authzBrowser) authzPage {
			if p := b.do(t, http.MethodPost, "/m/login/code", url.Values{"phone": {"13800138000"}, "consent": {"1"}}); p.status != http.StatusOK {
				t.Fatalf("send code: %d", p.status)
			}
			return b.do(t, http.MethodPost, "/m/login", url.Values{"phone": {"13800138000"}, "code": {e.SMS.Code("13800138000")}})
		}, "/m/wallet", func() (string, url.Values) {
			return "/m/identity", url.Values{"id_number": {"11010519491231002X"}, "back": {"/m/wallet"}}
		}},
	}
	for _, c := range cases {
		t.Run(c.who, func(t *testing.T) {
			b := authzNewBrowser(t, e)
			before := b.csrf
			if p := c.signIn(t, b); p.status != http.StatusSeeOther || p.location != c.landing {
				t.Fatalf("sign-in: %d → %q", p.status, p.location)
			}
			after := b.cookie("cqv_csrf")
			if after == "" || after == before {
				t.Fatalf("CSRF cookie after sign-in %q, before %q: not rotated", after, before)
			}
			// The token from before sign-in is dead.
			path, form := c.form()
			if p := b.do(t, http.MethodPost, path, form); !csrfRefused(p) {
				t.Errorf("the token from before sign-in still works: %d %.200s", p.status, p.body)
			}
			// The signed-in pages carry the new one, and it works.
			landing := b.do(t, http.MethodGet, c.landing, nil)
			if m := authzCSRFInput.FindStringSubmatch(landing.body); m == nil || m[1] != after {
				t.Fatalf("the signed-in page's forms do not carry the new token (found %v)", m)
			}
			b.csrf = after
			if p := b.do(t, http.MethodPost, path, form); csrfRefused(p) || p.status >= 500 {
				t.Errorf("the new token is refused: %d %.200s", p.status, p.body)
			}
		})
	}
}

// The sign-in answer sets the CSRF cookie once, to the new token: two
// Set-Cookie headers for one name would leave the browser to pick one.
func TestSignInSetsOneCSRFCookie(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	b := authzNewBrowser(t, e)
	form := url.Values{"username": {e.Maker.Username}, "password": {apptest.Password}, "code": {apptest.TOTPCode(e.Clock.Now())}, "csrf": {b.csrf}}
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/officer/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "cqv_csrf", Value: b.csrf})
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var csrf []*http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "cqv_csrf" {
			csrf = append(csrf, ck)
		}
	}
	if res.StatusCode != http.StatusSeeOther || len(csrf) != 1 || csrf[0].Value == b.csrf || !csrf[0].HttpOnly || csrf[0].MaxAge <= 0 {
		t.Fatalf("sign-in: %d, CSRF cookies %v", res.StatusCode, csrf)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	for _, secure := range []bool{false, true} {
		cfg := web.DefaultConfig()
		cfg.SecureCookies = secure
		srv, err := web.New(e.App, cfg, templates.FS, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/", "/officer/login", "/api/v1/campaigns/live", "/static/app.css", "/no-such-page"} {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			h := rec.Result().Header
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "base-uri 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			hsts := h.Get("Strict-Transport-Security")
			if secure && hsts != "max-age=31536000; includeSubDomains" {
				t.Errorf("%s over HTTPS (secure cookies): HSTS %q", path, hsts)
			}
			if !secure && hsts != "" {
				t.Errorf("%s over plain HTTP: HSTS %q (a browser would lock out a site without TLS)", path, hsts)
			}
		}
	}
}

func TestCashiersSeeVoucherCodesMasked(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{})
	refunded := claimOne(t, e, camp, "13800138000")
	kept := claimOne(t, e, camp, "13800138001")
	byPage := claimOne(t, e, camp, "13800138002")
	vouchers := []app.Voucher{refunded, kept, byPage}
	colleague := e.NewCashier(t, e.Merchant, "colleague")
	owner := e.NewOwner(t, e.Merchant, "boss")
	staff := map[string]string{"cashier": e.CashierSession(t, e.Cashier), "colleague": e.CashierSession(t, colleague),
		"owner": e.CashierSession(t, owner)}
	// leaks names what of a voucher an answer carries in full.
	leaks := func(body string) []string {
		var found []string
		for _, v := range vouchers {
			for _, s := range []string{v.Code, token.FormatCode(v.Code), v.Token} {
				if strings.Contains(body, s) {
					found = append(found, s)
				}
			}
		}
		return found
	}

	// The cashier redeems two vouchers on the API (the POS) and refunds one;
	// the answers already show the codes masked.
	inspect := e.API(t, http.MethodPost, "/api/v1/cashier/inspect", staff["cashier"], map[string]string{"voucher": refunded.Token, "bill": "150"})
	first := redeem(t, e, staff["cashier"], refunded.Token, "150", "k1")
	again := redeem(t, e, staff["cashier"], refunded.Token, "150", "k1") // a retry: the stored answer
	second := redeem(t, e, staff["cashier"], kept.Code, "150", "k2")
	for name, r := range map[string]apptest.Response{"inspect": inspect, "redeem": first, "retried redeem": again, "redeem by code": second} {
		if r.Status/100 != 2 || len(leaks(r.Raw)) > 0 {
			t.Errorf("%s: %d, carries %v: %s", name, r.Status, leaks(r.Raw), r.Raw)
		}
	}
	if got := first.Body["voucher"].(map[string]any)["code_masked"]; got != "**** **** **** "+refunded.Code[12:] {
		t.Errorf("receipt's code_masked = %v", got)
	}
	redID := int64(first.Body["redemption"].(map[string]any)["id"].(float64))
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", redID), staff["cashier"], nil); r.Status != 200 || len(leaks(r.Raw)) > 0 {
		t.Fatalf("reverse: %d %s", r.Status, r.Raw)
	}
	// And one at the counter page: its receipt shows the code masked.
	counter := authzNewBrowser(t, e)
	counter.setCookie("cqv_cashier", staff["cashier"])
	receipt := counter.do(t, http.MethodPost, "/merchant/redeem", url.Values{"voucher": {byPage.Code}, "bill": {"150"}, "key": {"page-1"}})
	if receipt.status != 200 || !strings.Contains(receipt.body, `id="receipt"`) || len(leaks(receipt.body)) > 0 ||
		!strings.Contains(receipt.body, "**** **** **** "+byPage.Code[12:]) {
		t.Errorf("receipt page: %d, carries %v", receipt.status, leaks(receipt.body))
	}

	// Nothing any of the staff can read afterwards carries a full code.
	day := e.Clock.Now().In(app.Shanghai).Format("2006-01-02")
	for who, tok := range staff {
		b := authzNewBrowser(t, e)
		b.setCookie("cqv_cashier", tok)
		for _, path := range []string{"/merchant", "/merchant/redemptions", "/merchant/statements?from=" + day + "&to=" + day, "/merchant/staff"} {
			p := b.do(t, http.MethodGet, path, nil)
			if p.status != 200 && p.status != 403 {
				t.Errorf("%s GET %s: %d", who, path, p.status)
			}
			if l := leaks(p.body); len(l) > 0 {
				t.Errorf("%s GET %s shows %v", who, path, l)
			}
			if path == "/merchant/redemptions" {
				for _, v := range vouchers {
					if !strings.Contains(p.body, "**** **** **** "+v.Code[12:]) {
						t.Errorf("%s's list of the day lacks the masked code of %s", who, v.Code[12:])
					}
				}
			}
		}
		for _, path := range []string{"/api/v1/cashier/redemptions", "/api/v1/cashier/statements?from=" + day + "&to=" + day,
			"/api/v1/cashier/staff", "/api/v1/cashier/api-keys"} {
			r := e.API(t, http.MethodGet, path, tok, nil)
			if l := leaks(r.Raw); len(l) > 0 {
				t.Errorf("%s GET %s shows %v", who, path, l)
			}
		}
	}

	// The colleague reads the list and tries what it shows: the refunded
	// voucher stays its holder's.
	list := e.API(t, http.MethodGet, "/api/v1/cashier/redemptions", staff["colleague"], nil)
	lines, _ := list.Body["redemptions"].([]any)
	if len(lines) != 3 {
		t.Fatalf("the colleague's list: %s", list.Raw)
	}
	for _, l := range lines {
		shown, _ := l.(map[string]any)["voucher_code_masked"].(string)
		if r := redeem(t, e, staff["colleague"], shown, "150", "try-"+shown); r.Status/100 == 2 {
			t.Errorf("the colleague redeemed %q from the list: %s", shown, r.Raw)
		}
	}
	back, err := e.Store.VoucherByCode(t.Context(), refunded.Code)
	if err != nil || back.Status != app.VoucherClaimed {
		t.Fatalf("the refunded voucher: %+v %v, want claimed by its holder", back, err)
	}
}
