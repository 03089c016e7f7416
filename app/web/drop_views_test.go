package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestEveryViewSeesADueDrop: when a drop's time has come and no claim has
// released it yet, every view answers from the same rule (released stock
// plus due drops): the resident page and its stock feed, the residents'
// API, the claim's fast path, the officer's campaign and statistics, the
// live view and the open data. Today's stored row says 0 until a claim.
func TestEveryViewSeesADueDrop(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.TwoDrops(t, "文化旅游惠民消费季", 5, false)
	tier := c.Tiers[0].ID
	officer := e.Session(t, app.KindOfficer, e.Maker.ID, time.Hour)

	views := func(when string, want int64, released int64) {
		t.Helper()
		if n := e.Count(t, `SELECT remaining FROM tiers WHERE id = ?`, tier); n != 0 {
			t.Fatalf("%s: the stored tier has %d left; the test wants a drop no claim has released", when, n)
		}
		home := page(t, e, "/m", "")
		if !strings.Contains(home, fmt.Sprintf("剩余 %d 张", want)) {
			t.Errorf("%s: resident page does not show 剩余 %d 张", when, want)
		}
		stock := e.API(t, "GET", fmt.Sprintf("/m/campaigns/%d/stock.json", c.ID), "", nil)
		if got := stock.Body["tiers"].([]any)[0].(map[string]any)["claimable"]; got != float64(want) {
			t.Errorf("%s: stock feed says %v claimable, want %d", when, got, want)
		}
		live := e.API(t, "GET", "/api/v1/campaigns/live", "", nil)
		if got := firstTier(live.Body["campaigns"])["remaining"]; got != float64(want) {
			t.Errorf("%s: residents' API says %v remaining, want %d (%s)", when, got, want, live.Raw)
		}
		show := e.API(t, "GET", fmt.Sprintf("/api/v1/officer/campaigns/%d", c.ID), officer, nil)
		stats, _ := show.Body["stats"].(map[string]any)
		if stats["released"] != float64(released) || stats["planned"] != float64(10) {
			t.Errorf("%s: officer's stats say released %v of planned %v, want %d of 10", when, stats["released"], stats["planned"], released)
		}
		lv := e.API(t, "GET", fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID), officer, nil)
		if got := firstTier(lv.Body["tiers"])["remaining"]; got != float64(want) {
			t.Errorf("%s: live view says %v remaining, want %d (%s)", when, got, want, lv.Raw)
		}
		status, _, officerPage := download(t, e, fmt.Sprintf("/officer/campaigns/%d", c.ID), officer)
		if status != http.StatusOK || !strings.Contains(string(officerPage), fmt.Sprintf(`id="stat-released">%d<`, released)) {
			t.Errorf("%s: officer's campaign page does not show %d released", when, released)
		}
	}

	views("10:00 drop due", 5, 5)
	for i := range 5 {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1380000%04d", i))
		if _, err := e.App.Claim(ctx, r, c.ID, tier, "k"); err != nil {
			t.Fatalf("claim %d of the 10:00 drop: %v", i, err)
		}
	}
	r, tok := e.ResidentSession(t, "13900000000")
	if _, err := e.App.Claim(ctx, r, c.ID, tier, "late"); app.ErrorReason(err) != "sold_out_next" {
		t.Fatalf("a sixth claim at 10:00: %v, want sold_out_next", err)
	}
	e.Clock.Advance(time.Minute + 150*time.Millisecond) // 10:01:00.400
	views("10:01 drop due", 5, 10)
	res := e.API(t, "POST", fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": tier},
		"Idempotency-Key", "after-drop")
	if res.Status != http.StatusCreated {
		t.Fatalf("claim through the API once the 10:01 drop is due: %d %s", res.Status, res.Raw)
	}
}

func firstTier(v any) map[string]any {
	if list, ok := v.([]any); ok && len(list) > 0 {
		if m, ok := list[0].(map[string]any); ok {
			if tiers, ok := m["tiers"].([]any); ok && len(tiers) > 0 {
				t, _ := tiers[0].(map[string]any)
				return t
			}
			return m
		}
	}
	return map[string]any{}
}
