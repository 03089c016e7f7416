package apptest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"cqvoucher/db"
)

// The store runs on SQLite (a file, the embedded default) and on
// PostgreSQL. Tests of the store's behaviour run on both: EachBackend
// runs a test as the subtests "sqlite" and "postgres". The PostgreSQL
// subtests need a server: PostgresURLEnv names it (each test gets a fresh
// schema there, dropped at its end). Without it they skip, except where
// RequirePostgresEnv is set (CI), where a skip would hide a failure and
// the subtest fails instead.
const (
	PostgresURLEnv     = "VOUCHERD_TEST_POSTGRES_URL"
	RequirePostgresEnv = "VOUCHERD_REQUIRE_POSTGRES"
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
func EachBackend(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(string(b), func(t *testing.T) { f(t, b) })
	}
}

// database is where a new environment's store lives: a file in the
// test's temporary directory, or a fresh schema on the PostgreSQL server.
func database(t testing.TB, b Backend) string {
	t.Helper()
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
