package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// TestStartUpSealsClearPhonesUnderAKeptKey: a resident stored with a
// clear number (as before numbers were sealed) is sealed by the next
// start, under data.key (created 0600 beside identity.key), and a later
// start opens the sealed number with the same key and finds the resident
// by the number's keyed hash.
func TestStartUpSealsClearPhonesUnderAKeptKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() *Main {
		t.Helper()
		m, err := Open(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, BaseURL: "http://localhost", Synchronous: "FULL"}, log)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	start().Close()
	key := filepath.Join(dir, "keys", "data.key")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("data.key: %v, %v", fi, err)
	}

	const phone = "13911112222"
	dbPath := filepath.Join(dir, "voucher.db")
	raw, err := sqlx.Open("sqlite3", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	res := raw.MustExec(`INSERT INTO residents (phone, created_at) VALUES (?, ?)`, phone, time.Now().UTC())
	id, _ := res.LastInsertId()
	raw.Close()

	m := start()
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(phone)) {
			t.Errorf("%s still holds the number after start-up", filepath.Base(p))
		}
	}
	m.Close()

	m = start()
	defer m.Close()
	r, err := m.App.Resident(ctx, id)
	if err != nil || r.Phone != phone {
		t.Fatalf("after a restart resident %d opens as %q, %v", id, r.Phone, err)
	}
	var found int64
	if err := m.Store.QueryRow(ctx, `SELECT id FROM residents WHERE phone_hash = ?`, m.App.PhoneHash(phone)).Scan(&found); err != nil || found != id {
		t.Fatalf("lookup by keyed hash: %d, %v", found, err)
	}
}
