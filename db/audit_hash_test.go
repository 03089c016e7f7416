package db_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	_ "github.com/mattn/go-sqlite3"

	"cqvoucher/app"
	"cqvoucher/app/gmcrypto/openssltest"
	"cqvoucher/db"
)

var auditAt = time.Date(2026, 11, 25, 2, 0, 0, 250_000_000, time.UTC)

// appendInMode opens the database with the given audit hash, appends one
// row per action and closes it, as a restart in another mode would.
func appendInMode(t *testing.T, path, alg string, actions ...string) {
	t.Helper()
	st, err := db.Open(context.Background(), path, db.Options{AuditHash: alg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, action := range actions {
		e := app.AuditEntry{At: auditAt.Add(time.Duration(i) * time.Millisecond), ActorID: 2, Actor: "yz-zhao", Action: action,
			Entity: "campaign", EntityID: 7, District: "500103", AfterJSON: `{"status":"approved"}`}
		if err := st.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func auditRows(t *testing.T, path string) []app.AuditEntry {
	t.Helper()
	st, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.AuditLog(context.Background(), app.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// AuditLog is newest first; the chain reads oldest first.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}

func verifyAudit(t *testing.T, path string) app.AuditReport {
	t.Helper()
	st, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := st.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAuditChainCrossesModeChange: rows record the hash that chains them,
// so a log written partly in the default mode and partly in gm mode
// verifies from end to end, and an altered SM3 row is found.
func TestAuditChainCrossesModeChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	appendInMode(t, path, "", "campaign.create", "campaign.submit")
	appendInMode(t, path, app.AuditSM3, "campaign.approve", "campaign.extend")
	appendInMode(t, path, app.AuditSHA256, "campaign.pause")

	rows := auditRows(t, path)
	var algs []string
	for _, r := range rows {
		algs = append(algs, r.HashAlg)
	}
	if got := strings.Join(algs, " "); got != "sha256 sha256 sm3 sm3 sha256" {
		t.Fatalf("hash algorithms by row: %s", got)
	}
	// An SM3 row's hash is SM3 over its input, and that input names SM3.
	sm3Row := rows[2]
	if sum := sm3.Sum(sm3Row.HashInput()); sm3Row.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("row 3 hash %s is not SM3 of its input", sm3Row.Hash)
	}
	if !strings.HasPrefix(string(sm3Row.HashInput()), "3:sm3") {
		t.Errorf("SM3 row input does not name its algorithm: %.20q", sm3Row.HashInput())
	}
	// The chain runs across the changes of mode.
	if rows[2].PrevHash != rows[1].Hash || rows[4].PrevHash != rows[3].Hash {
		t.Error("rows after a change of mode do not link to the rows before")
	}
	if rep := verifyAudit(t, path); rep.Break != nil || rep.Rows != 5 || rep.Head != rows[4].Hash {
		t.Fatalf("verify: %+v (break %+v)", rep, rep.Break)
	}

	// Someone with the file rewrites the SM3 row.
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'someone' WHERE id = 3`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if rep := verifyAudit(t, path); rep.Break == nil || rep.Break.ID != 3 || rep.Break.Reason != "altered" || rep.Rows != 2 {
		t.Fatalf("altered SM3 row: %+v (break %+v)", rep, rep.Break)
	}
	// Relabelling it SHA-256 (and rehashing) does not pass either: its
	// successor was chained to the SM3 hash.
	undo := rows[2]
	undo.Actor, undo.HashAlg = "someone", app.AuditSHA256
	if _, err := raw.Exec(`UPDATE audit_log SET hash_alg = 'sha256', hash = ? WHERE id = 3`, undo.ComputeHash()); err != nil {
		t.Fatal(err)
	}
	if rep := verifyAudit(t, path); rep.Break == nil || rep.Break.ID != 4 {
		t.Fatalf("relabelled row: %+v (break %+v)", rep, rep.Break)
	}
	// The column admits only the functions the product knows.
	if _, err := raw.Exec(`UPDATE audit_log SET hash_alg = 'md5' WHERE id = 1`); err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Errorf("hash_alg md5 stored: %v", err)
	}
}

func TestOpenRefusesUnknownAuditHash(t *testing.T) {
	if _, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), db.Options{AuditHash: "md5"}); err == nil {
		t.Fatal("opened with audit hash md5")
	}
}

// TestAuditSM3MatchesOpenSSL checks the SM3 audit digests against
// OpenSSL's SM3, and the default ones against its SHA-256.
func TestAuditSM3MatchesOpenSSL(t *testing.T) {
	openssltest.Require(t)
	path := filepath.Join(t.TempDir(), "v.db")
	appendInMode(t, path, app.AuditSHA256, "campaign.create")
	appendInMode(t, path, app.AuditSM3, "campaign.approve", "officer.sign_in")
	for _, r := range auditRows(t, path) {
		digest := map[string]string{app.AuditSM3: "-sm3", app.AuditSHA256: "-sha256"}[r.HashAlg]
		out, err := openssltest.Run(t, r.HashInput(), "dgst", digest)
		if err != nil {
			t.Fatal(err)
		}
		// "SM3(stdin)= 66c7…"
		_, got, ok := strings.Cut(strings.TrimSpace(string(out)), "= ")
		if !ok || got != r.Hash {
			t.Errorf("row %d (%s): openssl dgst %s gives %q, stored hash %s", r.ID, r.HashAlg, digest, out, r.Hash)
		}
	}
	// And OpenSSL's SM3 is the standard one (GB/T 32905 example 1).
	out, err := openssltest.Run(t, []byte("abc"), "dgst", "-sm3")
	if err != nil || !strings.Contains(string(out), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0") {
		t.Fatalf("openssl sm3(abc) = %q, %v", out, err)
	}
}
