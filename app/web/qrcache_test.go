package web

import "testing"

func TestQRCacheKeepsTheRecentlyShown(t *testing.T) {
	q := newQRCache(2)
	q.put("A", []byte("a"))
	q.put("B", []byte("b"))
	if _, ok := q.get("A"); !ok { // A is now the most recent
		t.Fatal("A missing")
	}
	q.put("C", []byte("c")) // evicts B, the least recently shown
	if _, ok := q.get("B"); ok {
		t.Fatal("B should have been evicted")
	}
	if png, ok := q.get("A"); !ok || string(png) != "a" {
		t.Fatal("A evicted instead of B")
	}
	if q.len() != 2 {
		t.Fatalf("len = %d, want 2", q.len())
	}
}
