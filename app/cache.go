package app

import (
	"sync"
	"time"
)

// ttlCache keeps values for a short time. At a drop, tens of thousands of
// presses ask for the same campaign and their own sessions within seconds:
// answering those from memory keeps the read pool free and lets presses
// that cannot succeed be answered without touching the database at all.
// Entries are replaced on write and dropped on change by this process,
// which is the only writer of the database.
type ttlCache[K comparable, V any] struct {
	mu   sync.RWMutex
	ttl  time.Duration
	max  int
	now  func() time.Time
	data map[K]ttlEntry[V]
	gen  uint64 // stamps each put, so that an update meant for one copy never lands on a newer one
}

type ttlEntry[V any] struct {
	v   V
	at  time.Time
	gen uint64
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, now: now, data: make(map[K]ttlEntry[V])}
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	v, _, ok := c.getGen(k)
	return v, ok
}

// getGen is get with the generation of the copy returned (see update).
func (c *ttlCache[K, V]) getGen(k K) (V, uint64, bool) {
	c.mu.RLock()
	e, ok := c.data[k]
	c.mu.RUnlock()
	if !ok || c.now().Sub(e.at) > c.ttl || c.now().Before(e.at) {
		var zero V
		return zero, 0, false
	}
	return e.v, e.gen, true
}

// put stores v and returns the generation of the stored copy.
func (c *ttlCache[K, V]) put(k K, v V) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.data) >= c.max {
		// Full: drop what has expired; if nothing has, start afresh rather
		// than grow (a cache miss costs one read, memory is the limit).
		now := c.now()
		for key, e := range c.data {
			if now.Sub(e.at) > c.ttl {
				delete(c.data, key)
			}
		}
		if len(c.data) >= c.max {
			c.data = make(map[K]ttlEntry[V])
		}
	}
	c.gen++
	c.data[k] = ttlEntry[V]{v: v, at: c.now(), gen: c.gen}
	return c.gen
}

// update replaces a cached value, keeping its age, if the copy of
// generation gen is still there: news about an older copy (a sold-out
// answer that raced an officer's added stock) must not overwrite a newer
// one. f must not modify what the old value shares (slices): readers hold it.
func (c *ttlCache[K, V]) update(k K, gen uint64, f func(V) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.data[k]; ok && e.gen == gen {
		e.v = f(e.v)
		c.data[k] = e
	}
}

func (c *ttlCache[K, V]) forget(k K) {
	c.mu.Lock()
	delete(c.data, k)
	c.mu.Unlock()
}

// clear drops every entry.
func (c *ttlCache[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data = make(map[K]ttlEntry[V])
}

// forgetIf drops every entry whose value matches: for the rare change
// that must reach all of them at once (a resident's erasure ends every
// session of theirs, not only the one that asked).
func (c *ttlCache[K, V]) forgetIf(match func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.data {
		if match(e.v) {
			delete(c.data, k)
		}
	}
}
