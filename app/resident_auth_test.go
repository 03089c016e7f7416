package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// logBuffer collects a logger's lines for a test.
type logBuffer = apptest.LogBuffer

// lines returns the lines that contain every one of parts.

// smsApp is a second App over the test's store, with its own SMS rules
// and a log the test reads.
func smsApp(t *testing.T, e *apptest.Env, budgets app.SMSBudgets) (*app.App, *logBuffer) {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.SMSBudgets = budgets
	cfg.IdentityKey = bytes.Repeat([]byte{7}, 32)
	sealer, err := app.NewAESSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sealer = sealer
	logs := &logBuffer{}
	return app.New(e.Store, e.Ring, e.SMS, cfg, e.Clock.Now, slog.New(slog.NewTextHandler(logs, nil))), logs
}

func wantRefusal(t *testing.T, what string, err error, reason string) {
	t.Helper()
	if app.ErrorCode(err) != app.ERATELIMITED || app.ErrorReason(err) != reason {
		t.Fatalf("%s: %v, want rate_limited %s", what, err, reason)
	}
}

// A stranger who knows a number guesses wrong at will and asks for codes
// as often as they are allowed; the owner still signs in with their own
// code, and waits at most until the next quarter hour when the stranger
// has used up what all requesters share.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a, _ := smsApp(t, e, app.DefaultConfig().SMSBudgets)
	ctx := context.Background()
	owner := app.WithRequester(ctx, "10.20.30.40")
	stranger := app.WithRequester(ctx, "203.0.113.9")
	const phone = "13800138000"

	if _, err := a.SendSignInCode(owner, phone); err != nil {
		t.Fatal(err)
	}
	code := e.SMS.Code(phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 7; i++ {
		if _, _, err := a.LoginResident(stranger, phone, wrong); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("stranger's guess %d: %v", i, err)
		}
	}
	if _, _, err := a.LoginResident(owner, phone, code); err != nil {
		t.Fatalf("the owner's code after a stranger's wrong guesses: %v", err)
	}

	// The stranger fills the number's quarter hour (the owner's code was one).
	e.Clock.Set(time.Date(2026, 11, 25, 2, 1, 0, 250_000_000, time.UTC)) // 10:01 in Chongqing
	for i := 0; i < 2; i++ {
		if _, err := a.SendSignInCode(stranger, phone); err != nil {
			t.Fatalf("stranger's code %d: %v", i, err)
		}
		e.Clock.Advance(61 * time.Second)
	}
	_, err := a.SendSignInCode(stranger, phone)
	wantRefusal(t, "stranger's third code this quarter", err, "sms_number_busy")
	_, err = a.SendSignInCode(owner, phone)
	wantRefusal(t, "owner while the quarter is full", err, "sms_number_busy")
	if wait := time.Date(2026, 11, 25, 2, 15, 0, 0, time.UTC).Sub(e.Clock.Now()); wait > 15*time.Minute {
		t.Fatalf("the owner would wait %v", wait)
	}
	e.Clock.Set(time.Date(2026, 11, 25, 2, 15, 0, 100_000_000, time.UTC)) // 10:15: a new quarter
	if _, err := a.SendSignInCode(owner, phone); err != nil {
		t.Fatalf("owner in the next quarter: %v", err)
	}
	if _, _, err := a.LoginResident(owner, phone, e.SMS.Code(phone)); err != nil {
		t.Fatalf("owner signs in: %v", err)
	}

	// The stranger uses up the daily cap of codes to the number, one a
	// quarter hour; that cap is the stranger's own, not the owner's.
	for i := 0; ; i++ {
		e.Clock.Advance(15 * time.Minute)
		_, err := a.SendSignInCode(stranger, phone)
		if err != nil {
			wantRefusal(t, "stranger beyond the daily cap", err, "sms_too_frequent")
			if i < 8 {
				t.Fatalf("stranger refused after %d codes: %v", i, err)
			}
			break
		}
	}
	if _, err := a.SendSignInCode(owner, phone); err != nil {
		t.Fatalf("owner after the stranger's daily cap: %v", err)
	}
	if _, _, err := a.LoginResident(owner, phone, e.SMS.Code(phone)); err != nil {
		t.Fatalf("owner signs in after the stranger's daily cap: %v", err)
	}
}

// Over a global or per-prefix budget, sends are refused with a stable
// reason and write nothing; reaching a budget logs one WARN line with a
// stable message and counts one alert, however many sends are refused
// after it; the next period opens again.
func TestSMSBudgetsRefuseAndAlertOncePerPeriod(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a, logs := smsApp(t, e, app.SMSBudgets{GlobalPerHour: 3, GlobalPerDay: 4, PrefixPerHour: 2, PrefixPerDay: 100, PerNumberQuarter: 3})
	ctx := app.WithRequester(context.Background(), "198.51.100.7")
	send := func(phone string) error {
		e.Clock.Advance(100 * time.Millisecond)
		_, err := a.SendSignInCode(ctx, phone)
		return err
	}
	for _, p := range []string{"13800000001", "13800000002"} {
		if err := send(p); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		wantRefusal(t, "third number of the block this hour", send("13800000003"), "sms_budget_reached")
	}
	if err := send("13900000001"); err != nil { // another block: fits, and fills the global hour
		t.Fatal(err)
	}
	wantRefusal(t, "over the global hour", send("13900000002"), "sms_budget_reached")
	wantRefusal(t, "over the global hour", send("13700000001"), "sms_budget_reached")
	if n := e.Count(t, `SELECT COUNT(*) FROM sms_codes`); n != 3 {
		t.Fatalf("codes stored = %d, want the 3 sent", n)
	}
	alerts := logs.Lines("level=WARN", `msg="`+app.SMSBudgetAlert+`"`)
	if len(alerts) != 2 || len(logs.Lines("level=WARN", "budget=prefix_hour", "scope=prefix:1380000", "limit=2")) != 1 ||
		len(logs.Lines("level=WARN", "budget=global_hour", "limit=3")) != 1 || a.SMSBudgetAlerts() != 2 {
		t.Fatalf("alerts (counter %d):\n%s", a.SMSBudgetAlerts(), strings.Join(alerts, "\n"))
	}

	e.Clock.Advance(time.Hour) // the next hour: the hourly budgets open, the day's has one left
	if err := send("13800000003"); err != nil {
		t.Fatalf("next hour: %v", err)
	}
	wantRefusal(t, "over the global day", send("13600000001"), "sms_budget_reached")
	if len(logs.Lines("level=WARN", "budget=global_day", "limit=4")) != 1 || a.SMSBudgetAlerts() != 3 {
		t.Fatalf("day alert missing (counter %d)", a.SMSBudgetAlerts())
	}
	if got := logs.Lines("13600000001"); len(got) != 0 {
		t.Fatalf("a full number in the log: %v", got)
	}
}

func TestParseSMSBudgets(t *testing.T) {
	base := app.DefaultConfig().SMSBudgets
	got, err := app.ParseSMSBudgets("global-hour=10, prefix-day=0,number-quarter=2", base)
	if err != nil || got.GlobalPerHour != 10 || got.PrefixPerDay != 0 || got.PerNumberQuarter != 2 || got.GlobalPerDay != base.GlobalPerDay {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"global=10", "global-hour=-1", "global-hour=ten"} {
		if _, err := app.ParseSMSBudgets(bad, base); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
