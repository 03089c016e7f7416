package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestVoidRacingARedemption: the approval of a void and a cashier's
// redemption of the same voucher reach the store at once, for twelve
// vouchers. Each voucher ends either voided or redeemed, never both, and
// the loser is told why (voucher_not_voidable, or voucher_voided /
// expired); the books check after the test finds the counters right. On
// PostgreSQL the two guarded updates of the voucher's row order them.
func TestVoidRacingARedemption(t *testing.T) {
	apptest.EachBackend(t, testVoidRacingARedemption)
}

func testVoidRacingARedemption(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	const n = 12
	type race struct {
		v    app.Voucher
		void app.VoidRequest
	}
	races := make([]race, n)
	for i := range races {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370015%04d", i))
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		req, err := e.App.RequestVoid(ctx, e.Maker, v.Code, "疑似套现")
		if err != nil {
			t.Fatal(err)
		}
		races[i] = race{v, req}
	}
	var wg sync.WaitGroup
	voided, redeemed := make([]bool, n), make([]bool, n)
	for i, r := range races {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := e.App.DecideVoid(ctx, e.Approver, r.void.ID, true, "")
			voided[i] = err == nil
			if err != nil && app.ErrorReason(err) != "voucher_not_voidable" {
				t.Errorf("void %d: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := e.App.Redeem(ctx, e.Cashier, r.v.Token, 15000, fmt.Sprintf("race-%d", i)) // scanned: no wrong-code limit
			redeemed[i] = err == nil
			if reason := app.ErrorReason(err); err != nil && reason != "voucher_voided" && reason != "expired" {
				t.Errorf("redemption %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i := range races {
		if voided[i] == redeemed[i] {
			t.Errorf("voucher %d: voided %v, redeemed %v; want exactly one", i, voided[i], redeemed[i])
		}
	}
	if got := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE voided_at IS NOT NULL AND status = 'redeemed'`); got != 0 {
		t.Fatalf("%d vouchers both voided and redeemed", got)
	}
}
