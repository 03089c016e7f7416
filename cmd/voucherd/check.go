package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"cqvoucher/db"
)

// errBooksUnbalanced makes `voucherd check` exit non-zero.
var errBooksUnbalanced = errors.New("the books do not balance")

// checkBooks verifies every invariant of the books on the configured
// database and prints one line per invariant: PASS or FAIL, its name, its
// figures. A SQLite file is opened read-only so that the check can run
// beside `voucherd serve`; on PostgreSQL the check reads one snapshot
// (REPEATABLE READ, read only) while the servers go on writing.
func checkBooks(ctx context.Context, cfg Config, w io.Writer) error {
	var st *db.Store
	var err error
	if cfg.Database != "" {
		st, err = db.Open(ctx, cfg.Database, db.Options{AuditHash: cfg.cryptoMode().audit})
	} else {
		st, err = db.OpenReadOnly(ctx, filepath.Join(cfg.DataDir, "voucher.db"))
	}
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

// pgDump hands a backup of a PostgreSQL database over to pg_dump, the
// tool its operators already use and restore with (pg_restore): a
// consistent snapshot in pg_dump's custom format, written to path, which
// must not exist yet.
func pgDump(ctx context.Context, url, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup: %s exists; give a new file", path)
	}
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("backup: PostgreSQL backups are written by pg_dump, which is not installed here (Debian: postgresql-client)")
	}
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--file="+path, "--dbname="+url)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("backup: pg_dump: %w", err)
	}
	fmt.Println("backup written by pg_dump to", path, "(restore with pg_restore)")
	return nil
}
