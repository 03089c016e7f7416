package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// On PostgreSQL a tier's stock is split across buckets that claims take
// with FOR UPDATE SKIP LOCKED (db/hotrows.go). These tests hold a bucket's
// lock in a transaction of their own, as a claim in flight holds it, and
// see what the next claim does.

// holdBuckets locks the tier's buckets that where selects, in a
// transaction of its own until release is called; it returns once they
// are held, with the server process that holds them. The transaction then
// rolls back: it writes nothing.
func holdBuckets(t *testing.T, e *apptest.Env, tierID int64, where string) (holder int, release func()) {
	t.Helper()
	held, done, rel := make(chan error, 1), make(chan struct{}), make(chan struct{})
	errRollback := errors.New("rolled back on purpose")
	go func() {
		defer close(done)
		err := e.Store.BulkTx(context.Background(), func(tx *db.Tx) error {
			if _, err := tx.ExecContext(context.Background(), `SELECT bucket FROM tier_stock WHERE tier_id = ? AND `+where+` FOR UPDATE`, tierID); err != nil {
				return err
			}
			if err := tx.GetContext(context.Background(), &holder, `SELECT pg_backend_pid()`); err != nil {
				return err
			}
			held <- nil
			<-rel
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			held <- err
		}
	}()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	var once bool
	release = func() {
		if !once {
			once = true
			close(rel)
			<-done
		}
	}
	t.Cleanup(release)
	return holder, release
}

// oneTier makes a live campaign of one tier of quantity vouchers, and
// press, with which a resident claims one: the answer comes on the channel.
func oneTier(t *testing.T, quantity string) (e *apptest.Env, press func(phone string) <-chan error, tier int64) {
	e = apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "10", Threshold: "0", Quantity: quantity}}, Budget: "1000"})
	tier = c.Tiers[0].ID
	press = func(phone string) <-chan error {
		r, _ := e.ResidentSession(t, phone)
		claimed := make(chan error, 1)
		go func() {
			_, err := e.App.Claim(context.Background(), r, c.ID, tier, "")
			claimed <- err
		}()
		return claimed
	}
	return e, press, tier
}

// blockedOrDone watches a claim under way: it answers waited once the
// server says the claim waits for holder's locks, or the claim's result if
// it finished first. It looks at what the server says, not at a time.
func blockedOrDone(t *testing.T, e *apptest.Env, holder int, claimed <-chan error) (waited bool, err error) {
	t.Helper()
	for {
		select {
		case err := <-claimed:
			return false, err
		default:
		}
		var waiting int
		if err := e.Store.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE CAST(? AS integer) = ANY(pg_blocking_pids(pid))`, holder).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return true, nil
		}
		select {
		case err := <-claimed:
			return false, err
		case <-time.After(2 * time.Millisecond): // between looks only
		}
	}
}

// TestClaimPassesOverAHeldBucket: with one bucket held by a claim in
// flight, the next claims take from the others at once; a build that took
// the first bucket with stock would wait for the held one's COMMIT.
func TestClaimPassesOverAHeldBucket(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		e, press, tier := oneTier(t, "64")
		holder, release := holdBuckets(t, e, tier, "bucket = 0")
		for i := 0; i < 5; i++ {
			if waited, err := blockedOrDone(t, e, holder, press(fmt.Sprintf("1390000300%d", i))); waited {
				release() // let it finish before the test ends
				t.Fatalf("claim %d waits for the held bucket", i)
			} else if err != nil {
				t.Fatalf("claim %d while bucket 0 is held: %v", i, err)
			}
		}
		release()
		var held int64
		if err := e.Store.QueryRow(context.Background(), `SELECT remaining FROM tier_stock WHERE tier_id = ? AND bucket = 0`, tier).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held != 2 { // 64 over 32 buckets
			t.Fatalf("the held bucket has %d, want its 2 untouched", held)
		}
	})
}

// TestClaimWaitsForTheLastHeldBucket: the tier's last voucher is in a
// bucket a claim in flight holds. The next claim is not told "sold out":
// it waits, and when the holder rolls back it gets the voucher. A build
// that only skipped held buckets would answer sold_out with stock left.
func TestClaimWaitsForTheLastHeldBucket(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		e, press, tier := oneTier(t, "1")
		holder, release := holdBuckets(t, e, tier, "remaining > 0")
		claimed := press("13900003101")
		if waited, err := blockedOrDone(t, e, holder, claimed); !waited {
			t.Fatalf("the claim answered while the last bucket with stock was held: %v, want it to wait", err)
		}
		release()
		if err := <-claimed; err != nil {
			t.Fatalf("the claim after the holder rolled back: %v, want the last voucher", err)
		}
		if err := <-press("13900003102"); app.ErrorReason(err) != "sold_out" {
			t.Fatalf("a claim of the empty tier: %v, want sold_out", err)
		}
	})
}
