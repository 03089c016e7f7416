package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestQuantityMoveRacingClaims: a move of 15 of a tier's 30 vouchers to
// another tier is approved while 25 residents claim from the first. The
// move applies only if 15 are still unclaimed when it holds the tier's
// stock; either way no tier gives more vouchers than it has, and the books
// check after the test (on PostgreSQL, the stock buckets too) holds.
func TestQuantityMoveRacingClaims(t *testing.T) {
	apptest.EachBackend(t, testQuantityMoveRacingClaims)
}

func testQuantityMoveRacingClaims(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Budget: "10000",
		Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "30"}, {Face: "60", Threshold: "200", Quantity: "10"}}})
	m := app.QuantityMove{From: c.Tiers[0].ID, To: c.Tiers[1].ID, N: 15}
	if err := e.App.RequestQuantityMove(ctx, e.Maker, c.ID, m); err != nil {
		t.Fatal(err)
	}
	var residents []app.Resident
	for i := range 25 {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370016%04d", i))
		residents = append(residents, r)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	claimed := 0
	var moveErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		moveErr = e.App.ApproveQuantityMove(ctx, e.Approver, c.ID)
	}()
	for _, r := range residents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, ""); err == nil {
				mu.Lock()
				claimed++
				mu.Unlock()
			} else if reason := app.ErrorReason(err); reason != "sold_out" && reason != "too_busy" {
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	quantity := e.Count(t, `SELECT quantity FROM tiers WHERE id = ?`, c.Tiers[0].ID)
	switch {
	case moveErr == nil && (quantity != 15 || claimed > 15):
		t.Fatalf("moved, yet the tier has %d and gave %d", quantity, claimed)
	case moveErr != nil && (app.ErrorReason(moveErr) != "move_beyond_unclaimed" || quantity != 30 || claimed <= 15):
		t.Fatalf("the move refused (%v) with %d claimed of %d", moveErr, claimed, quantity)
	}
	t.Logf("move: %v; %d claimed of the first tier's %d", moveErr, claimed, quantity)
}
