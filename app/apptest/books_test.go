package apptest_test

import (
	"fmt"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
)

// errorRecorder is a test that keeps its errors instead of failing, so
// that what the harness reports at a test's end can be looked at.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// breakBooks runs a test that claims a voucher and then changes a counter
// by hand, and returns what the harness reported when it ended.
func breakBooks(t *testing.T, skip bool) []string {
	rec := &errorRecorder{}
	t.Run("inner", func(t *testing.T) {
		rec.TB = t
		e := apptest.New(rec, apptest.Options{})
		if skip {
			e.SkipBooksCheck("the test changes a counter by hand")
		}
		c := e.LiveCampaign(t, apptest.CampaignSpec{})
		r, _ := e.ResidentSession(t, "13900000001")
		if _, err := e.App.Claim(t.Context(), r, c.ID, c.Tiers[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		e.Exec(t, `UPDATE campaigns SET claimed_count = 2`)
	})
	return rec.errors
}

func TestEveryTestEndsByCheckingTheBooks(t *testing.T) {
	errs := breakBooks(t, false)
	if len(errs) != 1 || !strings.Contains(errs[0], "FAIL campaign counters = recount") || !strings.Contains(errs[0], "claimed_count 2, recount 1") {
		t.Fatalf("the harness reported %q; want the campaign counter named", errs)
	}
}

func TestSkipBooksCheck(t *testing.T) {
	if errs := breakBooks(t, true); len(errs) != 0 {
		t.Fatalf("a test that opted out was checked: %q", errs)
	}
}
