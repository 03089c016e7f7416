package app

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// WrongCodeLimit bounds typed codes that match no voucher: at most Max in
// any Window. Max 0 means no limit.
//
// A manual code is one of 10^15; with the limits of DefaultConfig a
// merchant's tills together try at most 30 a day, so guessing a live
// voucher by typing stays negligible (the figures are in docs/security.md).
// Scanned QR codes are not limited: their signature cannot be guessed.
type WrongCodeLimit struct {
	Max    int
	Window time.Duration
}

// wrongCodes counts, in memory and on the App's clock, the wrong codes of
// each cashier and each merchant. A process restart forgets them, which
// gives a guesser at most one window's worth more per restart.
type wrongCodes struct {
	mu        sync.Mutex
	hits      map[string][]time.Time // key → times of wrong codes within the window, oldest first
	lastSweep time.Time
}

// wrongCodeKey names one counter and the limit it is held to.
type wrongCodeKey struct {
	key   string
	limit WrongCodeLimit
}

func (a *App) wrongCodeKeys(cs Cashier) []wrongCodeKey {
	return []wrongCodeKey{
		{"c" + strconv.FormatInt(cs.ID, 10), a.cfg.WrongCodesCashier},
		{"m" + strconv.FormatInt(cs.MerchantID, 10), a.cfg.WrongCodesMerchant},
	}
}

// reserve counts a typed code as wrong before it is looked up, for the
// cashier and the merchant both, so that many codes typed at once cannot
// all slip in under the limit; release takes the count back when the code
// turns out to be a voucher's. When either counter is full, nothing is
// counted and retryAt says when a code may be typed again.
func (w *wrongCodes) reserve(keys []wrongCodeKey, now time.Time) (release func(), retryAt time.Time, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hits == nil {
		w.hits = make(map[string][]time.Time)
	}
	w.sweep(keys, now)
	for _, k := range keys {
		if k.limit.Max <= 0 {
			continue
		}
		hits := w.recent(k, now)
		if len(hits) >= k.limit.Max {
			// The oldest hit in the window leaves it first.
			retryAt = later(retryAt, hits[len(hits)-k.limit.Max].Add(k.limit.Window))
		}
	}
	if !retryAt.IsZero() {
		return nil, retryAt, false
	}
	for _, k := range keys {
		if k.limit.Max > 0 {
			w.hits[k.key] = append(w.recent(k, now), now)
		}
	}
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, k := range keys {
			if hits := w.hits[k.key]; len(hits) > 0 {
				if i := slices.IndexFunc(hits, now.Equal); i >= 0 {
					w.hits[k.key] = slices.Delete(hits, i, i+1)
				}
			}
		}
	}, time.Time{}, true
}

// recent is k's hits still inside its window at now.
func (w *wrongCodes) recent(k wrongCodeKey, now time.Time) []time.Time {
	hits := w.hits[k.key]
	cut := 0
	for cut < len(hits) && !hits[cut].Add(k.limit.Window).After(now) {
		cut++
	}
	return hits[cut:]
}

// sweep forgets, about once a window, counters with no hit left in the
// longest window, so memory holds only the tills of the last day.
func (w *wrongCodes) sweep(keys []wrongCodeKey, now time.Time) {
	var longest time.Duration
	for _, k := range keys {
		longest = max(longest, k.limit.Window)
	}
	if now.Sub(w.lastSweep) < longest {
		return
	}
	w.lastSweep = now
	for key, hits := range w.hits {
		if len(hits) == 0 || !hits[len(hits)-1].Add(longest).After(now) {
			delete(w.hits, key)
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// tooManyWrongCodes is the refusal of a typed code once a limit is
// reached: when typing works again, in seconds and as a wall-clock time.
// Scanning still works, and the page says so.
func tooManyWrongCodes(now, retryAt time.Time) error {
	wait := retryAt.Sub(now)
	secs := int((wait + time.Second - 1) / time.Second)
	return RateLimited("too_many_wrong_codes").With("retry_after", strconv.Itoa(max(1, secs))).
		With("at", retryAt.In(Shanghai).Format("15:04:05"))
}
