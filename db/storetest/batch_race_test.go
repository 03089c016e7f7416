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

// TestOverlappingBatchesPayEachStatementOnce: two officers confirm
// overlapping selections (all merchants, and one merchant) and post them
// at once, again and again. A batch whose selection another paid first
// pays nothing and says so (statements_changed); what it left is paid by
// a fresh confirmation; in the end each statement is paid by exactly one
// batch, and every batch's figures are its statements' sums (the books
// check after the test). On PostgreSQL the two transactions
// run side by side and the merchant-day locks order them.
func TestOverlappingBatchesPayEachStatementOnce(t *testing.T) {
	apptest.EachBackend(t, testOverlappingBatchesPayEachStatementOnce)
}

func testOverlappingBatchesPayEachStatementOnce(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	e.Clock.Set(cst(25, 12, 0, 0, 100))
	c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 7})
	second := e.NewMerchant(t, "较场口小面", "500103", "catering")
	tills := []app.Cashier{e.Cashier, e.NewCashier(t, second, "second-till")}
	const days = 4
	for d := range days {
		for i, till := range tills {
			r, _ := e.ResidentSession(t, fmt.Sprintf("1370014%02d%02d", d, i))
			v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.Redeem(ctx, till, v.Code, 15000, fmt.Sprintf("d%d-%d", d, i)); err != nil {
				t.Fatal(err)
			}
		}
		e.Clock.Advance(24 * time.Hour)
	}
	other := e.NewOfficer(t, "yz-finance-2", "500103", true)
	all := app.StatementFilter{From: "2026-11-25", To: "2026-11-28", District: "500103"}
	one := all
	one.MerchantID = second.ID
	paid := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for round := range days {
		// Each round opens one more day to both selections.
		all.To = fmt.Sprintf("2026-11-%d", 25+round)
		one.To = all.To
		sels := []struct {
			by Officer
			f  app.StatementFilter
		}{{e.Maker, all}, {other, one}}
		for _, s := range sels {
			tot, err := e.Store.StatementTotals(ctx, s.f, "2026-11-29")
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := e.App.PayStatements(ctx, s.by, s.f, app.Payment{Statements: tot.Payable, SubsidyFen: tot.PayableFen})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					paid["batches"]++
					paid["statements"] += int(b.Statements)
				case app.ErrorReason(err) == "statements_changed" || app.ErrorReason(err) == "nothing_to_pay":
					paid[app.ErrorReason(err)]++
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}()
		}
		wg.Wait()
		if paid["batches"] <= round {
			t.Fatalf("round %d: neither selection was paid (%v)", round, paid)
		}
	}
	// What a stale confirmation left unpaid is paid by a fresh one.
	if tot, err := e.Store.StatementTotals(ctx, all, "2026-11-29"); err != nil {
		t.Fatal(err)
	} else if tot.Payable > 0 {
		b, err := e.App.PayStatements(ctx, e.Maker, all, app.Payment{Statements: tot.Payable, SubsidyFen: tot.PayableFen})
		if err != nil {
			t.Fatal(err)
		}
		paid["batches"]++
		paid["statements"] += int(b.Statements)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlements`); n != 2*days || paid["statements"] != 2*days {
		t.Fatalf("%d statements paid, batches say %d (%v); want each of %d once", n, paid["statements"], paid, 2*days)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM payment_batches`); n != int64(paid["batches"]) {
		t.Fatalf("%d batches stored, %d answered", n, paid["batches"])
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'settlement.pay_batch'`); n != int64(paid["batches"]) {
		t.Fatalf("%d batches audited, %d made", n, paid["batches"])
	}
}

type Officer = app.Officer
