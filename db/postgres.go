package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
)

// PostgreSQL.
//
// The same store runs on a PostgreSQL server when Open is given a
// postgres:// URL: the same statements (dialect.go rewrites them), its own
// migrations (migrations/postgres, forward-only, recorded in
// schema_migrations as SQLite's are). What differs is who serialises the
// writes. SQLite has one writer and the store's writer goroutine batches
// its commits; PostgreSQL has many connections, and any number of voucherd
// processes may share the database, so each write step is its own
// transaction on the pool, run by its caller. Every guard is a guarded
// UPDATE or a constraint, which READ COMMITTED evaluates against the row's
// newest committed version once it holds the row's lock: two claims of
// the last voucher cannot both see it.

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// IsPostgresURL reports whether a database setting names a PostgreSQL
// server rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DefaultPostgresConns bounds each process's connections to the server:
// write steps run on their callers' goroutines, and a server's
// max_connections (100 by default) is shared by every voucherd.
const DefaultPostgresConns = 16

func openPostgres(ctx context.Context, url string, opt Options) (*Store, error) {
	conns := opt.ReadConns
	if conns <= 0 {
		conns = DefaultPostgresConns
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	raw.SetMaxOpenConns(conns)
	raw.SetMaxIdleConns(conns)
	pool := newDB(sqlx.NewDb(raw, "pgx"), &dialect{postgres: true})
	if err := pool.PingContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("db: %s: %w", redactURL(url), err)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	// PostgreSQL keeps microseconds: the writer's now is cut to them, so a
	// time the store answers is the time it stored.
	now := func() time.Time { return opt.Now().UTC().Truncate(time.Microsecond) }
	s := &Store{w: pool, r: pool, path: redactURL(url), now: now, auditHash: opt.AuditHash, url: url, observeCommit: opt.ObserveCommit}
	if err := s.migratePostgres(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Before any statement is rewritten (and kept rewritten): counted(…)
	// names the columns the migrations made.
	counted, err := countedTables(ctx, pool)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("db: counted tables: %w", err)
	}
	pool.d.counted = counted
	return s, nil
}

// Postgres reports whether the store runs on a PostgreSQL server.
func (s *Store) Postgres() bool { return s.r.d.postgres }

// migratePostgres applies, in name order, each embedded PostgreSQL
// migration not yet recorded, each in its own transaction. An advisory
// lock held by that transaction makes processes starting together take
// turns: the second finds the migration recorded.
func (s *Store) migratePostgres(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("db: migrations table: %w", err)
	}
	names, err := fs.Glob(postgresMigrations, "migrations/postgres/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := postgresMigrations.ReadFile(name)
		if err != nil {
			return err
		}
		base := path.Base(name)
		if err := s.applyPostgresMigration(ctx, base, string(body)); err != nil {
			return fmt.Errorf("db: migration postgres/%s: %w", base, err)
		}
	}
	return nil
}

// migrationLock is the advisory lock key migrations take (any constant
// that no other lock of the product uses).
const migrationLock = 7_205_001

func (s *Store) applyPostgresMigration(ctx context.Context, name, body string) error {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
		return err
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name); err != nil || n > 0 {
		return err
	}
	// Passed as written, without arguments: the server then reads the
	// file's many statements as one simple query.
	if _, err := tx.tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// Background jobs run in every voucherd, and once across the fleet: each
// sweep's transaction first takes its job's advisory lock, and a process
// that finds it held by another leaves the round to that one. The lock is
// the transaction's (pg_try_advisory_xact_lock): it ends with it, so a
// process that dies mid-sweep holds nothing. The keys are constants no
// other lock of the product uses.
const (
	sweepExpiredJob   = 7_205_101
	sweepRetentionJob = 7_205_102
)

// onlyOneAtATime reports whether this transaction may run job: always on
// SQLite (one process), on PostgreSQL when no other transaction holds the
// job's lock.
func (s *Store) onlyOneAtATime(ctx context.Context, tx *Tx, job int64) (bool, error) {
	if !s.Postgres() {
		return true, nil
	}
	var got bool
	err := tx.GetContext(ctx, &got, `SELECT pg_try_advisory_xact_lock(?)`, job)
	return got, err
}

// lockMerchantDay orders a merchant's redemptions and reversals of a
// local day against marking that day paid, on PostgreSQL: the first take
// the merchant-day's advisory lock shared, marking paid takes it
// exclusive, each before the statement that decides. A payment then
// never commits beside a redemption it did not count: whichever comes
// second reads the other's committed rows (READ COMMITTED reads anew for
// each statement). On SQLite the one writer orders them already. The
// two-key form keeps these locks apart from the jobs' one-key locks.
func (s *Store) lockMerchantDay(ctx context.Context, tx *Tx, merchantID int64, day string, exclusive bool) error {
	if !s.Postgres() {
		return nil
	}
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		return fmt.Errorf("db: merchant-day lock: %w", err)
	}
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	// int4 keys: merchant ids stay far below 2^31; the day as days since 2000.
	_, err = tx.ExecContext(ctx, `SELECT `+fn+`(CAST(? AS integer), CAST(? AS integer))`, merchantID, int(d.Sub(dayZero).Hours()/24))
	return err
}

var dayZero = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// retryable reports whether PostgreSQL ended a transaction only because
// it ran into another (a deadlock, or a serialization failure): running
// it again decides anew from the stored state.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// postgresUnique reports a unique or primary key violation.
func postgresUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// redactURL is a database URL without its password, for logs and errors.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if colon := strings.Index(rest[:at], ":"); colon >= 0 {
				return s[:i+3] + rest[:colon] + ":***" + rest[at:]
			}
		}
	}
	return s
}

// NewPostgresSchema creates an empty schema with a fresh name in the
// database base names, and returns a URL whose connections use it (its
// search_path) and a function that drops it with everything in it. Each
// test, and each load-generator run, gets a database of its own this way
// without needing the right to create databases.
func NewPostgresSchema(ctx context.Context, base string) (url string, drop func() error, err error) {
	raw, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		raw.Close()
		return "", nil, err
	}
	name := "t_" + hex.EncodeToString(b)
	if _, err := raw.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		raw.Close()
		return "", nil, fmt.Errorf("db: create schema on %s: %w", redactURL(base), err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	drop = func() error {
		defer raw.Close()
		_, err := raw.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
		return err
	}
	// options=-c search_path=…: a startup parameter pgx and libpq (psql,
	// pg_dump) both pass on to the server.
	return base + sep + "options=-csearch_path%3D" + name, drop, nil
}
