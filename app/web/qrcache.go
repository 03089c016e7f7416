package web

import (
	"container/list"
	"sync"
)

// qrCache keeps rendered voucher QR images. A QR's content never changes
// and rendering one costs milliseconds (go-qrcode tries eight masks), so
// each is rendered once per process while it is in use; the least recently
// shown are dropped when the cache is full, to bound memory.
type qrCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recently used; values are *qrEntry
	items map[string]*list.Element
}

type qrEntry struct {
	code string
	png  []byte
}

func newQRCache(max int) *qrCache {
	return &qrCache{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (q *qrCache) get(code string) ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	el, ok := q.items[code]
	if !ok {
		return nil, false
	}
	q.order.MoveToFront(el)
	return el.Value.(*qrEntry).png, true
}

func (q *qrCache) put(code string, png []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if el, ok := q.items[code]; ok {
		q.order.MoveToFront(el)
		return
	}
	q.items[code] = q.order.PushFront(&qrEntry{code: code, png: png})
	for q.order.Len() > q.max {
		last := q.order.Back()
		q.order.Remove(last)
		delete(q.items, last.Value.(*qrEntry).code)
	}
}

func (q *qrCache) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.order.Len()
}
