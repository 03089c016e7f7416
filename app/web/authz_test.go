package web_test

// Authorization tests (ASVS 8.2.1 function level, 8.2.2 record level):
// who may call which officer route, that another district's records do
// not exist for an officer, that auditors change nothing, and that a
// disabled account loses access at once.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// authzRoles are the matrix's columns, in order.
var authzRoles = []string{"anon", "resident", "cashier", "maker", "approver", "auditor", "cityaud", "admin", "sysadm", "secadm", "audadm", "station"}

// Outcome classes of one cell.
const (
	authzLogin     = "L" // wrong audience: page 303 to /officer/login, API 401
	authzForbidden = "F" // signed in but the role may not: 403
	authzNotFound  = "N" // another district's record: 404
	authzAllowed   = "A" // page GET 200, page POST 303 (not to sign-in), API 2xx; a POST must have written
	authzLogout    = "O" // the session ends: page 303 to sign-in, API 204, and the token is dead
)

func authzDescribe(code string) string {
	return map[string]string{
		authzLogin: "sign-in required (page 303 → /officer/login, API 401)", authzForbidden: "403",
		authzNotFound: "404", authzAllowed: "allowed (page 200/303, API 2xx, and written)",
		authzLogout: "signed out (page 303 → /officer/login, API 204, token dead)",
	}[code]
}

// authzBrowser is a browser that does not follow redirects: a cookie jar
// and the CSRF token of its forms.
type authzBrowser struct {
	base   *url.URL
	client *http.Client
	csrf   string
}

type authzPage struct {
	status   int
	location string
	body     string
}

var authzCSRFInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// authzNewBrowser opens the sign-in page once, which gives the browser its
// CSRF cookie and the token its forms carry.
func authzNewBrowser(t *testing.T, e *apptest.Env) *authzBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(e.Server.URL)
	b := &authzBrowser{base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := b.do(t, http.MethodGet, "/officer/login", nil)
	m := authzCSRFInput.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("sign-in page: %d, csrf input found: %v", p.status, m != nil)
	}
	b.csrf = m[1]
	return b
}

