package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

func openTestStore(t *testing.T, opt Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPingReportsFailingWrites: with the database capped at its current
// size (PRAGMA max_page_count on the writer, SQLite's real "database or
// disk is full"), writes fail while reads work. Ping must say so, with the
// reason, and answer nil again once space is back, even if nothing else
// writes in between (the probe does).
func TestPingReportsFailingWrites(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, Options{})
	at := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil {
		t.Fatal(err)
	}
	var failure error
	for i := 0; i < 5000 && failure == nil; i++ {
		_, failure = s.EnsureResident(ctx, fmt.Sprintf("139%08d", i), nil, at)
	}
	var se sqlite3.Error
	if failure == nil || !errors.As(failure, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("writes on a full database: %v, want SQLITE_FULL", failure)
	}
	var n int
	if err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM residents`); err != nil {
		t.Fatalf("reads stopped too: %v", err)
	}
	err := s.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "writes failing") || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("Ping while writes fail = %v, want the reason", err)
	}
	// Still full: the probe fails too and the answer stays.
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping recovered although the database is still full")
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after space came back: %v", err)
	}
	if _, err := s.EnsureResident(ctx, "13900000000", nil, at); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
}

// TestRequestErrorsAreNotStorageFailures: a failed write of the caller's
// own making (here a constraint) leaves the health as it was.
func TestRequestErrorsAreNotStorageFailures(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, Options{})
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_create_core.sql', ?)`, time.Now())
		return err
	})
	if err == nil {
		t.Fatal("duplicate migration record accepted")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("a constraint failure made Ping fail: %v", err)
	}
}
