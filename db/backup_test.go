package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cqvoucher/db"
)

func openStore(t *testing.T, path string) *db.Store {
	t.Helper()
	st, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestBackupWritesWholeFileUnderItsName: the backup is a complete
// database under the final name, nothing else is left in the directory,
// and an existing file is never overwritten.
func TestBackupWritesWholeFileUnderItsName(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	dir := t.TempDir()
	target := filepath.Join(dir, "backup.db")
	if err := st.Backup(ctx, target); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "backup.db" {
		t.Fatalf("directory after the backup: %v, want only backup.db", entries)
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("backup mode %v: it holds the whole database, others must not read it", fi.Mode().Perm())
	}
	raw, err := sql.Open("sqlite3", "file:"+target+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var check string
	var n int
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("backup integrity: %q, %v", check, err)
	}
	if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("backup holds %d migrations, %v", n, err)
	}
	before, _ := os.ReadFile(target)
	if err := st.Backup(ctx, target); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second backup to the same name: %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(target); string(after) != string(before) {
		t.Fatal("the refused backup changed the existing file")
	}
}

// TestInterruptedBackupLeavesNothing: a backup cut off while it writes
// (here its context is cancelled as soon as the copy has started) leaves
// no file under the final name, and no temporary either. Whenever the cut
// lands, the final name holds either nothing or a whole database.
func TestInterruptedBackupLeavesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	st := openStore(t, path)
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// About 64 MiB, so that the copy takes a while on any machine.
	if _, err := raw.Exec(`CREATE TABLE filler (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1024)
		INSERT INTO filler SELECT randomblob(65536) FROM n`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "backup.db")
	cut, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Cancel once any file in the directory has content: the copy is
		// under way.
		for cut.Err() == nil {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if fi, err := e.Info(); err == nil && fi.Size() > 0 {
					cancel()
				}
			}
		}
	})
	err = st.Backup(cut, target)
	cancel()
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	if err == nil {
		t.Skipf("the backup finished before it could be cut (%v)", entries)
	}
	if len(entries) != 0 {
		t.Fatalf("an interrupted backup (%v) left %v", err, entries)
	}
}

// TestConcurrentFirstOpensMigrateOnce: servers starting at once on a new
// database all open it; none applies a migration a second time.
func TestConcurrentFirstOpensMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			st, err := db.Open(context.Background(), path, db.Options{})
			if err == nil {
				st.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
