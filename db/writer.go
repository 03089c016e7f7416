package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit.
//
// SQLite has one writer, and at synchronous=FULL every COMMIT waits for
// its fsync. A claim committed alone therefore costs one fsync, and the
// disk's fsync rate caps the drop (docs/performance.md). The writer
// instead runs as one goroutine owning the write connection: it takes
// every write step waiting in its queue (up to MaxBatch), runs each one
// inside its own SAVEPOINT in a single transaction, commits once, and
// only then answers each caller with its own result. A refused step rolls
// back to its savepoint alone; the others are untouched by it. A step
// that arrives while the writer is idle starts a batch of one at once:
// batching never adds a wait, it only collects what queued meanwhile.
//
// Nothing is answered before the COMMIT that holds it has returned, so
// durability is what it was; every guard still runs in SQL against the
// stored state, now including the steps earlier in the same batch, which
// is exactly what committing them one by one in the same order would see.

// DefaultMaxBatch bounds how many write steps share one commit. Larger
// batches amortise the fsync further but hold every caller of the batch
// until the last step ran; at about 0.1 ms of work per claim, 256 steps
// keep that under ~30 ms (docs/performance.md).
const DefaultMaxBatch = 256

// errClosed answers a write that arrives after Close began.
var errClosed = errors.New("db: store is closed")

// writeStep is one write transaction's body waiting for the writer.
type writeStep struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *Tx, now time.Time) error
	done chan error // buffered: the writer never waits for a caller
}

// groupWriter is the goroutine that owns the write connection.
type groupWriter struct {
	steps    chan *writeStep
	maxBatch int
	stopped  chan struct{} // closed when the loop has returned

	// mu guards closed; callers hold it (shared) while they hand over a
	// step, so that Close knows when no caller can still send.
	mu      sync.RWMutex
	closed  bool
	senders sync.WaitGroup

	commits  atomic.Int64 // transactions committed
	written  atomic.Int64 // steps committed in them
	stepNs   atomic.Int64 // time spent running steps' bodies
	commitNs atomic.Int64 // time spent in COMMIT (the fsync)
}

// WriterStats says how well group commit batches: Steps ÷ Commits is the
// number of write steps that shared each fsync.
type WriterStats struct {
	Commits    int64         // write transactions committed
	Steps      int64         // write steps committed in them
	StepTime   time.Duration // spent in the steps' bodies
	CommitTime time.Duration // spent in COMMIT, that is mostly waiting for the disk
}

// WriterStats reports the writer's commits and steps since Open.
func (s *Store) WriterStats() WriterStats {
	if s.writer == nil {
		return WriterStats{}
	}
	g := s.writer
	return WriterStats{Commits: g.commits.Load(), Steps: g.written.Load(),
		StepTime: time.Duration(g.stepNs.Load()), CommitTime: time.Duration(g.commitNs.Load())}
}

func newGroupWriter(maxBatch int) *groupWriter {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	return &groupWriter{
		steps:    make(chan *writeStep, maxBatch),
		maxBatch: maxBatch,
		stopped:  make(chan struct{}),
	}
}

