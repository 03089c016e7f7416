package main

// journey_test walks the whole product the way its users do, against a real
// server on a real SQLite file: an officer sets up a campaign and a second
// officer approves it, a resident signs in by SMS code and claims a voucher,
// cashiers check and redeem it, and the officer reads the evaluation. Every
// step goes through the HTML pages with a cookie jar per person, picking the
// CSRF token and hidden fields out of the forms as a browser would.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jmoiron/sqlx"
	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
	"cqvoucher/seeds"
)

// journeyBaseURL is the public address put in QR codes. It differs from the
// listening address on purpose, as behind a reverse proxy: the cashier page
// must find the token in any "<base>/v/<jwt>" text.
const journeyBaseURL = "https://quan.cq.example"

// journeyLog collects the server's log; it is printed only when a test fails.
type journeyLog = apptest.LogBuffer

// journeyServer opens the product on a temporary directory with the demo
// data and serves it on a free port until the test ends.
func journeyServer(t *testing.T) (*Main, string) {
	t.Helper()
	logs := &journeyLog{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	m, err := Open(ctx, Config{
		Addr: "127.0.0.1:0", DataDir: dir, BaseURL: journeyBaseURL, Demo: true, Synchronous: "FULL",
	}, logger)
	if err != nil {
		cancel()
		t.Fatalf("Open: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		requireBalancedBooks(t, dir)
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	base := "http://" + m.Addr()
	// The socket listens from Open on, so this normally answers at once;
	// the loop only covers a slow start of the serving goroutine.
	probe := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := probe.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not reachable: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	probe.CloseIdleConnections()
	return m, base
}

// requireBalancedBooks runs voucherd check on a data directory once the
// product has stopped: every test that drives the whole product also
// checks the books it leaves.
func requireBalancedBooks(t *testing.T, dataDir string) {
	t.Helper()
	var out strings.Builder
	if err := checkBooks(context.Background(), Config{DataDir: dataDir}, &out); err != nil {
		t.Errorf("voucherd check after the test: %v\n%s", err, out.String())
	}
}

// journeyPage is one HTTP answer, parsed when it is HTML.
type journeyPage struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	doc          *html.Node
}

func (p *journeyPage) String() string {
	return p.method + " " + p.path + " → " + strconv.Itoa(p.status)
}

// text is the page's visible text with whitespace collapsed, entities decoded.
func (p *journeyPage) text() string {
	if p.doc == nil {
		return string(p.body)
	}
	return journeyText(p.doc)
}

// journeyClient is one person's browser: its own cookie jar, and redirects
// left to the test so that every 303 can be asserted.
type journeyClient struct {
	who  string
	base string
	jar  *cookiejar.Jar
	hc   *http.Client
}

func journeyNewClient(t *testing.T, base, who string) *journeyClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &journeyClient{who: who, base: base, jar: jar, hc: hc}
}

func (c *journeyClient) do(t *testing.T, req *http.Request) *journeyPage {
	t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", c.who, req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %s %s: read body: %v", c.who, req.Method, req.URL.Path, err)
	}
	apptest.CheckAgainstDescription(t, req, resp, body) // the API's answers keep openapi.json's word here too
	p := &journeyPage{method: req.Method, path: req.URL.RequestURI(), status: resp.StatusCode, header: resp.Header, body: body}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(bytes.NewReader(body)); err != nil {
			t.Fatalf("%s: %s: parse HTML: %v", c.who, p, err)
		}
	}
	return p
}

func (c *journeyClient) get(t *testing.T, path string) *journeyPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	return c.do(t, req)
}

func (c *journeyClient) post(t *testing.T, path string, form url.Values) *journeyPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	return c.do(t, req)
}

// submit posts a form found on a page with its own fields (hidden ones
// included) overridden or extended by set.
func (c *journeyClient) submit(t *testing.T, form *html.Node, set url.Values) *journeyPage {
	t.Helper()
	vals := journeyFormValues(form)
	for k, v := range set {
		vals[k] = v
	}
	return c.post(t, journeyAttr(form, "action"), vals)
}

// follow asserts a 303 to want (a path, or a regexp when it starts with ^)
// and fetches where it points.
func (c *journeyClient) follow(t *testing.T, p *journeyPage, want string) *journeyPage {
	t.Helper()
	loc := journeySeeOther(t, p, want)
	return c.get(t, loc)
}

// cookie returns the value the jar would send for name.
func (c *journeyClient) cookie(t *testing.T, name string) (string, bool) {
	t.Helper()
	u, err := url.Parse(c.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value, true
		}
	}
	return "", false
}

// journeySeeOther asserts a 303 redirect and returns its target.
func journeySeeOther(t *testing.T, p *journeyPage, want string) string {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("%s: want 303 to %s; page says: %.600s", p, want, p.text())
	}
	loc := p.header.Get("Location")
	if strings.HasPrefix(want, "^") {
		if !regexp.MustCompile(want).MatchString(loc) {
			t.Fatalf("%s: Location %q does not match %s", p, loc, want)
		}
	} else if loc != want {
		t.Fatalf("%s: Location %q, want %q", p, loc, want)
	}
	return loc
}

func journeyStatus(t *testing.T, p *journeyPage, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("%s: status %d, want %d; page says: %.600s", p, p.status, want, p.text())
	}
}

// journeySetCookie returns the value a response sets for a cookie.
func journeySetCookie(p *journeyPage, name string) (string, bool) {
	resp := http.Response{Header: p.header}
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck.Value, true
		}
	}
	return "", false
}

// --- HTML helpers ---

func journeyAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func journeyHasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func journeyFindAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

func journeyText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		case html.ElementNode:
			if n.DataAtom == atom.Script || n.DataAtom == atom.Style {
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// journeyByID returns the text of the element with that id, failing if absent.
func journeyByID(t *testing.T, p *journeyPage, id string) string {
	t.Helper()
	n := journeyNodeByID(p, id)
	if n == nil {
		t.Fatalf("%s: no element #%s; page says: %.600s", p, id, p.text())
	}
	return journeyText(n)
}

func journeyNodeByID(p *journeyPage, id string) *html.Node {
	nodes := journeyFindAll(p.doc, func(n *html.Node) bool { return journeyAttr(n, "id") == id })
	if len(nodes) == 0 {
		return nil
	}
	return nodes[0]
}

// journeyForms returns the forms posting to action.
func journeyForms(p *journeyPage, action string) []*html.Node {
	return journeyFindAll(p.doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Form && journeyAttr(n, "action") == action
	})
}