func (b *authzBrowser) setCookie(name, value string) {
	b.client.Jar.SetCookies(b.base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (b *authzBrowser) cookie(name string) string {
	for _, c := range b.client.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// do sends a request; a POST carries the form with the CSRF token.
func (b *authzBrowser) do(t *testing.T, method, path string, form url.Values) authzPage {
	t.Helper()
	var rd io.Reader
	if method != http.MethodGet {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("csrf", b.csrf)
		rd = strings.NewReader(f.Encode())
	}
	req, err := http.NewRequest(method, b.base.String()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return authzPage{}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return authzPage{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body)}
}

// authzSignIn signs officers in through the sign-in page with password
// and TOTP code, concurrently (bcrypt is slow under -race), and returns
// each one's browser, holding the CSRF token of its signed-in pages, and
// its session token, which also serves as the API bearer token. A code is accepted once, so an officer listed twice signs
// in one after the other with the codes of successive time steps (the
// previous, current and next step are accepted for clock drift).
func authzSignIn(t *testing.T, e *apptest.Env, os ...app.Officer) ([]*authzBrowser, []string) {
	t.Helper()
	browsers, tokens := make([]*authzBrowser, len(os)), make([]string, len(os))
	byOfficer := map[int64][]int{}
	for i, o := range os {
		browsers[i] = authzNewBrowser(t, e)
		byOfficer[o.ID] = append(byOfficer[o.ID], i)
	}
	if len(os) == 0 {
		return browsers, tokens
	}
	now := e.Clock.Now()
	var wg sync.WaitGroup
	for _, idx := range byOfficer {
		if len(idx) > 3 {
			t.Fatalf("%s signs in %d times: three codes at most per step", os[idx[0]].Username, len(idx))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n, i := range idx {
				o := os[i]
				code := apptest.TOTPCode(now.Add(time.Duration(n-1) * 30 * time.Second))
				p := browsers[i].do(t, http.MethodPost, "/officer/login", url.Values{"username": {o.Username}, "password": {apptest.Password}, "code": {code}})
				home := "/officer"
				if o.Role == app.RoleStation {
					home = "/station" // station staff have only the station's pages
				}
				if p.status != http.StatusSeeOther || p.location != home {
					t.Errorf("page sign-in of %s: %d → %q", o.Username, p.status, p.location)
				}
				tokens[i] = browsers[i].cookie("cqv_officer")
				// Sign-in gives the browser a new CSRF token: the forms of the
				// signed-in pages carry it.
				landing := browsers[i].do(t, http.MethodGet, home, nil)
				if m := authzCSRFInput.FindStringSubmatch(landing.body); m != nil {
					browsers[i].csrf = m[1]
				} else {
					t.Errorf("%s's first page after sign-in: %d, no CSRF token", o.Username, landing.status)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return browsers, tokens
}

// authzAuditor adds a read-only auditor (apptest.NewOfficer makes only
// district officers and city admins).
func authzAuditor(t *testing.T, e *apptest.Env, username, district string) app.Officer {
	t.Helper()
	return e.NewAuditor(t, username, district)
}

// authzStation adds a member of 渝中's community service station staff.
func authzStation(t *testing.T, e *apptest.Env) app.Officer {
	t.Helper()
	return e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
}

// authzAdmin adds the separation-of-duties administrator of a role.
func authzAdmin(t *testing.T, e *apptest.Env, role string) app.Officer {
	t.Helper()
	return e.NewOfficerRole(t, "adm-"+role, role, app.CityCode)
}

// authzSession opens a throwaway session directly in the store, for
// calls that end their session (sign-out) and for states that only a race
// produces.
func authzSession(t *testing.T, e *apptest.Env, kind string, subject int64) string {
	t.Helper()
	return e.Session(t, kind, subject, time.Hour)
}

// authzTarget is the record one cell acts on, and how to see whether the
// call wrote anything (nil for reads).
type authzTarget struct {
	camp, tier, officer, merchant int64
	voucher                       string // a voucher's code
	body                          any    // a body the setup made (a resident's fresh SMS code)
	probe                         func() int64
}

func (tg authzTarget) path(p string) string {
	return strings.NewReplacer("{id}", fmt.Sprint(tg.camp), "{tier}", fmt.Sprint(tg.tier), "{officer}", fmt.Sprint(tg.officer),
		"{merchant}", fmt.Sprint(tg.merchant), "{code}", tg.voucher).Replace(p)
}

func authzCampaignInput(e *apptest.Env) app.CampaignInput {
	now := e.Clock.Now()
	return app.CampaignInput{
		Name: "授权测试券", District: "500103", Category: "catering", Budget: "1000000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1",
	}
}

// authzCampaign makes a fresh 500103 campaign made by e.Maker in a state:
// draft, submitted, live, paused, or raise (live, with a budget raise
// requested by the maker).
func authzCampaign(t *testing.T, e *apptest.Env, state string) authzTarget {
	t.Helper()
	ctx := context.Background()
	var c app.Campaign
	var err error
	switch state {
	case "draft", "submitted":
		c, err = e.App.CreateCampaign(ctx, e.Maker, authzCampaignInput(e))
		if err == nil && state == "submitted" {
			err = e.App.SubmitCampaign(ctx, e.Maker, c.ID)
		}
	case "live", "paused", "raise":
		c = e.LiveCampaign(t, apptest.CampaignSpec{})
		switch state {
		case "paused":
			err = e.App.PauseCampaign(ctx, e.Approver, c.ID)
		case "raise":
			err = e.App.RequestBudgetRaise(ctx, e.Maker, c.ID, "2000000")
		}
	default:
		t.Fatalf("unknown fixture state %q", state)
	}
	if err != nil {
		t.Fatalf("fixture %s: %v", state, err)
	}
	if c, err = e.Store.Campaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	id := c.ID
	return authzTarget{camp: id, tier: c.Tiers[0].ID, probe: func() int64 {
		return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND entity_id = ?`, id)
	}}
}

var authzSeq atomic.Int64

// authzMerchant makes a fresh 500103 merchant in a status.
func authzMerchant(t *testing.T, e *apptest.Env, status string) authzTarget {
	t.Helper()
	m := e.NewMerchant(t, fmt.Sprintf("授权测试商户%d", authzSeq.Add(1)), "500103", "catering")
	if err := e.Store.SetMerchantStatus(context.Background(), m.ID, status); err != nil {
		t.Fatal(err)
	}
	id := m.ID
	return authzTarget{merchant: id, probe: func() int64 {
		return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'merchant' AND entity_id = ?`, id)
	}}
}

// authzOfficerTarget makes an officer for the admin routes to act on.
func authzOfficerTarget(t *testing.T, e *apptest.Env, admin app.Officer, disabled bool) authzTarget {
	t.Helper()
	o := e.NewOfficer(t, fmt.Sprintf("target-%d", authzSeq.Add(1)), "500103", false)
	if disabled {
		now := e.Clock.Now()
		if err := e.Store.SetOfficerDisabled(context.Background(), o.ID, &now, app.SystemAudit(now, "officer.disable", "officer", o.District, nil)); err != nil {
			t.Fatal(err)
		}
	}
	id := o.ID
	return authzTarget{officer: id, probe: func() int64 {
		return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'officer' AND entity_id = ?`, id)
	}}
}

func authzCampaignForm(e *apptest.Env) url.Values {
	now := e.Clock.Now().In(app.Shanghai)
	return url.Values{
		"name": {"授权测试页面券"}, "district": {"500103"}, "categories": {"catering"}, "budget": {"1000000"},
		"tier_face": {"30"}, "tier_threshold": {"100"}, "tier_quantity": {"100"},
		"claim_starts": {now.Add(time.Hour).Format("2006-01-02T15:04")}, "claim_ends": {now.Add(72 * time.Hour).Format("2006-01-02T15:04")},
		"valid_days": {"7"}, "per_resident_limit": {"1"},
	}
}

// authzRoute is one row of the matrix: a route, the record it acts on
// (built fresh for every cell when the call changes state), its body
// (url.Values for pages, JSON for the API) and one outcome per role.
type authzRoute struct {
	expect       string // one code per role, in authzRoles order
	method, path string
	setup        func() authzTarget
	body         func(authzTarget) any
	fresh        bool // the call ends its session: use a throwaway one
	renders      bool // an allowed page POST answers with its next step (200), not a redirect
}

// authzRenders marks a row whose allowed page POST shows its next step.
type authzRenders struct{}

func (r authzRoute) api() bool { return strings.HasPrefix(r.path, "/api/") }

// authzRouteTable lists every officer route. shared holds records that
// reads look at without changing them.
func authzRouteTable(t *testing.T, e *apptest.Env, admin app.Officer) []authzRoute {
	t.Helper()
	liveRead, draftRead := authzCampaign(t, e, "live"), authzCampaign(t, e, "draft")
	liveRead.probe, draftRead.probe = nil, nil
	read := func(tg authzTarget) func() authzTarget { return func() authzTarget { return tg } }
	fresh := func(state string) func() authzTarget { return func() authzTarget { return authzCampaign(t, e, state) } }
	count := func(table string) func() authzTarget {
		return func() authzTarget {
			return authzTarget{probe: func() int64 { return e.Count(t, `SELECT COUNT(*) FROM `+table) }}
		}
	}
	merchantRead := authzMerchant(t, e, app.MerchantPending)
	merchantRead.probe = nil
	merchant := func(status string) func() authzTarget {
		return func() authzTarget { return authzMerchant(t, e, status) }
	}
	officer := func(disabled bool) func() authzTarget {
		return func() authzTarget { return authzOfficerTarget(t, e, admin, disabled) }
	}
	later := func() string {
		return e.Clock.Now().Add(40 * 24 * time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")
	}
	form := func(kv ...string) func(authzTarget) any {
		return func(tg authzTarget) any {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], tg.path(kv[i+1]))
			}
			return v
		}
	}
	json := func(kv ...any) func(authzTarget) any {
		return func(tg authzTarget) any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			if _, ok := m["tier_id"]; ok {
				m["tier_id"] = tg.tier
			}
			return m
		}
	}
	newOfficerForm := func(authzTarget) any {
		return url.Values{"username": {fmt.Sprintf("new-page-%d", authzSeq.Add(1))}, "name": {"新科员"},
			"role": {app.RoleDistrictOfficer}, "district": {"500103"}}
	}
	newOfficerJSON := func(authzTarget) any {
		return map[string]any{"username": fmt.Sprintf("new-api-%d", authzSeq.Add(1)), "name": "新科员",
			"role": app.RoleDistrictOfficer, "district": "500103"}
	}
	// The station's records: a resident's fresh code, and a voucher
	// claimed at the station (by another of its staff).
	setupStaff := e.NewOfficerRole(t, fmt.Sprintf("st-setup-%d", authzSeq.Add(1)), app.RoleStation, "500103")
	stationPhone := func() string { return fmt.Sprintf("1391%07d", authzSeq.Add(1)) }
	stationCode := func(api bool) func(authzTarget) any {
		return func(authzTarget) any {
			if api {
				return map[string]any{"phone": stationPhone(), "agreed": true}
			}
			return url.Values{"phone": {stationPhone()}, "consent": {"1"}}
		}
	}
	codeSent := func(api bool) func() authzTarget {
		return func() authzTarget {
			phone := stationPhone()
			e.Clock.Advance(time.Second)
			if _, err := e.App.StationSendCode(context.Background(), setupStaff, phone, true); err != nil {
				t.Fatal(err)
			}
			tg := liveRead
			if api {
				tg.body = map[string]any{"phone": phone, "code": e.SMS.Code(phone), "campaign_id": liveRead.camp, "tier_id": liveRead.tier}
			} else {
				tg.body = url.Values{"phone": {phone}, "code": {e.SMS.Code(phone)}, "tier": {fmt.Sprintf("%d:%d", liveRead.camp, liveRead.tier)}}
			}
			tg.probe = func() int64 { return e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE assisted_by IS NOT NULL`) }
			return tg
		}
	}
	assisted := func() authzTarget {
		tg := codeSent(true)()
		b := tg.body.(map[string]any)
		v, err := e.App.AssistedClaim(context.Background(), setupStaff, app.AssistedClaimInput{Phone: b["phone"].(string), Code: b["code"].(string),
			CampaignID: liveRead.camp, TierID: liveRead.tier})
		if err != nil {
			t.Fatal(err)
		}
		return authzTarget{voucher: v.Code,
			probe: func() int64 {
				return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, app.ActionStationPrint)
			}}
	}
	assistedRead := assisted()
	assistedRead.probe = nil
	setupBody := func(tg authzTarget) any { return tg.body }
	campaignJSON := func(authzTarget) any { return campaignBody(e, nil) }
	campaignForm := func(authzTarget) any { return authzCampaignForm(e) }
	extendForm := func(authzTarget) any { return url.Values{"claim_ends": {later()}} }
	extendJSON := func(authzTarget) any { return map[string]any{"claim_ends": later()} }

	// row reads its options by type: the record (setup), the body, and
	// true for a call that ends its session.
	row := func(expect, method, path string, opts ...any) authzRoute {
		r := authzRoute{expect: expect, method: method, path: path}
		for _, o := range opts {
			switch o := o.(type) {
			case func() authzTarget:
				r.setup = o
			case func(authzTarget) any:
				r.body = o
			case bool:
				r.fresh = o
			case authzRenders:
				r.renders = true
			default:
				t.Fatalf("%s %s: option of type %T", method, path, o)
			}
		}
		return r
	}
	return []authzRoute{
		// Pages.
		// anon res cash maker approver auditor city-auditor city-admin system-admin security-admin audit-admin station
		row("L  L  L  A  A  A  A  A  A  A  A  F", "GET", "/officer", read(liveRead)),
		row("L  L  L  A  A  F  F  A  F  F  F  F", "GET", "/officer/campaigns/new"),
		row("L  L  L  A  A  F  F  A  F  F  F  F", "POST", "/officer/campaigns", count("campaigns"), campaignForm),
		row("L  L  L  A  A  A  A  A  N  N  N  F", "GET", "/officer/campaigns/{id}", read(liveRead)),
		row("L  L  L  A  A  A  A  A  N  N  N  F", "GET", "/officer/campaigns/{id}/preview", read(liveRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "GET", "/officer/campaigns/{id}/edit", read(draftRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}", fresh("draft"), campaignForm),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/submit", fresh("draft")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/approve", fresh("submitted"), form("opinion", "同意")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/reject", fresh("submitted"), form("reason", "预算测算不足")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/pause", fresh("live")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/resume", fresh("paused")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/end", fresh("live")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/extend", fresh("live"), extendForm),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/quantity", fresh("live"), form("tier", "{tier}", "quantity", "10")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/budget", fresh("live"), form("budget", "2000000")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/officer/campaigns/{id}/budget/approve", fresh("raise")),
		row("L  L  L  A  A  A  A  A  A  A  A  F", "GET", "/officer/merchants"),
		row("L  L  L  A  A  A  A  A  N  N  N  F", "GET", "/officer/merchants/{merchant}", read(merchantRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "GET", "/officer/merchants/{merchant}/confirm/approve", read(merchantRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/merchants/{merchant}/approve", merchant(app.MerchantPending)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/officer/merchants/{merchant}/suspend", merchant(app.MerchantApproved), form("reason", "投诉核查中")),
		row("L  L  L  A  A  A  A  A  F  A  A  F", "GET", "/officer/audit"),
		row("L  L  L  F  F  F  F  F  A  A  F  F", "GET", "/officer/officers"),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/officer/officers", count("officers"), newOfficerForm),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/officer/officers/{officer}/disable", officer(false)),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/officer/officers/{officer}/enable", officer(true)),
		row("L  L  L  F  F  F  F  F  F  A  F  F", "POST", "/officer/officers/{officer}/reset-2fa", officer(false)),
		row("L  L  L  F  F  F  F  F  F  A  F  F", "POST", "/officer/officers/{officer}/unlock", officer(false)),
		row("L  L  L  O  O  O  O  O  O  O  O  O", "POST", "/officer/logout", true),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "GET", "/station"),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "POST", "/station/code", count("sms_codes"), stationCode(false), authzRenders{}),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "POST", "/station/claims", codeSent(false), setupBody),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "GET", "/station/vouchers/{code}/card", assisted),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "GET", "/station/vouchers/{code}/qr.png", read(assistedRead)),
		row("L  L  L  F  F  F  F  F  F  F  F  O", "POST", "/station/logout", true),

		// JSON API.
		// anon res cash maker approver auditor city-auditor city-admin system-admin security-admin audit-admin station
		row("L  L  L  A  A  A  A  A  A  A  A  F", "GET", "/api/v1/officer/campaigns"),
		row("L  L  L  A  A  F  F  A  F  F  F  F", "POST", "/api/v1/officer/campaigns", count("campaigns"), campaignJSON),
		row("L  L  L  A  A  A  A  A  N  N  N  F", "GET", "/api/v1/officer/campaigns/{id}", read(liveRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "PUT", "/api/v1/officer/campaigns/{id}", fresh("draft"), campaignJSON),
		row("L  L  L  A  A  A  A  A  N  N  N  F", "GET", "/api/v1/officer/campaigns/{id}/merchants", read(liveRead)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/submit", fresh("draft")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/approve", fresh("submitted"), json("opinion", "同意")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/reject", fresh("submitted"), json("reason", "预算测算不足")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/pause", fresh("live")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/resume", fresh("paused")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/end", fresh("live")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/extend", fresh("live"), extendJSON),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/quantity", fresh("live"), json("tier_id", 0, "quantity", "10")),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/budget", fresh("live"), json("budget", "2000000")),
		row("L  L  L  F  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/campaigns/{id}/budget/approve", fresh("raise")),
		row("L  L  L  A  A  A  A  A  A  A  A  F", "GET", "/api/v1/officer/merchants"),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/merchants/{merchant}/approve", merchant(app.MerchantPending)),
		row("L  L  L  A  A  F  F  A  N  N  N  F", "POST", "/api/v1/officer/merchants/{merchant}/suspend", merchant(app.MerchantApproved), json("reason", "投诉核查中")),
		row("L  L  L  A  A  A  A  A  F  A  A  F", "GET", "/api/v1/officer/audit"),
		row("L  L  L  F  F  F  F  F  A  A  F  F", "GET", "/api/v1/officer/officers"),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/api/v1/officer/officers", count("officers"), newOfficerJSON),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/api/v1/officer/officers/{officer}/disable", officer(false)),
		row("L  L  L  F  F  F  F  F  A  F  F  F", "POST", "/api/v1/officer/officers/{officer}/enable", officer(true)),
		row("L  L  L  F  F  F  F  F  F  A  F  F", "POST", "/api/v1/officer/officers/{officer}/reset-2fa", officer(false)),
		row("L  L  L  F  F  F  F  F  F  A  F  F", "POST", "/api/v1/officer/officers/{officer}/unlock", officer(false)),
		row("L  L  L  O  O  O  O  O  O  O  O  O", "DELETE", "/api/v1/officer/sessions", true),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "POST", "/api/v1/station/sms", count("sms_codes"), stationCode(true)),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "POST", "/api/v1/station/claims", codeSent(true), setupBody),
		row("L  L  L  F  F  F  F  F  F  F  F  A", "GET", "/api/v1/station/vouchers/{code}", read(assistedRead)),
		row("L  L  L  F  F  F  F  F  F  F  F  O", "DELETE", "/api/v1/station/sessions", true),
	}
}