// txAt runs fn in one write transaction that holds the one writer: fn
// gets the time read after BEGIN IMMEDIATE, once its transaction holds the
// writer. A request may have waited in the queue across a drop's time, an
// expiry or midnight; only this time says what is true when the step is
// written, and every guard and every stored time uses it.
//
// fn must use the ctx it is given, not its caller's: once a step is
// running its statements are not cancelled (an interrupted statement
// would roll back the whole shared transaction, every other caller's step
// with it). A caller whose context ends before its step starts gets the
// context's error and nothing is written. fn's changes are committed only
// if it returns nil, and txAt returns only after that commit.
func (s *Store) txAt(ctx context.Context, fn func(ctx context.Context, tx *Tx, now time.Time) error) error {
	s.queued.Add(1)
	defer s.queued.Add(-1)
	if err := ctx.Err(); err != nil {
		return err
	}
	g := s.writer
	if s.Postgres() {
		return s.runOnPool(&writeStep{ctx: ctx, fn: fn})
	}
	if g == nil { // OpenReadOnly: no writer; the write fails on the read-only file
		err := s.runAlone(&writeStep{ctx: ctx, fn: fn})
		return err
	}
	step := &writeStep{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	g.senders.Add(1)
	g.mu.RUnlock()
	defer g.senders.Done()
	select {
	case g.steps <- step:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the step's outcome is waited for whatever the
	// caller's context does: the answer must say whether it was written.
	return <-step.done
}

// startWriter starts the writer goroutine.
func (s *Store) startWriter(maxBatch int) {
	s.writer = newGroupWriter(maxBatch)
	go s.writeLoop(s.writer)
}

// stopWriter lets every step already handed over finish, refuses new
// ones, and waits for the loop to return.
func (s *Store) stopWriter() {
	g := s.writer
	if g == nil {
		return
	}
	g.mu.Lock()
	already := g.closed
	g.closed = true
	g.mu.Unlock()
	if already {
		<-g.stopped
		return
	}
	g.senders.Wait()
	close(g.steps)
	<-g.stopped
}

func (s *Store) writeLoop(g *groupWriter) {
	defer close(g.stopped)
	batch := make([]*writeStep, 0, g.maxBatch)
	errs := make([]error, g.maxBatch)
	for first := range g.steps {
		batch = append(batch[:0], first)
	collect:
		for len(batch) < g.maxBatch {
			select {
			case step, ok := <-g.steps:
				if !ok {
					break collect
				}
				batch = append(batch, step)
			default:
				break collect
			}
		}
		results := errs[:len(batch)]
		clear(results)
		s.runBatch(batch, results)
		for i, step := range batch {
			s.noteWrite(results[i])
			step.done <- results[i]
		}
		clear(batch) // let the steps' closures go
	}
}

// runAlone runs one step in its own transaction, without the writer
// goroutine (a read-only store has none).
func (s *Store) runAlone(step *writeStep) error {
	errs := []error{nil}
	s.runBatch([]*writeStep{step}, errs)
	s.noteWrite(errs[0])
	return errs[0]
}

// runOnPool runs a step as its own transaction on PostgreSQL's pool, on
// its caller's goroutine: many run at once, in this process and in
// others, and the server's row locks and constraints order them. One that
// the server ended as a deadlock's victim is run again from the start; it
// decides again from the stored state, so nothing is written twice.
func (s *Store) runOnPool(step *writeStep) error {
	const tries = 5
	var err error
	for try := 0; try < tries; try++ {
		if err = s.runAlone(step); !retryable(err) {
			return err
		}
	}
	return err
}

// runBatch runs the steps in one transaction and sets results[i] to what
// step i's caller must be told.
func (s *Store) runBatch(batch []*writeStep, results []error) {
	// The transaction is the writer's, not any caller's: a caller's
	// cancelled context must not roll back the others' steps.
	tx, err := s.w.BeginTxx(context.Background(), nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("db: begin: %w", err)
		}
		return
	}
	// A batch of one needs no savepoint: the transaction is the step.
	alone := len(batch) == 1
	var counters batchCounters
	var sc stepCounters
	for i, step := range batch {
		if err := step.ctx.Err(); err != nil {
			results[i] = err // its caller gave up before it started: nothing written
			continue
		}
		if !alone {
			if _, err := tx.Exec(`SAVEPOINT step`); err != nil {
				abortBatch(tx, results, i, fmt.Errorf("db: savepoint: %w", err))
				return
			}
		}
		t0 := time.Now()
		results[i] = runStep(step, &sc, tx, s.now())
		if s.writer != nil {
			s.writer.stepNs.Add(int64(time.Since(t0)))
		}
		if results[i] == nil {
			counters.keep(&sc)
		}
		sc.adds = sc.adds[:0]
		if alone {
			break
		}
		// ROLLBACK TO keeps the savepoint; RELEASE then drops it. Either
		// failing means SQLite ended the transaction itself (a full disk,
		// an I/O error): the steps before are lost with it, and running
		// more statements now would commit each on its own.
		if results[i] != nil {
			if _, err := tx.Exec(`ROLLBACK TO step`); err != nil {
				abortBatch(tx, results, i+1, fmt.Errorf("db: rollback to savepoint: %w (after %v)", err, results[i]))
				return
			}
		}
		if _, err := tx.Exec(`RELEASE step`); err != nil {
			abortBatch(tx, results, i+1, fmt.Errorf("db: release savepoint: %w", err))
			return
		}
	}
	if alone && results[0] != nil {
		_ = tx.Rollback()
		return
	}
	if err := counters.flush(context.Background(), tx); err != nil {
		abortBatch(tx, results, len(results), err)
		return
	}
	t0 := time.Now()
	err = tx.Commit()
	took := time.Since(t0)
	if s.writer != nil {
		s.writer.commitNs.Add(int64(took))
	}
	if s.observeCommit != nil && err == nil {
		s.observeCommit(took)
	}
	if err != nil {
		err = fmt.Errorf("db: commit: %w", err)
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		return
	}
	if g := s.writer; g != nil {
		g.commits.Add(1)
		for _, err := range results {
			if err == nil {
				g.written.Add(1)
			}
		}
	}
}

// runStep runs one step's body. Its statements run on a context that is
// never cancelled (see txAt) but keeps the caller's values, and collects
// its counter additions in sc (counters.go). A panic in
// it is that step's error, not the end of the writer (and with it of
// every later write).
func runStep(step *writeStep, sc *stepCounters, tx *Tx, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("db: write step panicked: %v", r)
		}
	}()
	ctx := context.WithValue(context.WithoutCancel(step.ctx), countersKey{}, sc)
	return step.fn(ctx, tx, now)
}

// abortBatch rolls the transaction back after it broke: every step whose
// result said success (those before from) is told it was not written, and
// so is every step from on that had not run yet.
func abortBatch(tx *Tx, results []error, from int, err error) {
	_ = tx.Rollback()
	for i := range results {
		if results[i] == nil || i >= from {
			results[i] = err
		}
	}
}
