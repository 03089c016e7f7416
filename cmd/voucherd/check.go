package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"cqvoucher/db"
)

// errBooksUnbalanced makes `voucherd check` exit non-zero.
var errBooksUnbalanced = errors.New("the books do not balance")

// checkBooks verifies every invariant of the books on the database of
// dataDir, opened read-only so that it can run beside `voucherd serve`,
// and prints one line per invariant: PASS or FAIL, its name, its figures.
func checkBooks(ctx context.Context, dataDir string, w io.Writer) error {
	st, err := db.OpenReadOnly(ctx, filepath.Join(dataDir, "voucher.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	results, err := st.Check(ctx)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s %s (%s)\n", verdict, r.Name, r.Figures)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d invariants failed", errBooksUnbalanced, failed, len(results))
	}
	return nil
}