// authzActor is one column: how a role calls pages and the API.
type authzActor struct {
	role    string
	officer *app.Officer // nil for the signed out, residents and cashiers
	page    *authzBrowser
	bearer  string
}

// authzCall makes one call and returns the status, the redirect target
// and the API's error reason.
func authzCall(t *testing.T, e *apptest.Env, a authzActor, r authzRoute, tg authzTarget) (int, string, string) {
	t.Helper()
	path := tg.path(r.path)
	var body any
	if r.body != nil {
		body = r.body(tg)
	}
	if r.api() {
		res := e.API(t, r.method, path, a.bearer, body)
		return res.Status, "", res.Reason()
	}
	form, _ := body.(url.Values)
	p := a.page.do(t, r.method, path, form)
	return p.status, p.location, ""
}

// authzCell runs one cell and reports what is wrong with it, "" if nothing.
func authzCell(t *testing.T, e *apptest.Env, a authzActor, r authzRoute, code string) string {
	t.Helper()
	if r.fresh && a.officer != nil {
		// Sign-out ends the session it is called with: give it its own.
		tok := authzSession(t, e, app.KindOfficer, a.officer.ID)
		a.bearer = tok
		a.page = authzNewBrowser(t, e)
		a.page.setCookie("cqv_officer", tok)
	}
	tg := authzTarget{}
	if r.setup != nil {
		tg = r.setup()
	}
	var before int64
	if tg.probe != nil {
		before = tg.probe()
	}
	status, loc, reason := authzCall(t, e, a, r, tg)
	got := fmt.Sprintf("%d", status)
	if loc != "" {
		got += " → " + loc
	}
	if reason != "" {
		got += " (" + reason + ")"
	}
	ok := false
	switch code {
	case authzLogin:
		ok = (r.api() && status == 401) || (!r.api() && status == 303 && loc == "/officer/login")
	case authzForbidden:
		ok = status == 403
	case authzNotFound:
		ok = status == 404
	case authzAllowed:
		switch {
		case r.api():
			ok = status >= 200 && status < 300
		case r.method == http.MethodGet:
			ok = status == 200
		default:
			// 201: the account form answers with the new account's
			// one-time activation code instead of redirecting.
			ok = (status == 303 && loc != "/officer/login") || status == 201 || (r.renders && status == 200)
		}
	case authzLogout:
		ok = (r.api() && status == 204) || (!r.api() && status == 303 && loc == "/officer/login")
		if ok {
			if res := e.API(t, http.MethodGet, "/api/v1/officer/campaigns", a.bearer, nil); res.Status != 401 {
				return fmt.Sprintf("got %s but the session still works (%d)", got, res.Status)
			}
		}
	default:
		t.Fatalf("unknown outcome code %q", code)
	}
	if !ok {
		return fmt.Sprintf("got %s, want %s", got, authzDescribe(code))
	}
	if tg.probe != nil {
		after := tg.probe()
		switch {
		case code == authzAllowed && after == before:
			return fmt.Sprintf("got %s but nothing was written", got)
		case code != authzAllowed && after != before:
			return fmt.Sprintf("got %s but %d row(s) were written", got, after-before)
		}
	}
	return ""
}

