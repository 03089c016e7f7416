package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// SMSCode is a pending sign-in code for a phone, one per requester; only
// its keyed hash is stored.
type SMSCode struct {
	Phone        string    `db:"phone"` // PhoneHash of the number, never the number
	Requester    string    `db:"requester"`
	CodeHash     string    `db:"code_hash"`
	ExpiresAt    time.Time `db:"expires_at"`
	AttemptsLeft int       `db:"attempts_left"`
	SentAt       time.Time `db:"sent_at"`
	Day          string    `db:"day"`
}

// SMSBudgets bound how many sign-in texts are sent, whoever asks: each
// code costs money and a flood of them is harassment. Zero means no limit.
//
// Why a stranger who knows a number cannot lock its owner out for long:
// codes, attempts, the resend interval and the daily cap are counted per
// (number, requester), so a stranger's requests and wrong guesses spend
// only the stranger's own codes and cap, never the owner's pending code.
// What all requesters share per number is PerNumberQuarter, counted in
// clock quarter hours: a stranger can fill it, and the owner then waits
// for the next quarter, at most 15 minutes. The global and per-prefix
// budgets protect the service, not one number, and raise an alert when
// they are reached.
type SMSBudgets struct {
	GlobalPerHour, GlobalPerDay int // all numbers
	PrefixPerHour, PrefixPerDay int // per carrier block: the first 7 digits
	PerNumberQuarter            int // per number, whoever asks, per quarter hour
}

// SMSBudget is one budget a send must fit in, for the store.
type SMSBudget struct {
	Name    string // for the alert: global_hour, global_day, prefix_hour, prefix_day, number_quarter
	Scope   string // 'global', 'prefix:1380013', 'number:<keyed hash>'
	Period  string // the period's key, starting with its Asia/Shanghai date
	Limit   int
	Refusal string // the reason a refused send gives
	Alert   bool   // whether reaching it is an operator alert
}

// SMSBudgetAlert is the stable message of the WARN log line written when
// a global or per-prefix SMS budget is reached (once per period).
const SMSBudgetAlert = "sms budget reached"

// ParseSMSBudgets reads budgets as an operator writes them:
// "global-hour=20000,global-day=200000,prefix-hour=300,prefix-day=2000,number-quarter=3";
// names left out keep their value in base.
func ParseSMSBudgets(s string, base SMSBudgets) (SMSBudgets, error) {
	fields := map[string]*int{"global-hour": &base.GlobalPerHour, "global-day": &base.GlobalPerDay,
		"prefix-hour": &base.PrefixPerHour, "prefix-day": &base.PrefixPerDay, "number-quarter": &base.PerNumberQuarter}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		p, ok := fields[strings.TrimSpace(name)]
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if !ok || err != nil || n < 0 {
			return base, fmt.Errorf("sms budget %q: want name=count with name one of global-hour, global-day, prefix-hour, prefix-day, number-quarter", part)
		}
		*p = n
	}
	return base, nil
}

// requesterKey is the context key of who asks for a code.
type requesterKey struct{}

// WithRequester tells the resident sign-in who is asking: the client's
// address. Codes, attempts and caps are counted per number and requester.
func WithRequester(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, requesterKey{}, addr)
}

// requester is the keyed hash of the context's requester ("" if none is
// known: then everyone is one requester, as before).
func (a *App) requester(ctx context.Context) string {
	addr, _ := ctx.Value(requesterKey{}).(string)
	if addr == "" {
		return ""
	}
	return a.keyedHash("sms-requester", addr)
}

// smsBudgets lists the budgets a text to phone sent at now must fit in.
func (a *App) smsBudgets(phone string, now time.Time) []SMSBudget {
	l := now.In(Shanghai)
	day, hour := l.Format("2006-01-02"), l.Format("2006-01-02T15")
	quarter := fmt.Sprintf("%s:%02d", hour, l.Minute()/15*15)
	prefix := "prefix:" + phone[:7]
	b := a.cfg.SMSBudgets
	all := []SMSBudget{
		{"number_quarter", "number:" + a.keyedHash("sms-number", phone), quarter, b.PerNumberQuarter, "sms_number_busy", false},
		{"prefix_hour", prefix, hour, b.PrefixPerHour, "sms_budget_reached", true},
		{"prefix_day", prefix, day, b.PrefixPerDay, "sms_budget_reached", true},
		{"global_hour", "global", hour, b.GlobalPerHour, "sms_budget_reached", true},
		{"global_day", "global", day, b.GlobalPerDay, "sms_budget_reached", true},
	}
	out := all[:0]
	for _, x := range all {
		if x.Limit > 0 {
			out = append(out, x)
		}
	}
	return out
}

