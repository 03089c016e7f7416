package db_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// TestClaimsRefusedInsideABatchLeaveTheOthersWhole: presses that queued
// behind a busy writer are committed together. Inside the batch some
// win, some find the tier sold out by the winners before them, one is a
// retry of a winner's request (answered with the same voucher), one is
// a second request of a resident at the limit; each is told its own
// result, and the books (checked after the test) balance.
func TestClaimsRefusedInsideABatchLeaveTheOthersWhole(t *testing.T) {
	// Batches are SQLite's group commit; PostgreSQL commits each step alone.
	e := apptest.New(t, apptest.Options{Backend: apptest.SQLite})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}}})
	tier := c.Tiers[0].ID

	type press struct {
		who int
		key string
	}
	residents := make([]app.Resident, 25)
	var presses []press
	for i := range residents {
		residents[i], _ = e.ResidentSession(t, fmt.Sprintf("1390000%04d", i))
		presses = append(presses, press{i, fmt.Sprintf("k%d", i)})
	}
	presses = append(presses, press{0, "k0"}, press{1, "k1-again"})

	release, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = e.Store.BulkTx(ctx, func(*db.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	before := e.Store.WriterStats()

	got := make([]app.Voucher, len(presses))
	errs := make([]error, len(presses))
	var wg sync.WaitGroup
	for i, p := range presses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.App.Claim(ctx, residents[p.who], c.ID, tier, p.key)
		}()
	}
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	for e.Store.WriterQueue() < 1+len(presses) {
		select {
		case <-answered:
			close(release)
			t.Fatalf("presses were answered without waiting for the writer: %v", errs)
		default:
			runtime.Gosched()
		}
	}
	close(release)
	<-answered

	won := map[int64]bool{}
	for i, err := range errs {
		switch reason := app.ErrorReason(err); {
		case err == nil:
			won[got[i].ID] = true
		case reason != "sold_out" && reason != "limit_reached":
			t.Errorf("press %d (%v): %v", i, presses[i], err)
		}
	}
	if len(won) != 10 {
		t.Errorf("%d vouchers issued, want the tier's 10", len(won))
	}
	// The retry of resident 0's request is answered like the request.
	if (errs[0] == nil) != (errs[25] == nil) || (errs[0] == nil && got[0].ID != got[25].ID) {
		t.Errorf("retry of k0 told %v %v, the request %v %v", got[25].ID, errs[25], got[0].ID, errs[0])
	}
	if errs[1] == nil && errs[26] == nil {
		t.Errorf("resident 1 won twice with a limit of one")
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 10 {
		t.Errorf("%d vouchers stored, want 10", n)
	}
	after := e.Store.WriterStats()
	if commits := after.Commits - before.Commits; commits > 2 {
		t.Errorf("%d presses took %d commits; queued presses must share one", len(presses), commits)
	}
}

// TestRedemptionsAndReversalsInOneBatch: redemptions and reversals that
// queued behind a busy writer share one commit: a voucher pressed twice
// is redeemed once; a redemption reversed and the voucher redeemed again,
// both inside the batch, count once in the rollups and in reach (whose
// counters are summed per batch); the books (checked after the test) and
// the campaign's figures match the stored redemptions.
func TestRedemptionsAndReversalsInOneBatch(t *testing.T) {
	// Batches are SQLite's group commit; PostgreSQL commits each step alone.
	e := apptest.New(t, apptest.Options{Backend: apptest.SQLite})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	vs := make([]app.Voucher, 4)
	for i := range vs {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370000%04d", i))
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	redeem := func(v app.Voucher, key string) func() error {
		return func() error {
			_, err := e.Store.Redeem(ctx, app.RedeemInsert{VoucherID: v.ID, MerchantID: e.Merchant.ID, CashierID: e.Cashier.ID,
				BillFen: 15000, DiscountFen: 3000, Key: key})
			return err
		}
	}
	// Voucher 3 was redeemed before; the batch reverses it and redeems it again.
	if err := redeem(vs[3], "before")(); err != nil {
		t.Fatal(err)
	}
	var earlier int64
	if err := e.Store.QueryRow(ctx, `SELECT id FROM redemptions WHERE voucher_id = ?`, vs[3].ID).Scan(&earlier); err != nil {
		t.Fatal(err)
	}

	release, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = e.Store.BulkTx(ctx, func(*db.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	steps := []func() error{
		redeem(vs[0], "a"),
		redeem(vs[0], "b"), // the same voucher again: already redeemed by the step before
		redeem(vs[1], "c"),
		func() error {
			_, err := e.Store.Reverse(ctx, app.ReverseInsert{RedemptionID: earlier, MerchantID: e.Merchant.ID, CashierID: e.Cashier.ID})
			return err
		},
		redeem(vs[3], "again"),
	}
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = step() }()
		// In order: each step waits for the writer before the next is sent.
		for e.Store.StepsHandedOver() < 1+i {
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
	for i, want := range []string{"", "already_redeemed", "", "", ""} {
		if got := app.ErrorReason(errs[i]); got != want && !(want == "" && errs[i] == nil) {
			t.Errorf("step %d: %v, want %q", i, errs[i], want)
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions WHERE reversed_at IS NULL`); n != 3 {
		t.Errorf("%d live redemptions, want 3", n)
	}
	got, err := e.Store.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RedeemedCount != 3 || got.ReachResidents != 3 || got.ReachMerchants != 1 {
		t.Errorf("campaign counters: redeemed %d, reach %d residents / %d merchants; want 3, 3, 1",
			got.RedeemedCount, got.ReachResidents, got.ReachMerchants)
	}
}

// TestClaimAnswersTheVoucherAsStored: the voucher a claim returns (built
// in its transaction, without reading it back) is the voucher as stored.
func TestClaimAnswersTheVoucherAsStored(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "25", Threshold: "80", Quantity: "5"}}})
	r, _ := e.ResidentSession(t, "13600000001")
	got, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "tap")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.Store.VoucherByCode(ctx, got.Code)
	if err != nil {
		t.Fatal(err)
	}
	same := got.ClaimedAt.Equal(stored.ClaimedAt) && got.ExpiresAt.Equal(stored.ExpiresAt) &&
		(got.ValidFrom == nil) == (stored.ValidFrom == nil) && (got.ValidFrom == nil || got.ValidFrom.Equal(*stored.ValidFrom))
	got.ClaimedAt, got.ExpiresAt, got.ValidFrom = stored.ClaimedAt, stored.ExpiresAt, stored.ValidFrom
	if !same || !reflect.DeepEqual(got, stored) {
		t.Errorf("claim answered\n%+v\nstored\n%+v", got, stored)
	}
	// The replay reads it back: the same voucher.
	again, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "tap")
	if err != nil || again.ID != stored.ID {
		t.Errorf("replay: %v %v", again.ID, err)
	}
}