// authzActors signs in one account of every role.
func authzActors(t *testing.T, e *apptest.Env, admin app.Officer) []authzActor {
	t.Helper()
	auditor := authzAuditor(t, e, "auditor-yz", "500103")
	cityAuditor := authzAuditor(t, e, "auditor-city", app.CityCode)
	officers := []app.Officer{e.Maker, e.Approver, auditor, cityAuditor, admin,
		authzAdmin(t, e, app.RoleSystemAdmin), authzAdmin(t, e, app.RoleSecurityAdmin), authzAdmin(t, e, app.RoleAuditAdmin),
		authzStation(t, e)}
	pages, tokens := authzSignIn(t, e, officers...)

	anon := authzNewBrowser(t, e)
	_, residentTok := e.ResidentSession(t, "13800138000")
	resident := authzNewBrowser(t, e)
	resident.setCookie("cqv_resident", residentTok)
	cashierTok := e.CashierSession(t, e.Cashier)
	cashier := authzNewBrowser(t, e)
	cashier.setCookie("cqv_cashier", cashierTok)

	actors := []authzActor{
		{role: "anon", page: anon},
		{role: "resident", page: resident, bearer: residentTok},
		{role: "cashier", page: cashier, bearer: cashierTok},
	}
	for i := range officers {
		actors = append(actors, authzActor{role: authzRoles[3+i], officer: &officers[i], page: pages[i], bearer: tokens[i]})
	}
	return actors
}

