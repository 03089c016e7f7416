package storetest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// These tests run a step of one request at the exact point where another
// request of the same App — a POS retry, a double tap — has made its first
// read and not yet reached the writer. A second App over the same store,
// clock and key ring plays the request whose reads are watched; the store
// wrappers below run the competing step at the watched point. Nothing
// sleeps: the order is fixed by the calls.

// missHook runs once, right after a replay lookup (redemption or claim
// key) missed: the moment at which the first try commits.
type missHook struct {
	*db.Store
	onMiss func()
}

func (h *missHook) fire() {
	if f := h.onMiss; f != nil {
		h.onMiss = nil
		f()
	}
}

func (h *missHook) RedemptionByKey(ctx context.Context, m int64, k string) (app.Redemption, error) {
	red, err := h.Store.RedemptionByKey(ctx, m, k)
	if app.ErrorCode(err) == app.ENOTFOUND {
		h.fire()
	}
	return red, err
}

func (h *missHook) VoucherByRequestKey(ctx context.Context, r int64, k string) (app.Voucher, error) {
	v, err := h.Store.VoucherByRequestKey(ctx, r, k)
	if app.ErrorCode(err) == app.ENOTFOUND {
		h.fire()
	}
	return v, err
}

// afterClaim runs once, right after the writer answered a claim.
type afterClaim struct {
	*db.Store
	after func()
}

func (h *afterClaim) Claim(ctx context.Context, in app.ClaimInsert) (app.Voucher, error) {
	v, err := h.Store.Claim(ctx, in)
	if f := h.after; f != nil {
		h.after = nil
		f()
	}
	return v, err
}

func appOver(e *apptest.Env, s app.Store) *app.App {
	cfg := app.DefaultConfig()
	cfg.IdentityKey = make([]byte, 32)
	return app.New(s, e.Ring, e.SMS, cfg, e.Clock.Now, nil)
}

// TestRedemptionRetryRacingItsFirstTry: the retry's replay lookup runs just
// before the first try commits; then midnight passes, the campaign is
// paused or the merchant suspended. The retry still gets the first try's
// receipt, never a refusal while the merchant is paid.
func TestRedemptionRetryRacingItsFirstTry(t *testing.T) {
	apptest.EachBackend(t, testRedemptionRetryRacingItsFirstTry)
}

func testRedemptionRetryRacingItsFirstTry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		between func(t *testing.T, e *apptest.Env, c app.Campaign)
	}{
		{"midnight passes", func(t *testing.T, e *apptest.Env, c app.Campaign) { e.Clock.Advance(300 * time.Millisecond) }},
		{"campaign paused", func(t *testing.T, e *apptest.Env, c app.Campaign) {
			if err := e.App.PauseCampaign(context.Background(), e.Maker, c.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"merchant suspended", func(t *testing.T, e *apptest.Env, c app.Campaign) {
			if err := e.App.ReviewMerchant(context.Background(), e.Approver, e.Merchant.ID, "suspend", "核查中"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{})
			ctx := context.Background()
			c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 1})
			r, _ := e.ResidentSession(t, "13800138000")
			v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Set(cst(25, 23, 59, 59, 800))
			h := &missHook{Store: e.Store}
			var first app.Receipt
			h.onMiss = func() {
				var err error
				if first, err = e.App.Redeem(ctx, e.Cashier, v.Token, 15000, "pos-1"); err != nil {
					t.Fatalf("first try: %v", err)
				}
				tc.between(t, e, c)
			}
			retry, err := appOver(e, h).Redeem(ctx, e.Cashier, v.Token, 15000, "pos-1")
			if err != nil || !retry.Redemption.Replayed || retry.Redemption.ID != first.Redemption.ID {
				t.Fatalf("retry of a redemption that committed (id %d): %v, want its receipt", first.Redemption.ID, err)
			}
		})
	}
}

// TestClaimDoubleTapRacingItsFirstTap: the second tap's key lookup runs
// just before the first tap commits; the first tap's claim then uses the
// resident's limit. The second tap gets the first tap's voucher.
func TestClaimDoubleTapRacingItsFirstTap(t *testing.T) {
	apptest.EachBackend(t, testClaimDoubleTapRacingItsFirstTap)
}

func testClaimDoubleTapRacingItsFirstTap(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	r, _ := e.ResidentSession(t, "13800138000")
	h := &missHook{Store: e.Store}
	var first app.Voucher
	h.onMiss = func() {
		var err error
		if first, err = e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "tap"); err != nil {
			t.Fatalf("first tap: %v", err)
		}
	}
	v, err := appOver(e, h).Claim(ctx, r, c.ID, c.Tiers[0].ID, "tap")
	if err != nil || v.ID != first.ID {
		t.Fatalf("second tap with the same key: voucher %d, %v; want voucher %d", v.ID, err, first.ID)
	}
}

