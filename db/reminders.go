package db

import (
	"context"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

// sendRemindersJob is the advisory lock of the reminder sweep (see onlyOneAtATime).
const sendRemindersJob = 7_205_104

// SetReminder records a resident's choice for a voucher's expiry reminder.
func (s *Store) SetReminder(ctx context.Context, voucherID, campaignID int64, on bool) (app.Reminder, error) {
	var r app.Reminder
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO voucher_reminders (voucher_id, campaign_id, opted_in, changed_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (voucher_id) DO UPDATE SET opted_in = excluded.opted_in, changed_at = excluded.changed_at`,
			voucherID, campaignID, boolInt(on), now.UTC()); err != nil {
			return err
		}
		return tx.GetContext(ctx, &r, reminderSelect+` WHERE voucher_id = ?`, voucherID)
	})
	return r, err
}

const reminderSelect = `SELECT voucher_id, opted_in = 1 AS opted_in, attempts, reminded_at, gave_up_at FROM voucher_reminders`

// ReminderOf is a voucher's reminder; a voucher never asked for has one off.
func (s *Store) ReminderOf(ctx context.Context, voucherID int64) (app.Reminder, error) {
	var r []app.Reminder
	if err := s.r.SelectContext(ctx, &r, reminderSelect+` WHERE voucher_id = ?`, voucherID); err != nil || len(r) == 0 {
		return app.Reminder{VoucherID: voucherID}, err
	}
	return r[0], nil
}

// TakeDueReminders takes, in one transaction at the writer's time, up to
// limit reminders that are due: the voucher is unspent (claimed, not
// lapsed, not voided) and expires in (now, now+window]; the reminder is
// opted in, not sent, not given up, past its next try, and not held by
// another sweep's lease. The guarded UPDATE decides, not the SELECT: on
// PostgreSQL a redemption or another sweep may commit between the two.
func (s *Store) TakeDueReminders(ctx context.Context, window, lease time.Duration, limit int) ([]app.DueReminder, error) {
	var out []app.DueReminder
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if alone, err := s.onlyOneAtATime(ctx, tx, sendRemindersJob); err != nil || !alone {
			return err // another process is sweeping: it sends these
		}
		now = now.UTC()
		// The same conditions in the SELECT and, on the row itself, in the UPDATE.
		// (vouchers has a claimed_at too: the reminder's columns are named in full.)
		const remDue = ` voucher_reminders.opted_in = 1 AND voucher_reminders.reminded_at IS NULL AND voucher_reminders.gave_up_at IS NULL
			AND (voucher_reminders.claimed_at IS NULL OR voucher_reminders.claimed_at <= ?)
			AND (voucher_reminders.next_try_at IS NULL OR voucher_reminders.next_try_at <= ?)`
		const vDue = ` v.status = 'claimed' AND v.lapsed_at IS NULL AND v.voided_at IS NULL AND v.expires_at > ? AND v.expires_at <= ?`
		remArgs, vArgs := []any{now.Add(-lease), now}, []any{now, now.Add(window)}
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, `SELECT voucher_reminders.voucher_id FROM voucher_reminders JOIN vouchers v ON v.id = voucher_reminders.voucher_id
			WHERE`+remDue+` AND`+vDue+` ORDER BY v.expires_at, v.id LIMIT ?`, slices.Concat(remArgs, vArgs, []any{limit})...); err != nil || len(ids) == 0 {
			return err
		}
		q, qargs, err := sqlx.In(`UPDATE voucher_reminders SET claimed_at = ? WHERE voucher_id IN (?) AND`+remDue+`
			AND EXISTS (SELECT 1 FROM vouchers v WHERE v.id = voucher_reminders.voucher_id AND`+vDue+`)
			RETURNING voucher_id`, slices.Concat([]any{now, ids}, remArgs, vArgs)...)
		if err != nil {
			return err
		}
		var taken []int64
		if err := tx.SelectContext(ctx, &taken, q, qargs...); err != nil || len(taken) == 0 {
			return err
		}
		q, qargs, err = sqlx.In(`SELECT v.id AS voucher_id, v.resident_id, v.code, v.expires_at, c.name AS campaign_name
			FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id WHERE v.id IN (?) ORDER BY v.expires_at, v.id`, taken)
		if err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, q, qargs...)
	})
	return out, err
}

// ReminderSent marks a taken reminder sent, at the writer's time.
func (s *Store) ReminderSent(ctx context.Context, voucherID int64) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE voucher_reminders SET reminded_at = ?, claimed_at = NULL, last_error = ''
			WHERE voucher_id = ? AND reminded_at IS NULL`, now.UTC(), voucherID)
		return err
	})
}

// ReminderFailed counts a failed send and releases the reminder: its next
// try is retryAfter(attempts) after the writer's time, or, at maxAttempts,
// it is given up.
func (s *Store) ReminderFailed(ctx context.Context, voucherID int64, reason string, maxAttempts int, retryAfter func(int) time.Duration) (bool, error) {
	var gaveUp bool
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		var attempts []int
		if err := tx.SelectContext(ctx, &attempts, `UPDATE voucher_reminders SET attempts = attempts + 1, claimed_at = NULL, last_error = ?
			WHERE voucher_id = ? AND reminded_at IS NULL AND gave_up_at IS NULL RETURNING attempts`, reason, voucherID); err != nil || len(attempts) == 0 {
			return err
		}
		if gaveUp = attempts[0] >= maxAttempts; gaveUp {
			_, err := tx.ExecContext(ctx, `UPDATE voucher_reminders SET gave_up_at = ? WHERE voucher_id = ?`, now.UTC(), voucherID)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE voucher_reminders SET next_try_at = ? WHERE voucher_id = ?`,
			now.UTC().Add(retryAfter(attempts[0])), voucherID)
		return err
	})
	return gaveUp, err
}

// RemindersSent counts a campaign's reminders sent in [from, to).
func (s *Store) RemindersSent(ctx context.Context, campaignID int64, from, to time.Time) (int64, error) {
	var n int64
	err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM voucher_reminders WHERE campaign_id = ? AND reminded_at IS NOT NULL
		AND reminded_at >= ? AND reminded_at < ?`, campaignID, from.UTC(), to.UTC())
	return n, err
}