// SMSBudgetAlerts is how many times a global or per-prefix SMS budget was
// reached since the process started, for the health and metrics pages.
func (a *App) SMSBudgetAlerts() int64 { return a.smsAlerts.Load() }

// SendSignInCode sends a fresh 6-digit code to a mainland mobile number.
func (a *App) SendSignInCode(ctx context.Context, rawPhone string) (string, error) {
	phone, err := NormalizeMobile(rawPhone)
	if err != nil {
		return "", err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	now := a.now()
	filled, err := a.store.SaveSMSCode(ctx, SMSCode{
		Phone: a.PhoneHash(phone), Requester: a.requester(ctx), CodeHash: a.keyedHash(phone, code), ExpiresAt: now.Add(a.cfg.SMSCodeTTL),
		AttemptsLeft: a.cfg.SMSAttempts, SentAt: now, Day: LocalDay(now),
	}, a.cfg.SMSResendAfter, a.cfg.SMSDailyCap, a.smsBudgets(phone, now))
	if err != nil {
		return "", err
	}
	// The send that fills a budget reports it: exactly once per period,
	// however many are refused after it.
	for _, b := range filled {
		if !b.Alert {
			a.log.Info("sms number budget reached", "phone", Resident{Phone: phone}.MaskedPhone(), "period", b.Period, "limit", b.Limit)
			continue
		}
		a.smsAlerts.Add(1)
		a.log.Warn(SMSBudgetAlert, "budget", b.Name, "scope", b.Scope, "period", b.Period, "limit", b.Limit)
	}
	text := fmt.Sprintf("【重庆消费券】验证码 %s，%d 分钟内有效。如非本人操作请忽略。", code, int(a.cfg.SMSCodeTTL/time.Minute))
	if err := a.sms.Send(ctx, phone, text); err != nil {
		a.log.Error("sms send failed", "phone", Resident{Phone: phone}.MaskedPhone(), "err", err)
		// The resident was told nothing arrived; let them ask again at once.
		if ferr := a.store.ForgetSMSCode(context.WithoutCancel(ctx), a.PhoneHash(phone), a.keyedHash(phone, code)); ferr != nil {
			a.log.Error("forgetting an unsent sms code failed", "err", ferr)
		}
		return "", &Error{Code: EINTERNAL, Reason: "sms_failed"}
	}
	return phone, nil
}

// LoginResident checks a sign-in code and opens a new resident session.
func (a *App) LoginResident(ctx context.Context, rawPhone, code string) (Resident, string, error) {
	phone, err := NormalizeMobile(rawPhone)
	if err != nil {
		return Resident{}, "", err
	}
	code = strings.TrimSpace(toHalfWidth(code))
	if len(code) != 6 || !allDigits(code) {
		return Resident{}, "", &Error{Code: EINVALID, Reason: "code_format", Fields: map[string]string{"code": "code_format"}}
	}
	if err := a.store.CheckSMSCode(ctx, a.PhoneHash(phone), a.requester(ctx), a.keyedHash(phone, code), a.now()); err != nil {
		return Resident{}, "", err
	}
	return a.openResidentSession(ctx, phone)
}

// TermsVersion names the 用户协议 and 隐私政策 texts a resident agrees to
// before a sign-in code is sent; change it whenever templates/pages/resident/
// terms.html or privacy.html change in substance.
const TermsVersion = "2026-12-01"

// ErrConsentRequired refuses a sign-in code asked for without agreeing to
// the terms and the privacy notice: no text is sent.
func ErrConsentRequired() error {
	return &Error{Code: EINVALID, Reason: "consent_required", Fields: map[string]string{"consent": "consent_required"}}
}

// SMSResendAfter is how long a resident waits before asking for another
// code; the sign-in page counts it down.
func (a *App) SMSResendAfter() time.Duration { return a.cfg.SMSResendAfter }
