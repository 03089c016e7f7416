package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestAuditAppendsAtOnceChainInOrder: entries appended at the same moment
// (officers signing in together) each get their own row, and the chain
// they make verifies: no two appends read the same head.
func TestAuditAppendsAtOnceChainInOrder(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		e := apptest.New(t, apptest.Options{})
		ctx := context.Background()
		before, err := e.Store.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = e.Store.AppendAudit(ctx, app.AuditEntry{At: e.Clock.Now(), Actor: fmt.Sprintf("officer-%d", i),
					Action: "officer.login", Entity: "officer", District: "500103", BeforeJSON: "{}", AfterJSON: "{}"})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		}
		rep, err := e.Store.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Break != nil || rep.Rows != before.Rows+n {
			t.Fatalf("after %d appends at once: %d rows (from %d), break %+v", n, rep.Rows, before.Rows, rep.Break)
		}
	})
}
