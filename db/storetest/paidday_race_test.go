package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestPaidDayRacingItsLastRedemptions: at midnight, redemptions of the
// day that just ended are still being written while an officer marks that
// day paid. Whatever order they commit in, a paid statement is what the
// day's redemptions add up to (the books check after the test, and here):
// a redemption written after the payment was counted in it or refused.
// On SQLite the one writer orders them; on PostgreSQL many transactions
// run at once and the merchant-day lock orders them.
func TestPaidDayRacingItsLastRedemptions(t *testing.T) {
	apptest.EachBackend(t, testPaidDayRacingItsLastRedemptions)
}

func testPaidDayRacingItsLastRedemptions(t *testing.T) {
	ctx := context.Background()
	e := apptest.New(t, apptest.Options{})
	e.Clock.Set(cst(25, 12, 0, 0, 100))
	c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 2, Budget: "30000"})
	admin := e.NewOfficer(t, "race-admin", app.CityCode, false)
	const n = 60
	codes := make([]string, n)
	for i := range codes {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370013%04d", i))
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		codes[i] = v.Code
	}
	// One redemption earlier in the day: the statement is never empty.
	if _, err := e.App.Redeem(ctx, e.Cashier, codes[0], 15000, "noon"); err != nil {
		t.Fatal(err)
	}
	// The late redemptions go to the store at once; the first n-1 clock
	// readings (one per redemption transaction, read after it began) are
	// the day's last tenth of a second, the next is past midnight: the
	// payment's transaction begins while theirs are still writing.
	e.Clock.Set(cst(25, 23, 59, 59, 900))
	midnight := e.Clock.SetAfter(n-1, cst(26, 0, 0, 0, 100))
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		v, err := e.Store.VoucherByCode(ctx, codes[i])
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.Store.Redeem(ctx, app.RedeemInsert{VoucherID: v.ID, MerchantID: e.Merchant.ID, CashierID: e.Cashier.ID,
				BillFen: 15000, DiscountFen: 3000, Key: fmt.Sprintf("late-%d", i)})
		}()
	}
	<-midnight
	key := app.StatementKey{MerchantID: e.Merchant.ID, Day: "2026-11-25", FundingDistrict: "500103"}
	st, err := e.App.MarkPaid(ctx, admin, key)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var day int64
	if err := e.Store.QueryRow(ctx, `SELECT COUNT(*) FROM redemptions WHERE merchant_id = ? AND local_day(created_at) = '2026-11-25'`,
		e.Merchant.ID).Scan(&day); err != nil {
		t.Fatal(err)
	}
	t.Logf("paid %d redemptions of the day; the day holds %d", st.Redemptions, day)
	if int64(st.Redemptions) != day {
		t.Errorf("the paid statement counts %d redemptions, the day holds %d", st.Redemptions, day)
	}
}
