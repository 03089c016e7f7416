package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// stationBrowser is a station staff member's browser, signed in.
func stationBrowser(t *testing.T, e *apptest.Env, staff app.Officer) *authzBrowser {
	t.Helper()
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", e.Session(t, app.KindOfficer, staff.ID, 8*time.Hour))
	return b
}

// stationSendCode asks for the resident's code on the station's page and
// returns the code the resident received.
func stationSendCode(t *testing.T, e *apptest.Env, b *authzBrowser, phone string) (string, string) {
	t.Helper()
	e.Clock.Advance(2 * time.Minute) // past the last code's resend interval
	p := b.do(t, http.MethodPost, "/station/code", url.Values{"phone": {phone}, "consent": {"1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="station-claim"`) {
		t.Fatalf("send code: %d\n%.2000s", p.status, p.body)
	}
	return e.SMS.Code(phone), p.body
}

// At the station: the staff member sends the resident's code, claims with
// it, and gets the voucher's printable card, A6 or receipt; the resident's
// wallet lists it as claimed at the station and printed, and the card's QR
// is the voucher's own token.
func TestStationAssistedClaimAndCard(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	staff := e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
	c := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝中社区消费券"})
	b := stationBrowser(t, e, staff)

	home := b.do(t, http.MethodGet, "/station", nil)
	if home.status != http.StatusOK || strings.Contains(home.body, `href="/officer/audit"`) {
		t.Fatalf("station page: %d\n%.2000s", home.status, home.body)
	}
	if !strings.Contains(home.body, `name="csrf"`) {
		t.Error("the station's form carries no CSRF token")
	}
	// Without the resident's agreement no code is sent.
	if p := b.do(t, http.MethodPost, "/station/code", url.Values{"phone": {"13800138011"}}); p.status == http.StatusOK && strings.Contains(p.body, `id="station-claim"`) {
		t.Error("a code was sent without the resident's agreement")
	}

	code, step := stationSendCode(t, e, b, "13800138011")
	if !strings.Contains(step, "渝中社区消费券") || !strings.Contains(step, "138****8011") {
		t.Errorf("code step: campaign or masked number missing\n%.3000s", step)
	}
	p := b.do(t, http.MethodPost, "/station/claims", url.Values{"phone": {"13800138011"}, "code": {code},
		"tier": {fmt.Sprintf("%d:%d", c.ID, c.Tiers[0].ID)}, "request_key": {"st-test-1"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/station/vouchers/") {
		t.Fatalf("claim: %d → %q\n%.2000s", p.status, p.location, p.body)
	}
	card := b.do(t, http.MethodGet, p.location, nil)
	v, err := e.Store.VoucherByCode(context.Background(), strings.TrimSuffix(strings.TrimPrefix(p.location, "/station/vouchers/"), "/card"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`class="voucher-card card-a6"`, token.FormatCode(v.Code), "/station/vouchers/" + v.Code + "/qr.png", "渝中社区消费券"} {
		if !strings.Contains(card.body, want) {
			t.Errorf("card: %q missing (%d)\n%.3000s", want, card.status, card.body)
		}
	}
	receipt := b.do(t, http.MethodGet, p.location+"?layout=receipt", nil)
	if !strings.Contains(receipt.body, `class="voucher-card card-receipt"`) {
		t.Errorf("receipt card: %d", receipt.status)
	}
	qr := b.do(t, http.MethodGet, "/station/vouchers/"+v.Code+"/qr.png", nil)
	if qr.status != http.StatusOK || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Errorf("card QR: %d", qr.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity_id = ?`, app.ActionStationPrint, v.ID); n != 2 {
		t.Errorf("%d print audit rows, want 2 (A6 and receipt)", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE id = ? AND assisted_by = ? AND printed_at IS NOT NULL`, v.ID, staff.ID); n != 1 {
		t.Error("the voucher is not marked as claimed at the station and printed")
	}

	// The resident's wallet lists it.
	_, tok := e.ResidentSession(t, "13800138011")
	rb := authzNewBrowser(t, e)
	rb.setCookie("cqv_resident", tok)
	w := rb.do(t, http.MethodGet, "/m/wallet", nil)
	if !strings.Contains(w.body, "代领·已打印") || !strings.Contains(w.body, "/m/vouchers/"+v.Code) {
		t.Errorf("wallet: %d\n%.3000s", w.status, w.body)
	}

	// The printed card redeems like the phone: the cashier's API takes its QR's token.
	res := e.API(t, http.MethodPost, "/api/v1/cashier/redemptions", e.CashierSession(t, e.Cashier),
		map[string]any{"voucher": v.Token, "bill": "120"}, "Idempotency-Key", "station-card-1")
	if res.Status != http.StatusCreated {
		t.Errorf("redeeming the card's token: %d %s", res.Status, res.Raw)
	}
}

// A station claims only for its own district's campaigns, and prints only
// vouchers claimed at its own station.
func TestStationRefusesAnotherDistrict(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	yz := e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
	jb := e.NewOfficerRole(t, "jb-station", app.RoleStation, "500105")
	jbCampaign := e.LiveCampaign(t, apptest.CampaignSpec{Name: "江北消费券", District: "500105"})
	yzCampaign := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝中消费券"})
	b := stationBrowser(t, e, yz)

	code, step := stationSendCode(t, e, b, "13800138012")
	if strings.Contains(step, "江北消费券") || !strings.Contains(step, "渝中消费券") {
		t.Error("the station's form offers another district's campaign, or not its own")
	}
	p := b.do(t, http.MethodPost, "/station/claims", url.Values{"phone": {"13800138012"}, "code": {code},
		"tier": {fmt.Sprintf("%d:%d", jbCampaign.ID, jbCampaign.Tiers[0].ID)}})
	if p.status != http.StatusForbidden {
		t.Errorf("another district's campaign: %d → %q", p.status, p.location)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 0 {
		t.Errorf("%d vouchers written", n)
	}
	// The API answers the same.
	res := e.API(t, http.MethodPost, "/api/v1/station/claims", e.Session(t, app.KindOfficer, yz.ID, time.Hour),
		map[string]any{"phone": "13800138012", "code": code, "campaign_id": jbCampaign.ID, "tier_id": jbCampaign.Tiers[0].ID})
	if res.Status != http.StatusForbidden || res.Reason() != "other_district" {
		t.Errorf("API, another district's campaign: %d %s", res.Status, res.Reason())
	}

	// 渝中's voucher is not 江北's to print.
	p = b.do(t, http.MethodPost, "/station/claims", url.Values{"phone": {"13800138012"}, "code": {code},
		"tier": {fmt.Sprintf("%d:%d", yzCampaign.ID, yzCampaign.Tiers[0].ID)}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("own campaign: %d\n%.2000s", p.status, p.body)
	}
	jbb := stationBrowser(t, e, jb)
	if other := jbb.do(t, http.MethodGet, p.location, nil); other.status != http.StatusNotFound {
		t.Errorf("another station's card: %d", other.status)
	}
	// A district officer has no station pages.
	ob := stationBrowser(t, e, e.Maker)
	if other := ob.do(t, http.MethodGet, p.location, nil); other.status != http.StatusForbidden {
		t.Errorf("a district officer opening a card: %d", other.status)
	}
}