// TestRoleRouteMatrix calls every officer route, page and API, as every
// role, each state-changing call on a record of its own in the state the
// action needs, so that a refusal can only be the role's.
func TestRoleRouteMatrix(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficer(t, "cityadmin", app.CityCode, true)
	actors := authzActors(t, e, admin)
	routes := authzRouteTable(t, e, admin)

	var report strings.Builder
	fmt.Fprintf(&report, "%-52s", "route")
	for _, role := range authzRoles {
		fmt.Fprintf(&report, " %-9s", role)
	}
	report.WriteString("\n")
	for _, r := range routes {
		codes := strings.Fields(r.expect)
		if len(codes) != len(authzRoles) {
			t.Fatalf("%s %s: %d outcomes for %d roles", r.method, r.path, len(codes), len(authzRoles))
		}
		fmt.Fprintf(&report, "%-52s", r.method+" "+r.path)
		for i, a := range actors {
			if a.role != authzRoles[i] {
				t.Fatalf("actor %d is %s, want %s", i, a.role, authzRoles[i])
			}
			cell := codes[i]
			if problem := authzCell(t, e, a, r, cell); problem != "" {
				t.Errorf("%s %s as %s: %s", r.method, r.path, a.role, problem)
				cell += "!"
			}
			fmt.Fprintf(&report, " %-9s", cell)
		}
		report.WriteString("\n")
	}
	if t.Failed() {
		t.Logf("matrix (! = cell failed; L sign-in, F 403, A allowed, O signed out):\n%s", report.String())
	}
}

