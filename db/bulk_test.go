package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
	"cqvoucher/db"
)

// TestLoaderReturnsIDsInOrder loads more rows than one INSERT holds and
// checks that every returned id is the row it was given for, and that the
// read-only figures count what was loaded.
func TestLoaderReturnsIDsInOrder(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "1000"}}})
	now := e.Clock.Now()
	const n = 620 // two full INSERTs and a shorter one
	rs := make([]db.LoadResident, n)
	for i := range rs {
		rs[i] = db.LoadResident{Phone: fmt.Sprintf("139%08d", 7_000_000+i), CreatedAt: now, ConsentedAt: &now, ConsentVersion: "v1"}
	}
	var ids, vids []int64
	vs := make([]db.LoadVoucher, n)
	err := e.Store.Load(ctx, func(l *db.Loader) error {
		var err error
		if ids, err = l.Residents(rs); err != nil {
			return err
		}
		ss := make([]app.Session, n)
		for i := range vs {
			ss[i] = app.Session{TokenHash: fmt.Sprintf("hash-%d", i), Kind: app.KindResident, SubjectID: ids[i], CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			vs[i] = db.LoadVoucher{Code: token.NewCode(), CampaignID: c.ID, TierID: c.Tiers[0].ID, ResidentID: ids[n-1-i], Slot: 1,
				Token: "generated", ClaimedAt: now, ExpiresAt: now.Add(time.Hour)}
		}
		vs[0].RedeemedAt = &now
		if err := l.Sessions(ss); err != nil {
			return err
		}
		if vids, err = l.Vouchers(vs); err != nil {
			return err
		}
		cashier := app.Cashier{MerchantID: e.Merchant.ID, Username: "loaded", Name: "收银", PasswordHash: "x", CreatedAt: now}
		if err := l.Cashier(&cashier); err != nil {
			return err
		}
		return l.Redemptions([]db.LoadRedemption{{VoucherID: vids[0], CampaignID: c.ID, MerchantID: e.Merchant.ID, CashierID: cashier.ID,
			BillFen: 12000, DiscountFen: 3000, Key: "loaded-1", CreatedAt: now}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if e.Count(t, `SELECT COUNT(*) FROM residents WHERE id = ? AND phone = ?`, ids[i], rs[i].Phone) != 1 {
			t.Fatalf("resident %d: id %d is not the one with phone %s", i, ids[i], rs[i].Phone)
		}
		if e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE id = ? AND code = ? AND resident_id = ?`, vids[i], vs[i].Code, vs[i].ResidentID) != 1 {
			t.Fatalf("voucher %d: id %d is not the one with code %s", i, vids[i], vs[i].Code)
		}
	}
	if s := e.Count(t, `SELECT COUNT(*) FROM sessions WHERE kind = 'resident' AND subject_id IN (SELECT id FROM residents WHERE consent_version = 'v1')`); s != n {
		t.Fatalf("%d sessions of loaded residents, want %d", s, n)
	}
	held, err := e.Store.CampaignVouchers(ctx, c.ID)
	if err != nil || len(held) != n || held[0].ID != vids[0] || held[0].Status != app.VoucherRedeemed || held[1].ResidentID != ids[n-2] {
		t.Fatalf("CampaignVouchers: %d vouchers, first %+v, %v", len(held), held[0], err)
	}
	f, err := e.Store.RedemptionFigures(ctx, c.ID, c.Tiers[0].ID)
	if err != nil || f.Vouchers != n || f.Redemptions != 1 || f.DiscountFen != 3000 || f.RedeemedVouchers != 1 || f.CampaignRedeemed != 0 {
		t.Fatalf("RedemptionFigures %+v, %v", f, err)
	}
	if _, err := e.Store.DropFigures(ctx, c.ID, c.Tiers[0].ID+100); err == nil {
		t.Fatal("DropFigures of a tier the campaign lacks gave figures")
	}
	// A load keeps no counters (the redeemed count above is still 0);
	// the recount makes the books balance, as the harness checks at the end.
	if err := e.Store.RebuildDerived(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLoadWritesAllOrNothing: a load whose fn fails, or whose caller gives
// up, leaves nothing behind.
func TestLoadWritesAllOrNothing(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	before, err := e.Store.ResidentCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	one := []db.LoadResident{{Phone: "13912345678", CreatedAt: e.Clock.Now()}}
	boom := errors.New("boom")
	if err := e.Store.Load(context.Background(), func(l *db.Loader) error {
		if _, err := l.Residents(one); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Load returned %v, want fn's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Store.Load(ctx, func(l *db.Loader) error {
		if _, err := l.Residents(one); err != nil {
			return err
		}
		cancel()
		_, err := l.Residents([]db.LoadResident{{Phone: "13912345679", CreatedAt: e.Clock.Now()}})
		return err
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Load returned %v", err)
	}
	if after, _ := e.Store.ResidentCount(context.Background()); after != before {
		t.Fatalf("%d residents after failed loads, %d before", after, before)
	}
}

func TestSingleCommitRate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "commit.db")
	n, elapsed, err := db.SingleCommitRate(ctx, path, "normal", 50, time.Minute)
	if err != nil || n != 50 || elapsed <= 0 {
		t.Fatalf("%d commits in %s, %v", n, elapsed, err)
	}
	if _, _, err := db.SingleCommitRate(ctx, path, "FULL", 1, time.Minute); err == nil {
		t.Fatal("an existing file was reused: the baseline needs a fresh one")
	}
	if _, _, err := db.SingleCommitRate(ctx, filepath.Join(t.TempDir(), "x.db"), "OFF", 1, time.Minute); err == nil {
		t.Fatal("synchronous=OFF accepted")
	}
}
