package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// The pacing page of a live campaign says, with its assumptions, where it
// is heading; the what-if of moving quantity between its tiers says what
// the move commits against the budget and how much it leaves unclaimed,
// and refuses a move of more than a tier has left. It changes nothing.
func TestForecastPageAndWhatIf(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Budget: "20000", Limit: 1,
		Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "200"}, {Face: "60", Threshold: "200", Quantity: "100"}}})
	// Four days of claims: 10 of the first tier and 2 of the second a day.
	for day := range 4 {
		for i := range 12 {
			tier := c.Tiers[0].ID
			if i >= 10 {
				tier = c.Tiers[1].ID
			}
			_, tok := e.ResidentSession(t, fmt.Sprintf("1390%d%06d", day, i))
			if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": tier}); r.Status != 201 {
				t.Fatalf("claim: %d %s", r.Status, r.Raw)
			}
		}
		e.Clock.Advance(24 * time.Hour)
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	page := fmt.Sprintf("/officer/campaigns/%d/forecast", c.ID)
	p := b.do(t, http.MethodGet, page, nil)
	if p.status != 200 || !strings.Contains(p.body, "已领取 48 / 计划 300 张") || !strings.Contains(p.body, "近 3.0 天平均每天领取 12 张") ||
		!strings.Contains(p.body, "测算假设") || !strings.Contains(p.body, `id="fc-tier-`) {
		t.Fatalf("forecast page: %d\n%s", p.status, p.body)
	}
	// 30 days of claims at 12 a day would claim everything: the first tier
	// (10 a day) runs out with 160 left; the second (2 a day) does not.
	if !strings.Contains(p.body, "库存预计于") {
		t.Errorf("no stock-out date\n%s", p.body)
	}
	// Move 50 of the first tier to the second: committed ¥12,000 → ¥13,500,
	// within ¥20,000; at the tiers' own paces the second cannot use them all.
	p = b.do(t, http.MethodGet, fmt.Sprintf("%s?move_n=50&move_from=%d&move_to=%d", page, c.Tiers[0].ID, c.Tiers[1].ID), nil)
	if !strings.Contains(p.body, "已承诺（面额×数量）：1.20 万元 → 1.35 万元（预算 2.00 万元）") || !strings.Contains(p.body, "在预算内") {
		t.Fatalf("what-if within budget\n%s", p.body)
	}
	// 200 is beyond the first tier's 160 unclaimed.
	if p := b.do(t, http.MethodGet, fmt.Sprintf("%s?move_n=200&move_from=%d&move_to=%d", page, c.Tiers[0].ID, c.Tiers[1].ID), nil); !strings.Contains(p.body,
		"调出的数量超过该券种尚未领取的 160 张") {
		t.Fatalf("what-if beyond the unclaimed\n%s", p.body)
	}
	if p := b.do(t, http.MethodGet, fmt.Sprintf("%s?move_n=5&move_from=%d&move_to=%d", page, c.Tiers[0].ID, c.Tiers[0].ID), nil); !strings.Contains(p.body,
		"请选择两个不同的券种") {
		t.Fatalf("what-if to the same tier\n%s", p.body)
	}
	if n := e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[0].ID); n != 200 {
		t.Fatalf("the what-if changed the tier: %d", n)
	}
	// The maker asks for the move from the what-if; a second officer approves it.
	p = b.do(t, http.MethodGet, fmt.Sprintf("%s?move_n=50&move_from=%d&move_to=%d", page, c.Tiers[0].ID, c.Tiers[1].ID), nil)
	if !strings.Contains(p.body, `id="request-move"`) {
		t.Fatalf("no request button on the what-if\n%s", p.body)
	}
	move := url.Values{"move_from": {fmt.Sprint(c.Tiers[0].ID)}, "move_to": {fmt.Sprint(c.Tiers[1].ID)}, "move_n": {"170"}}
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move", c.ID), move); p.status != 422 ||
		!strings.Contains(p.body, "调出的数量超过该券种尚未领取的 160 张") {
		t.Fatalf("asking for more than is left: %d\n%s", p.status, p.body)
	}
	move.Set("move_n", "50")
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move", c.ID), move); p.status != http.StatusSeeOther {
		t.Fatalf("asking for the move: %d\n%s", p.status, p.body)
	}
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move/approve", c.ID), url.Values{}); p.status != 403 {
		t.Fatalf("the maker approves its own move: %d", p.status)
	}
	approver := authzNewBrowser(t, e)
	approver.setCookie("cqv_officer", officerToken(t, e, e.Approver))
	if p := approver.do(t, http.MethodGet, fmt.Sprintf("/officer/campaigns/%d", c.ID), nil); !strings.Contains(p.body, `id="confirm-move-approve"`) {
		t.Fatalf("the approver is not offered the move\n%s", p.body)
	}
	if p := approver.do(t, http.MethodGet, fmt.Sprintf("/officer/campaigns/%d/confirm/move/approve", c.ID), nil); p.status != 200 ||
		!strings.Contains(p.body, "将 50 张未领取的券从 满100减30 调到 满200减60") || !strings.Contains(p.body, "1.20 万元 → 1.35 万元") {
		t.Fatalf("move confirmation: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[0].ID); n != 200 {
		t.Fatalf("the move applied before its approval: %d", n)
	}
	if p := approver.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move/approve", c.ID), url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("approving the move: %d\n%s", p.status, p.body)
	}
	if a, b := e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[0].ID), e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[1].ID); a != 150 || b != 150 {
		t.Fatalf("after the move: %d and %d, want 150 and 150", a, b)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('campaign.request_move', 'campaign.approve_move') AND after_json LIKE '%"move_n":50%'`); n != 2 {
		t.Fatalf("move audited %d times", n)
	}
	// A second move, withdrawn by the maker with a reason: the tiers stay.
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move", c.ID), move); p.status != http.StatusSeeOther {
		t.Fatalf("asking for a second move: %d\n%s", p.status, p.body)
	}
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move/decline", c.ID), url.Values{"reason": {""}}); p.status != 422 {
		t.Fatalf("withdrawing without a reason: %d", p.status)
	}
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/officer/campaigns/%d/move/decline", c.ID), url.Values{"reason": {"改为追加预算"}}); p.status != http.StatusSeeOther {
		t.Fatalf("withdrawing: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM campaigns WHERE id = ? AND pending_move_n IS NULL`, c.ID); n != 1 {
		t.Fatal("the withdrawn move still waits")
	}
	if a := e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[0].ID); a != 150 {
		t.Fatalf("a withdrawn move changed the tier: %d", a)
	}
	// Another district's officer sees no forecast of it.
	jb := authzNewBrowser(t, e)
	jb.setCookie("cqv_officer", officerToken(t, e, e.NewOfficer(t, "jb-maker", "500105", false)))
	if p := jb.do(t, http.MethodGet, page, nil); p.status != 404 {
		t.Fatalf("江北's officer: %d", p.status)
	}
}
