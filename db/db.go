// Package db stores the voucher system in SQLite through sqlx. It
// implements app.Store; every method that moves money or stock is one
// transaction with guarded updates.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"cqvoucher/app"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Synchronous is the durability setting, FULL by default: an acknowledged
// claim or redemption survives a power cut, not only a crash (see README).
type Options struct {
	Synchronous string // FULL (default) or NORMAL
	ReadConns   int    // size of the read pool; 0 = number of CPUs, at least 2
	// Now is the clock the writer reads inside each money transaction,
	// after BEGIN IMMEDIATE (nil: the wall clock). Tests inject theirs.
	Now func() time.Time
}

// Store is the SQLite implementation of app.Store.
//
// Writes go through a pool of one connection: SQLite has one writer anyway,
// and queueing in Go keeps the worst wait in milliseconds instead of
// busy-retry seconds. Reads use a pool of their own, which WAL lets run
// beside the writer.
type Store struct {
	w   *sqlx.DB
	r   *sqlx.DB
	now func() time.Time
}

// Open opens (creating if needed) the database file at path and applies
// the embedded migrations.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if opt.Synchronous == "" {
		opt.Synchronous = "FULL"
	}
	opt.Synchronous = strings.ToUpper(opt.Synchronous)
	if opt.Synchronous != "FULL" && opt.Synchronous != "NORMAL" {
		return nil, fmt.Errorf("db: synchronous must be FULL or NORMAL, not %q", opt.Synchronous)
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = max(2, runtime.NumCPU())
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
	}
	// Pragmas go in the DSN because each pooled connection is its own
	// SQLite handle: a PRAGMA run once would reach only one of them.
	// busy_timeout comes first so that the others wait rather than fail.
	dsn := func(txlock string) string {
		q := url.Values{}
		q.Set("_busy_timeout", "10000")
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", opt.Synchronous)
		q.Set("_foreign_keys", "on")
		q.Set("_txlock", txlock)
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sqlx.Open("sqlite3", dsn("immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sqlx.Open("sqlite3", dsn("deferred"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opt.ReadConns)
	r.SetMaxIdleConns(opt.ReadConns)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Store{w: w, r: r, now: func() time.Time { return opt.Now().UTC() }}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that a read and the writer both answer.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.GetContext(ctx, &one, `SELECT 1`); err != nil {
		return err
	}
	return s.w.PingContext(ctx)
}

// Backup writes a consistent snapshot to path with VACUUM INTO, which,
// unlike the online backup API, finishes while others keep writing.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("db: backup target %s exists", path)
	}
	_, err := s.r.ExecContext(ctx, `VACUUM INTO ?`, path)
	return err
}

// migrate applies, in name order, each embedded migration not yet
// recorded, each in its own transaction with its record.
//
// A migration whose first line is "-- foreign_keys: off" rebuilds tables
// (SQLite cannot alter a CHECK constraint): it runs with foreign keys
// switched off on the one writer connection, as SQLite's documented
// twelve-step procedure requires, and commits only if
// PRAGMA foreign_key_check then finds nothing dangling.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)`); err != nil {
		return fmt.Errorf("db: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := s.applyMigration(ctx, base, string(body)); err != nil {
			return fmt.Errorf("db: migration %s: %w", base, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, name, body string) error {
	conn, err := s.w.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var n int
	if err := conn.GetContext(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name); err != nil || n > 0 {
		return err
	}
	rebuild := strings.HasPrefix(body, "-- foreign_keys: off")
	if rebuild {
		// PRAGMA foreign_keys is a no-op inside a transaction: set it before.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if rebuild {
		var dangling []struct {
			Table  string        `db:"table"`
			RowID  sql.NullInt64 `db:"rowid"`
			Parent string        `db:"parent"`
			FKID   sql.NullInt64 `db:"fkid"`
		}
		if err := tx.SelectContext(ctx, &dangling, `PRAGMA foreign_key_check`); err != nil {
			return err
		}
		if len(dangling) > 0 {
			return fmt.Errorf("foreign key check failed after rebuild: %+v", dangling[0])
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE, through the
// one-connection pool) and commits only if fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	return s.txAt(ctx, func(tx *sqlx.Tx, _ time.Time) error { return fn(tx) })
}

// txAt is tx for the steps that decide by the clock: fn gets the time
// read after BEGIN IMMEDIATE, once this transaction holds the one writer.
// A request may have waited in the queue for the writer across a drop's
// time, an expiry or midnight; only this time says what is true when the
// step is written, and every guard and every stored time uses it.
func (s *Store) txAt(ctx context.Context, fn func(tx *sqlx.Tx, now time.Time) error) error {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx, s.now()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// notFound turns sql.ErrNoRows into the domain's not_found with a reason.
func notFound(err error, reason string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return app.NotFound(reason)
	}
	return err
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// affected returns RowsAffected, the proof that a guarded update happened.
func affected(res sql.Result) (int64, error) {
	return res.RowsAffected()
}

// QueryRow runs a read-only query for tools and tests that check the
// stored truth directly (reconciliation, invariants).
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, query, args...)
}
