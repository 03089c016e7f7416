package storetest_test

import (
	"context"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestSinglePaymentNetsNoClawback: one statement paid through the API
// (MarkPaid) answers that statement, so it nets no clawback; the open
// clawback waits for a payment confirmed with its figures, which nets it.
func TestSinglePaymentNetsNoClawback(t *testing.T) {
	apptest.EachBackend(t, testSinglePaymentNetsNoClawback)
}

func testSinglePaymentNetsNoClawback(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	e.Clock.Set(cst(25, 12, 0, 0, 100))
	c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 7})
	var reds []app.Redemption
	for i, ph := range []string{"13700170001", "13700170002", "13700170003", "13700170004"} {
		r, _ := e.ResidentSession(t, ph)
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 || i == 3 {
			e.Clock.Set(cst(26+i-2, 12, 0, 0, 100)) // one on 26 Nov, one on 27 Nov
		}
		red, err := e.App.Redeem(ctx, e.Cashier, v.Code, 15000, "k"+ph)
		if err != nil {
			t.Fatal(err)
		}
		reds = append(reds, red.Redemption)
	}
	e.Clock.Set(cst(28, 12, 0, 0, 100))
	pay := func(day string) app.Statement {
		t.Helper()
		st, err := e.App.MarkPaid(ctx, e.Maker, app.StatementKey{MerchantID: e.Cashier.MerchantID, Day: day})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	pay("2026-11-25")
	if red, err := e.App.Reverse(ctx, e.Cashier, reds[0].ID); err != nil || red.ClawbackFen != 3000 {
		t.Fatalf("refund of a paid day: %v, clawback %v", err, red.ClawbackFen)
	}
	if st := pay("2026-11-26"); st.SubsidyFen != 3000 {
		t.Fatalf("26 Nov paid %v", st.SubsidyFen)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM clawbacks WHERE batch_id IS NOT NULL`); n != 0 {
		t.Fatalf("a single payment netted %d clawbacks it never showed", n)
	}
	f := app.StatementFilter{From: "2026-11-27", To: "2026-11-27", District: "500103"}
	want, err := e.App.PaymentPreview(ctx, e.Maker, f)
	if err != nil || want.ClawbackFen != 3000 || want.NetFen() != 0 {
		t.Fatalf("preview of 27 Nov: %v %+v, want the clawback netted", err, want)
	}
	if b, err := e.App.PayStatements(ctx, e.Maker, f, want); err != nil || b.ClawbackFen != 3000 {
		t.Fatalf("the confirmed payment: %v %+v", err, b)
	}
}

// TestQuantityMoveRacingAddQuantity: a move to a dearer tier and more
// vouchers of a third tier, each within the budget alone but not together,
// run side by side, thirty times. The budget is never overcommitted: on
// PostgreSQL both hold the campaign's row before their budget guard reads
// the tiers.
func TestQuantityMoveRacingAddQuantity(t *testing.T) {
	apptest.EachBackend(t, testQuantityMoveRacingAddQuantity)
}

func testQuantityMoveRacingAddQuantity(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	for round := range 30 {
		// ¥1,600 committed of ¥1,700: room for ¥90 more, once.
		c := e.LiveCampaign(t, apptest.CampaignSpec{Budget: "1700",
			Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "30"}, {Face: "60", Threshold: "200", Quantity: "10"},
				{Face: "10", Threshold: "50", Quantity: "10"}}})
		if err := e.App.RequestQuantityMove(ctx, e.Maker, c.ID, app.QuantityMove{From: c.Tiers[0].ID, To: c.Tiers[1].ID, N: 3}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var moved, added error
		wg.Add(2)
		go func() { defer wg.Done(); moved = e.App.ApproveQuantityMove(ctx, e.Approver, c.ID) }()
		go func() { defer wg.Done(); added = e.App.AddQuantity(ctx, e.Maker, c.ID, c.Tiers[2].ID, "9") }()
		wg.Wait()
		if committed := e.Count(t, `SELECT SUM(face_fen * (quantity - expired)) FROM tiers WHERE campaign_id = ?`, c.ID); committed > 170000 {
			t.Fatalf("round %d: %d fen committed of a budget of 170000 (move: %v, add: %v)", round, committed, moved, added)
		}
		if (moved == nil) == (added == nil) {
			t.Fatalf("round %d: move %v, add %v; want exactly one to fit", round, moved, added)
		}
	}
}
