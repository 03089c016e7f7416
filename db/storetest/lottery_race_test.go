package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestRegistrationsAtTheLotteryClose: forty residents press 注册 in the
// last tenth of a second before registration closes, and the draw is
// asked for at the close, all at once. A registration the writer took
// before the close is in the draw; one after it is refused; none is left
// out or drawn twice. On PostgreSQL entries hold the lottery's row until
// they commit and the draw's update of it waits for them.
func TestRegistrationsAtTheLotteryClose(t *testing.T) {
	apptest.EachBackend(t, testRegistrationsAtTheLotteryClose)
}

func testRegistrationsAtTheLotteryClose(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	now := e.Clock.Now()
	c, err := e.App.CreateCampaign(ctx, e.Maker, app.CampaignInput{Name: "摇号", District: "500103", Category: "catering", Budget: "1000",
		Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}}, ClaimStarts: now.Format(time.RFC3339),
		ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339), ValidDays: "7", PerResidentLimit: "1"})
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
	c, _ = e.Store.Campaign(ctx, c.ID)
	const n = 40
	var residents []app.Resident
	for i := range n {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370018%04d", i))
		residents = append(residents, r)
	}
	closes := *c.LotteryClosesAt
	// The clock reads 100 ms before the close for the first half of the
	// writer's readings, then 100 ms after it.
	e.Clock.Set(closes.Add(-100 * time.Millisecond))
	e.Clock.SetAfter(n/2, closes.Add(100*time.Millisecond))
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	var drawErr error
	for _, r := range residents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.App.RegisterForLottery(ctx, r, c.ID, c.Tiers[0].ID)
			mu.Lock()
			defer mu.Unlock()
			switch app.ErrorReason(err) {
			case "":
				accepted++
			case "registration_closed":
				refused++
			default:
				t.Errorf("registration: %v", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			_, _, drawErr = e.App.DrawLottery(ctx, e.Maker, c.ID)
			if app.ErrorReason(drawErr) != "registration_open" {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	if drawErr != nil {
		t.Fatalf("draw: %v", drawErr)
	}
	if accepted+refused != n {
		t.Fatalf("%d accepted, %d refused of %d", accepted, refused, n)
	}
	stored := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE campaign_id = ?`, c.ID)
	drawn := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE campaign_id = ? AND outcome IS NOT NULL`, c.ID)
	late := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE campaign_id = ? AND registered_at >= ?`, c.ID, closes)
	if stored != int64(accepted) || drawn != stored || late != 0 {
		t.Fatalf("%d stored, %d in the draw, %d after the close; %d accepted", stored, drawn, late, accepted)
	}
	if f, err := e.App.LotteryFiguresOf(ctx, e.Maker, c.ID); err != nil || f.Registrations != stored || f.Winners+f.Losers != stored {
		t.Fatalf("lottery figures: %v %+v", err, f)
	}
	want := min(int64(10), stored)
	if won := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE campaign_id = ? AND outcome = 'won'`, c.ID); won != want {
		t.Fatalf("%d won, want %d", won, want)
	}
}
