package web

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func allowed(t *testing.T, l *clockLimiter, id string, n int) int {
	t.Helper()
	ok := 0
	for range n {
		if a, err := l.Allow(id); err != nil {
			t.Fatal(err)
		} else if a {
			ok++
		}
	}
	return ok
}

// TestClockLimiterRefillsOnTheInjectedClock: 5 a second means a burst of
// 5, then one more every 200 ms of the injected clock, and clients do not
// share buckets.
func TestClockLimiterRefillsOnTheInjectedClock(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	l := newClockLimiter(5, time.Second, clk.now)
	if got := allowed(t, l, "a", 8); got != 5 {
		t.Fatalf("burst: %d of 8 allowed, want 5", got)
	}
	if got := allowed(t, l, "b", 1); got != 1 {
		t.Fatal("a second client was limited by the first one's burst")
	}
	clk.advance(150 * time.Millisecond)
	if got := allowed(t, l, "a", 1); got != 0 {
		t.Fatal("allowed after 150 ms; one token takes 200 ms")
	}
	clk.advance(50 * time.Millisecond)
	if got := allowed(t, l, "a", 2); got != 1 {
		t.Fatalf("after 200 ms: %d allowed, want 1", got)
	}
	// However long the pause, the bucket holds at most the burst.
	clk.advance(time.Hour)
	if got := allowed(t, l, "a", 8); got != 5 {
		t.Fatalf("after an hour: %d of 8 allowed, want the burst of 5", got)
	}
}

// TestClockLimiterForgetsIdleClients: a client unseen for a whole interval
// has a full bucket again, so it is dropped and memory stays at the
// clients of about one interval.
func TestClockLimiterForgetsIdleClients(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	l := newClockLimiter(10, time.Minute, clk.now)
	for i := range 1000 {
		allowed(t, l, fmt.Sprintf("10.0.%d.%d", i/250, i%250), 1)
	}
	clk.advance(30 * time.Second)
	allowed(t, l, "recent", 1)
	clk.advance(30 * time.Second)
	allowed(t, l, "new", 1)
	l.mu.Lock()
	n := len(l.visitors)
	_, recent := l.visitors["recent"]
	l.mu.Unlock()
	if n != 2 || !recent {
		t.Fatalf("after a minute the limiter remembers %d clients (recent kept: %v), want 2", n, recent)
	}
}
