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

// TestClearPersonalDataIsSealedOnceAtStartUp upgrades a database written before
// numbers were sealed: the rebuild keeps every resident and what points at
// it, the start-up step seals residents' numbers and merchants' contact
// phones and settlement accounts in one go, and afterwards neither the
// database file nor the WAL holds any of them in clear.
func TestClearPersonalDataIsSealedOnceAtStartUp(t *testing.T) {
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
	old.MustExec(`INSERT INTO sms_codes (phone, requester, code_hash, expires_at, attempts_left, sent_at, day, sent_today) VALUES (?, '', 'x', ?, 5, ?, '2026-11-01', 1)`,
		phones[0], at.Add(time.Hour), at)
	old.MustExec(`UPDATE residents SET id_hash = 'idhash' WHERE id = 11`)
	const contactPhone, account = "13655556666", "6222021234567890123"
	old.MustExec(`INSERT INTO districts VALUES ('500103', '渝中区', 'Yuzhong', 'district')`)
	old.MustExec(`INSERT INTO categories VALUES ('catering', '餐饮', 'Catering')`)
	old.MustExec(`INSERT INTO merchants (id, name, district_code, category_code, status, created_at, contact_phone, settlement_account)
		VALUES (7, '解放碑老火锅', '500103', 'catering', 'approved', ?, ?, ?)`, at, contactPhone, account)
	old.MustExec(`INSERT INTO merchants (id, name, district_code, category_code, status, created_at) VALUES (8, '小面', '500103', 'catering', 'approved', ?)`, at)
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
	// A stand-in for the App's sealer: enough to see which bytes went where.
	seal := func(plain []byte, context string) ([]byte, error) {
		sealed := append([]byte(context+":"), plain...)
		for i := range sealed {
			sealed[i] ^= 0x5a
		}
		return sealed, nil
	}
	unseal := func(b []byte) string {
		plain := bytes.Clone(b)
		for i := range plain {
			plain[i] ^= 0x5a
		}
		return string(plain)
	}
	if n, err := s.SealLegacyPersonalData(ctx, hash, seal); err != nil || n != len(phones)+1 {
		t.Fatalf("SealLegacyPersonalData = %d, %v; want %d rows", n, err, len(phones)+1)
	}
	if n, err := s.SealLegacyPersonalData(ctx, hash, seal); err != nil || n != 0 {
		t.Fatalf("a second start seals %d, %v; want 0", n, err)
	}
	for _, v := range []string{contactPhone, account} {
		if fileHolds(t, path, []byte(v)) {
			t.Errorf("the merchant's %s is still in the database file or its WAL", v)
		}
	}
	m, err := s.MerchantByID(ctx, 7)
	if err != nil || unseal(m.PhoneSealed) != "merchants.contact_phone:"+contactPhone ||
		unseal(m.AccountSealed) != "merchants.settlement_account:"+account {
		t.Errorf("merchant 7 sealed as %q / %q, %v", unseal(m.PhoneSealed), unseal(m.AccountSealed), err)
	}
	if m, err := s.MerchantByID(ctx, 8); err != nil || m.PhoneSealed != nil || m.AccountSealed != nil {
		t.Errorf("a merchant without contact data got sealed values: %+v, %v", m, err)
	}
	for i, p := range phones {
		if fileHolds(t, path, []byte(p)) {
			t.Errorf("%s is still in the database file or its WAL", p)
		}
		if r, err := s.ResidentByID(ctx, int64(10+i)); err != nil || unseal(r.PhoneSealed) != "residents.phone:"+p {
			t.Errorf("resident %d sealed as %q, %v", 10+i, unseal(r.PhoneSealed), err)
		}
		// Signing in finds the same resident and seals the number afresh
		// (under whatever sealer is current).
		r, err := s.EnsureResident(ctx, hash(p), []byte("resealed"), time.Now())
		if err != nil || r.ID != int64(10+i) || !r.CreatedAt.Equal(at) || string(r.PhoneSealed) != "resealed" {
			t.Errorf("sign-in by %s finds %+v, %v; want the resident %d of before, resealed", p, r, err, 10+i)
		}
	}
	var kept struct {
		Residents, Sessions, Pending, RealName int64
	}
	s.r.GetContext(context.Background(), &kept.Residents, `SELECT COUNT(*) FROM residents WHERE phone IS NULL`)
	s.r.GetContext(context.Background(), &kept.Sessions, `SELECT COUNT(*) FROM sessions s JOIN residents r ON r.id = s.subject_id`)
	s.r.GetContext(context.Background(), &kept.Pending, `SELECT COUNT(*) FROM sms_codes`)
	s.r.GetContext(context.Background(), &kept.RealName, `SELECT COUNT(*) FROM residents WHERE id = 11 AND id_hash = 'idhash'`)
	if kept.Residents != 3 || kept.Sessions != 3 || kept.Pending != 0 || kept.RealName != 1 {
		t.Errorf("after the upgrade: %+v; want 3 residents, their 3 sessions, no clear pending code, the ID hash kept", kept)
	}
}
