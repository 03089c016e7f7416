package web_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// TestOverloadedClaimIsAnsweredAtOnce: while the writer's queue is full, a
// press is answered at once with 503 "too busy, try again at HH:MM:SS"
// (Retry-After and params.retry_after), not queued into a timeout; the
// presses already admitted still succeed once the writer is free.
func TestOverloadedClaimIsAnsweredAtOnce(t *testing.T) {
	// The presses queue behind SQLite's one writer; PostgreSQL's run at once.
	e := apptest.New(t, apptest.Options{AdmissionQueue: 3, Backend: apptest.SQLite})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	ctx := context.Background()
	toks := make([]string, 4)
	for i := range toks {
		_, toks[i] = e.ResidentSession(t, fmt.Sprintf("1380000%04d", i))
	}
	// Something holds the writer (a long write), so presses queue behind it.
	release, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = e.Store.BulkTx(ctx, func(*db.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	press := func(tok string) apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": c.Tiers[0].ID})
	}
	var wg sync.WaitGroup
	admitted := make([]apptest.Response, 2)
	for i := range admitted {
		wg.Add(1)
		go func() { defer wg.Done(); admitted[i] = press(toks[i]) }()
	}
	// Wait until both presses wait for the writer (a condition, not a time);
	// if they were answered without reaching it, the test cannot go on.
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	for e.Store.WriterQueue() < 3 {
		select {
		case <-answered:
			close(release)
			t.Fatalf("the presses were answered without waiting for the writer: %v", admitted)
		default:
			runtime.Gosched()
		}
	}
	busy := press(toks[2])
	if busy.Status != http.StatusServiceUnavailable || busy.Reason() != "too_busy" {
		t.Errorf("press into a full queue: %d %s, want 503 too_busy", busy.Status, busy.Raw)
	}
	if p, _ := busy.Body["error"].(map[string]any)["params"].(map[string]any); p["retry_after"] == nil || p["at"] != "10:00:01" {
		t.Errorf("too busy without when to come back: %s", busy.Raw)
	}
	close(release)
	wg.Wait()
	for i, r := range admitted {
		if r.Status != http.StatusCreated {
			t.Errorf("admitted press %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := press(toks[3]); r.Status != http.StatusCreated {
		t.Errorf("a press once the queue drained: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`); n != 3 {
		t.Errorf("%d vouchers, want 3 (the refused press wrote nothing)", n)
	}
}
