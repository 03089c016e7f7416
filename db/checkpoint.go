package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// checkpointWait is the most a TRUNCATE checkpoint waits for the writer
// and for readers. While it waits it holds the write lock, so claims
// queue behind it; a reader that stays longer makes it give up, and the
// next checkpoint tries again.
const checkpointWait = 100 * time.Millisecond

// WALLimit is the size the WAL file is brought back to.
func (s *Store) WALLimit() int64 { return s.walLimit }

// WALSize is the size of the WAL file now (0 when there is none).
func (s *Store) WALSize() (int64, error) {
	fi, err := os.Stat(s.path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("db: wal size: %w", err)
	}
	return fi.Size(), nil
}

// Checkpoint copies the WAL into the database file and truncates the WAL
// to zero when no reader still needs it, returning the WAL's size after.
//
// SQLite's automatic checkpoints copy pages but never shrink the file,
// and no checkpoint can copy past the snapshot of the oldest open reader:
// while a long read (an export, a backup's VACUUM INTO) runs, the WAL
// grows with every write made meanwhile, and it keeps that size after.
// serve calls this whenever the WAL passes WALLimit, which brings it back
// once the long reads are over.
//
// A PASSIVE pass first copies what it can without blocking anyone. Only
// if it copied everything (no reader holds an older snapshot) does the
// TRUNCATE pass follow: it has little left to copy under the write lock,
// and waits at most checkpointWait for the current readers to finish.
func (s *Store) Checkpoint(ctx context.Context) (walBytes int64, err error) {
	conn, err := s.ckpt.Connx(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: checkpoint: %w", err)
	}
	defer conn.Close()
	var busy, frames, copied int
	for _, mode := range []string{"PASSIVE", "TRUNCATE"} {
		if err := conn.QueryRowxContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
			// A checkpoint that cannot write the database file (a full
			// disk) is a failing write like a commit.
			if storageFailure(err) {
				s.noteWrite(err)
			}
			return 0, fmt.Errorf("db: checkpoint: %w", err)
		}
		if copied < frames {
			// A reader still holds an older snapshot: TRUNCATE would only
			// hold the write lock for checkpointWait and give up.
			break
		}
	}
	return s.WALSize()
}
