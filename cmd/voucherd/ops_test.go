package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestFlagsAfterTheSubcommand: flags may stand before or after the
// subcommand and its arguments.
func TestFlagsAfterTheSubcommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := run(ctx, []string{"keys", "rotate", "-data", dir}, quietLog()); err != nil {
		t.Fatalf("keys rotate -data DIR: %v", err)
	}
	// LoadOrCreate made the first key, rotate the second: both in DIR.
	if pems, _ := filepath.Glob(filepath.Join(dir, "keys", "*.pem")); len(pems) != 2 {
		t.Fatalf("keys in %s: %v, want 2", dir, pems)
	}
	if err := run(ctx, []string{"migrate", "-data", dir}, quietLog()); err != nil {
		t.Fatalf("migrate -data DIR: %v", err)
	}
	out := t.TempDir()
	a, b, c := filepath.Join(out, "a.db"), filepath.Join(out, "b.db"), filepath.Join(out, "c.db")
	for file, args := range map[string][]string{
		a: {"backup", "-data", dir, a},
		b: {"backup", b, "-data", dir},
		c: {"-data", dir, "backup", c},
	} {
		if err := run(ctx, args, quietLog()); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		raw, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%q: backup holds %d migrations (%v)", args, n, err)
		}
		raw.Close()
	}
	// Nothing went to ./data, the default.
	if _, err := os.Stat("data"); err == nil {
		t.Fatal("a command ignored -data and wrote ./data")
	}
	for _, args := range [][]string{
		{"keys", "rotate", "extra", "-data", dir},
		{"serve", "stray", "-data", dir},
		{"backup", "-data", dir},
	} {
		if err := run(ctx, args, quietLog()); err == nil {
			t.Fatalf("%q accepted", args)
		}
	}
}

// TestParseFlagsDoubleDash: after "--" everything is an argument, even
// what looks like a flag.
func TestParseFlagsDoubleDash(t *testing.T) {
	cfg, rest, err := parseFlags([]string{"backup", "-data", "/d", "--", "-odd-name.db"})
	if err != nil || cfg.DataDir != "/d" || strings.Join(rest, " ") != "backup -odd-name.db" {
		t.Fatalf("parseFlags = %q, %q, %v", cfg.DataDir, rest, err)
	}
}

// TestDatabaseSettingsAreChecked: -database takes only a PostgreSQL URL
// (anything else would quietly become a SQLite file of that name), and
// -database-conns a sane count; both are refused before anything opens.
func TestDatabaseSettingsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-database", "mysql://u:p@db/voucher"},
		{"serve", "-database", "/var/lib/voucher.db"},
		{"serve", "-database", "postgres://u:p@db/voucher", "-database-conns", "1"},
		{"serve", "-database", "postgres://u:p@db/voucher", "-database-conns", "100000"},
	} {
		if _, _, err := parseFlags(args); err == nil || !strings.Contains(err.Error(), "-database") {
			t.Errorf("%q: %v, want a -database error", args, err)
		}
	}
	cfg, _, err := parseFlags([]string{"serve", "-database", "postgresql://u:p@db/voucher", "-database-conns", "40"})
	if err != nil || cfg.DatabaseConns != 40 || cfg.databaseTarget() != "postgresql://u:p@db/voucher" {
		t.Fatalf("a PostgreSQL URL: %+v, %v", cfg, err)
	}
}

// TestSecondServerOnTheDirectoryRefuses: while one voucherd holds the data
// directory, another (or a migration) stops with a message naming the
// directory and the holder; once the first closes, a new one starts.
func TestSecondServerOnTheDirectoryRefuses(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://localhost", Synchronous: "FULL"}
	first, err := Open(ctx, cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(ctx, cfg, quietLog())
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second server opened the same data directory")
	}
	for _, want := range []string{cfg.DataDir, "in use", "process " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := run(ctx, []string{"migrate", "-data", cfg.DataDir}, quietLog()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("migrate beside a server: %v, want a refusal", err)
	}
	// Backups run beside a server.
	if err := run(ctx, []string{"backup", "-data", cfg.DataDir, filepath.Join(t.TempDir(), "b.db")}, quietLog()); err != nil {
		t.Errorf("backup beside a server: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, cfg, quietLog())
	if err != nil {
		t.Fatalf("start after the first server closed: %v", err)
	}
	again.Close()
}

// TestFirstStartsRacingMakeOneIdentityKey: the resident-ID key is created
// once; every racer ends with the same 32 bytes, which are on disk.
func TestFirstStartsRacingMakeOneIdentityKey(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "keys", "identity.key")
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i := range keys {
			wg.Go(func() {
				<-begin
				keys[i], errs[i] = loadOrCreateSecret(path)
			})
		}
		close(begin)
		wg.Wait()
		onDisk, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d, start %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], onDisk) {
				t.Fatalf("round %d: start %d holds a key that is not the one on disk", round, i)
			}
		}
	}
}
