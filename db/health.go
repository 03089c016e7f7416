package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// writeHealth remembers whether the last write transaction failed for a
// reason of storage (a full disk, an I/O error, a read-only file). Reads
// keep working on a full disk, so only the writes themselves can tell:
// a server that answers pages but fails every claim must leave the load
// balancer's pool, and come back once writes work again.
type writeHealth struct {
	mu      sync.Mutex
	failure error // nil while writes work
}

// noteWrite records the outcome of a write transaction. Failures of the
// caller's own making (a conflict, a constraint, a cancelled request) say
// nothing about storage and leave the state as it was.
func (s *Store) noteWrite(err error) {
	if err != nil && !storageFailure(err) {
		return
	}
	s.health.mu.Lock()
	s.health.failure = err
	s.health.mu.Unlock()
}

func (s *Store) writeFailure() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.failure
}

// storageFailure reports an error of the storage rather than of the
// request: SQLite's full, I/O, read-only, cannot-open, corrupt and
// not-a-database codes, and busy (another process has held the write
// lock past the writer's 10 s timeout).
func storageFailure(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrCantOpen,
		sqlite3.ErrCorrupt, sqlite3.ErrNotADB, sqlite3.ErrBusy:
		return true
	}
	return false
}

// maxProbePages caps the probe at 1 MiB of 4 KiB pages: with more free
// pages than that, a claim would find room too.
const maxProbePages = 256

// writesWork answers nil while writes succeed. After a failure it probes
// with a small write of its own rather than wait for the next claim: a
// server that fails its health check gets no traffic, so without the
// probe it would stay out of the pool after the disk was freed. While
// writes work it writes nothing, so health checks cost the single writer
// nothing during a drop.
func (s *Store) writesWork(ctx context.Context) error {
	if s.writeFailure() == nil {
		return nil
	}
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		// The probe row is one page larger than the free pages inside the
		// file, so, like a failing claim, it needs the database to grow.
		// It is deleted again in the same transaction: its pages join the
		// free list, and the next probe asks for one more.
		var free, pageSize int64
		if err := tx.GetContext(ctx, &free, `PRAGMA freelist_count`); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &pageSize, `PRAGMA page_size`); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO write_probe (at, pad) VALUES (?, zeroblob(?))`,
			time.Now().UTC(), min(free+1, maxProbePages)*pageSize)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM write_probe WHERE id = ?`, id)
		return err
	})
	if err == nil {
		return nil
	}
	if failure := s.writeFailure(); failure != nil {
		return fmt.Errorf("writes failing: %w", failure)
	}
	return err
}
