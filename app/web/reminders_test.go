package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// reminderCounts records what the App tells its Observer of reminders.
type reminderCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (*reminderCounts) Press(string)      {}
func (*reminderCounts) Redemption(string) {}
func (r *reminderCounts) Reminder(outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[outcome]++
}
func (r *reminderCounts) get(outcome string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[outcome]
}

func setReminder(t *testing.T, e *apptest.Env, tok, code string, on bool) apptest.Response {
	t.Helper()
	return e.API(t, http.MethodPost, "/api/v1/resident/vouchers/"+code+"/reminder", tok, map[string]any{"on": on})
}

func sweepReminders(t *testing.T, e *apptest.Env) app.ReminderSweep {
	t.Helper()
	s, err := e.App.SendExpiryReminders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRemindersTheDayBeforeExpiry: a reminder goes out once, when the
// voucher's expiry is within the next 24 hours, not a moment before; not
// for a voucher used before; a failing gateway is tried again after the
// backoff, and given up after the last attempt; opting out stops it.
func TestRemindersTheDayBeforeExpiry(t *testing.T) {
	e := apptest.New(t, apptest.Options{Reminders: app.ReminderPolicy{PerSweep: 10, Attempts: 3, RetryAfter: 5 * time.Minute}})
	obs := &reminderCounts{n: map[string]int{}}
	e.App.Observe(obs)
	c := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝中餐饮券"})
	const (
		kept, used, flaky, dead, quit = "13800138001", "13800138002", "13800138003", "13800138004", "13800138005"
	)
	var mu sync.Mutex
	flakyDown, tries := true, map[string]int{}
	e.SMS.FailFor = func(phone, text string) error {
		if !strings.Contains(text, "到期") {
			return nil // sign-in codes
		}
		mu.Lock()
		defer mu.Unlock()
		tries[phone]++
		if phone == dead || (phone == flaky && flakyDown) {
			return errors.New("gateway answered 503")
		}
		return nil
	}
	triesOf := func(phone string) int { mu.Lock(); defer mu.Unlock(); return tries[phone] }
	vs := map[string]app.Voucher{}
	for _, phone := range []string{kept, used, flaky, dead, quit} {
		v := claimOne(t, e, c, phone)
		_, tok := e.ResidentSession(t, phone)
		if r := setReminder(t, e, tok, v.Code, true); r.Status != 200 || r.Body["reminder"].(map[string]any)["on"] != true {
			t.Fatalf("opt in: %d %s", r.Status, r.Raw)
		}
		vs[phone] = v
		if phone == quit {
			if r := setReminder(t, e, tok, v.Code, false); r.Status != 200 {
				t.Fatalf("opt out: %d %s", r.Status, r.Raw)
			}
		}
	}
	// Another resident's voucher is not found.
	_, other := e.ResidentSession(t, "13800138009")
	if r := setReminder(t, e, other, vs[kept].Code, true); r.Status != 404 {
		t.Fatalf("another's voucher: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), vs[used].Code, "100", "remind-used"); r.Status != 201 && r.Status != 200 {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	_, usedTok := e.ResidentSession(t, used)
	if r := setReminder(t, e, usedTok, vs[used].Code, true); r.Status != 409 || r.Reason() != "voucher_not_remindable" {
		t.Fatalf("opt in on a used voucher: %d %s", r.Status, r.Raw)
	}

	expires := vs[kept].ExpiresAt
	// A quarter second before the day before: nothing.
	e.Clock.Set(expires.Add(-app.ReminderWindow - 250*time.Millisecond))
	if s := sweepReminders(t, e); s != (app.ReminderSweep{}) {
		t.Fatalf("before the window: %+v", s)
	}
	// Half a second later it is inside: kept is sent, flaky and dead fail.
	e.Clock.Advance(500 * time.Millisecond)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{Sent: 1, Failed: 2}) {
		t.Fatalf("inside the window: %+v", s)
	}
	texts := e.SMS.Texts(kept, "到期")
	if len(texts) != 1 {
		t.Fatalf("kept got %d reminders", len(texts))
	}
	code := vs[kept].Code
	for _, want := range []string{"渝中餐饮券", "尾号" + code[len(code)-4:], app.FormatUntil(expires)} {
		if !strings.Contains(texts[0], want) {
			t.Errorf("text %q does not name %q", texts[0], want)
		}
	}
	// Again at once: nothing (kept is sent, the others wait for their retry).
	e.Clock.Advance(250 * time.Millisecond)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{}) {
		t.Fatalf("again: %+v", s)
	}
	// The retry comes after the backoff (5 min after the failure), not before.
	e.Clock.Advance(5*time.Minute - 500*time.Millisecond)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{}) || triesOf(flaky) != 1 {
		t.Fatalf("before the backoff: %+v, %d tries", s, triesOf(flaky))
	}
	e.Clock.Advance(500 * time.Millisecond)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{Failed: 2}) || triesOf(flaky) != 2 {
		t.Fatalf("after the backoff: %+v, %d tries", s, triesOf(flaky))
	}
	// The second backoff is twice as long; then flaky's gateway is back,
	// and dead's third attempt is its last.
	mu.Lock()
	flakyDown = false
	mu.Unlock()
	e.Clock.Advance(5 * time.Minute)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{}) {
		t.Fatalf("inside the second backoff: %+v", s)
	}
	e.Clock.Advance(5*time.Minute + 250*time.Millisecond)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{Sent: 1, GaveUp: 1}) {
		t.Fatalf("third attempts: %+v", s)
	}
	e.Clock.Advance(2 * time.Hour)
	if s := sweepReminders(t, e); s != (app.ReminderSweep{}) {
		t.Fatalf("after giving up: %+v", s)
	}
	for phone, want := range map[string]int{kept: 1, used: 0, flaky: 1, dead: 0, quit: 0} {
		if got := len(e.SMS.Texts(phone, "到期")); got != want {
			t.Errorf("%s got %d reminders, want %d", phone, got, want)
		}
	}
	if triesOf(dead) != 3 || triesOf(flaky) != 3 {
		t.Errorf("tries: dead %d, flaky %d; want 3 each", triesOf(dead), triesOf(flaky))
	}
	if obs.get(app.ReminderSent) != 2 || obs.get(app.ReminderFailed) != 4 || obs.get(app.ReminderGaveUp) != 1 {
		t.Errorf("observed %v", obs.n)
	}
	// The officer's live view counts today's sent reminders.
	r := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID), officerToken(t, e, e.Maker), nil)
	if live, _ := r.Body["live"].(map[string]any); r.Status != 200 || live["reminders_sent_today"] != 2.0 {
		t.Fatalf("live: %d %s", r.Status, r.Raw)
	}
}

// TestRemindersAreRateLimitedPerSweep: one sweep sends at most PerSweep.
func TestRemindersAreRateLimitedPerSweep(t *testing.T) {
	e := apptest.New(t, apptest.Options{Reminders: app.ReminderPolicy{PerSweep: 2}})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	var expires time.Time
	for i := range 3 {
		phone := fmt.Sprintf("1380013810%d", i)
		v := claimOne(t, e, c, phone)
		_, tok := e.ResidentSession(t, phone)
		if r := setReminder(t, e, tok, v.Code, true); r.Status != 200 {
			t.Fatalf("opt in: %d %s", r.Status, r.Raw)
		}
		expires = v.ExpiresAt
	}
	e.Clock.Set(expires.Add(-time.Hour))
	for i, want := range []int{2, 1, 0} {
		if s := sweepReminders(t, e); s.Sent != want {
			t.Fatalf("sweep %d sent %d, want %d", i, s.Sent, want)
		}
	}
}