// TestOfficerCannotReachAnotherDistrictsRecords: for an officer and an
// auditor of 江北 (500105) a 渝中 (500103) campaign does not exist: every
// campaign route answers 404 (not 403, which would say it exists), and
// neither the lists nor the audit log show it, whatever the filters say.
// Residents and cashiers likewise reach only their own records.
func TestOfficerCannotReachAnotherDistrictsRecords(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficer(t, "cityadmin", app.CityCode, true)
	jbOfficer := e.NewOfficer(t, "jb-officer", "500105", true)
	jbAuditor := authzAuditor(t, e, "jb-auditor", "500105")
	pages, tokens := authzSignIn(t, e, jbOfficer, jbAuditor)
	intruders := []authzActor{
		{role: "jb-officer", officer: &jbOfficer, page: pages[0], bearer: tokens[0]},
		{role: "jb-auditor", officer: &jbAuditor, page: pages[1], bearer: tokens[1]},
	}

	// A 渝中 campaign whose name and officers are easy to spot.
	yzMaker := e.NewOfficer(t, "yz-secret-maker", "500103", false)
	yzApprover := e.NewOfficer(t, "yz-secret-approver", "500103", true)
	in := authzCampaignInput(e)
	in.Name = "渝中机密消费券"
	secret := e.Approved(t, yzMaker, yzApprover, in)
	// Their own district's campaign, which they must see: the control.
	own := e.LiveCampaign(t, apptest.CampaignSpec{Name: "江北自家消费券", District: "500105"})

	t.Run("every campaign route answers 404", func(t *testing.T) {
		cells := 0
		for _, r := range authzRouteTable(t, e, admin) {
			if !strings.Contains(r.path, "{id}") {
				continue
			}
			for _, a := range intruders {
				cells++
				if problem := authzCell(t, e, a, r, authzNotFound); problem != "" {
					t.Errorf("%s %s on a 500103 campaign as %s: %s", r.method, r.path, a.role, problem)
				}
			}
		}
		if cells < 50 { // 14 page and 13 API campaign routes, two intruders
			t.Errorf("only %d cells checked", cells)
		}
	})

	for _, a := range intruders {
		t.Run(a.role+" lists and audit log", func(t *testing.T) {
			// Campaign lists.
			p := a.page.do(t, http.MethodGet, "/officer", nil)
			if p.status != 200 || strings.Contains(p.body, secret.Name) || strings.Contains(p.body, fmt.Sprintf("/officer/campaigns/%d\"", secret.ID)) {
				t.Errorf("/officer: %d, shows the 500103 campaign: %v", p.status, strings.Contains(p.body, secret.Name))
			}
			if !strings.Contains(p.body, own.Name) {
				t.Errorf("/officer does not show the officer's own district's campaign")
			}
			res := e.API(t, http.MethodGet, "/api/v1/officer/campaigns", a.bearer, nil)
			list, _ := res.Body["campaigns"].([]any)
			sawOwn := false
			for _, c := range list {
				c := c.(map[string]any)
				if c["district"] != "500105" {
					t.Errorf("/api/v1/officer/campaigns lists campaign %v of %v", c["id"], c["district"])
				}
				sawOwn = sawOwn || int64(c["id"].(float64)) == own.ID
			}
			if res.Status != 200 || !sawOwn {
				t.Errorf("/api/v1/officer/campaigns: %d, own campaign listed: %v", res.Status, sawOwn)
			}

			// Audit log, with filters that ask for the other district's rows.
			for _, q := range []string{
				"",
				"?district=500103",
				fmt.Sprintf("?entity=campaign&entity_id=%d", secret.ID),
				fmt.Sprintf("?entity_id=%d&district=500103", secret.ID),
				"?actor=yz-secret-maker",
				"?actor=yz-secret-maker&district=500103",
			} {
				p := a.page.do(t, http.MethodGet, "/officer/audit"+q, nil)
				// Rows name the actor with their role and link the campaign by its name; the officer
				// filter offers names; the export links echo what was asked.
				shown := strings.Contains(p.body, "yz-secret-maker（") || strings.Contains(p.body, "yz-secret-approver（") ||
					strings.Contains(p.body, ">yz-secret-") || strings.Contains(p.body, secret.Name)
				if p.status != 200 || shown || strings.Contains(p.body, fmt.Sprintf("/officer/campaigns/%d\"", secret.ID)) {
					t.Errorf("/officer/audit%s: %d, shows 500103 rows: %v", q, p.status, shown)
				}
				res := e.API(t, http.MethodGet, "/api/v1/officer/audit"+q, a.bearer, nil)
				entries, ok := res.Body["entries"].([]any)
				if res.Status != 200 || (!ok && res.Body["entries"] != nil) {
					t.Errorf("/api/v1/officer/audit%s: %d %s", q, res.Status, res.Raw)
				}
				for _, en := range entries {
					en := en.(map[string]any)
					if en["district"] != "500105" || strings.HasPrefix(fmt.Sprint(en["actor"]), "yz-secret-") {
						t.Errorf("/api/v1/officer/audit%s shows row %v of %v by %v", q, en["id"], en["district"], en["actor"])
					}
				}
				if q == "" && len(entries) == 0 {
					t.Errorf("/api/v1/officer/audit shows not even the officer's own district's rows")
				}
			}
		})
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND entity_id = ?`, secret.ID); n != 3 {
		t.Errorf("the 500103 campaign has %d audit rows, want 3 (create, submit, approve)", n)
	}

	t.Run("a resident sees only their own vouchers", func(t *testing.T) {
		c := e.LiveCampaign(t, apptest.CampaignSpec{})
		_, aliceTok := e.ResidentSession(t, "13800138001")
		res := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), aliceTok, map[string]any{"tier_id": c.Tiers[0].ID})
		code, _ := res.Body["code"].(string)
		if res.Status != 201 || code == "" {
			t.Fatalf("claim: %d %s", res.Status, res.Raw)
		}
		_, bobTok := e.ResidentSession(t, "13800138002")
		alice, bob := authzNewBrowser(t, e), authzNewBrowser(t, e)
		alice.setCookie("cqv_resident", aliceTok)
		bob.setCookie("cqv_resident", bobTok)
		for _, path := range []string{"/m/vouchers/" + code, "/m/vouchers/" + code + "/qr.png"} {
			if p := alice.do(t, http.MethodGet, path, nil); p.status != 200 {
				t.Errorf("holder GET %s: %d", path, p.status)
			}
			if p := bob.do(t, http.MethodGet, path, nil); p.status != 404 {
				t.Errorf("another resident GET %s: %d, want 404", path, p.status)
			}
		}
		if p := bob.do(t, http.MethodGet, "/m/vouchers/"+strings.ToLower(code), nil); p.status != 404 {
			t.Errorf("another resident GET the code in lower case: %d, want 404", p.status)
		}
		if res := e.API(t, http.MethodGet, "/api/v1/resident/vouchers", bobTok, nil); res.Status != 200 || strings.Contains(res.Raw, code) {
			t.Errorf("another resident's wallet: %d, shows the voucher: %v", res.Status, strings.Contains(res.Raw, code))
		}
		// A cashier's cookie does not open residents' pages either.
		cashier := authzNewBrowser(t, e)
		cashier.setCookie("cqv_cashier", e.CashierSession(t, e.Cashier))
		if p := cashier.do(t, http.MethodGet, "/m/vouchers/"+code, nil); p.status != 303 || p.location != "/m/login" {
			t.Errorf("cashier cookie on a voucher page: %d → %q, want 303 → /m/login", p.status, p.location)
		}
	})

	t.Run("a token opens only its own audience's API", func(t *testing.T) {
		c := e.LiveCampaign(t, apptest.CampaignSpec{})
		_, residentTok := e.ResidentSession(t, "13800138003")
		bearers := map[string]string{"cashier": e.CashierSession(t, e.Cashier), "resident": residentTok, "officer": tokens[0]}
		routes := []struct{ owner, method, path string }{
			{"resident", "GET", "/api/v1/resident/vouchers"},
			{"resident", "POST", fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID)},
			{"resident", "DELETE", "/api/v1/resident/sessions"},
			{"officer", "GET", "/api/v1/officer/campaigns"},
			{"officer", "GET", fmt.Sprintf("/api/v1/officer/campaigns/%d", c.ID)},
			{"officer", "POST", fmt.Sprintf("/api/v1/officer/campaigns/%d/pause", c.ID)},
			{"officer", "GET", "/api/v1/officer/audit"},
			{"officer", "GET", "/api/v1/officer/officers"},
			{"officer", "DELETE", "/api/v1/officer/sessions"},
			{"cashier", "POST", "/api/v1/cashier/inspect"},
			{"cashier", "POST", "/api/v1/cashier/redemptions"},
			{"cashier", "DELETE", "/api/v1/cashier/sessions"},
		}
		for _, rt := range routes {
			for who, tok := range bearers {
				if who == rt.owner {
					continue
				}
				if res := e.API(t, rt.method, rt.path, tok, map[string]any{"tier_id": c.Tiers[0].ID}); res.Status != 401 {
					t.Errorf("%s token on %s %s: %d %s, want 401", who, rt.method, rt.path, res.Status, res.Raw)
				}
			}
		}
		if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 0 {
			t.Errorf("refused claims stored %d vouchers", n)
		}
	})
}

// TestAuditorIsReadOnly: an auditor, of a district or of the city, reads
// everything in scope and changes nothing.
func TestAuditorIsReadOnly(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	auditors := []app.Officer{authzAuditor(t, e, "auditor-yz", "500103"), authzAuditor(t, e, "auditor-city", app.CityCode)}
	pages, tokens := authzSignIn(t, e, auditors...)
	states := map[string]authzTarget{}
	for _, s := range []string{"draft", "submitted", "live", "paused", "raise"} {
		states[s] = authzCampaign(t, e, s)
	}
	live := states["live"]
	victim := e.Maker.ID

	const readOnly, noRight, adminOnly = "read_only", "no_approval_right", "system_admin_only"
	// Each write by API (json) and by page (form); a nil side is not a route.
	writes := []struct {
		method, path string
		tg           authzTarget
		json         any
		form         url.Values
		reasons      []string
	}{
		{"POST", "/campaigns", authzTarget{}, campaignBody(e, nil), authzCampaignForm(e), []string{readOnly}},
		{"PUT", "/campaigns/{id}", states["draft"], campaignBody(e, nil), nil, []string{readOnly}},
		{"POST", "/campaigns/{id}", states["draft"], nil, authzCampaignForm(e), []string{readOnly}},
		{"POST", "/campaigns/{id}/submit", states["draft"], map[string]any{}, url.Values{}, []string{readOnly}},
		{"POST", "/campaigns/{id}/approve", states["submitted"], map[string]any{"opinion": "同意"}, url.Values{"opinion": {"同意"}}, []string{readOnly, noRight}},
		{"POST", "/campaigns/{id}/reject", states["submitted"], map[string]string{"reason": "不行"}, url.Values{"reason": {"不行"}}, []string{readOnly, noRight}},
		{"POST", "/campaigns/{id}/pause", live, map[string]any{}, url.Values{}, []string{readOnly}},
		{"POST", "/campaigns/{id}/resume", states["paused"], map[string]any{}, url.Values{}, []string{readOnly}},
		{"POST", "/campaigns/{id}/end", live, map[string]any{}, url.Values{}, []string{readOnly}},
		{"POST", "/campaigns/{id}/extend", live, map[string]string{"claim_ends": "2027-01-31T22:00"}, url.Values{"claim_ends": {"2027-01-31T22:00"}}, []string{readOnly}},
		{"POST", "/campaigns/{id}/quantity", live, map[string]any{"tier_id": live.tier, "quantity": "10"}, url.Values{"tier": {fmt.Sprint(live.tier)}, "quantity": {"10"}}, []string{readOnly}},
		{"POST", "/campaigns/{id}/budget", live, map[string]string{"budget": "2000000"}, url.Values{"budget": {"2000000"}}, []string{readOnly}},
		{"POST", "/campaigns/{id}/budget/approve", states["raise"], map[string]any{}, url.Values{}, []string{readOnly, noRight}},
		{"GET", "/officers", authzTarget{}, map[string]any{}, url.Values{}, []string{adminOnly}},
		{"POST", "/officers", authzTarget{}, map[string]any{"username": "sneaky", "name": "x", "role": "city_admin", "district": "500000"},
			url.Values{"username": {"sneaky"}, "name": {"x"}, "role": {"city_admin"}, "district": {"500000"}}, []string{adminOnly}},
		{"POST", fmt.Sprintf("/officers/%d/disable", victim), authzTarget{}, map[string]any{}, url.Values{}, []string{adminOnly}},
		{"POST", fmt.Sprintf("/officers/%d/enable", victim), authzTarget{}, map[string]any{}, url.Values{}, []string{adminOnly}},
	}

	fingerprint := func() string {
		return fmt.Sprint(
			e.Count(t, `SELECT COUNT(*) FROM campaigns`), e.Count(t, `SELECT COUNT(*) FROM audit_log`),
			e.Count(t, `SELECT COUNT(*) FROM officers`), e.Count(t, `SELECT COUNT(*) FROM officers WHERE disabled_at IS NOT NULL`),
			e.Count(t, `SELECT COALESCE(SUM(budget_fen + COALESCE(pending_budget_fen, 0)), 0) FROM campaigns`),
			e.Count(t, `SELECT COALESCE(SUM(quantity), 0) FROM tiers`),
			e.Count(t, `SELECT COUNT(*) FROM campaigns WHERE status = 'approved'`), e.Count(t, `SELECT COUNT(*) FROM campaigns WHERE status = 'draft'`),
		)
	}

	for i, o := range auditors {
		page, tok := pages[i], tokens[i]
		t.Run(o.Username, func(t *testing.T) {
			// Reads.
			for _, path := range []string{"/officer", fmt.Sprintf("/officer/campaigns/%d", live.camp), fmt.Sprintf("/officer/campaigns/%d/preview", live.camp), "/officer/audit"} {
				if p := page.do(t, http.MethodGet, path, nil); p.status != 200 {
					t.Errorf("page GET %s: %d", path, p.status)
				}
			}
			for _, path := range []string{"/campaigns", fmt.Sprintf("/campaigns/%d", live.camp), fmt.Sprintf("/campaigns/%d/merchants", live.camp), "/audit"} {
				if res := e.API(t, http.MethodGet, "/api/v1/officer"+path, tok, nil); res.Status != 200 {
					t.Errorf("API GET %s: %d %s", path, res.Status, res.Raw)
				}
			}
			if res := e.API(t, http.MethodGet, "/api/v1/officer/audit", tok, nil); len(res.Body["entries"].([]any)) == 0 {
				t.Errorf("the audit log is empty for an auditor")
			}
			// The campaign page offers an auditor no action.
			for _, tg := range states {
				p := page.do(t, http.MethodGet, tg.path("/officer/campaigns/{id}"), nil)
				if strings.Contains(p.body, tg.path(`method="post" action="/officer/campaigns/{id}/`)) {
					t.Errorf("campaign %d's page offers an auditor an action form", tg.camp)
				}
			}

			before := fingerprint()
			for _, w := range writes {
				path := w.tg.path(w.path)
				if w.json != nil {
					var body any = w.json
					if w.method == http.MethodGet {
						body = nil
					}
					res := e.API(t, w.method, "/api/v1/officer"+path, tok, body)
					if res.Status != 403 || !authzOneOf(res.Reason(), w.reasons) {
						t.Errorf("API %s %s: %d %q, want 403 %v", w.method, path, res.Status, res.Reason(), w.reasons)
					}
				}
				if w.form != nil {
					if p := page.do(t, w.method, "/officer"+path, w.form); p.status != 403 {
						t.Errorf("page %s %s: %d → %q, want 403", w.method, path, p.status, p.location)
					}
				}
			}
			if after := fingerprint(); after != before {
				t.Errorf("refused writes changed the database: %s → %s", before, after)
			}
		})
	}
}

func authzOneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// TestDisabledOfficerLosesAccess: the city admin disables an officer; the
// officer's sessions stop at once and sign-in is refused until re-enabled.
func TestDisabledOfficerLosesAccess(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficerRole(t, "sysadmin", app.RoleSystemAdmin, app.CityCode)
	target := e.Maker
	pages, tokens := authzSignIn(t, e, admin, target, target) // the target holds two sessions
	adminTok, page, tok, tok2 := tokens[0], pages[1], tokens[1], tokens[2]
	signIn := func() apptest.Response {
		e.Clock.Advance(30 * time.Second) // a code is accepted once: each sign-in in a step of its own
		return e.API(t, http.MethodPost, "/api/v1/officer/sessions", "", map[string]string{"username": target.Username, "password": apptest.Password,
			"code": apptest.TOTPCode(e.Clock.Now().Add(30 * time.Second))})
	}
	works := func(tok string) int { return e.API(t, http.MethodGet, "/api/v1/officer/campaigns", tok, nil).Status }
	officerPath := func(id int64, action string) string { return fmt.Sprintf("/api/v1/officer/officers/%d/%s", id, action) }

	if s1, s2, p := works(tok), works(tok2), page.do(t, http.MethodGet, "/officer", nil); s1 != 200 || s2 != 200 || p.status != 200 {
		t.Fatalf("before: sessions answer %d, %d, page %d", s1, s2, p.status)
	}
	if res := e.API(t, http.MethodPost, officerPath(target.ID, "disable"), adminTok, nil); res.Status != 204 {
		t.Fatalf("disable: %d %s", res.Status, res.Raw)
	}
	if s1, s2 := works(tok), works(tok2); s1 != 401 || s2 != 401 {
		t.Errorf("after disable the existing tokens answer %d and %d, want 401", s1, s2)
	}
	if p := page.do(t, http.MethodGet, "/officer", nil); p.status != 303 || p.location != "/officer/login" {
		t.Errorf("after disable the page session: %d → %q, want 303 → /officer/login", p.status, p.location)
	}
	if res := signIn(); res.Status != 401 || res.Reason() != "account_disabled" {
		t.Errorf("sign-in while disabled: %d %s, want 401 account_disabled", res.Status, res.Raw)
	}
	res := e.API(t, http.MethodGet, "/api/v1/officer/officers", adminTok, nil)
	for _, o := range res.Body["officers"].([]any) {
		if o := o.(map[string]any); int64(o["id"].(float64)) == target.ID && o["disabled_at"] == nil {
			t.Errorf("the officers list does not show the account disabled: %v", o)
		}
	}

	// No admin can lock themselves out.
	if res := e.API(t, http.MethodPost, officerPath(admin.ID, "disable"), adminTok, nil); res.Status != 409 || res.Reason() != "disable_self" {
		t.Errorf("disable self: %d %s, want 409 disable_self", res.Status, res.Raw)
	}
	if works(adminTok) != 200 {
		t.Errorf("the admin lost access after trying to disable themselves")
	}

	t.Run("a session that outlived the disable is refused", func(t *testing.T) {
		// LoginOfficer reads the account, spends ~100 ms in bcrypt, then
		// writes the session: a disable that lands in between deletes the
		// sessions before this one exists. Such a session must not work.
		raced := authzSession(t, e, app.KindOfficer, target.ID)
		if got := works(raced); got != 401 {
			t.Errorf("a session of a disabled officer answers %d, want 401: requireSignIn must refuse disabled accounts", got)
		}
		b := authzNewBrowser(t, e)
		b.setCookie("cqv_officer", raced)
		if p := b.do(t, http.MethodGet, "/officer", nil); p.status != 303 || p.location != "/officer/login" {
			t.Errorf("its page session: %d → %q, want 303 → /officer/login", p.status, p.location)
		}
	})

	if res := e.API(t, http.MethodPost, officerPath(target.ID, "enable"), adminTok, nil); res.Status != 204 {
		t.Fatalf("enable: %d %s", res.Status, res.Raw)
	}
	res = signIn()
	if res.Status != 201 {
		t.Fatalf("sign-in after enable: %d %s", res.Status, res.Raw)
	}
	if works(res.Body["token"].(string)) != 200 {
		t.Errorf("the new session does not work")
	}
	if s1, s2 := works(tok), works(tok2); s1 != 401 || s2 != 401 {
		t.Errorf("enabling revived the old sessions: %d, %d", s1, s2)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action IN ('officer.disable', 'officer.enable') AND entity_id = ?`, admin.Username, target.ID); n != 2 {
		t.Errorf("audit rows for disable and enable: %d, want 2", n)
	}
}

// TestRoleEditorCannotApproveTheirOwnEdit: the two-person rule is about
// the content approved, not the account that first created the record. An
// approver who rewrites another officer's draft (PUT /campaigns/:id) wrote
// what is approved, and must not approve it too.
func TestRoleEditorCannotApproveTheirOwnEdit(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	editor := authzSession(t, e, app.KindOfficer, e.Approver.ID)
	other := authzSession(t, e, app.KindOfficer, e.NewOfficer(t, "approver-2", "500103", true).ID)
	d := authzCampaign(t, e, "draft")
	path := func(action string) string { return fmt.Sprintf("/api/v1/officer/campaigns/%d%s", d.camp, action) }

	if r := e.API(t, http.MethodPut, path(""), editor, campaignBody(e, func(b map[string]any) { b["budget"] = "9,000,000" })); r.Status != 200 {
		t.Fatalf("edit: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/submit"), editor, nil); r.Status != 200 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/approve"), editor, nil); r.Status != 403 {
		t.Errorf("the approver who wrote the draft approves it alone: %d %q (status %v, budget_fen %v), want 403 approve_own",
			r.Status, r.Reason(), r.Body["status"], r.Body["budget_fen"])
	} else if r := e.API(t, http.MethodPost, path("/approve"), other, map[string]string{"opinion": "同意"}); r.Status != 200 {
		t.Errorf("a second approver: %d %s", r.Status, r.Raw)
	}
}
