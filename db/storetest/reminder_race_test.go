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

// TestRemindersRacingSweepsSendOnce: eight sweeps run at once, three
// rounds, over twenty vouchers whose reminders are due, as the processes
// of a fleet would. Each voucher's holder gets one text, never two: a
// sweep takes its batch in one transaction (on PostgreSQL behind the
// job's advisory lock, and by a guarded update of each reminder), and a
// reminder sent is never taken again.
func TestRemindersRacingSweepsSendOnce(t *testing.T) {
	apptest.EachBackend(t, testRemindersRacingSweepsSendOnce)
}

func testRemindersRacingSweepsSendOnce(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{Reminders: app.ReminderPolicy{PerSweep: 7}})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	const n = 20
	phones := make([]string, n)
	var expires time.Time
	for i := range phones {
		phones[i] = fmt.Sprintf("1370016%04d", i)
		r, _ := e.ResidentSession(t, phones[i])
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.SetReminder(ctx, r, v.Code, true); err != nil {
			t.Fatal(err)
		}
		expires = v.ExpiresAt
	}
	e.Clock.Set(expires.Add(-time.Hour))
	var (
		mu   sync.Mutex
		sent int
	)
	for round := range 3 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := e.App.SendExpiryReminders(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				sent += s.Sent
				mu.Unlock()
			}()
		}
		wg.Wait()
		e.Clock.Advance(250 * time.Millisecond)
		t.Logf("round %d: %d sent so far", round, sent)
	}
	// Sweeps that found the job taken leave the round to the other; what
	// is left is sent by later rounds, each voucher once.
	for range n {
		if sent == n {
			break
		}
		s, err := e.App.SendExpiryReminders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sent += s.Sent
	}
	if sent != n {
		t.Fatalf("sent %d reminders for %d vouchers", sent, n)
	}
	for _, p := range phones {
		if got := len(e.SMS.Texts(p, "到期")); got != 1 {
			t.Errorf("%s got %d reminders", p, got)
		}
	}
	if got := e.Count(t, `SELECT COUNT(*) FROM voucher_reminders WHERE reminded_at IS NOT NULL AND claimed_at IS NULL`); got != n {
		t.Errorf("%d reminders marked sent, want %d", got, n)
	}
}
