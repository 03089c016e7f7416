package main

import (
	"context"
	"fmt"
	"path/filepath"

	"cqvoucher/app/token"
	"cqvoucher/db"
	"cqvoucher/seeds"
)

// site is where a run's data lives: a data directory, and the database
// db.Open is given. On SQLite the database is the directory's voucher.db;
// with -postgres it is a schema of the run's own on that server, and the
// directory holds only the keys (every voucherd of the run is given the
// same ones) and the servers' logs.
type site struct {
	dir      string
	database string // a SQLite file, or a postgres:// URL
}

// sqliteSite is the data directory's SQLite database, as voucherd serve
// -data dir opens it.
func sqliteSite(dir string) site { return site{dir: dir, database: filepath.Join(dir, "voucher.db")} }

func (s site) postgres() bool { return db.IsPostgresURL(s.database) }

// backend names the database for the output and the -json figures.
func (s site) backend() string {
	if s.postgres() {
		return "postgres"
	}
	return "sqlite"
}

// readFrom says where the checks read the stored truth, for their titles.
func (s site) readFrom() string {
	if s.postgres() {
		return "from the PostgreSQL schema"
	}
	return "from the database file, read-only"
}

// newSite is the run's site in dir: the SQLite file there, or with
// -postgres a fresh schema on that server, which drop removes (a no-op
// with -keep, which prints where it stays, and on SQLite).
func newSite(ctx context.Context, dir string, cfg config) (s site, drop func(), err error) {
	if cfg.postgres == "" {
		return sqliteSite(dir), func() {}, nil
	}
	url, dropSchema, err := db.NewPostgresSchema(ctx, cfg.postgres)
	if err != nil {
		return site{}, nil, err
	}
	s = site{dir: dir, database: url}
	if cfg.keep {
		return s, func() { fmt.Printf("schema kept: %s\n", url) }, nil
	}
	return s, func() {
		if err := dropSchema(); err != nil {
			fmt.Println("loadgen: dropping the run's schema:", err)
		}
	}, nil
}

// openFresh opens a new database at s with the product's own code:
// migrations, reference data and the signing key ring (in s.dir/keys),
// as voucherd's Open does. sync is SQLite's setting; PostgreSQL has its own.
func openFresh(ctx context.Context, s site, sync string) (*db.Store, *token.Ring, error) {
	st, err := db.Open(ctx, s.database, db.Options{Synchronous: sync})
	if err != nil {
		return nil, nil, err
	}
	if err := seeds.LoadReference(ctx, st); err != nil {
		st.Close()
		return nil, nil, err
	}
	ring, err := token.LoadOrCreate(filepath.Join(s.dir, "keys"))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ring, nil
}

// readFigures reads figures from the run's database, opened for reading
// as voucherd check opens it: a SQLite file read-only (WAL lets it in
// beside a running server), a PostgreSQL database through the store (its
// reads go on beside the servers' writes; Store.Check reads one snapshot).
// It is the one way loadgen reads what a run left, whichever the backend.
func readFigures[F any](ctx context.Context, database string, read func(*db.Store) (F, error)) (F, error) {
	var st *db.Store
	var err error
	if db.IsPostgresURL(database) {
		st, err = db.Open(ctx, database, db.Options{})
	} else {
		st, err = db.OpenReadOnly(ctx, database)
	}
	if err != nil {
		var zero F
		return zero, err
	}
	defer st.Close()
	return read(st)
}