func journeyForm(t *testing.T, p *journeyPage, action string) *html.Node {
	t.Helper()
	fs := journeyForms(p, action)
	if len(fs) == 0 {
		t.Fatalf("%s: no form posting to %s; page says: %.600s", p, action, p.text())
	}
	return fs[0]
}

// journeyFormValues is what a browser sends for a form left as it is:
// inputs with their values, selects with their selected option.
func journeyFormValues(form *html.Node) url.Values {
	vals := url.Values{}
	for _, n := range journeyFindAll(form, func(n *html.Node) bool { return journeyAttr(n, "name") != "" }) {
		name := journeyAttr(n, "name")
		switch n.DataAtom {
		case atom.Input:
			switch journeyAttr(n, "type") {
			case "checkbox", "radio":
				if journeyHasAttr(n, "checked") {
					vals.Add(name, journeyAttr(n, "value"))
				}
			case "submit", "button", "image":
			default:
				vals.Add(name, journeyAttr(n, "value"))
			}
		case atom.Select:
			opts := journeyFindAll(n, func(o *html.Node) bool { return o.DataAtom == atom.Option })
			chosen := ""
			for i, o := range opts {
				if i == 0 || journeyHasAttr(o, "selected") {
					chosen = journeyAttr(o, "value")
				}
			}
			vals.Add(name, chosen)
		case atom.Textarea:
			vals.Add(name, journeyText(n))
		}
	}
	return vals
}

// journeyCSRF is the token in the page's first form.
func journeyCSRF(t *testing.T, p *journeyPage) string {
	t.Helper()
	ins := journeyFindAll(p.doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Input && journeyAttr(n, "name") == "csrf"
	})
	if len(ins) == 0 || journeyAttr(ins[0], "value") == "" {
		t.Fatalf("%s: no csrf token in the page", p)
	}
	return journeyAttr(ins[0], "value")
}

// --- money and database helpers, independent of the product's own code ---

