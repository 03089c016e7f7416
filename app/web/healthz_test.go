package web_test

import (
	"net/http"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
)

// TestHealthzSaysWhy: 200 {"status":"ok"} while storage works; 503 with
// the storage's own reason when it does not (here the store is closed;
// db's TestPingReportsFailingWrites covers a full disk), so the operator
// reading the balancer's log sees what broke.
func TestHealthzSaysWhy(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if r := e.API(t, http.MethodGet, "/healthz", "", nil); r.Status != 200 || r.Body["status"] != "ok" {
		t.Fatalf("healthy: %d %s", r.Status, r.Raw)
	}
	e.SkipBooksCheck("the test closes the store to make writes fail")
	e.Store.Close()
	r := e.API(t, http.MethodGet, "/healthz", "", nil)
	if reason, _ := r.Body["reason"].(string); r.Status != 503 || r.Body["status"] != "unavailable" || !strings.Contains(reason, "closed") {
		t.Fatalf("closed store: %d %s, want 503 with the reason", r.Status, r.Raw)
	}
}
