package app_test

import (
	"testing"

	"cqvoucher/app"
)

// A payment nets a merchant's clawbacks oldest first while they fit
// within what it pays the merchant: no transfer is negative, a clawback
// never jumps an older one that did not fit, and a merchant the payment
// does not pay keeps its clawbacks for later.
func TestNetClawbacks(t *testing.T) {
	open := []app.Clawback{
		{ID: 1, MerchantID: 7, SubsidyFen: 3000},
		{ID: 2, MerchantID: 8, SubsidyFen: 6000}, // more than 8 is paid: waits
		{ID: 3, MerchantID: 7, SubsidyFen: 2000},
		{ID: 4, MerchantID: 8, SubsidyFen: 100},  // fits, but 2 is older and waits
		{ID: 5, MerchantID: 7, SubsidyFen: 1000}, // 7 has 5000 paid: 3000 + 2000 fill it
		{ID: 6, MerchantID: 9, SubsidyFen: 500},  // 9 is not paid
	}
	got := app.NetClawbacks(map[int64]app.Fen{7: 5000, 8: 4000}, open)
	var ids []int64
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("netted %v, want [1 3]", ids)
	}
	if got := app.NetClawbacks(map[int64]app.Fen{7: 10000}, open); len(got) != 3 {
		t.Fatalf("netted %d of merchant 7's three clawbacks with room for all", len(got))
	}
}
