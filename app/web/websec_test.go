package web_test

// Web hardening: redirect targets, invalid text, static files, the CSRF
// token across sign-in, security headers, and masked voucher codes.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
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
// it (independently of the server's code), stays on origin.
func whatwgOnOrigin(loc string) bool {
	loc = strings.Trim(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
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
