package db

import (
	"context"
	"database/sql"
	"testing"
)

// TestCheckpointTruncatesOnceTheReaderCloses: a reader holding a snapshot
// lets the WAL grow past the limit, and no checkpoint can shrink it while
// the reader stays; once it closes, one checkpoint brings the WAL back to
// at most the limit. Sizes, not times.
func TestCheckpointTruncatesOnceTheReaderCloses(t *testing.T) {
	ctx := context.Background()
	const limit = 1 << 20
	s, rtx := storeWithHeldReader(t, limit)
	var n int
	// 8 MiB in 128 commits, as a burst of claims would write.
	for range 128 {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO filler VALUES (randomblob(65536))`); err != nil {
			t.Fatal(err)
		}
	}
	held, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if held < 8<<20 {
		t.Fatalf("WAL %d bytes with a reader holding the first snapshot; want it to have kept all 8 MiB", held)
	}
	if err := rtx.Rollback(); err != nil {
		t.Fatal(err)
	}
	after, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after > limit {
		t.Fatalf("WAL %d bytes after the reader closed and a checkpoint ran, want at most %d", after, limit)
	}
	// The data is in the database file, not lost with the WAL.
	if err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM filler`); err != nil || n != 128 {
		t.Fatalf("rows after the checkpoint: %d, %v", n, err)
	}
}

// TestWriterCutsTheWALBackWithoutTheCheckpointer: even without the
// checkpointer (as in migrate or seed), once a long reader is gone the
// writer's automatic checkpoints restart the log and journal_size_limit
// cuts the file back, instead of SQLite keeping its high-water mark.
func TestWriterCutsTheWALBackWithoutTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	const limit = 1 << 20
	s, rtx := storeWithHeldReader(t, limit)
	write := func(commits int) {
		for range commits {
			if _, err := s.w.ExecContext(ctx, `INSERT INTO filler VALUES (randomblob(65536))`); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(256)
	held, _ := s.WALSize()
	rtx.Rollback()
	write(256)
	end, _ := s.WALSize()
	// Between restarts the WAL holds up to wal_autocheckpoint pages and
	// one more commit; after a restart it is cut to the limit.
	var pageSize, autoPages int64
	s.w.GetContext(ctx, &pageSize, `PRAGMA page_size`)
	s.w.GetContext(ctx, &autoPages, `PRAGMA wal_autocheckpoint`)
	bound := limit + autoPages*pageSize + 2*65536
	if held < 16<<20 || end > bound {
		t.Fatalf("WAL %d bytes while the reader held its snapshot (want ≥ 16 MiB), %d after (want ≤ %d)", held, end, bound)
	}
}

// storeWithHeldReader opens a store with a WAL limit and a table to fill,
// and a reader on its own connection holding a snapshot taken before any
// of the filling: the long export or backup that pins the WAL.
func storeWithHeldReader(t *testing.T, limit int64) (*Store, *sql.Tx) {
	t.Helper()
	ctx := context.Background()
	s := openTestStore(t, Options{WALLimit: limit})
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	reader, err := sql.Open("sqlite3", "file:"+s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	rtx, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtx.Rollback() })
	var n int
	if err := rtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM filler`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return s, rtx
}
