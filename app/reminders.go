package app

import (
	"context"
	"fmt"
	"time"
)

// Expiry reminders: a resident may ask, for one of their vouchers, for a
// text the day before it expires. A sweep (SendExpiryReminders, run every
// minute by voucherd serve) sends them through the SMS gateway in batches:
// at most PerSweep texts a sweep, each voucher's reminder taken by one
// sweep of the fleet only, retried after a failure and given up after
// Attempts; never sent twice, and never for a voucher no longer usable.

// Reminder outcomes, as the Observer counts them.
const (
	ReminderSent   = "sent"
	ReminderFailed = "failed"  // the gateway failed; tried again later
	ReminderGaveUp = "gave_up" // the last attempt failed
)

// ReminderWindow is "the day before": a voucher is reminded of once its
// expiry is at most this far ahead (expires_at in (now, now+24h]).
const ReminderWindow = 24 * time.Hour

// ReminderPolicy is how reminders go out.
type ReminderPolicy struct {
	PerSweep   int           // texts one sweep sends at most (the rate limit)
	Attempts   int           // sends tried before giving up
	RetryAfter time.Duration // wait after the first failure; doubled after each next one
	Lease      time.Duration // how long a sweep holds the reminders it took to send
}

// DefaultReminders is what production runs with: a sweep a minute sends
// at most 200 texts, i.e. 12,000 an hour, well inside the SMS budgets.
var DefaultReminders = ReminderPolicy{PerSweep: 200, Attempts: 3, RetryAfter: 5 * time.Minute, Lease: 10 * time.Minute}

func (p ReminderPolicy) orDefault() ReminderPolicy {
	d := DefaultReminders
	if p.PerSweep > 0 {
		d.PerSweep = p.PerSweep
	}
	if p.Attempts > 0 {
		d.Attempts = p.Attempts
	}
	if p.RetryAfter > 0 {
		d.RetryAfter = p.RetryAfter
	}
	if p.Lease > 0 {
		d.Lease = p.Lease
	}
	return d
}

// backoff is the wait after the attempts-th failed send.
func (p ReminderPolicy) backoff(attempts int) time.Duration {
	d := p.RetryAfter
	for i := 1; i < attempts && d < 24*time.Hour; i++ {
		d *= 2
	}
	return d
}

// Reminder is what is stored about one voucher's expiry reminder.
type Reminder struct {
	VoucherID  int64      `db:"voucher_id" json:"-"`
	On         bool       `db:"opted_in" json:"on"`
	Attempts   int        `db:"attempts" json:"attempts"`
	RemindedAt *time.Time `db:"reminded_at" json:"reminded_at,omitempty"`
	GaveUpAt   *time.Time `db:"gave_up_at" json:"gave_up_at,omitempty"`
}

// DueReminder is one reminder a sweep took to send.
type DueReminder struct {
	VoucherID    int64     `db:"voucher_id"`
	ResidentID   int64     `db:"resident_id"`
	Code         string    `db:"code"`
	CampaignName string    `db:"campaign_name"`
	ExpiresAt    time.Time `db:"expires_at"`
}

// ReminderStore owns expiry reminders. Its implementation keeps: a
// reminder taken to send (TakeDueReminders) by one transaction only, which
// decides, at the writer's time, that the voucher is still unspent (claimed,
// not lapsed, not voided) and expires within the window; a reminder marked
// sent once and never taken again; a failure counting an attempt and
// setting the next try from the writer's time.
type ReminderStore interface {
	// SetReminder records a resident's choice for a voucher.
	SetReminder(ctx context.Context, voucherID, campaignID int64, on bool) (Reminder, error)
	// ReminderOf is a voucher's reminder (a zero one, off, if never asked).
	ReminderOf(ctx context.Context, voucherID int64) (Reminder, error)
	// TakeDueReminders takes up to limit reminders due at the writer's
	// time (expiry within window, opted in, unsent, not given up, no retry
	// pending), for lease: no other sweep takes them meanwhile.
	TakeDueReminders(ctx context.Context, window, lease time.Duration, limit int) ([]DueReminder, error)
	// ReminderSent marks a taken reminder sent.
	ReminderSent(ctx context.Context, voucherID int64) error
	// ReminderFailed counts a failed attempt and releases the reminder:
	// tried again after retryAfter(attempts) or, at maxAttempts, given up
	// (it reports which).
	ReminderFailed(ctx context.Context, voucherID int64, reason string, maxAttempts int, retryAfter func(attempts int) time.Duration) (gaveUp bool, err error)
	// RemindersSent counts a campaign's reminders sent in [from, to).
	RemindersSent(ctx context.Context, campaignID int64, from, to time.Time) (int64, error)
}

