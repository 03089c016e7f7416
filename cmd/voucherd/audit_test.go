package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"cqvoucher/app"
	"cqvoucher/db"
)

// auditFixture opens the product with demo data (which records officer
// creations, a campaign's creation, submission and approval), closes it,
// and returns the data directory and a raw handle on the database file:
// what someone with access to the disk could do.
func auditFixture(t *testing.T) (Config, *sql.DB) {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), BaseURL: "http://localhost", Demo: true, Synchronous: "FULL"}
	m, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(cfg.DataDir, "voucher.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return cfg, raw
}

func runAuditVerify(t *testing.T, cfg Config) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = auditVerify(context.Background(), m.Store, &out)
	return out.String(), err
}

func TestAuditVerifyIntact(t *testing.T) {
	cfg, _ := auditFixture(t)
	out, err := runAuditVerify(t, cfg)
	if err != nil || !strings.HasPrefix(out, "audit log intact: 9 rows, head ") {
		t.Fatalf("verify = %q, %v; want 9 intact rows (6 officers, create, submit, approve)", out, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	_, raw := auditFixture(t)
	if _, err := raw.Exec(`UPDATE audit_log SET actor = 'someone else' WHERE id = 4`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update allowed: %v", err)
	}
	if _, err := raw.Exec(`DELETE FROM audit_log WHERE id = 4`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete allowed: %v", err)
	}
}

func TestAuditVerifyFindsAlteredRow(t *testing.T) {
	cfg, raw := auditFixture(t)
	// Someone with the file drops the guard and rewrites who approved.
	mustExec(t, raw, `DROP TRIGGER audit_log_no_update`)
	mustExec(t, raw, `UPDATE audit_log SET actor = 'yuzhong.maker' WHERE action = 'campaign.approve'`)
	out, err := runAuditVerify(t, cfg)
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "BROKEN at row 9: its content does not match its hash") {
		t.Fatalf("verify = %q, %v", out, err)
	}
}

func TestAuditVerifyFindsRehashedRow(t *testing.T) {
	cfg, raw := auditFixture(t)
	// A careful forger alters row 7 and recomputes its own hash: row 7 now
	// checks out alone, but row 8 no longer links to it.
	mustExec(t, raw, `DROP TRIGGER audit_log_no_update`)
	st, err := db.Open(context.Background(), filepath.Join(cfg.DataDir, "voucher.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.AuditLog(context.Background(), app.AuditFilter{Limit: 10})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var row app.AuditEntry
	for _, r := range rows {
		if r.ID == 7 {
			row = r
		}
	}
	row.AfterJSON = `{"budget_fen":99999999}`
	mustExec(t, raw, `UPDATE audit_log SET after_json = '`+row.AfterJSON+`', hash = '`+row.ComputeHash()+`' WHERE id = 7`)
	out, err := runAuditVerify(t, cfg)
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "BROKEN at row 8: it does not link to the row before") {
		t.Fatalf("verify = %q, %v", out, err)
	}
}

func TestAuditVerifyFindsDeletedRow(t *testing.T) {
	cfg, raw := auditFixture(t)
	mustExec(t, raw, `DROP TRIGGER audit_log_no_delete`)
	mustExec(t, raw, `DELETE FROM audit_log WHERE action = 'campaign.submit'`)
	out, err := runAuditVerify(t, cfg)
	if !errors.Is(err, errAuditBroken) || !strings.Contains(out, "BROKEN at row 9: the row before it is missing") {
		t.Fatalf("verify = %q, %v", out, err)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
