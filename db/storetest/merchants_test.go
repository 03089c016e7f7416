package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestMerchantReviewListing: the review list's page and counts read the
// same on every database: pending first, then suspended, approved and
// rejected, each in application order; a district, a status, a search by
// part of the name (ASCII case ignored on PostgreSQL too) or by the start
// of the USCC (a LIKE wildcard typed is a character); LIMIT and OFFSET
// page through it, and the counts by status ignore the status and page.
func TestMerchantReviewListing(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		e := apptest.New(t, apptest.Options{}) // e.Merchant: 解放碑老火锅, approved, 渝中
		ctx := context.Background()
		owners := 0
		add := func(name, district, status, uscc string) app.Merchant {
			t.Helper()
			owners++
			m := app.Merchant{Name: name, District: district, Category: "catering", Status: status, USCC: uscc,
				USCCChecksumOK: true, CreatedAt: e.Clock.Now()}
			owner := app.Cashier{Username: fmt.Sprintf("owner%d", owners),
				Name: name, PasswordHash: "x", Role: app.CashierOwner, CreatedAt: m.CreatedAt}
			if err := e.Store.CreateMerchantWithOwner(ctx, &m, &owner); err != nil {
				t.Fatal(err)
			}
			e.Clock.Advance(time.Second)
			return m
		}
		rejected := add("较场口面馆", "500103", app.MerchantRejected, "91500103MA00000001")
		pending2 := add("KFC 解放碑店", "500103", app.MerchantPending, "91500103MA5U8XXX1K")
		suspended := add("十八梯抄手", "500103", app.MerchantSuspended, "92500103MA00000002")
		pending1 := add("观音桥豌杂小面", "500105", app.MerchantPending, "91500105MA00000003")
		pending3 := add("洪崖洞100%火锅", "500103", app.MerchantPending, "91500103MA00000004")

		ids := func(f app.MerchantFilter) []int64 {
			t.Helper()
			if f.Limit == 0 {
				f.Limit = 50
			}
			ms, err := e.Store.Merchants(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, m := range ms {
				out = append(out, m.ID)
			}
			return out
		}
		cases := []struct {
			name string
			f    app.MerchantFilter
			want []int64
		}{
			{"everything, in review order", app.MerchantFilter{},
				[]int64{pending2.ID, pending1.ID, pending3.ID, suspended.ID, e.Merchant.ID, rejected.ID}},
			{"one district", app.MerchantFilter{District: "500103"},
				[]int64{pending2.ID, pending3.ID, suspended.ID, e.Merchant.ID, rejected.ID}},
			{"one status", app.MerchantFilter{Status: app.MerchantPending}, []int64{pending2.ID, pending1.ID, pending3.ID}},
			{"part of a name, any ASCII case", app.MerchantFilter{Search: "kfc"}, []int64{pending2.ID}},
			{"the start of a USCC", app.MerchantFilter{Search: "92500103"}, []int64{suspended.ID}},
			{"the middle of a USCC is no match", app.MerchantFilter{Search: "MA5U8"}, nil},
			{"a typed % is a percent sign", app.MerchantFilter{Search: "100%"}, []int64{pending3.ID}},
			{"a page", app.MerchantFilter{Limit: 2, Offset: 2}, []int64{pending3.ID, suspended.ID}},
			{"past the end", app.MerchantFilter{Offset: 10}, nil},
		}
		for _, c := range cases {
			if got := ids(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}

		counts, err := e.Store.MerchantCounts(ctx, app.MerchantFilter{District: "500103", Status: app.MerchantPending, Limit: 1, Offset: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{app.MerchantPending: 2, app.MerchantSuspended: 1, app.MerchantApproved: 1, app.MerchantRejected: 1}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("counts in 渝中: %v, want %v", counts, want)
		}
		if counts, err := e.Store.MerchantCounts(ctx, app.MerchantFilter{Search: "KFC"}); err != nil || fmt.Sprint(counts) != fmt.Sprint(map[string]int{app.MerchantPending: 1}) {
			t.Errorf("counts of a search: %v %v", counts, err)
		}
	})
}