// journeyYuan formats fen as the pages do: ¥128.50.
// journeyYuan formats fen as the officer pages do: "¥1,234.50".
func journeyYuan(fen int64) string {
	whole := fmt.Sprint(fen / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("¥%s.%02d", whole, fen%100)
}

// journeyRatio2 is num/den rounded half up to two decimals, computed exactly.
func journeyRatio2(num, den int64) string {
	r := new(big.Rat).SetFrac64(num, den)
	return r.FloatString(2)
}

func journeyDB(t *testing.T, dataDir string) *sqlx.DB {
	t.Helper()
	d, err := sqlx.Open("sqlite3", "file:"+filepath.Join(dataDir, "voucher.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func journeyCount(t *testing.T, d *sqlx.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// --- JWKS ---

type journeyJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
}

// journeyVerifyOffline checks a voucher token as an outside verifier would,
// with nothing but golang-jwt and the published key set.
func journeyVerifyOffline(tok string, keys []journeyJWK) (*jwt.Token, jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		for _, k := range keys {
			if k.Kid != kid {
				continue
			}
			if k.Kty != "OKP" || k.Crv != "Ed25519" {
				return nil, fmt.Errorf("key %s is %s/%s, not OKP/Ed25519", kid, k.Kty, k.Crv)
			}
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil || len(x) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("key %s: bad x", kid)
			}
			return ed25519.PublicKey(x), nil
		}
		return nil, fmt.Errorf("no key %q in the JWKS", kid)
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err == nil && parsed.Header["typ"] != "cqv" {
		err = fmt.Errorf("typ %v, want cqv", parsed.Header["typ"])
	}
	return parsed, claims, err
}

// TestJourneyEndToEnd is the whole life of one voucher through the pages.
func TestJourneyEndToEnd(t *testing.T) {
	m, base := journeyServer(t)
	ctx := context.Background()
	raw := journeyDB(t, m.Config.DataDir)

	const (
		phoneTyped = "138 0013 8000"
		phone      = "13800138000"
		district   = "500103"
		// Tier 1: 满100减30 × 100; tier 2: 满200减60 × 50 → committed ¥6000.
		faceFen      = int64(3000)
		thresholdFen = int64(10000)
		billTyped    = "128.50"
		billFen      = int64(12850)
	)
	campaignName := "解放碑火锅节·测试 " + strconv.FormatInt(time.Now().UnixNano(), 36)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}

	campaignCount := func(t *testing.T) int {
		t.Helper()
		cs, err := m.Store.Campaigns(ctx, app.CampaignFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}

	officerSignIn := func(t *testing.T, c *journeyClient, username string) {
		t.Helper()
		p := c.get(t, "/officer/login")
		journeyStatus(t, p, http.StatusOK)
		res := journeyOfficerSubmit(t, c, journeyForm(t, p, "/officer/login"), username)
		journeySeeOther(t, res, "/officer")
	}

	var (
		campaignID  int64
		campaignURL string
		tier1ID     int64
		code        string // the claimed voucher's manual code
		voucherTok  string
		qrText      string
		forgedTok   string // the voucher token with a raised face value, signature kept
	)

	maker := journeyNewClient(t, base, "maker")
	approver := journeyNewClient(t, base, "approver")
	resident := journeyNewClient(t, base, "resident")
	jfb := journeyNewClient(t, base, "cashier.jfb")
	gyq := journeyNewClient(t, base, "cashier.gyq")

	ok := t.Run("1_officers_create_submit_approve", func(t *testing.T) {
		// Signed out, the officer area sends to the sign-in page.
		journeySeeOther(t, maker.get(t, "/officer"), "/officer/login")

		// A session id planted before sign-in (session fixation) must be replaced.
		u, _ := url.Parse(base + "/")
		maker.jar.SetCookies(u, []*http.Cookie{{Name: "cqv_officer", Value: "planted-before-sign-in", Path: "/"}})
		journeySeeOther(t, maker.get(t, "/officer"), "/officer/login")

		login := maker.get(t, "/officer/login")
		journeyStatus(t, login, http.StatusOK)
		form := journeyForm(t, login, "/officer/login")

		// Without the CSRF token the sign-in is refused and no session starts.
		noCSRF := journeyFormValues(form)
		noCSRF.Del("csrf")
		noCSRF.Set("username", "yuzhong.maker")
		noCSRF.Set("password", "demo1234")
		res := maker.post(t, "/officer/login", noCSRF)
		if res.status != http.StatusBadRequest && res.status != http.StatusForbidden {
			t.Fatalf("%s: sign-in without csrf answered %d, want 400/403", res, res.status)
		}
		if _, set := journeySetCookie(res, "cqv_officer"); set {
			t.Fatalf("%s: sign-in without csrf set a session cookie", res)
		}

		res = journeyOfficerSubmit(t, maker, form, "yuzhong.maker")
		journeySeeOther(t, res, "/officer")
		set, ok := journeySetCookie(res, "cqv_officer")
		if !ok || set == "" {
			t.Fatalf("%s: sign-in set no cqv_officer cookie", res)
		}
		if set == "planted-before-sign-in" {
			t.Fatal("sign-in kept the session id planted before it")
		}
		if jarred, _ := maker.cookie(t, "cqv_officer"); jarred != set {
			t.Fatalf("jar holds cqv_officer %q, response set %q", jarred, set)
		}
		list := maker.get(t, "/officer")
		journeyStatus(t, list, http.StatusOK)
		if !strings.Contains(list.text(), "王敏") {
			t.Fatalf("campaign list does not name the signed-in officer: %.400s", list.text())
		}

		newPage := maker.get(t, "/officer/campaigns/new")
		journeyStatus(t, newPage, http.StatusOK)
		newForm := journeyForm(t, newPage, "/officer/campaigns")
		if got := journeyFormValues(newForm).Get("district"); got != district {
			t.Fatalf("new-campaign form preselects district %q, want the officer's %s", got, district)
		}
		now := time.Now().In(shanghai)
		fill := url.Values{
			"name":     {campaignName},
			"district": {district},
			"category": {"catering"},
			// Three tier rows as the form offers them; the last left empty.
			"tier_threshold":     {"100", "200", ""},
			"tier_face":          {"30", "60", ""},
			"tier_quantity":      {"100", "50", ""},
			"claim_starts":       {now.Add(-time.Minute).Format("2006-01-02T15:04")},
			"claim_ends":         {now.AddDate(0, 0, 7).Format("2006-01-02T15:04")},
			"valid_days":         {"7"},
			"per_resident_limit": {"2"},
		}
		before := campaignCount(t)

		// A POST without the CSRF token writes nothing.
		noCSRF = journeyFormValues(newForm)
		for k, v := range fill {
			noCSRF[k] = v
		}
		noCSRF.Set("budget", "8000")
		noCSRF.Del("csrf")
		res = maker.post(t, "/officer/campaigns", noCSRF)
		if res.status != http.StatusBadRequest && res.status != http.StatusForbidden {
			t.Fatalf("%s: create without csrf answered %d, want 400/403", res, res.status)
		}
		noCSRF.Set("csrf", "not-the-token")
		res = maker.post(t, "/officer/campaigns", noCSRF)
		journeyStatus(t, res, http.StatusForbidden)
		if n := campaignCount(t); n != before {
			t.Fatalf("a create refused for CSRF stored a campaign: %d campaigns, had %d", n, before)
		}

		// Budget below Σ face × quantity (¥6000): refused, form kept, nothing stored.
		fill.Set("budget", "5000")
		res = maker.submit(t, newForm, fill)
		journeyStatus(t, res, http.StatusUnprocessableEntity)
		wantMsg := "预算不足：面额×数量合计 ¥6,000.00，预算不能低于此数。"
		if !strings.Contains(res.text(), wantMsg) {
			t.Fatalf("422 page lacks %q: %.800s", wantMsg, res.text())
		}
		kept := journeyFormValues(journeyForm(t, res, "/officer/campaigns"))
		if kept.Get("name") != campaignName || kept.Get("budget") != "5000" {
			t.Fatalf("422 page lost the typed input: name %q budget %q", kept.Get("name"), kept.Get("budget"))
		}
		if got := kept["tier_face"]; len(got) < 2 || got[0] != "30" || got[1] != "60" {
			t.Fatalf("422 page lost the typed tiers: %q", got)
		}
		if n := campaignCount(t); n != before {
			t.Fatalf("a refused campaign was stored: %d campaigns, had %d", n, before)
		}
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM campaigns WHERE name = ?`, campaignName); n != 0 {
			t.Fatalf("%d rows named %q after a refused create", n, campaignName)
		}
		if strings.Contains(maker.get(t, "/officer").text(), campaignName) {
			t.Fatal("the campaign list shows a refused campaign")
		}

		// The corrected form, resent from the 422 page as a browser would.
		fill.Set("budget", "8000")
		res = maker.submit(t, journeyForm(t, res, "/officer/campaigns"), fill)
		campaignURL = journeySeeOther(t, res, `^/officer/campaigns/[0-9]+$`)
		campaignID, _ = strconv.ParseInt(strings.TrimPrefix(campaignURL, "/officer/campaigns/"), 10, 64)
		if n := campaignCount(t); n != before+1 {
			t.Fatalf("%d campaigns after one create, had %d", n, before)
		}
		stored, err := m.Store.Campaign(ctx, campaignID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Name != campaignName || stored.Status != app.StatusDraft || stored.BudgetFen != 800000 ||
			stored.District != district || stored.Category != "catering" || len(stored.Tiers) != 2 {
			t.Fatalf("stored campaign %+v", stored)
		}
		for _, tr := range stored.Tiers {
			if int64(tr.FaceFen) == faceFen && int64(tr.ThresholdFen) == thresholdFen && tr.Quantity == 100 {
				tier1ID = tr.ID
			}
		}
		if tier1ID == 0 {
			t.Fatalf("no 满100减30 × 100 tier in %+v", stored.Tiers)
		}

		page := maker.get(t, campaignURL)
		journeyStatus(t, page, http.StatusOK)
		if !strings.Contains(page.text(), "草稿已保存") || !strings.Contains(page.text(), "草稿") {
			t.Fatalf("draft page: %.600s", page.text())
		}
		if got := journeyByID(t, page, "stat-budget"); got != "¥8,000.00" {
			t.Fatalf("stat-budget %q", got)
		}
		if got := journeyByID(t, page, "stat-committed"); got != "¥6,000.00" {
			t.Fatalf("stat-committed %q", got)
		}

		// Submit.
		res = maker.submit(t, journeyForm(t, page, campaignURL+"/submit"), nil)
		page = maker.follow(t, res, campaignURL)
		if st := journeyText(journeyFindAll(page.doc, func(n *html.Node) bool {
			return strings.Contains(journeyAttr(n, "class"), "status-")
		})[0]); st != "待审批" {
			t.Fatalf("status after submit %q, want 待审批", st)
		}
		// The maker may not approve: no button, and a forged POST changes nothing.
		if journeyNodeByID(page, "review-approve") != nil {
			t.Fatal("the maker is offered the approval on their own campaign")
		}
		if !strings.Contains(page.text(), "等待另一位有审批权限的人员审批") {
			t.Fatalf("maker's submitted page lacks the waiting hint: %.600s", page.text())
		}
		res = maker.post(t, campaignURL+"/approve", url.Values{"csrf": {journeyCSRF(t, page)}})
		if res.status == http.StatusSeeOther {
			page = maker.follow(t, res, campaignURL)
			if !strings.Contains(page.text(), "您没有审批权限") {
				t.Fatalf("refused approval says nothing: %.600s", page.text())
			}
		} else if res.status != http.StatusForbidden && res.status != http.StatusConflict {
			t.Fatalf("%s: maker approving answered %d", res, res.status)
		}
		if c, _ := m.Store.Campaign(ctx, campaignID); c.Status != app.StatusSubmitted || c.ApprovedBy != nil {
			t.Fatalf("after the maker's approve attempt: status %q approved_by %v", c.Status, c.ApprovedBy)
		}

		// A second officer with approval rights approves; the campaign goes live.
		officerSignIn(t, approver, "yuzhong.approver")
		if a, b := journeyCookieOf(t, approver, "cqv_officer"), journeyCookieOf(t, maker, "cqv_officer"); a == b {
			t.Fatal("two officers got the same session")
		}
		page = approver.get(t, campaignURL)
		journeyStatus(t, page, http.StatusOK)
		if journeyNodeByID(page, "review-approve") == nil {
			t.Fatalf("the approver is not offered the approval: %.600s", page.text())
		}
		// The approval is decided on its checklist: the money, the
		// merchants the vouchers can be spent at, the rules, and an opinion.
		page = approver.get(t, campaignURL+"/approve")
		journeyStatus(t, page, http.StatusOK)
		if got := journeyByID(t, page, "check-budget"); got != "¥8,000.00" {
			t.Fatalf("checklist budget %q", got)
		}
		if got := journeyByID(t, page, "check-committed"); !strings.HasPrefix(got, "¥6,000.00") || !strings.Contains(got, "75.00%") {
			t.Fatalf("checklist committed %q, want ¥6,000.00 and 75.00%% of the budget", got)
		}
		if got := journeyByID(t, page, "check-merchants"); !regexp.MustCompile(`[1-9][0-9]* 家`).MatchString(got) {
			t.Fatalf("checklist merchants %q", got)
		}
		if !strings.Contains(journeyByID(t, page, "changes"), "首次提交") {
			t.Fatalf("checklist changes: %q", journeyByID(t, page, "changes"))
		}
		res = approver.submit(t, journeyForm(t, page, campaignURL+"/approve"), url.Values{"opinion": {"  "}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "请填写审批意见") {
			t.Fatalf("%s: approving without an opinion answered %d: %.600s", res, res.status, res.text())
		}
		if c, _ := m.Store.Campaign(ctx, campaignID); c.Status != app.StatusSubmitted {
			t.Fatalf("approved without an opinion: %q", c.Status)
		}
		res = approver.submit(t, journeyForm(t, res, campaignURL+"/approve"), url.Values{"opinion": {"同意。预算与券面额核对无误。"}})
		page = approver.follow(t, res, campaignURL)
		live := journeyFindAll(page.doc, func(n *html.Node) bool {
			return strings.Contains(journeyAttr(n, "class"), "status-live")
		})
		if len(live) == 0 || journeyText(live[0]) != "进行中" {
			t.Fatalf("approved campaign page does not show 进行中: %.600s", page.text())
		}
		if journeyNodeByID(page, "review-approve") != nil {
			t.Fatal("approval still offered after approval")
		}
		c, _ := m.Store.Campaign(ctx, campaignID)
		if c.Status != app.StatusApproved || c.ApprovedBy == nil || *c.ApprovedBy == c.CreatedBy {
			t.Fatalf("after approval: status %q approved_by %v created_by %d", c.Status, c.ApprovedBy, c.CreatedBy)
		}
	})
	if !ok {
		t.FailNow()
	}

	ok = t.Run("2_resident_signs_in_by_sms", func(t *testing.T) {
		p := resident.get(t, "/m/login")
		journeyStatus(t, p, http.StatusOK)
		res := resident.submit(t, journeyForm(t, p, "/m/login/code"), url.Values{"phone": {phoneTyped}, "consent": {"1"}})
		journeyStatus(t, res, http.StatusOK)
		masked := phone[:3] + "****" + phone[7:]
		if !strings.Contains(res.text(), "验证码已发送至 "+masked) {
			t.Fatalf("code step: %.600s", res.text())
		}

		sms := resident.get(t, "/demo/sms")
		journeyStatus(t, sms, http.StatusOK)
		if strings.Contains(sms.text(), phone) {
			t.Fatalf("the demo SMS page shows the full number %s", phone)
		}
		var smsCode string
		for _, tr := range journeyFindAll(sms.doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr }) {
			row := journeyText(tr)
			if strings.HasPrefix(row, masked+" ") {
				if mm := regexp.MustCompile(`验证码 ([0-9]{6})`).FindStringSubmatch(row); mm != nil {
					smsCode = mm[1]
					break // newest first
				}
			}
		}
		if smsCode == "" {
			t.Fatalf("no code for %s on the demo SMS page: %.600s", phone, sms.text())
		}

		n, _ := strconv.Atoi(smsCode)
		wrong := fmt.Sprintf("%06d", (n+1)%1_000_000)
		res = resident.submit(t, journeyForm(t, res, "/m/login"), url.Values{"code": {wrong}})
		if res.status == http.StatusSeeOther || res.status == http.StatusOK {
			t.Fatalf("%s: a wrong code answered %d", res, res.status)
		}
		if !strings.Contains(res.text(), "验证码错误") {
			t.Fatalf("wrong-code page lacks the error: %.600s", res.text())
		}
		if _, ok := resident.cookie(t, "cqv_resident"); ok {
			t.Fatal("a wrong code signed the resident in")
		}
		journeySeeOther(t, resident.get(t, "/m/wallet"), "/m/login")

		res = resident.submit(t, journeyForm(t, res, "/m/login"), url.Values{"code": {smsCode}})
		journeySeeOther(t, res, "/m/wallet")
		if v, ok := journeySetCookie(res, "cqv_resident"); !ok || v == "" {
			t.Fatalf("%s: no cqv_resident cookie set", res)
		}
		wallet := resident.get(t, "/m/wallet")
		journeyStatus(t, wallet, http.StatusOK)
		if !strings.Contains(wallet.text(), "券包是空的") {
			t.Fatalf("new resident's wallet: %.400s", wallet.text())
		}
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM residents WHERE phone_hash = ? AND phone IS NULL`, m.App.PhoneHash(phone)); n != 1 {
			t.Fatalf("%d resident rows for %s", n, phone)
		}
	})
	if !ok {
		t.FailNow()
	}

	ok = t.Run("3_resident_claims_and_shows_voucher", func(t *testing.T) {
		home := resident.get(t, "/m")
		journeyStatus(t, home, http.StatusOK)
		claimAction := fmt.Sprintf("/m/campaigns/%d/claim", campaignID)
		var claimForm *html.Node
		for _, f := range journeyForms(home, claimAction) {
			if journeyFormValues(f).Get("tier") == strconv.FormatInt(tier1ID, 10) {
				claimForm = f
			}
		}
		if claimForm == nil {
			t.Fatalf("no claim form for tier %d of campaign %d on /m: %.800s", tier1ID, campaignID, home.text())
		}
		if journeyFormValues(claimForm).Get("request_key") == "" {
			t.Fatal("claim form carries no request_key")
		}
		res := resident.submit(t, claimForm, nil)
		loc := journeySeeOther(t, res, `^/m/vouchers/[0-9A-Z]{16}$`)
		code = strings.TrimPrefix(loc, "/m/vouchers/")

		page := resident.get(t, loc)
		journeyStatus(t, page, http.StatusOK)
		if !strings.Contains(page.text(), "领取成功") {
			t.Fatalf("voucher page after claim lacks the flash: %.400s", page.text())
		}
		imgs := journeyFindAll(page.doc, func(n *html.Node) bool {
			return n.DataAtom == atom.Img && journeyAttr(n, "src") == loc+"/qr.png"
		})
		if len(imgs) != 1 {
			t.Fatalf("voucher page has %d QR images pointing at %s/qr.png", len(imgs), loc)
		}
		manual := journeyByID(t, page, "manual-code")
		if !regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`).MatchString(manual) ||
			strings.ReplaceAll(manual, " ", "") != code {
			t.Fatalf("manual code %q for voucher %s", manual, code)
		}

		qr := resident.get(t, loc+"/qr.png")
		journeyStatus(t, qr, http.StatusOK)
		if ct := qr.header.Get("Content-Type"); ct != "image/png" {
			t.Fatalf("qr.png Content-Type %q", ct)
		}
		img, err := png.Decode(bytes.NewReader(qr.body))
		if err != nil {
			t.Fatalf("qr.png does not decode: %v", err)
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dx() != b.Dy() {
			t.Fatalf("qr.png is %v, want a square of at least 200 px", b)
		}
		// Another person's browser cannot fetch the resident's QR.
		if other := jfb.get(t, loc+"/qr.png"); other.status == http.StatusOK {
			t.Fatal("a signed-out browser fetched a resident's QR")
		}

		v, err := m.Store.VoucherByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		voucherTok = v.Token
		qrText = token.QRText(journeyBaseURL, voucherTok)
		if v.CampaignID != campaignID || v.TierID != tier1ID || v.Status != app.VoucherClaimed {
			t.Fatalf("stored voucher %+v", v)
		}
		if len(qrText) > 400 {
			t.Fatalf("QR text is %d chars, too long for a cheap phone to scan", len(qrText))
		}

		// The same press again (same request_key): the same voucher, not a second.
		res = resident.submit(t, claimForm, nil)
		journeySeeOther(t, res, loc)
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, campaignID); n != 1 {
			t.Fatalf("%d vouchers after a repeated claim, want 1", n)
		}
		if c, _ := m.Store.Campaign(ctx, campaignID); c.ClaimedCount != 1 {
			t.Fatalf("campaign claimed_count %d after a repeated claim, want 1", c.ClaimedCount)
		}

		// The JSON wallet takes the session as a bearer token, never the cookie.
		apiReq := func(bearer string) *journeyPage {
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/resident/vouchers", nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			return resident.do(t, req)
		}
		journeyStatus(t, apiReq(""), http.StatusUnauthorized)
		sess, _ := resident.cookie(t, "cqv_resident")
		api := apiReq(sess)
		journeyStatus(t, api, http.StatusOK)
		var wallet struct {
			Vouchers []struct {
				Code   string `json:"code"`
				State  string `json:"state"`
				QRText string `json:"qr_text"`
				Face   int64  `json:"face_fen"`
			} `json:"vouchers"`
		}
		if err := json.Unmarshal(api.body, &wallet); err != nil {
			t.Fatalf("API wallet: %v: %s", err, api.body)
		}
		if len(wallet.Vouchers) != 1 || wallet.Vouchers[0].Code != code || wallet.Vouchers[0].State != "claimed" ||
			wallet.Vouchers[0].QRText != qrText || wallet.Vouchers[0].Face != faceFen {
			t.Fatalf("API wallet %s", api.body)
		}

		// Offline verification against the published keys.
		jw := resident.get(t, "/.well-known/jwks.json")
		journeyStatus(t, jw, http.StatusOK)
		var set struct {
			Keys []journeyJWK `json:"keys"`
		}
		if err := json.Unmarshal(jw.body, &set); err != nil || len(set.Keys) == 0 {
			t.Fatalf("JWKS %s: %v", jw.body, err)
		}
		for _, k := range set.Keys {
			// kid is the RFC 7638 thumbprint (which older tokens carry) or
			// the short kid, its first 64 bits in decimal modulo 10^8: both
			// recomputable from the key itself.
			canon := `{"crv":"Ed25519","kty":"OKP","x":"` + k.X + `"}`
			sum := sha256.Sum256([]byte(canon))
			short := fmt.Sprintf("%08d", binary.BigEndian.Uint64(sum[:8])%100_000_000)
			if k.Kid != base64.RawURLEncoding.EncodeToString(sum[:]) && k.Kid != short {
				t.Fatalf("JWKS kid %q is neither the thumbprint of its key nor its short kid", k.Kid)
			}
		}
		tok, claims, err := journeyVerifyOffline(voucherTok, set.Keys)
		if err != nil {
			t.Fatalf("voucher token does not verify offline: %v", err)
		}
		if tok.Header["kid"] != m.App.Ring().ActiveKID() || tok.Header["typ"] != "cqv" {
			t.Fatalf("token header %v", tok.Header)
		}
		// Only what an offline check needs: the code and the expiry (the
		// voucher is usable at once, so no nbf); the database has the rest.
		if claims["jti"] != code || len(claims) != 2 {
			t.Fatalf("token claims %v", claims)
		}
		if exp, err := claims.GetExpirationTime(); err != nil || exp == nil || !exp.Time.After(time.Now()) {
			t.Fatalf("token exp %v (%v)", exp, err)
		}
		// A longer life breaks the signature.
		parts := strings.Split(voucherTok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := bytes.Replace(payload, []byte(`"exp":`), []byte(`"exp":1`), 1)
		if bytes.Equal(forged, payload) {
			t.Fatalf("payload %s has no exp", payload)
		}
		parts[1] = base64.RawURLEncoding.EncodeToString(forged)
		forgedTok = strings.Join(parts, ".")
		if _, _, err := journeyVerifyOffline(forgedTok, set.Keys); err == nil {
			t.Fatal("a token with a longer life verified offline")
		}
	})
	if !ok {
		t.FailNow()
	}

	ok = t.Run("4_cashiers_check_and_redeem", func(t *testing.T) {
		cashierSignIn := func(c *journeyClient, username string) *journeyPage {
			p := c.get(t, "/merchant/login")
			journeyStatus(t, p, http.StatusOK)
			res := c.submit(t, journeyForm(t, p, "/merchant/login"), url.Values{"username": {username}, "password": {"demo1234"}})
			scan := c.follow(t, res, "/merchant")
			journeyStatus(t, scan, http.StatusOK)
			if _, ok := c.cookie(t, "cqv_cashier"); !ok {
				t.Fatalf("%s: no cqv_cashier cookie", username)
			}
			return scan
		}
		scan := cashierSignIn(jfb, "cashier.jfb")
		scanForm := journeyForm(t, scan, "/merchant/check")

		// Below the 100-yuan threshold: rejected with the threshold in words.
		res := jfb.submit(t, scanForm, url.Values{"voucher": {qrText}, "bill": {"80"}})
		journeyStatus(t, res, http.StatusConflict)
		want := "消费未满 " + journeyYuan(thresholdFen) + "，不能使用此券。"
		if got := journeyByID(t, res, "rejection"); got != want {
			t.Fatalf("below-threshold rejection %q, want %q", got, want)
		}
		if journeyNodeByID(res, "quote") != nil || len(journeyForms(res, "/merchant/redeem")) != 0 {
			t.Fatal("a below-threshold check offers to redeem")
		}

		// A forged QR is refused.
		res = jfb.submit(t, scanForm, url.Values{"voucher": {journeyBaseURL + "/v/" + forgedTok}, "bill": {billTyped}})
		if res.status < 400 || !strings.Contains(journeyByID(t, res, "rejection"), "无效券") {
			t.Fatalf("%s: forged QR not rejected: %.400s", res, res.text())
		}

		// The manual code typed sloppily (lower case, spaces) finds the same voucher.
		sloppy := strings.ToLower(code[0:4] + " " + code[4:8] + "  " + code[8:12] + " " + code[12:16])
		res = jfb.submit(t, scanForm, url.Values{"voucher": {" " + sloppy + " "}, "bill": {billTyped}})
		journeyStatus(t, res, http.StatusOK)
		if got := journeyByID(t, res, "discount"); got != "−"+journeyYuan(faceFen) {
			t.Fatalf("sloppy manual code: discount %q", got)
		}
		if !strings.Contains(journeyByID(t, res, "quote"), campaignName) {
			t.Fatal("sloppy manual code quoted another campaign")
		}
		// A code that does not exist says so.
		res = jfb.submit(t, scanForm, url.Values{"voucher": {"0000-0000-0000-0000"}, "bill": {billTyped}})
		journeyStatus(t, res, http.StatusNotFound)
		if !strings.Contains(journeyByID(t, res, "rejection"), "券码不存在") {
			t.Fatalf("unknown code: %.400s", res.text())
		}

		// The scanned QR with a real bill: the quote, and nothing written yet.
		res = jfb.submit(t, scanForm, url.Values{"voucher": {qrText}, "bill": {billTyped}})
		journeyStatus(t, res, http.StatusOK)
		if got := journeyByID(t, res, "discount"); got != "−"+journeyYuan(faceFen) {
			t.Fatalf("quote discount %q, want −%s", got, journeyYuan(faceFen))
		}
		if got := journeyByID(t, res, "quote-pay"); got != journeyYuan(billFen-faceFen) {
			t.Fatalf("quote to-pay %q, want %s", got, journeyYuan(billFen-faceFen))
		}
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM redemptions`); n != 0 {
			t.Fatalf("a check wrote %d redemptions", n)
		}
		redeemForm := journeyForm(t, res, "/merchant/redeem")
		fields := journeyFormValues(redeemForm)
		if fields.Get("voucher") != qrText || fields.Get("bill") != billTyped || fields.Get("key") == "" {
			t.Fatalf("redeem form fields %v", fields)
		}

		// Confirm.
		res = jfb.submit(t, redeemForm, nil)
		journeyStatus(t, res, http.StatusOK)
		receipt := journeyNodeByID(res, "receipt")
		if receipt == nil {
			t.Fatalf("no receipt after redeem: %.600s", res.text())
		}
		rt := journeyText(receipt)
		if !strings.Contains(rt, "核销成功") || strings.Contains(rt, "重复提交") || !strings.Contains(rt, "实付") {
			t.Fatalf("receipt: %s", rt)
		}
		if got := journeyByID(t, res, "to-pay"); got != journeyYuan(billFen-faceFen) {
			t.Fatalf("receipt 实付 %q, want %s (bill − face)", got, journeyYuan(billFen-faceFen))
		}

		// The same form again (a double click or a resent request): the same receipt, one redemption.
		res = jfb.submit(t, redeemForm, nil)
		journeyStatus(t, res, http.StatusOK)
		if rt := journeyByID(t, res, "receipt"); !strings.Contains(rt, "重复提交，返回首次结果") {
			t.Fatalf("replayed receipt: %s", rt)
		}
		if got := journeyByID(t, res, "to-pay"); got != journeyYuan(billFen-faceFen) {
			t.Fatalf("replayed receipt 实付 %q", got)
		}
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM redemptions WHERE campaign_id = ?`, campaignID); n != 1 {
			t.Fatalf("%d redemptions after a resent confirm, want 1", n)
		}
		if c, _ := m.Store.Campaign(ctx, campaignID); c.RedeemedCount != 1 || int64(c.SubsidyFen) != faceFen {
			t.Fatalf("campaign rollups after a resent confirm: redeemed %d subsidy %d", c.RedeemedCount, c.SubsidyFen)
		}
		// A fresh check by the same cashier now says it was used, and a
		// second confirm under a new key is refused.
		res = jfb.submit(t, scanForm, url.Values{"voucher": {qrText}, "bill": {billTyped}})
		journeyStatus(t, res, http.StatusConflict)
		res = jfb.submit(t, redeemForm, url.Values{"key": {"second-confirm-new-key"}})
		journeyStatus(t, res, http.StatusConflict)
		if !strings.Contains(journeyByID(t, res, "rejection"), "券已使用") {
			t.Fatalf("second redemption under a new key: %.400s", res.text())
		}

		// Another district's cashier scans the used voucher: already used, where and when.
		gscan := cashierSignIn(gyq, "cashier.gyq")
		gform := journeyForm(t, gscan, "/merchant/check")
		var redeemedAt time.Time
		if err := raw.Get(&redeemedAt, `SELECT r.created_at FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.code = ?`, code); err != nil {
			t.Fatal(err)
		}
		wantUsed := "券已使用：" + redeemedAt.In(shanghai).Format("2006-01-02 15:04") + " 于 解放碑老火锅。"
		for _, scanned := range []string{qrText, sloppy} {
			res = gyq.submit(t, gform, url.Values{"voucher": {scanned}, "bill": {billTyped}})
			journeyStatus(t, res, http.StatusConflict)
			if got := journeyByID(t, res, "rejection"); got != wantUsed {
				t.Fatalf("other district's check of %q: %q, want %q", scanned, got, wantUsed)
			}
		}
		// Nor can it be redeemed there by posting the form directly.
		res = gyq.post(t, "/merchant/redeem", url.Values{
			"csrf": {journeyCSRF(t, gscan)}, "voucher": {qrText}, "bill": {billTyped}, "key": {"gyq-attempt-1"},
		})
		if res.status < 400 {
			t.Fatalf("%s: a used voucher was accepted again", res)
		}
		if n := journeyCount(t, raw, `SELECT COUNT(*) FROM redemptions`); n != 1 {
			t.Fatalf("%d redemptions in total, want 1", n)
		}

		// The resident sees the voucher as used, at that merchant.
		vp := resident.get(t, "/m/vouchers/"+code)
		journeyStatus(t, vp, http.StatusOK)
		if got := journeyByID(t, vp, "voucher-state"); got != "已使用" || !strings.Contains(vp.text(), "解放碑老火锅") {
			t.Fatalf("resident's used voucher shows %q: %.400s", got, vp.text())
		}
		if journeyNodeByID(vp, "manual-code") != nil {
			t.Fatal("a used voucher still shows its code to present")
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("5_officer_reads_evaluation", func(t *testing.T) {
		var row struct {
			N        int64 `db:"n"`
			Subsidy  int64 `db:"s"`
			Consumed int64 `db:"c"`
		}
		if err := raw.Get(&row, `SELECT COUNT(*) AS n, COALESCE(SUM(discount_fen), 0) AS s, COALESCE(SUM(bill_fen), 0) AS c
			FROM redemptions WHERE campaign_id = ?`, campaignID); err != nil {
			t.Fatal(err)
		}
		claimed := journeyCount(t, raw, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, campaignID)
		if row.N != 1 || row.Subsidy != faceFen || row.Consumed != billFen || claimed != 1 {
			t.Fatalf("raw rows: %d redemptions, S=%d C=%d, %d claimed", row.N, row.Subsidy, row.Consumed, claimed)
		}

		page := maker.get(t, campaignURL)
		journeyStatus(t, page, http.StatusOK)
		want := map[string]string{
			"stat-claimed":     strconv.FormatInt(claimed, 10),
			"stat-redeemed":    strconv.FormatInt(row.N, 10),
			"stat-subsidy":     journeyYuan(row.Subsidy),
			"stat-consumption": journeyYuan(row.Consumed),
			"stat-oop":         journeyYuan(row.Consumed - row.Subsidy),
			"stat-leverage":    "1:" + journeyRatio2(row.Consumed, row.Subsidy),
			"stat-rate":        journeyRatio2(100*row.N, claimed) + "%",
			"stat-released":    "150",
		}
		for id, w := range want {
			if got := journeyByID(t, page, id); got != w {
				t.Errorf("#%s = %q, want %q (from raw rows)", id, got, w)
			}
		}
		// Spelled out, so a wrong recomputation cannot hide a wrong page.
		if got := journeyByID(t, page, "stat-leverage"); got != "1:4.28" {
			t.Errorf("leverage %q, want 1:4.28 (128.50 / 30)", got)
		}
		if got := journeyByID(t, page, "stat-rate"); got != "100.00%" {
			t.Errorf("redemption rate %q, want 100.00%%", got)
		}
	})

	t.Run("6_health_and_language", func(t *testing.T) {
		h := resident.get(t, "/healthz")
		journeyStatus(t, h, http.StatusOK)
		if !strings.Contains(string(h.body), `"ok"`) {
			t.Fatalf("healthz body %s", h.body)
		}

		home := resident.get(t, "/m")
		if journeyAttr(journeyFindAll(home.doc, func(n *html.Node) bool { return n.DataAtom == atom.Html })[0], "lang") != "zh-CN" {
			t.Fatal("resident home is not in Chinese before the switch")
		}
		journeySeeOther(t, resident.get(t, "/lang/en?back=/m"), "/m")
		if v, _ := resident.cookie(t, "lang"); v != "en" {
			t.Fatalf("lang cookie %q after switching to English", v)
		}
		home = resident.get(t, "/m")
		journeyStatus(t, home, http.StatusOK)
		htmlLang := journeyAttr(journeyFindAll(home.doc, func(n *html.Node) bool { return n.DataAtom == atom.Html })[0], "lang")
		if htmlLang != "en" || !strings.Contains(home.text(), "Claim vouchers") || strings.Contains(home.text(), "领取消费券") {
			t.Fatalf("resident home after switching to English (lang=%q): %.400s", htmlLang, home.text())
		}
		// The switch sends only to paths on this site.
		journeySeeOther(t, resident.get(t, "/lang/zh?back=//evil.example/"), "/")
	})
}

func journeyCookieOf(t *testing.T, c *journeyClient, name string) string {
	t.Helper()
	v, ok := c.cookie(t, name)
	if !ok {
		t.Fatalf("%s has no %s cookie", c.who, name)
	}
	return v
}

// journeyCounts is how many rows of the seeded kinds a database holds.
func journeyCounts(t *testing.T, dataDir string) map[string]int64 {
	t.Helper()
	d, err := sqlx.Open("sqlite3", "file:"+filepath.Join(dataDir, "voucher.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]int64{}
	for _, table := range []string{"officers", "merchants", "cashiers", "campaigns", "tiers", "districts", "categories"} {
		out[table] = journeyCount(t, d, `SELECT COUNT(*) FROM `+table)
	}
	return out
}

// TestRestartKeepsDataAndSeedsOnce opens the product twice on one data
// directory: the second start finds the demo set and the signing key of the
// first, and adds nothing.
func TestRestartKeepsDataAndSeedsOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: journeyBaseURL, Demo: true, Synchronous: "FULL"}

	open := func() (kid string, jwks []byte, campaigns []app.Campaign) {
		t.Helper()
		m, err := Open(ctx, cfg, logger)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer func() {
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		if m.Demo == nil {
			t.Fatal("demo mode loaded no demo set")
		}
		cs, err := m.Store.Campaigns(ctx, app.CampaignFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return m.App.Ring().ActiveKID(), m.App.Ring().JWKS(), cs
	}

	kid1, jwks1, camps1 := open()
	counts1 := journeyCounts(t, dir)
	demo, err := seeds.ReadDemo()
	if err != nil {
		t.Fatal(err)
	}
	staff := 0 // each demo merchant's cashier, and its owner where it has one
	for _, m := range demo.Merchants {
		staff++
		if m.Owner.Username != "" {
			staff++
		}
	}
	if counts1["officers"] != int64(len(demo.Officers)) || counts1["merchants"] != int64(len(demo.Merchants)) ||
		counts1["cashiers"] != int64(staff) || counts1["campaigns"] != 1 {
		t.Fatalf("first start seeded %v", counts1)
	}
	if kid1 == "" {
		t.Fatal("no active signing key")
	}

	kid2, jwks2, camps2 := open()
	counts2 := journeyCounts(t, dir)
	for table, n := range counts1 {
		if counts2[table] != n {
			t.Errorf("%s: %d rows after restart, %d before", table, counts2[table], n)
		}
	}
	if kid2 != kid1 {
		t.Errorf("signing key changed across restart: %s → %s", kid1, kid2)
	}
	if !bytes.Equal(jwks1, jwks2) {
		t.Errorf("published keys changed across restart:\n%s\n%s", jwks1, jwks2)
	}
	if len(camps1) != 1 || len(camps2) != 1 || camps1[0].ID != camps2[0].ID || camps1[0].Name != camps2[0].Name ||
		camps2[0].Status != app.StatusApproved {
		t.Errorf("demo campaign before %+v, after %+v", camps1, camps2)
	}
}

// TestJourneyLeverageShownRounded pins the officer page's leverage figure
// (CampaignStats then the template's "bp" formatter, app.FormatBP) to C/S
// rounded to two decimals, recomputed exactly here. A truncating formatter
// showed 30/7 = 4.2857 as 4.28.
func TestJourneyLeverageShownRounded(t *testing.T) {
	for _, tc := range []struct{ consumption, subsidy int64 }{
		{12850, 3000}, // the journey: 4.2833
		{21000, 7000}, // 3.00 exactly
		{30000, 7000}, // 4.2857
		{12860, 3000}, // 4.2867
		{10050, 10000},
		{3001, 3000},
		{999999, 3},
	} {
		s := app.CampaignStats(app.Campaign{SubsidyFen: app.Fen(tc.subsidy), ConsumptionFen: app.Fen(tc.consumption)})
		got, want := app.FormatBP(s.LeverageBP), journeyRatio2(tc.consumption, tc.subsidy)
		if got != want {
			t.Errorf("leverage %d/%d shown as %s, want %s", tc.consumption, tc.subsidy, got, want)
		}
	}
}

var (
	demoCodesMu sync.Mutex
	demoCodes   = map[string]int{}
)

// demoOfficerCode is a demo officer's TOTP code (seeds/demo.json's
// secret) for its next sign-in. A code is accepted once and the product
// accepts the previous, current and next 30-second step, so the n-th
// sign-in of an account uses the code of now - 30 s + n × 30 s: successive
// steps, even within one real-time step (three sign-ins at most).
// journeyOfficerSubmit signs a demo officer in through the sign-in form
// with a second-factor code. The code is of the wall clock's 30-second
// steps: if a step ended between making the code and the server reading
// it (a loaded machine), the server refuses it as stale, and the sign-in
// is tried once more, with a code of a later step, on the form the
// refusal shows.
func journeyOfficerSubmit(t *testing.T, c *journeyClient, form *html.Node, username string) *journeyPage {
	t.Helper()
	set := url.Values{"username": {username}, "password": {"demo1234"}, "code": {demoOfficerCode(t, username)}}
	res := c.submit(t, form, set)
	if res.status == http.StatusUnauthorized {
		set.Set("code", demoOfficerCode(t, username))
		res = c.submit(t, journeyForm(t, res, "/officer/login"), set)
	}
	return res
}

func demoOfficerCode(t *testing.T, username string) string {
	t.Helper()
	demo, err := seeds.ReadDemo()
	if err != nil {
		t.Fatal(err)
	}
	demoCodesMu.Lock()
	n := demoCodes[username]
	demoCodes[username] = n + 1
	demoCodesMu.Unlock()
	if n > 3 {
		t.Fatalf("%s signs in more than three times (and one retry)", username)
	}
	code, err := totp.GenerateCode(demo.TOTPSecret, time.Now().Add(time.Duration(n-1)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestDemoShopOwnerSeesWhatACashierDoesNot: the demo set has a shop owner,
// who reaches the statements and the staff page that its cashier is
// refused, so that `make run` shows the owner's pages too.
func TestDemoShopOwnerSeesWhatACashierDoesNot(t *testing.T) {
	_, base := journeyServer(t)
	signIn := func(username string) *journeyClient {
		c := journeyNewClient(t, base, username)
		p := c.get(t, "/merchant/login")
		journeyStatus(t, p, http.StatusOK)
		res := c.submit(t, journeyForm(t, p, "/merchant/login"), url.Values{"username": {username}, "password": {"demo1234"}})
		journeyStatus(t, c.follow(t, res, "/merchant"), http.StatusOK)
		return c
	}
	owner, cashier := signIn("owner.jfb"), signIn("cashier.jfb")
	for _, path := range []string{"/merchant/statements", "/merchant/staff"} {
		if p := owner.get(t, path); p.status != http.StatusOK {
			t.Errorf("owner %s: %d", path, p.status)
		}
		if p := cashier.get(t, path); p.status == http.StatusOK {
			t.Errorf("cashier %s: %d, want a refusal", path, p.status)
		}
	}
}
