package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// SingleCommitRate is the disk baseline of the load generator (its
// baseline (d)): the rate of the smallest durable write transaction, one
// single-row UPDATE per transaction, at the given synchronous setting, on
// one connection of a fresh WAL database at path (SQLite through the same
// driver, none of the store's code). Every transaction waits for its own
// fsync, so no design that commits each claim alone can beat this rate;
// group commit must. It commits up to n times or until limit has passed,
// and returns how many commits it made in how long. path must not exist;
// the caller removes the file (and its -wal and -shm) afterwards.
func SingleCommitRate(ctx context.Context, path, synchronous string, n int, limit time.Duration) (commits int, elapsed time.Duration, err error) {
	synchronous = strings.ToUpper(synchronous)
	if synchronous != "FULL" && synchronous != "NORMAL" {
		return 0, 0, fmt.Errorf("db: synchronous must be FULL or NORMAL, not %q", synchronous)
	}
	if _, err := os.Lstat(path); err == nil {
		return 0, 0, fmt.Errorf("db: disk baseline: %s exists; it needs a fresh file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("db: disk baseline: %w", err)
	}
	q := url.Values{"_journal_mode": {"WAL"}, "_txlock": {"immediate"}, "_synchronous": {synchronous}}
	sdb, err := sqlx.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, 0, err
	}
	defer sdb.Close()
	sdb.SetMaxOpenConns(1)
	x := newDB(sdb, sqliteDialect)
	if _, err := x.ExecContext(ctx, `CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
		INSERT INTO counter (id, n) VALUES (1, 0)`); err != nil {
		return 0, 0, err
	}
	deadline := time.Now().Add(limit)
	start := time.Now()
	for commits < n && time.Now().Before(deadline) {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			return commits, time.Since(start), err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE counter SET n = n + 1 WHERE id = 1`); err != nil {
			_ = tx.Rollback()
			return commits, time.Since(start), err
		}
		if err := tx.Commit(); err != nil {
			return commits, time.Since(start), err
		}
		commits++
	}
	return commits, time.Since(start), ctx.Err()
}
