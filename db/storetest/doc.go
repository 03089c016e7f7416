// Package storetest is the store's conformance suite: every money rule,
// guard and interleaving of the store, and the invariants `voucherd check`
// verifies, as tests that run unchanged on each database the store runs
// on, as subtests …/sqlite/… and …/postgres/… (apptest.EachBackend). The
// PostgreSQL subtests need a server (apptest.PostgresURLEnv).
//
// Tests of one database's own machinery (SQLite's group commit, WAL and
// checkpoints, its migrations from older files) stay in package db.
package storetest
