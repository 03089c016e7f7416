package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
)

// getAs fetches a page in Chinese with one sign-in cookie (name "" for
// none) and returns its status and body, whatever the status.
func getAs(t *testing.T, e *apptest.Env, path, cookie, value string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	req.Header.Set("Accept-Language", "zh-CN")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookie, Value: value})
	}
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestWalletTabWithNoneSaysSoNotThatTheWalletIsEmpty: a resident whose one
// voucher was used opens the wallet on its usable tab and reads that none
// is usable, not "券包是空的" beside a tab that counts one used voucher;
// only a wallet with no voucher at all is called empty.
func TestWalletTabWithNoneSaysSoNotThatTheWalletIsEmpty(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	_, tok := e.ResidentSession(t, "13800138000")
	if w := page(t, e, "/m/wallet", tok); !strings.Contains(w, "券包是空的") {
		t.Fatalf("a new resident's wallet does not say it is empty: %.600s", w)
	}
	r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": c.Tiers[0].ID})
	if r.Status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.Status, r.Raw)
	}
	if res := redeem(t, e, e.CashierSession(t, e.Cashier), r.Body["code"].(string), "120", "k1"); res.Status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", res.Status, res.Raw)
	}
	for tab, want := range map[string]string{"": "没有可使用的券", "expired": "没有过期的券"} {
		w := page(t, e, "/m/wallet?tab="+tab, tok)
		if strings.Contains(w, "券包是空的") || !strings.Contains(w, want) {
			t.Errorf("tab %q of a wallet holding a used voucher: want %q, not 券包是空的: %.900s", tab, want, w)
		}
	}
}

// TestErrorPageAndBrandLeadToTheAudiencesOwnHome: an error on a
// resident's page leads back to the campaigns (/m), on the till to the
// till (/merchant), elsewhere to the landing page; the header's brand
// leads to the same place.
func TestErrorPageAndBrandLeadToTheAudiencesOwnHome(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, resident := e.ResidentSession(t, "13800138000")
	cases := []struct {
		path, cookie, value string
		status              int
		home                string
	}{
		{"/m/vouchers/0000000000000000", "cqv_resident", resident, http.StatusNotFound, "/m"},
		{"/m/campaigns/999999", "", "", http.StatusNotFound, "/m"},
		{"/merchant/statements", "cqv_cashier", e.CashierSession(t, e.Cashier), http.StatusForbidden, "/merchant"},
		{"/no-such-page", "", "", http.StatusNotFound, "/"},
	}
	for _, tc := range cases {
		status, body := getAs(t, e, tc.path, tc.cookie, tc.value)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, status, tc.status)
		}
		if want := fmt.Sprintf(`<a href="%s" id="error-home">`, tc.home); !strings.Contains(body, want) {
			t.Errorf("%s: the error page's way back is not %s: %.900s", tc.path, want, body)
		}
		if want := fmt.Sprintf(`<a class="brand" href="%s">`, tc.home); !strings.Contains(body, want) {
			t.Errorf("%s: the brand does not lead to %s", tc.path, tc.home)
		}
	}
}

// TestSwitchingLanguageOrDisplayReturnsToAPageThatOpens: the switches in
// the header return to the page as shown, its query included (the
// wallet's tab), and from a page that answered a form (the till's check,
// which cannot be fetched again) to the till instead of an error.
func TestSwitchingLanguageOrDisplayReturnsToAPageThatOpens(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, resident := e.ResidentSession(t, "13800138000")
	if _, body := getAs(t, e, "/m/wallet?tab=redeemed", "cqv_resident", resident); !strings.Contains(body, `href="/display/large?back=%2fm%2fwallet%3ftab%3dredeemed"`) ||
		!strings.Contains(body, `href="/lang/en?back=%2fm%2fwallet%3ftab%3dredeemed"`) {
		t.Errorf("the wallet's used tab does not return to itself: %.1200s", body)
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_cashier", e.CashierSession(t, e.Cashier))
	p := b.do(t, http.MethodPost, "/merchant/check", url.Values{"voucher": {"1234 5678 9012 3456"}, "bill": {"150"}})
	if !strings.Contains(p.body, `href="/display/large?back=%2fmerchant"`) || !strings.Contains(p.body, `href="/lang/en?back=%2fmerchant"`) {
		t.Errorf("the till's answer to a check returns to it (a GET of /merchant/check is no page): %.1200s", p.body)
	}
	if till := b.do(t, http.MethodGet, "/merchant", nil); till.status != http.StatusOK || !strings.Contains(till.body, `id="scan-form"`) {
		t.Errorf("the page the switch returns to: %d, want the till's scan form", till.status)
	}
}
