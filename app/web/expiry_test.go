package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// expiryCampaign makes a live campaign of 3 daily drops at 10:00 of 2
// vouchers (¥10 each), valid the day they are claimed.
func expiryCampaign(t *testing.T, e *apptest.Env, recycle string) app.Campaign {
	t.Helper()
	maker, approver := officerToken(t, e, e.Maker), officerToken(t, e, e.Approver)
	body := campaignBody(e, func(b map[string]any) {
		b["category"], b["budget"] = "catering", "60"
		b["tiers"] = []map[string]string{{"face": "10", "threshold": "0", "quantity": "2"}}
		b["claim_starts"] = e.Clock.Now().In(app.Shanghai).Format("2006-01-02T15:04")
		b["release_mode"], b["drop_daily"], b["drop_days"], b["recycle_expired"] = "drops", "10:00", "3", recycle
		b["valid_days"] = "1"
	})
	r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", maker, body)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := int64(r.Body["id"].(float64))
	for _, step := range []struct {
		tok, action string
		body        any
	}{{maker, "submit", nil}, {approver, "approve", map[string]string{"opinion": "同意"}}} {
		if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/campaigns/%d/%s", id, step.action), step.tok, step.body); r.Status != 200 {
			t.Fatalf("%s: %d %s", step.action, r.Status, r.Raw)
		}
	}
	c, err := e.Store.Campaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExpiredVouchersFreeBudgetAndRecycle(t *testing.T) {
	for _, tc := range []struct {
		recycle                    string
		quantity, nextDrop, dayTwo int64
	}{
		{"1", 7, 3, 1 + 3}, // the expired voucher joins day 2's drop; day 1's unclaimed one rolls on
		{"", 6, 2, 1 + 2},
	} {
		t.Run("recycle="+tc.recycle, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{})
			c := expiryCampaign(t, e, tc.recycle)
			tier := c.Tiers[0].ID
			claimOne(t, e, c, "13800138000") // 10:00 Shanghai, day 1
			if n, err := e.App.SweepExpired(context.Background()); err != nil || n != 0 {
				t.Fatalf("sweep before expiry counted %d, %v", n, err)
			}
			e.Clock.Advance(14*time.Hour + time.Minute) // 00:01 day 2: the voucher expired at 23:59:59
			if n, err := e.App.SweepExpired(context.Background()); err != nil || n != 1 {
				t.Fatalf("sweep counted %d, %v; want 1", n, err)
			}
			if n, _ := e.App.SweepExpired(context.Background()); n != 0 {
				t.Fatalf("a voucher was counted twice")
			}
			camp, _ := e.Store.Campaign(context.Background(), c.ID)
			if got := camp.Tiers[0]; got.Expired != 1 || got.Quantity != tc.quantity {
				t.Fatalf("tier after sweep: %+v, want expired 1, quantity %d", got, tc.quantity)
			}
			if next := e.Count(t, `SELECT quantity FROM drops WHERE tier_id = ? AND released_at IS NULL ORDER BY opens_at LIMIT 1`, tier); next != tc.nextDrop {
				t.Fatalf("next drop quantity = %d, want %d", next, tc.nextDrop)
			}
			// Committed stays within the budget either way: ¥10 × (quantity − expired).
			if got, want := camp.Committed(), app.Fen(1000*(tc.quantity-1)); got != want || got > camp.BudgetFen {
				t.Fatalf("committed = %v, want %v (budget %v)", got, want, camp.BudgetFen)
			}
			e.Clock.Advance(10 * time.Hour) // 10:01 day 2
			claimOne(t, e, camp, "13900139000")
			if left := e.Count(t, `SELECT remaining FROM tiers WHERE id = ?`, tier); left != tc.dayTwo-1 {
				t.Fatalf("day 2 remaining after one claim = %d, want %d", left, tc.dayTwo-1)
			}
		})
	}
}
