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
			a.log.InfoContext(ctx, "sms number budget reached", "phone", Resident{Phone: phone}.MaskedPhone(), "period", b.Period, "limit", b.Limit)
			continue
		}
		a.smsAlerts.Add(1)
		a.log.WarnContext(ctx, SMSBudgetAlert, "budget", b.Name, "scope", b.Scope, "period", b.Period, "limit", b.Limit)
	}
	text := fmt.Sprintf("【重庆消费券】验证码 %s，%d 分钟内有效。如非本人操作请忽略。", code, int(a.cfg.SMSCodeTTL/time.Minute))
	if err := a.sms.Send(ctx, phone, text); err != nil {
		a.log.ErrorContext(ctx, "sms send failed", "phone", Resident{Phone: phone}.MaskedPhone(), "err", err)
		// The resident was told nothing arrived; let them ask again at once.
		if ferr := a.store.ForgetSMSCode(context.WithoutCancel(ctx), a.PhoneHash(phone), a.keyedHash(phone, code)); ferr != nil {
			a.log.ErrorContext(ctx, "forgetting an unsent sms code failed", "err", ferr)
		}
		return "", &Error{Code: EINTERNAL, Reason: "sms_failed"}
	}
	return phone, nil
}

// LoginResident checks a sign-in code, opens a new resident session and
// records the resident's consent to the current texts.
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
	r, tok, err := a.openResidentSession(ctx, phone)
	if err != nil {
		return Resident{}, "", err
	}
	// The code was sent only to someone who agreed to the current texts
	// (ErrConsentRequired); the code proves whose number it was, so the
	// agreement becomes the account's now, with the version it was to.
	if r, err = a.recordConsent(ctx, r.ID); err != nil {
		return Resident{}, "", err
	}
	return r, tok, nil
}

// Terms are the 用户协议 and 隐私政策 a resident agrees to before a
// sign-in code is sent, and again before claiming whenever they change.
// The texts are web's (templates/); the organiser and contact named in
// them are an operator's (voucherd serve -organiser, -organiser-contact).
type Terms struct {
	Organiser string // who runs the vouchers and answers for residents' data
	Contact   string // how residents reach the organiser: hotline, hours, address
	// Version identifies the texts as residents read them, organiser and
	// contact included (web.TermsVersion: a digest of the texts, so any
	// change to them is a new version). "" asks no consent before claims.
	Version string
}

// DemoTerms names the demo organiser: a real deployment names its own.
func DemoTerms() Terms {
	return Terms{Organiser: "重庆消费券平台（演示）", Contact: "023-6000 0000（演示热线，工作日 9:00–17:30）"}
}

// Terms are the texts residents agree to, with their version.
func (a *App) Terms() Terms { return a.cfg.Terms }

// ConsentCurrent reports whether a resident's consent on record is to the
// current texts; a resident without one, or with one to older texts, is
// asked to agree before claiming.
func (a *App) ConsentCurrent(r Resident) bool {
	if a.cfg.Terms.Version == "" {
		return true
	}
	return r.ConsentVersion != nil && *r.ConsentVersion == a.cfg.Terms.Version
}

// requireConsent refuses a resident whose consent on record is not to the
// current texts, and only when there are texts to agree to. The consent
// read with the session (or a cached account) answers a press that may
// go on: a consent once current stays so until the texts change, which
// takes a restart, or the account is erased, which ends its sessions. A
// copy that is not current may be older than an agreement just given, so
// only the version is read again: the whole account would also open the
// sealed phone number, which a press does not need.
func (a *App) requireConsent(ctx context.Context, r Resident) error {
	if a.ConsentCurrent(r) {
		return nil
	}
	if cached, ok := a.residents.get(r.ID); ok && a.ConsentCurrent(cached) {
		return nil
	}
	v, err := a.store.ConsentVersion(ctx, r.ID)
	if ErrorCode(err) == ENOTFOUND {
		return Unauthorized("signed_out") // erased since the session was cached
	}
	if err != nil {
		return err
	}
	if v != a.cfg.Terms.Version {
		return a.errConsentRenewal()
	}
	return nil
}

// errConsentRenewal refuses a claim by a resident whose consent on record
// is not to the current texts: they are asked to read and agree again.
func (a *App) errConsentRenewal() error {
	return Forbidden("consent_renewal_required").With("version", a.cfg.Terms.Version)
}

// AgreeToTerms records a signed-in resident's agreement to the texts of
// version, which must be the current one: agreeing to texts the resident
// was not shown binds no one. Without agreed nothing is written.
func (a *App) AgreeToTerms(ctx context.Context, r Resident, agreed bool, version string) (Resident, error) {
	if !agreed {
		return Resident{}, ErrConsentRequired()
	}
	if version != a.cfg.Terms.Version {
		return Resident{}, Conflict("terms_version_stale").With("version", a.cfg.Terms.Version)
	}
	return a.recordConsent(ctx, r.ID)
}

// recordConsent stores the resident's agreement to the current texts now
// and returns the resident as stored.
func (a *App) recordConsent(ctx context.Context, residentID int64) (Resident, error) {
	if a.cfg.Terms.Version != "" {
		_, err := a.store.RecordConsent(ctx, residentID, a.cfg.Terms.Version)
		a.changed(ctx, newsResident, idKey(residentID))
		if err != nil {
			return Resident{}, err
		}
	}
	return a.Resident(ctx, residentID)
}

// ErrConsentRequired refuses a sign-in code asked for without agreeing to
// the terms and the privacy notice: no text is sent.
func ErrConsentRequired() error {
	return &Error{Code: EINVALID, Reason: "consent_required", Fields: map[string]string{"consent": "consent_required"}}
}

// SMSResendAfter is how long a resident waits before asking for another
// code; the sign-in page counts it down.
func (a *App) SMSResendAfter() time.Duration { return a.cfg.SMSResendAfter }
