package storetest_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// Several voucherd processes on one PostgreSQL database keep their caches
// coherent through cache news (app/news.go): what one process changes,
// every other forgets, as soon as the news reaches it. Each test below
// first makes the second process cache the old state, then changes it
// through the first, waits for the news (not for a time), and expects the
// second process to answer from the new state, where its cached copy,
// which lives a minute, would have answered from the old one.

// TestSignOutEndsTheSessionOnEveryProcess: a resident signs out through
// one process; another process that had the session cached refuses it.
func TestSignOutEndsTheSessionOnEveryProcess(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		a := apptest.New(t, apptest.Options{})
		b := a.Beside(t)
		_, tok := a.ResidentSession(t, "13900001111")
		me := func(e *apptest.Env) int { return e.API(t, http.MethodGet, "/api/v1/resident/me", tok, nil).Status }
		if got := me(b); got != http.StatusOK { // b caches the session
			t.Fatalf("the session on the second process: %d", got)
		}
		if err := a.App.SignOut(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		b.NewsApplied(t, "session:"+app.HashSessionToken(tok))
		if got := me(b); got != http.StatusUnauthorized {
			t.Fatalf("a signed-out session on the second process: %d, want 401", got)
		}
	})
}

// TestAddedStockReachesAProcessThatSawItSoldOut: the second process has
// answered "sold out" from its cached copy; an officer adds vouchers
// through the first; the second process's next press gets one.
func TestAddedStockReachesAProcessThatSawItSoldOut(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		a := apptest.New(t, apptest.Options{})
		b := a.Beside(t)
		ctx := context.Background()
		c := a.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "10", Threshold: "0", Quantity: "1"}}, Budget: "1000"})
		tier := c.Tiers[0].ID
		press := func(e *apptest.Env, phone string) error {
			r, _ := e.ResidentSession(t, phone)
			_, err := e.App.Claim(ctx, r, c.ID, tier, "")
			return err
		}
		if err := press(b, "13900002001"); err != nil {
			t.Fatalf("the one voucher: %v", err)
		}
		// The writer says sold out; the second process now answers it from memory.
		for i := 2; i <= 3; i++ {
			if err := press(b, fmt.Sprintf("1390000200%d", i)); app.ErrorReason(err) != "sold_out" {
				t.Fatalf("press %d on an empty tier: %v, want sold_out", i, err)
			}
		}
		if err := a.App.AddQuantity(ctx, a.Maker, c.ID, tier, "5"); err != nil {
			t.Fatal(err)
		}
		b.NewsApplied(t, "campaign:"+strconv.FormatInt(c.ID, 10))
		if err := press(b, "13900002004"); err != nil {
			t.Fatalf("a press after vouchers were added through the other process: %v", err)
		}
	})
}

// TestDisabledOfficerIsRefusedByEveryProcess: officers are not cached, so
// an account disabled through one process is refused by every other on
// its next request, with no news to wait for.
func TestDisabledOfficerIsRefusedByEveryProcess(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		a := apptest.New(t, apptest.Options{})
		b := a.Beside(t)
		ctx := context.Background()
		if _, err := b.App.Officer(ctx, a.Maker.ID); err != nil {
			t.Fatalf("the officer on the second process: %v", err)
		}
		admin := a.NewOfficerRole(t, "fleet-sysadmin", app.RoleSystemAdmin, app.CityCode)
		if err := a.App.SetOfficerDisabled(ctx, admin, a.Maker.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.App.Officer(ctx, a.Maker.ID); app.ErrorReason(err) != "account_disabled" {
			t.Fatalf("a disabled officer on the second process: %v, want account_disabled", err)
		}
	})
}

// TestExpirySweepsOfTwoProcessesLapseEachVoucherOnce: both processes run
// the expiry sweep at the same moment; every expired voucher is lapsed
// and counted once (the books check after the test recounts the tiers'
// expired counters), whichever process's round swept it.
func TestExpirySweepsOfTwoProcessesLapseEachVoucherOnce(t *testing.T) {
	t.Run(string(apptest.Postgres), func(t *testing.T) {
		a := apptest.New(t, apptest.Options{})
		b := a.Beside(t)
		ctx := context.Background()
		c := a.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 1, Budget: "3000"})
		const n = 40
		for i := range n {
			r, _ := a.ResidentSession(t, fmt.Sprintf("1390000%04d", i))
			if _, err := a.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, ""); err != nil {
				t.Fatal(err)
			}
		}
		a.Clock.Advance(48 * time.Hour)
		var wg sync.WaitGroup
		lapsed := make([]int64, 2)
		errs := make([]error, 2)
		for i, e := range []*apptest.Env{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); lapsed[i], errs[i] = e.App.SweepExpired(ctx) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// A process that found the other's round under way left it to that
		// one; a round after the other's commit finds nothing left.
		if _, err := b.App.SweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if got := a.Count(t, `SELECT COUNT(*) FROM vouchers WHERE lapsed_at IS NOT NULL`); got != n {
			t.Fatalf("%d vouchers lapsed, want %d (the sweeps said %d and %d)", got, n, lapsed[0], lapsed[1])
		}
		if got := a.Count(t, `SELECT expired FROM tiers WHERE id = ?`, c.Tiers[0].ID); got != n {
			t.Fatalf("the tier counts %d expired, want %d (the sweeps said %d and %d)", got, n, lapsed[0], lapsed[1])
		}
	})
}
