// Package db stores the voucher system in SQLite through sqlx. It
// implements app.Store; every method that moves money or stock is one
// transaction with guarded updates.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
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
	ReadConns   int    // size of the read pool; 0 = number of CPUs, at least 2 (PostgreSQL: of the one pool, 0 = DefaultPostgresConns)
	// Now is the clock the writer reads inside each money transaction,
	// after BEGIN IMMEDIATE (nil: the wall clock). Tests inject theirs.
	Now func() time.Time
	// AuditHash chains new audit rows: app.AuditSHA256 (default, "") or
	// app.AuditSM3 in the commercial cryptography mode.
	AuditHash string
	// WALLimit is the size the WAL file is brought back to (see
	// Checkpoint); 0 = DefaultWALLimit.
	WALLimit int64
	// MaxBatch bounds how many write steps share one commit (writer.go);
	// 0 = DefaultMaxBatch, 1 = every step commits alone.
	MaxBatch int
	// ObserveCommit, if set, is told how long each write transaction's
	// COMMIT took (operators' metrics); it must not block.
	ObserveCommit func(time.Duration)
}

// DefaultWALLimit bounds the WAL file outside long reads: about 1,300
// claims' worth of pages at synchronous=FULL, small beside the database,
// large enough that the checkpointer runs rarely (docs/performance.md).
const DefaultWALLimit = 64 << 20

// stmtCacheSize is how many prepared statements each connection keeps:
// more than the distinct statements of the hot paths (claim, redemption,
// reversal, session and voucher reads) together.
const stmtCacheSize = 96

// Store is the SQLite implementation of app.Store.
//
// Writes go through a pool of one connection: SQLite has one writer anyway,
// and queueing in Go keeps the worst wait in milliseconds instead of
// busy-retry seconds. Reads use a pool of their own, which WAL lets run
// beside the writer.
type Store struct {
	w *DB
	r *DB
	// ckpt is the checkpointer's own connection: its short busy timeout
	// keeps a checkpoint that waits for readers from stalling the writer.
	ckpt     *DB
	path     string
	walLimit int64
	health   writeHealth
	now      func() time.Time // the writer's clock, read after BEGIN (see txAt)
	queued   atomic.Int64     // write transactions waiting for the writer or running (WriterQueue)
	writer   *groupWriter     // the goroutine that owns the write connection (writer.go); nil when read-only
	// auditHash chains the audit rows this store appends (see appendAudit).
	auditHash string
	// observeCommit is Options.ObserveCommit.
	observeCommit func(time.Duration)
	url           string // PostgreSQL: the database's URL, for the news listener's own connection
}

// Store is checked against app.Store here, not only where cmd wires it.
var _ app.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, or the
// PostgreSQL database a postgres:// URL names, and applies the embedded
// migrations.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if opt.AuditHash == "" {
		opt.AuditHash = app.AuditSHA256
	}
	if IsPostgresURL(path) {
		if !app.KnownAuditHash(opt.AuditHash) {
			return nil, fmt.Errorf("db: unknown audit hash %q (%s or %s)", opt.AuditHash, app.AuditSHA256, app.AuditSM3)
		}
		return openPostgres(ctx, path, opt)
	}
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
	if opt.WALLimit <= 0 {
		opt.WALLimit = DefaultWALLimit
	}
	if opt.AuditHash == "" {
		opt.AuditHash = app.AuditSHA256
	}
	if !app.KnownAuditHash(opt.AuditHash) {
		return nil, fmt.Errorf("db: unknown audit hash %q (%s or %s)", opt.AuditHash, app.AuditSHA256, app.AuditSM3)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: %w", err)
		}
	}
	// Pragmas go in the DSN because each pooled connection is its own
	// SQLite handle: a PRAGMA run once would reach only one of them.
	// busy_timeout comes first so that the others wait rather than fail.
	dsn := func(txlock string, busy time.Duration) string {
		q := url.Values{}
		q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", opt.Synchronous)
		q.Set("_foreign_keys", "on")
		// Deleted and overwritten content is zeroed, not left in free
		// space: an erased resident or a number sealed at start-up leaves
		// no readable trace in the file (docs/privacy.md).
		q.Set("_secure_delete", "on")
		q.Set("_txlock", txlock)
		// Each connection keeps its prepared statements (the driver's LRU
		// cache): a claim runs about ten statements, and preparing them
		// anew cost more than running them (docs/performance.md).
		q.Set("_stmt_cache_size", strconv.Itoa(stmtCacheSize))
		return "file:" + path + "?" + q.Encode()
	}
	// journal_size_limit has no DSN key: each connection sets it as it
	// opens. Whichever connection resets the WAL after a full checkpoint
	// then cuts the file back to the limit instead of keeping its
	// high-water mark (SQLite reuses, and never shrinks, a WAL otherwise).
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA journal_size_limit = %d", opt.WALLimit), nil)
		return err
	}}
	open := func(dsn string) *DB {
		return newDB(sqlx.NewDb(sql.OpenDB(connector{drv, dsn}), "sqlite3"), sqliteDialect)
	}
	w := open(dsn("immediate", 10*time.Second))
	w.db.SetMaxOpenConns(1)
	w.db.SetMaxIdleConns(1)
	w.db.SetConnMaxIdleTime(0)
	r := open(dsn("deferred", 10*time.Second))
	r.db.SetMaxOpenConns(opt.ReadConns)
	r.db.SetMaxIdleConns(opt.ReadConns)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	ckpt := open(dsn("deferred", checkpointWait))
	ckpt.db.SetMaxOpenConns(1)
	s := &Store{w: w, r: r, ckpt: ckpt, path: path, walLimit: opt.WALLimit, now: func() time.Time { return opt.Now().UTC() }, auditHash: opt.AuditHash,
		observeCommit: opt.ObserveCommit}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.startWriter(opt.MaxBatch)
	if err := s.backfillWaits(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("db: backfill of claim-to-redemption times: %w", err)
	}
	return s, nil
}

