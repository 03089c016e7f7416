package apptest

import (
	"context"
	"testing"
)

// SkipBooksCheck leaves this test's database unchecked at its end, for a
// test that corrupts it on purpose; why says what it breaks.
func (e *Env) SkipBooksCheck(why string) { e.booksUnchecked = why }

// checkBooks runs the store's check of every invariant when the test ends,
// so that every test of the product also proves the books balance after it.
func (e *Env) checkBooks(t testing.TB) {
	if e.booksUnchecked != "" {
		return
	}
	results, err := e.Store.Check(context.Background()) // t.Context() is cancelled before cleanups run
	if err != nil {
		t.Errorf("books check: %v", err)
		return
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("books: FAIL %s (%s)", r.Name, r.Figures)
		}
	}
}
