package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// tally counts answers by status and reason.
type tally struct {
	mu    sync.Mutex
	count map[string]int
	bad   []string
}

func (t *tally) add(r apptest.Response) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.count == nil {
		t.count = map[string]int{}
	}
	key := fmt.Sprintf("%d %s", r.Status, r.Reason())
	t.count[key]++
	if r.Status >= 500 || r.Status == 0 || strings.Contains(strings.ToLower(r.Raw), "locked") {
		t.bad = append(t.bad, key+" "+r.Raw)
	}
}

// race releases n goroutines at once and waits for them all.
func race(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			f(i)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func TestThousandResidentsRaceForHundredVouchers(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}}, Limit: 1})
	tier := c.Tiers[0].ID

	const residents = 1000
	tokens := make([]string, residents)
	for i := range tokens {
		_, tokens[i] = e.ResidentSession(t, fmt.Sprintf("139%08d", i))
	}

	var got tally
	race(residents, func(i int) {
		got.add(e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tokens[i], map[string]any{"tier_id": tier}))
	})

	if len(got.bad) > 0 {
		t.Fatalf("%d answers were errors of ours (5xx, locked, no answer), first: %s", len(got.bad), got.bad[0])
	}
	if got.count["201 "] != 100 || got.count["409 sold_out"] != 900 || len(got.count) != 2 {
		t.Fatalf("answers = %v, want exactly 100 vouchers and 900 sold out", got.count)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 100 {
		t.Errorf("vouchers stored = %d, want 100", n)
	}
	if n := e.Count(t, `SELECT COUNT(DISTINCT resident_id) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 100 {
		t.Errorf("distinct holders = %d, want 100", n)
	}
	if n := e.Count(t, `SELECT remaining FROM tiers WHERE id = ?`, tier); n != 0 {
		t.Errorf("remaining = %d, want 0", n)
	}
	if n := e.Count(t, `SELECT claimed_count FROM campaigns WHERE id = ?`, c.ID); n != 100 {
		t.Errorf("campaign rollup claimed = %d, want 100", n)
	}
}

func TestOneResidentThousandPressesGetsOneVoucher(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "1000"}}, Limit: 1})
	_, tok := e.ResidentSession(t, "13800138000")

	var got tally
	race(1000, func(int) {
		got.add(e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": c.Tiers[0].ID}))
	})
	if len(got.bad) > 0 {
		t.Fatalf("%d answers were errors of ours, first: %s", len(got.bad), got.bad[0])
	}
	if got.count["201 "] != 1 || got.count["409 limit_reached"] != 999 {
		t.Fatalf("answers = %v, want 1 voucher and 999 limit reached", got.count)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 1 {
		t.Errorf("vouchers stored = %d, want 1", n)
	}
	if n := e.Count(t, `SELECT remaining FROM tiers WHERE id = ?`, c.Tiers[0].ID); n != 999 {
		t.Errorf("remaining = %d, want 999: a refused claim must give its stock back", n)
	}
}

func TestDoubleTapReturnsTheSameVoucher(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 3})
	_, tok := e.ResidentSession(t, "13800138000")
	path := fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID)
	body := map[string]any{"tier_id": c.Tiers[0].ID}

	var codes sync.Map
	race(20, func(int) {
		r := e.API(t, http.MethodPost, path, tok, body, "Idempotency-Key", "tap-1")
		if r.Status != http.StatusCreated {
			t.Errorf("double tap answered %d %s", r.Status, r.Raw)
			return
		}
		codes.Store(r.Body["code"], true)
	})
	n := 0
	codes.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("20 taps with one key produced %d different vouchers", n)
	}
	if got := e.Count(t, `SELECT COUNT(*) FROM vouchers`); got != 1 {
		t.Fatalf("vouchers stored = %d, want 1", got)
	}
	// A new press (new key) is a new claim, up to the limit of 3.
	for i, want := range []int{201, 201, 409} {
		r := e.API(t, http.MethodPost, path, tok, body, "Idempotency-Key", fmt.Sprintf("tap-%d", i+2))
		if r.Status != want {
			t.Fatalf("press %d: %d %s, want %d", i+2, r.Status, r.Raw, want)
		}
	}
}

func TestClaimRefusals(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	live := e.LiveCampaign(t, apptest.CampaignSpec{})
	later := e.LiveCampaign(t, apptest.CampaignSpec{Name: "未开始", Opens: 24 * 60 * 60 * 1e9})
	_, tok := e.ResidentSession(t, "13800138000")
	claim := func(c app.Campaign, tier int64, bearer string) apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), bearer, map[string]any{"tier_id": tier})
	}
	for _, tc := range []struct {
		name   string
		r      apptest.Response
		status int
		reason string
	}{
		{"not open yet", claim(later, later.Tiers[0].ID, tok), 409, "not_open"},
		{"tier of another campaign", claim(live, later.Tiers[0].ID, tok), 404, "tier_not_found"},
		{"signed out", claim(live, live.Tiers[0].ID, ""), 401, "signed_out"},
		{"forged session", claim(live, live.Tiers[0].ID, "not-a-session"), 401, "signed_out"},
		{"officer session is not a resident session", claim(live, live.Tiers[0].ID, e.CashierSession(t, e.Cashier)), 401, "signed_out"},
	} {
		if tc.r.Status != tc.status || tc.r.Reason() != tc.reason {
			t.Errorf("%s: %d %q, want %d %q", tc.name, tc.r.Status, tc.r.Reason(), tc.status, tc.reason)
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 0 {
		t.Fatalf("refused claims stored %d vouchers", n)
	}
	// Bad JSON is refused with a stable code.
	r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", live.ID), tok, map[string]any{"tier": 1})
	if r.Status != 422 || r.Reason() != "bad_json" {
		t.Errorf("unknown field: %d %s", r.Status, r.Raw)
	}
}