// backfillWaits computes the claim-to-redemption time of redemptions
// written before it was stored with them (migration 0013), with the same
// function as every new redemption, in one transaction; afterwards there
// is nothing left to do and it costs one indexed read at start-up.
func (s *Store) backfillWaits(ctx context.Context) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var rows []struct {
			ID        int64     `db:"id"`
			CreatedAt time.Time `db:"created_at"`
			ClaimedAt time.Time `db:"claimed_at"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT r.id, r.created_at, v.claimed_at FROM redemptions r
			JOIN vouchers v ON v.id = r.voucher_id WHERE r.wait_s IS NULL`); err != nil || len(rows) == 0 {
			return err
		}
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `UPDATE redemptions SET wait_s = ? WHERE id = ?`,
				app.ClaimToRedeemSeconds(r.ClaimedAt, r.CreatedAt), r.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// connector opens connections of one DSN through one driver value, so
// that its ConnectHook runs on each of them.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// Close closes the pools.
func (s *Store) Close() error {
	if s.ckpt == nil { // OpenReadOnly and PostgreSQL: one pool serves as both
		return s.r.Close()
	}
	s.stopWriter()
	return errors.Join(s.r.Close(), s.w.Close(), s.ckpt.Close())
}

// Ping checks that a read and the writer both answer, and that writes
// succeed: a database that reads fine while every commit fails (a full
// disk) must not look healthy. See writeHealth.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.GetContext(ctx, &one, `SELECT 1`); err != nil {
		return err
	}
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.writesWork(ctx)
}

// Backup writes a consistent snapshot to path with VACUUM INTO, which,
// unlike the online backup API, finishes while others keep writing. The
// snapshot is written under a temporary name beside path, synced, and
// only then linked to path (which fails if path exists), so path never
// names a half-written file, even after a crash or a full disk; the
// temporary is removed whatever happens.
//
// VACUUM INTO reads in one transaction: while it runs, the WAL cannot be
// checkpointed past its snapshot and grows by whatever is written
// meanwhile; it comes back to the limit at the first checkpoint after.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("db: backup target %s exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("db: backup target: %w", err)
	}
	dir := filepath.Dir(path)
	// VACUUM INTO accepts an empty file; CreateTemp makes it 0600, and a
	// backup holds everything a database does.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if _, err := s.r.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	if err := syncPath(dir); err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	return nil
}

// syncPath fsyncs a file or a directory (to persist the names in it).
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
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
	// In a transaction of the writer's (BEGIN IMMEDIATE): it takes the
	// write lock before it reads the schema, waiting for it as
	// busy_timeout says. A bare statement would read first and then find,
	// when another process starting beside it had just made the table, that
	// it cannot write from its stale read: "database is locked" at once.
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: migrations table: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)`); err != nil {
		return fmt.Errorf("db: migrations table: %w", err)
	}
	if err := tx.Commit(); err != nil {
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
	// Checked inside the (immediate) transaction: a second process that
	// starts at the same moment waits here for the first one's commit and
	// then finds the migration recorded, instead of applying it twice.
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name); err != nil || n > 0 {
		return err
	}
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

// tx runs fn in one write transaction (see txAt) and commits only if fn
// returns nil.
func (s *Store) tx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, _ time.Time) error { return fn(ctx, tx) })
}

// WriterQueue is how many write transactions are waiting for the one
// writer or running on it: the admission of new claims is bounded by it,
// so that under overload a press is answered at once instead of queueing
// into a timeout.
func (s *Store) WriterQueue() int { return int(s.queued.Load()) }

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
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) ||
		postgresUnique(err)
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

// QueryRows is QueryRow for a query of many rows.
func (s *Store) QueryRows(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	return s.r.QueryxContext(ctx, query, args...)
}
