package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// runCaptured runs voucherd with args and returns what it printed.
func runCaptured(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, r)
		done <- b.String()
	}()
	err = run(context.Background(), args, slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Stdout = stdout
	w.Close()
	return <-done, err
}

// TestCheckCommand: `voucherd check` passes on the demo set with a
// generated season, also while a server has the database open, and after
// one counter is changed by hand it fails naming that invariant and exits
// non-zero.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCaptured(t, "seed", "-demo", "-season", "300", "-data", dir, "-addr", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	server, err := Open(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://localhost", Synchronous: "FULL"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCaptured(t, "check", "-data", dir)
	server.Close()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) < 20 {
		t.Fatalf("check = %v:\n%s", err, out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "PASS ") {
			t.Errorf("fresh books: %s", l)
		}
	}
	if !strings.Contains(out, "PASS issued ≤ released ≤ quantity (") || !strings.Contains(out, "PASS audit chain intact (") {
		t.Errorf("check output lacks its invariants:\n%s", out)
	}

	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "voucher.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE tiers SET claimed_count = claimed_count + 1, remaining = remaining - 1
		WHERE id = (SELECT MIN(id) FROM tiers WHERE remaining > 0)`); err != nil {
		t.Fatal(err)
	}
	out, err = runCaptured(t, "check", "-data", dir)
	if !errors.Is(err, errBooksUnbalanced) || !strings.Contains(err.Error(), "1 of ") {
		t.Fatalf("check after a counter changed by hand = %v", err)
	}
	var failed []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "PASS ") {
			failed = append(failed, l)
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "FAIL tier counters = recount (") || !strings.Contains(failed[0], "claimed_count") {
		t.Fatalf("failing lines %q, want the tier counters named", failed)
	}
}

// TestCheckCommandCreatesNothing: check opens read-only, so a wrong
// directory gets an error, not a new empty database.
func TestCheckCommandCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCaptured(t, "check", "-data", dir); err == nil {
		t.Fatal("check of a directory without a database succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "voucher.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("check created a database: %v", err)
	}
}