// TestClaimDoubleTapsAtOnceGetOneVoucher: taps with one key pressed at
// the same moment all get the same voucher: where the resident may claim
// one and one is left, none is refused by the limit or the stock the
// first tap used; where they may claim more, none fails on the key the
// first tap stored.
func TestClaimDoubleTapsAtOnceGetOneVoucher(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		for _, tc := range []struct {
			name            string
			quantity, limit int
		}{{"the last voucher, limit one", 1, 1}, {"plenty, limit three", 10, 3}} {
			t.Run(tc.name, func(t *testing.T) { testClaimDoubleTapsAtOnce(t, tc.quantity, tc.limit) })
		}
	})
}

func testClaimDoubleTapsAtOnce(t *testing.T, quantity, limit int) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: strconv.Itoa(quantity)}}, Limit: limit})
	r, _ := e.ResidentSession(t, "13800138000")
	const taps = 12
	got := make([]app.Voucher, taps)
	errs := make([]error, taps)
	var wg sync.WaitGroup
	for i := range taps {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], errs[i] = e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "tap") }()
	}
	wg.Wait()
	for i := range taps {
		if errs[i] != nil || got[i].ID != got[0].ID {
			t.Errorf("tap %d: voucher %d, %v; want voucher %d like tap 0", i, got[i].ID, errs[i], got[0].ID)
		}
	}
}

// TestSoldOutDoesNotSwallowTheNextDrop: the writer finds the tier empty at
// 10:00:59.9; the App hears it at 10:01:00.1. The 10:01 drop must stay
// claimable from the cached copy.
func TestSoldOutDoesNotSwallowTheNextDrop(t *testing.T) {
	apptest.EachBackend(t, testSoldOutDoesNotSwallowTheNextDrop)
}

func testSoldOutDoesNotSwallowTheNextDrop(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.TwoDrops(t, "文化旅游惠民消费季", 5, true)
	tier := c.Tiers[0].ID
	h := &afterClaim{Store: e.Store}
	a := appOver(e, h)
	rs := make([]app.Resident, 7)
	for i := range rs {
		rs[i], _ = e.ResidentSession(t, fmt.Sprintf("138000000%02d", i))
	}
	e.Clock.Set(cst(25, 10, 0, 59, 0))
	for i := 0; i < 4; i++ {
		if _, err := e.App.Claim(ctx, rs[i], c.ID, tier, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Set(cst(25, 10, 0, 59, 500))
	if _, err := a.Claim(ctx, rs[4], c.ID, tier, ""); err != nil { // caches "1 left" and takes it
		t.Fatal(err)
	}
	e.Clock.Set(cst(25, 10, 0, 59, 900))
	h.after = func() { e.Clock.Set(cst(25, 10, 1, 0, 100)) }
	if _, err := a.Claim(ctx, rs[5], c.ID, tier, ""); app.ErrorReason(err) != "sold_out_next" {
		t.Errorf("press at 10:00:59.9 on the empty tier: %v, want sold_out_next", err)
	}
	e.Clock.Set(cst(25, 10, 1, 0, 200))
	if err := a.HopelessClaim(c.ID, tier); err != nil {
		t.Errorf("fast path at 10:01:00.2 with the 10:01 drop unclaimed: %v", err)
	}
	if _, err := a.Claim(ctx, rs[6], c.ID, tier, ""); err != nil {
		t.Errorf("claim at 10:01:00.2 with the 10:01 drop unclaimed: %v", err)
	}
}

// TestSoldOutNewsDoesNotOverwriteANewerCopy: while a press on an empty
// tier waits for the writer's answer, an officer adds stock and another
// press caches the fresh copy. The late "sold out" must not mark the
// fresh copy empty.
func TestSoldOutNewsDoesNotOverwriteANewerCopy(t *testing.T) {
	apptest.EachBackend(t, testSoldOutNewsDoesNotOverwriteANewerCopy)
}

func testSoldOutNewsDoesNotOverwriteANewerCopy(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "1"}}})
	tier := c.Tiers[0].ID
	h := &afterClaim{Store: e.Store}
	a := appOver(e, h)
	rs := make([]app.Resident, 4)
	for i := range rs {
		rs[i], _ = e.ResidentSession(t, fmt.Sprintf("139000000%02d", i))
	}
	if _, err := a.Claim(ctx, rs[0], c.ID, tier, ""); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(100 * time.Millisecond)
	h.after = func() {
		if err := a.AddQuantity(ctx, e.Maker, c.ID, tier, "10"); err != nil {
			t.Fatalf("add quantity: %v", err)
		}
		if _, err := a.Claim(ctx, rs[2], c.ID, tier, ""); err != nil {
			t.Fatalf("claim after the added stock: %v", err)
		}
	}
	if _, err := a.Claim(ctx, rs[1], c.ID, tier, ""); app.ErrorReason(err) != "sold_out" {
		t.Fatalf("press on the empty tier: %v, want sold_out", err)
	}
	e.Clock.Advance(100 * time.Millisecond)
	if _, err := a.Claim(ctx, rs[3], c.ID, tier, ""); err != nil {
		t.Errorf("claim with 9 left at the writer: %v", err)
	}
}
