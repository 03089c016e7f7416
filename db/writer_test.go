package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Group commit, tested on a real SQLite file. Each test holds the writer
// with one step, lets others queue behind it (a condition on the queue,
// not a time), releases it and checks what each caller was told against
// what the file holds.

// heldWriter starts a step that keeps the writer busy until release is
// closed.
func heldWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	held, free := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.tx(context.Background(), func(context.Context, *Tx) error { close(held); <-free; return nil })
	}()
	<-held
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(free)
			if err := <-done; err != nil {
				t.Errorf("holding step: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// waitQueued waits until n steps wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for len(s.writer.steps) < n {
		runtime.Gosched()
	}
}

func scratchTable(t *testing.T, s *Store) {
	t.Helper()
	if err := s.tx(context.Background(), func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (name TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func scratchRows(t *testing.T, s *Store) []string {
	t.Helper()
	var names []string
	if err := s.r.SelectContext(context.Background(), &names, `SELECT name FROM scratch ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	return names
}

// insertStep writes one scratch row, then fails with fail (nil: succeeds).
func insertStep(name string, fail error) func(context.Context, *Tx, time.Time) error {
	return func(ctx context.Context, tx *Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (name) VALUES (?)`, name); err != nil {
			return err
		}
		return fail
	}
}

// queue hands steps to the writer from their own goroutines, in order
// (each waits until the one before is in the queue), and returns a
// function that waits for and returns every caller's answer.
func queue(t *testing.T, s *Store, base int, steps ...func(context.Context, *Tx, time.Time) error) func() []error {
	t.Helper()
	answers := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, fn := range steps {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = s.txAt(context.Background(), fn) }()
		waitQueued(t, s, base+i+1)
	}
	return func() []error { wg.Wait(); return answers }
}

// TestGroupCommitSharesOneCommit: steps that queued while the writer was
// busy are committed together, each told its own result only after it.
func TestGroupCommitSharesOneCommit(t *testing.T) {
	s := openTestStore(t, Options{})
	scratchTable(t, s)
	release := heldWriter(t, s)
	before := s.WriterStats()
	const n = 40
	steps := make([]func(context.Context, *Tx, time.Time) error, n)
	for i := range steps {
		steps[i] = insertStep(fmt.Sprintf("r%02d", i), nil)
	}
	answers := queue(t, s, 0, steps...)
	release()
	for i, err := range answers() {
		if err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	if got := len(scratchRows(t, s)); got != n {
		t.Fatalf("%d rows written, want %d", got, n)
	}
	after := s.WriterStats()
	// The holding step commits alone; the 40 queued behind it share one.
	if commits, written := after.Commits-before.Commits, after.Steps-before.Steps; commits != 2 || written != n+1 {
		t.Errorf("%d commits for %d steps, want 2 commits for %d steps", commits, written, n+1)
	}
}

// TestRefusedStepRollsBackAlone: a step that wrote and then failed leaves
// nothing, and the steps around it in the same commit keep what they
// wrote; a step that panics is that step's error, not the writer's end.
func TestRefusedStepRollsBackAlone(t *testing.T) {
	s := openTestStore(t, Options{})
	scratchTable(t, s)
	release := heldWriter(t, s)
	refused := errors.New("refused")
	answers := queue(t, s, 0,
		insertStep("a", nil),
		insertStep("b", refused),
		insertStep("a", nil), // a UNIQUE failure: refused by SQL
		func(ctx context.Context, tx *Tx, now time.Time) error {
			_ = insertStep("p", nil)(ctx, tx, now)
			panic("bug")
		},
		insertStep("c", nil),
	)
	release()
	got := answers()
	if got[0] != nil || got[4] != nil {
		t.Errorf("the steps around the refused ones: %v, %v", got[0], got[4])
	}
	if !errors.Is(got[1], refused) {
		t.Errorf("refused step told %v", got[1])
	}
	if got[2] == nil || !strings.Contains(got[2].Error(), "UNIQUE") {
		t.Errorf("duplicate step told %v, want its UNIQUE failure", got[2])
	}
	if got[3] == nil || !strings.Contains(got[3].Error(), "panicked") {
		t.Errorf("panicking step told %v", got[3])
	}
	if rows := strings.Join(scratchRows(t, s), ","); rows != "a,c" {
		t.Errorf("rows %q, want a,c", rows)
	}
}

// TestBrokenTransactionFailsTheWholeBatch: when the shared transaction
// ends under a step (here the step ends it itself, as SQLite does on a
// full disk or an I/O error), every step of the batch, including those
// that had already succeeded, is told it was not written, none of their
// rows is there, and nothing after the break runs outside a transaction.
func TestBrokenTransactionFailsTheWholeBatch(t *testing.T) {
	s := openTestStore(t, Options{})
	scratchTable(t, s)
	release := heldWriter(t, s)
	answers := queue(t, s, 0,
		insertStep("a", nil),
		func(ctx context.Context, tx *Tx, _ time.Time) error {
			_, err := tx.ExecContext(ctx, `ROLLBACK`)
			return err
		},
		insertStep("b", nil),
	)
	release()
	for i, err := range answers() {
		if err == nil {
			t.Errorf("step %d told it was written in a transaction that was rolled back", i)
		}
	}
	if rows := scratchRows(t, s); len(rows) != 0 {
		t.Errorf("rows %v survived the broken batch", rows)
	}
	// The writer goes on.
	if err := s.txAt(context.Background(), insertStep("after", nil)); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Join(scratchRows(t, s), ","); rows != "after" {
		t.Errorf("rows %q after the broken batch", rows)
	}
}

// TestCallerContextAndTheWriter: a caller that gives up while its step
// waits writes nothing and is told so; once a step runs, its caller's
// context no longer matters (a cancelled statement would roll back the
// shared transaction): it completes and its caller is told so.
func TestCallerContextAndTheWriter(t *testing.T) {
	s := openTestStore(t, Options{})
	scratchTable(t, s)
	release := heldWriter(t, s)

	waiting, giveUp := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- s.txAt(waiting, insertStep("gave-up", nil)) }()
	waitQueued(t, s, 1)
	giveUp()

	running, leave := context.WithCancel(context.Background())
	started := make(chan struct{})
	left := make(chan error, 1)
	go func() {
		left <- s.txAt(running, func(ctx context.Context, tx *Tx, now time.Time) error {
			close(started)
			<-running.Done() // the caller leaves while its step runs
			return insertStep("stayed", nil)(ctx, tx, now)
		})
	}()
	waitQueued(t, s, 2)
	release()
	<-started
	leave()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("caller that gave up while queued told %v", err)
	}
	if err := <-left; err != nil {
		t.Errorf("caller that left while its step ran told %v, but the step completed", err)
	}
	if rows := strings.Join(scratchRows(t, s), ","); rows != "stayed" {
		t.Errorf("rows %q, want only the step that ran", rows)
	}
}

// TestCloseLetsQueuedStepsFinish: Close waits for the steps already
// handed over; a step after Close is refused and writes nothing.
func TestCloseLetsQueuedStepsFinish(t *testing.T) {
	s := openTestStore(t, Options{})
	scratchTable(t, s)
	release := heldWriter(t, s)
	answers := queue(t, s, 0, insertStep("a", nil), insertStep("b", nil))
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for i, err := range answers() {
		if err != nil {
			t.Errorf("queued step %d: %v", i, err)
		}
	}
	if err := s.txAt(context.Background(), insertStep("late", nil)); !errors.Is(err, errClosed) {
		t.Errorf("step after Close: %v", err)
	}
}
