package apptest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cqvoucher/db"
)

// The store runs on SQLite (a file, the embedded default) and on
// PostgreSQL. Tests of the store's behaviour run on both: EachBackend
// runs a test as the subtests "sqlite" and "postgres". The PostgreSQL
// subtests need a server: PostgresURLEnv names it (each test gets a fresh
// schema there, dropped at its end). Without it they skip, except where
// RequirePostgresEnv is set (CI), where a skip would hide a failure and
// the subtest fails instead.
//
// BackendEnv=postgres runs every other test on PostgreSQL too (those that
// do not name a backend), to try the whole suite against it.
const (
	PostgresURLEnv     = "VOUCHERD_TEST_POSTGRES_URL"
	RequirePostgresEnv = "VOUCHERD_REQUIRE_POSTGRES"
	BackendEnv         = "VOUCHERD_TEST_BACKEND"
)

// Backend names the database a test environment runs on.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends are the databases the store runs on, in the order tests run them.
var Backends = []Backend{SQLite, Postgres}

// EachBackend runs f once per backend, as a subtest named after it.
// Every environment New builds inside it, in the subtest or in any test
// nested under it, runs on that subtest's backend: it is read from the
// test's name (BackendOf), so f and its helpers need not pass it along.
func EachBackend(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(string(b), f)
	}
}

// BackendOf is the backend the test's name puts it under ("" for none).
func BackendOf(t testing.TB) Backend {
	name := "/" + t.Name() + "/"
	for _, b := range Backends {
		if strings.Contains(name, "/"+string(b)+"/") {
			return b
		}
	}
	return ""
}

// database is where a new environment's store lives: a file in the
// test's temporary directory, or a fresh schema on the PostgreSQL server.
func database(t testing.TB, b Backend) string {
	t.Helper()
	if b == "" {
		b = BackendOf(t)
	}
	if b == "" {
		b = Backend(os.Getenv(BackendEnv))
	}
	if b != Postgres {
		return filepath.Join(t.TempDir(), "voucher.db")
	}
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		if os.Getenv(RequirePostgresEnv) != "" {
			t.Fatalf("%s is not set, and %s says this run must test PostgreSQL", PostgresURLEnv, RequirePostgresEnv)
		}
		t.Skipf("no PostgreSQL server: set %s=postgres://… to run this subtest", PostgresURLEnv)
	}
	url, drop, err := db.NewPostgresSchema(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop the test's schema: %v", err)
		}
	})
	return url
}

// Exec changes the stored rows by hand, in one write transaction through
// the store (so on either backend), as someone with the database could:
// tests that the books check notices use it.
func (e *Env) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	err := e.Store.BulkTx(context.Background(), func(tx *db.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(context.Background(), q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ExecSQLiteFile changes a SQLite database file by hand, outside any
// store, as someone with the file could (a copy for the books check, an
// old file for a migration).
func ExecSQLiteFile(t testing.TB, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// listen runs the process's cache news listener, as voucherd serve does,
// and returns once it listens (PostgreSQL; on SQLite there is nothing to
// hear). Each piece of news applied is also offered to NewsApplied.
func (e *Env) listen(t testing.TB) {
	if !e.Store.Postgres() {
		return
	}
	e.news = make(chan string, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Store.Listen(ctx, db.Listener{
			Apply: func(news string) {
				e.App.ApplyNews(news)
				select {
				case e.news <- news:
				default: // nobody reads: a test that does not wait for news
				}
			},
			Ready:  func() { once.Do(func() { close(ready) }) },
			Failed: func(err error) { t.Logf("cache news listener: %v", err) },
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(30 * time.Second): // a guard against a hung server, not a speed check
		t.Fatal("the cache news listener did not start")
	}
}

// NewsApplied waits until this process has applied news (want, as
// published: "campaign:12"), skipping other news; it fails the test if
// none comes. Tests of coherence across processes wait for the news, not
// for a time.
func (e *Env) NewsApplied(t testing.TB, want string) {
	t.Helper()
	if e.news == nil {
		t.Fatal("NewsApplied: this environment hears no news (PostgreSQL only)")
	}
	guard := time.After(30 * time.Second) // a hung server, not a speed check
	for {
		select {
		case got := <-e.news:
			if got == want {
				return
			}
		case <-guard:
			t.Fatalf("no news %q reached this process", want)
		}
	}
}

// Beside is a second voucherd process on e's database (PostgreSQL only):
// its own connections, caches, domain and web server, with e's keys,
// clock, SMS outbox, officers, merchant and cashier.
func (e *Env) Beside(t testing.TB) *Env {
	t.Helper()
	if !e.Store.Postgres() {
		t.Fatal("Beside: several processes share a PostgreSQL database only")
	}
	b := &Env{Key: e.Key, Ring: e.Ring, Clock: e.Clock, SMS: e.SMS, Path: e.Path, opt: e.opt,
		identityKey: e.identityKey, dataKey: e.dataKey,
		Maker: e.Maker, Approver: e.Approver, Merchant: e.Merchant, Cashier: e.Cashier}
	b.assemble(t, false)
	return b
}