// SetReminder turns a resident's expiry reminder for one of their own
// vouchers on or off. Turning it on needs a voucher still usable; off is
// always accepted.
func (a *App) SetReminder(ctx context.Context, r Resident, code string, on bool) (Reminder, error) {
	v, err := a.VoucherOf(ctx, r, code)
	if err != nil {
		return Reminder{}, err
	}
	if on && v.State(a.now()) != VoucherClaimed {
		return Reminder{}, Conflict("voucher_not_remindable")
	}
	rem, err := a.store.SetReminder(ctx, v.ID, v.CampaignID, on)
	if err != nil {
		return Reminder{}, err
	}
	a.log.InfoContext(ctx, "expiry reminder set", "voucher", v.ID, "on", on)
	return rem, nil
}

// ReminderOf is the expiry reminder of one of the resident's vouchers.
func (a *App) ReminderOf(ctx context.Context, v Voucher) (Reminder, error) {
	return a.store.ReminderOf(ctx, v.ID)
}

// ReminderText is the text a resident gets the day before a voucher expires.
func ReminderText(d DueReminder) string {
	return fmt.Sprintf("【重庆消费券】您的「%s」消费券（尾号%s）将于 %s 后到期，请尽快使用。不需要提醒可在券页面关闭。",
		d.CampaignName, d.Code[len(d.Code)-4:], FormatUntil(d.ExpiresAt))
}

// ReminderSweep is what one SendExpiryReminders did.
type ReminderSweep struct {
	Sent, Failed, GaveUp int
}

// SendExpiryReminders sends the reminders due now: one batch of at most
// PerSweep, taken in one writer transaction, each sent through the SMS
// gateway and recorded sent or failed.
func (a *App) SendExpiryReminders(ctx context.Context) (ReminderSweep, error) {
	p := a.cfg.Reminders.orDefault()
	var out ReminderSweep
	due, err := a.store.TakeDueReminders(ctx, ReminderWindow, p.Lease, p.PerSweep)
	if err != nil {
		return out, err
	}
	for _, d := range due {
		if err := ctx.Err(); err != nil {
			return out, err // the lease runs out; another sweep takes them
		}
		sendErr := a.sendReminder(ctx, d)
		if sendErr == nil {
			if err := a.store.ReminderSent(context.WithoutCancel(ctx), d.VoucherID); err != nil {
				return out, err
			}
			out.Sent++
			a.obs.Reminder(ReminderSent)
			continue
		}
		gaveUp, err := a.store.ReminderFailed(context.WithoutCancel(ctx), d.VoucherID, sendErr.Error(), p.Attempts, p.backoff)
		if err != nil {
			return out, err
		}
		if gaveUp {
			out.GaveUp++
			a.obs.Reminder(ReminderGaveUp)
			a.log.WarnContext(ctx, "expiry reminder given up", "voucher", d.VoucherID, "err", sendErr)
		} else {
			out.Failed++
			a.obs.Reminder(ReminderFailed)
			a.log.WarnContext(ctx, "expiry reminder failed; tried again later", "voucher", d.VoucherID, "err", sendErr)
		}
	}
	if len(due) > 0 {
		a.log.InfoContext(ctx, "expiry reminders", "sent", out.Sent, "failed", out.Failed, "gave_up", out.GaveUp)
	}
	return out, nil
}

// sendReminder texts the voucher's holder. A resident erased since, or
// without a phone, cannot be reached: that counts as a failure.
func (a *App) sendReminder(ctx context.Context, d DueReminder) error {
	res, err := a.store.ResidentByID(ctx, d.ResidentID)
	if err != nil {
		return err
	}
	if res.ErasedAt != nil {
		return fmt.Errorf("resident erased")
	}
	if err := a.openPhone(&res); err != nil {
		return err
	}
	if res.Phone == "" {
		return fmt.Errorf("resident has no phone")
	}
	return a.sms.Send(ctx, res.Phone, ReminderText(d))
}

// RemindersSentToday counts a campaign's reminders sent on today's
// Asia/Shanghai date.
func (a *App) RemindersSentToday(ctx context.Context, campaignID int64) (int64, error) {
	y, m, d := a.now().In(Shanghai).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
	return a.store.RemindersSent(ctx, campaignID, from, from.AddDate(0, 0, 1))
}
