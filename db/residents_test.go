package db

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// fileHolds reports whether the database file or its WAL holds b.
func fileHolds(t *testing.T, path string, b []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, b) {
			return true
		}
	}
	return false
}

// TestClearPhonesAreSealedOnceAtStartUp upgrades a database written before
// numbers were sealed: the rebuild keeps every resident and what points at
// it, the start-up step seals the numbers in one go, and afterwards neither
// the database file nor the WAL holds a number in clear.
func TestClearPhonesAreSealedOnceAtStartUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "voucher.db")
	phones := []string{"13912345678", "18623456789", "15034567890"}

	// The database as the release before sealing left it.
	old, err := sqlx.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	old.MustExec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)`)
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	for _, name := range names {
		if filepath.Base(name) >= "0040" {
			break
		}
		body, _ := migrations.ReadFile(name)
		old.MustExec(string(body))
		old.MustExec(`INSERT INTO schema_migrations VALUES (?, ?)`, filepath.Base(name), time.Now())
	}
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for i, p := range phones {
		old.MustExec(`INSERT INTO residents (id, phone, created_at) VALUES (?, ?, ?)`, 10+i, p, at)
		old.MustExec(`INSERT INTO sessions (token_hash, kind, subject_id, created_at, expires_at) VALUES (?, 'resident', ?, ?, ?)`,
			"tok"+p[7:], 10+i, at, at.Add(time.Hour))
	}
	old.MustExec(`INSERT INTO sms_codes (phone, code_hash, expires_at, attempts_left, sent_at, day, sent_today) VALUES (?, 'x', ?, 5, ?, '2026-11-01', 1)`,
		phones[0], at.Add(time.Hour), at)
	old.MustExec(`UPDATE residents SET id_hash = 'idhash' WHERE id = 11`)
	old.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !fileHolds(t, path, []byte(phones[0])) {
		t.Fatal("the upgraded database holds no clear number before sealing: the test proves nothing")
	}
	hash := func(p string) string { sum := sha256.Sum256([]byte("test:" + p)); return hex.EncodeToString(sum[:]) }
	seal := func(p string) (string, []byte, error) {
		sealed := []byte(p)
		for i := range sealed {
			sealed[i] ^= 0x5a
		}
		return hash(p), sealed, nil
	}
	if n, err := s.SealResidentPhones(ctx, seal); err != nil || n != len(phones) {
		t.Fatalf("SealResidentPhones = %d, %v; want %d", n, err, len(phones))
	}
	if n, err := s.SealResidentPhones(ctx, seal); err != nil || n != 0 {
		t.Fatalf("a second start seals %d, %v; want 0", n, err)
	}
	for i, p := range phones {
		if fileHolds(t, path, []byte(p)) {
			t.Errorf("%s is still in the database file or its WAL", p)
		}
		r, err := s.EnsureResident(ctx, hash(p), nil, time.Now())
		if err != nil || r.ID != int64(10+i) || !r.CreatedAt.Equal(at) || r.PhoneSealed[0] != p[0]^0x5a {
			t.Errorf("sign-in by %s finds %+v, %v; want the resident %d of before", p, r, err, 10+i)
		}
	}
	var kept struct {
		Residents, Sessions, Pending, RealName int64
	}
	s.r.Get(&kept.Residents, `SELECT COUNT(*) FROM residents WHERE phone IS NULL`)
	s.r.Get(&kept.Sessions, `SELECT COUNT(*) FROM sessions s JOIN residents r ON r.id = s.subject_id`)
	s.r.Get(&kept.Pending, `SELECT COUNT(*) FROM sms_codes`)
	s.r.Get(&kept.RealName, `SELECT COUNT(*) FROM residents WHERE id = 11 AND id_hash = 'idhash'`)
	if kept.Residents != 3 || kept.Sessions != 3 || kept.Pending != 0 || kept.RealName != 1 {
		t.Errorf("after the upgrade: %+v; want 3 residents, their 3 sessions, no clear pending code, the ID hash kept", kept)
	}
}
