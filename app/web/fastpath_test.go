package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// holdWriteLock takes SQLite's write lock from another connection, as a
// long write would, and keeps it until the test ends: anything that
// needs the writer now waits (up to busy_timeout, 10 s), while reads go on.
func holdWriteLock(t *testing.T, e *apptest.Env) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+e.Path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		conn.Close()
		raw.Close()
	})
}

// TestHopelessPressesDoNotWaitForTheWriter: with the writer held, presses
// that cannot succeed (sold out, limit reached, double tap, not open yet)
// still get their answer; a press that might succeed waits for the writer.
func TestHopelessPressesDoNotWaitForTheWriter(t *testing.T) {
	// It holds SQLite's write lock from a connection of its own.
	e := apptest.New(t, apptest.Options{Backend: apptest.SQLite})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "1"}, {Face: "10", Threshold: "0", Quantity: "5"}}})
	later := e.LiveCampaign(t, apptest.CampaignSpec{Name: "明天开抢", Opens: 24 * time.Hour})
	claimPath := fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID)

	_, winner := e.ResidentSession(t, "13800000001")
	first := e.API(t, http.MethodPost, claimPath, winner, map[string]any{"tier_id": c.Tiers[0].ID}, "Idempotency-Key", "tap")
	if first.Status != 201 {
		t.Fatalf("first claim: %d %s", first.Status, first.Raw)
	}
	_, other := e.ResidentSession(t, "13800000002")
	if r := e.API(t, http.MethodPost, claimPath, other, map[string]any{"tier_id": c.Tiers[0].ID}); r.Reason() != "sold_out" {
		t.Fatalf("the press that finds the tier empty: %d %s", r.Status, r.Raw)
	}

	holdWriteLock(t, e)
	client := &http.Client{Timeout: 3 * time.Second} // far below the writer's 10 s busy wait
	press := func(tok string, tier int64, headers ...string) (int, string) {
		r := e.APIWith(t, client, http.MethodPost, claimPath, tok, map[string]any{"tier_id": tier}, headers...)
		return r.Status, r.Reason()
	}
	for _, tc := range []struct {
		name, tok string
		tier      int64
		headers   []string
		status    int
		reason    string
	}{
		{"sold out", other, c.Tiers[0].ID, nil, 409, "sold_out"},
		{"limit reached", winner, c.Tiers[1].ID, nil, 409, "limit_reached"},
		{"double tap", winner, c.Tiers[0].ID, []string{"Idempotency-Key", "tap"}, 201, ""},
	} {
		if status, reason := press(tc.tok, tc.tier, tc.headers...); status != tc.status || reason != tc.reason {
			t.Errorf("%s with the writer busy: %d %q, want %d %q", tc.name, status, reason, tc.status, tc.reason)
		}
	}
	r := e.APIWith(t, client, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", later.ID), other, map[string]any{"tier_id": later.Tiers[0].ID})
	if r.Reason() != "not_open" {
		t.Errorf("not open with the writer busy: %d %s", r.Status, r.Raw)
	}
	// The control: a press that might succeed does need the writer.
	if r := e.APIWith(t, client, http.MethodPost, claimPath, other, map[string]any{"tier_id": c.Tiers[1].ID}); r.Status != 0 {
		t.Errorf("a press that can succeed answered %d while the writer was held; the test no longer holds the writer", r.Status)
	}
}
