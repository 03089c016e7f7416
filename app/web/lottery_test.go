package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// A lottery through the pages: the maker sets it on the draft, residents
// register on the campaign's page (where a claim button would be), the
// officer draws after the close on its confirmation, each resident's page
// says the outcome, and the publication carries the commitment before the
// draw and the seed and entries after it.
func TestLotteryThroughThePages(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	now := e.Clock.Now()
	c, err := e.App.CreateCampaign(ctx, e.Maker, app.CampaignInput{Name: "解放碑火锅摇号季", District: "500103", Category: "catering",
		Budget: "1000", Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "2"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339), ValidDays: "7", PerResidentLimit: "1"})
	if err != nil {
		t.Fatal(err)
	}
	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	campaignPage := fmt.Sprintf("/officer/campaigns/%d", c.ID)
	if p := maker.do(t, http.MethodGet, campaignPage, nil); !strings.Contains(p.body, `id="lottery-form"`) {
		t.Fatalf("no lottery form on the draft\n%s", p.body)
	}
	if p := maker.do(t, http.MethodPost, campaignPage+"/lottery", url.Values{"lottery_closes": {now.Add(-time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")}}); p.status != 422 ||
		!strings.Contains(p.body, "登记截止应晚于领取开始") {
		t.Fatalf("a close before the start: %d", p.status)
	}
	closes := now.Add(24 * time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")
	if p := maker.do(t, http.MethodPost, campaignPage+"/lottery", url.Values{"lottery_closes": {closes}}); p.status != http.StatusSeeOther {
		t.Fatalf("setting the lottery: %d\n%s", p.status, p.body)
	}
	if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "同意摇号"); err != nil {
		t.Fatal(err)
	}
	pub := func() map[string]any {
		t.Helper()
		r := e.API(t, http.MethodGet, fmt.Sprintf("/campaigns/%d/lottery.json", c.ID), "", nil)
		if r.Status != 200 {
			t.Fatalf("publication: %d %s", r.Status, r.Raw)
		}
		return r.Body
	}
	before := pub()
	if len(fmt.Sprint(before["commitment"])) != 64 || before["seed"] != nil {
		t.Fatalf("publication before the draw: %v", before)
	}
	// Three residents register on the campaign's page.
	var residents []*authzBrowser
	for i := range 3 {
		_, tok := e.ResidentSession(t, fmt.Sprintf("1390098%04d", i))
		b := authzNewBrowser(t, e)
		b.setCookie("cqv_resident", tok)
		page := b.do(t, http.MethodGet, fmt.Sprintf("/m/campaigns/%d", c.ID), nil)
		if !strings.Contains(page.body, "登记摇号") || strings.Contains(page.body, "/claim\"") {
			t.Fatalf("the resident's page offers no registration, or a claim\n%s", page.body)
		}
		if !strings.Contains(page.body, `name="district"`) {
			t.Fatalf("the registration asks no district\n%s", page.body)
		}
		district := map[bool]string{true: "500103", false: "500105"}[i < 2]
		if i == 0 {
			if p := b.do(t, http.MethodPost, fmt.Sprintf("/m/campaigns/%d/register", c.ID), url.Values{"tier": {fmt.Sprint(c.Tiers[0].ID)},
				"district": {"500000"}}); p.status != 422 {
				t.Fatalf("registering from the city as a district: %d", p.status)
			}
		}
		if p := b.do(t, http.MethodPost, fmt.Sprintf("/m/campaigns/%d/register", c.ID), url.Values{"tier": {fmt.Sprint(c.Tiers[0].ID)},
			"district": {district}}); p.status != http.StatusSeeOther {
			t.Fatalf("registering: %d\n%s", p.status, p.body)
		}
		if p := b.do(t, http.MethodGet, fmt.Sprintf("/m/campaigns/%d", c.ID), nil); !strings.Contains(p.body, "您已于") {
			t.Fatalf("the page does not say the resident registered\n%s", p.body)
		}
		residents = append(residents, b)
	}
	e.Clock.Advance(24*time.Hour + time.Minute)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	if p := maker.do(t, http.MethodGet, campaignPage+"/confirm/draw", nil); p.status != 200 || !strings.Contains(p.body, "开奖只能进行一次") {
		t.Fatalf("draw confirmation: %d\n%s", p.status, p.body)
	}
	if p := maker.do(t, http.MethodPost, campaignPage+"/draw", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("drawing: %d\n%s", p.status, p.body)
	}
	if p := maker.do(t, http.MethodPost, campaignPage+"/draw", url.Values{}); p.status != 409 || !strings.Contains(p.body, "不能重抽") {
		t.Fatalf("drawing again: %d", p.status)
	}
	won, lost := 0, 0
	for _, b := range residents {
		p := b.do(t, http.MethodGet, fmt.Sprintf("/m/campaigns/%d", c.ID), nil)
		switch {
		case strings.Contains(p.body, "恭喜，您中签了"):
			won++
		case strings.Contains(p.body, "本次未中签"):
			lost++
		}
	}
	if won != 2 || lost != 1 {
		t.Fatalf("%d told they won, %d they lost; want 2 and 1", won, lost)
	}
	if p := maker.do(t, http.MethodGet, campaignPage, nil); !strings.Contains(p.body, `id="lottery-figures"`) ||
		!strings.Contains(p.body, "共 3 人登记") || !strings.Contains(p.body, `<td>中签</td><td class="num">2</td>`) {
		t.Fatalf("the campaign page lacks the lottery's figures\n%s", p.body)
	} else if !strings.Contains(p.body, `id="lottery-districts"`) || !strings.Contains(p.body, `<td>渝中区</td><td class="num">2</td>`) ||
		!strings.Contains(p.body, `<td>江北区</td><td class="num">1</td>`) {
		t.Fatalf("the campaign page lacks the entries by district\n%s", p.body)
	}
	if p := maker.do(t, http.MethodGet, campaignPage+"/dashboard", nil); !strings.Contains(p.body, `id="lottery-outcome"`) ||
		!strings.Contains(p.body, `<td>江北区</td><td class="num">1</td>`) {
		t.Fatalf("the evaluation dashboard lacks the draw's figures\n%s", p.body)
	}
	after := pub()
	raw, _ := json.Marshal(after["tiers"])
	var tiers []app.DrawTier
	if err := json.Unmarshal(raw, &tiers); err != nil || len(tiers) != 1 || len(tiers[0].Registrations) != 3 {
		t.Fatalf("publication after the draw: %v %s", err, raw)
	}
	seed := fmt.Sprint(after["seed"])
	if app.Commitment(seed) != before["commitment"] ||
		fmt.Sprint(app.LotteryWinners(seed, tiers[0].TierID, tiers[0].Stock, tiers[0].Registrations)) != fmt.Sprint(tiers[0].Winners) {
		t.Fatalf("the publication does not check: %v", after)
	}
}

// A resident without a phone of their own registers for a lottery at a
// community service station: the station's one 代领 button registers them
// instead of claiming, with the station's district, audited; the draw
// treats the entry as any other.
func TestStationRegistersForALottery(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	now := e.Clock.Now()
	c, err := e.App.CreateCampaign(ctx, e.Maker, app.CampaignInput{Name: "解放碑火锅摇号季", District: "500103", Category: "catering",
		Budget: "1000", Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "2"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339), ValidDays: "7", PerResidentLimit: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.SetLottery(ctx, e.Maker, c.ID, now.Add(time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")); err != nil {
		t.Fatal(err)
	}
	if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "同意"); err != nil {
		t.Fatal(err)
	}
	staff := e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
	b := stationBrowser(t, e, staff)
	code, _ := stationSendCode(t, e, b, "13800138021")
	p := b.do(t, http.MethodPost, "/station/claims", url.Values{"phone": {"13800138021"}, "code": {code},
		"tier": {fmt.Sprintf("%d:%d", c.ID, c.Tiers[0].ID)}, "request_key": {"st-lottery-1"}})
	if p.status != 200 || !strings.Contains(p.body, "已为居民登记「解放碑火锅摇号季」摇号") {
		t.Fatalf("station registration: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE campaign_id = ? AND district_code = '500103'`, c.ID); n != 1 {
		t.Fatalf("%d registrations with the station's district", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 0 {
		t.Fatal("the station claimed a lottery's voucher")
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'station.register' AND actor_id = ?`, staff.ID); n != 1 {
		t.Fatalf("station registration audited %d times", n)
	}
	e.Clock.Advance(time.Hour + time.Minute)
	if _, _, err := e.App.DrawLottery(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE outcome = 'won' AND voucher_id IS NOT NULL`); n != 1 {
		t.Fatalf("the station's entrant did not get the voucher: %d", n)
	}
}
