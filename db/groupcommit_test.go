package db_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestClaimsRefusedInsideABatchLeaveTheOthersWhole: presses that queued
// behind a busy writer are committed together. Inside the batch some
// win, some find the tier sold out by the winners before them, one is a
// retry of a winner's request (answered with the same voucher), one is
// a second request of a resident at the limit; each is told its own
// result, and the books (checked after the test) balance.
func TestClaimsRefusedInsideABatchLeaveTheOthersWhole(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
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
		_ = e.Store.BulkTx(ctx, func(*sqlx.Tx) error { close(held); <-release; return nil })
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
