package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"cqvoucher/app"
)

// SaveSMSCode stores a new code for a phone and its requester unless that
// requester's last one was sent less than minInterval ago, the requester's
// daily cap for the number is reached, or any budget is full. All guards
// sit in the writes of one transaction, so two quick requests cannot both
// pass and a refused send counts nowhere. It returns the budgets this send
// filled (their count reached the limit with it), so that each is reported
// once per period.
func (s *Store) SaveSMSCode(ctx context.Context, c app.SMSCode, minInterval time.Duration, dailyCap int, budgets []app.SMSBudget) ([]app.SMSBudget, error) {
	var filled []app.SMSBudget
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		filled = filled[:0]
		res, err := tx.ExecContext(ctx, `INSERT INTO sms_codes (phone, requester, code_hash, expires_at, attempts_left, sent_at, day, sent_today)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (phone, requester) DO UPDATE SET
				code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts_left = excluded.attempts_left,
				sent_at = excluded.sent_at,
				sent_today = CASE WHEN sms_codes.day = excluded.day THEN sms_codes.sent_today + 1 ELSE 1 END,
				day = excluded.day
			WHERE sms_codes.sent_at <= ? AND (sms_codes.day <> excluded.day OR sms_codes.sent_today < ?)`,
			c.Phone, c.Requester, c.CodeHash, c.ExpiresAt.UTC(), c.AttemptsLeft, c.SentAt.UTC(), c.Day,
			c.SentAt.Add(-minInterval).UTC(), dailyCap)
		if err := guarded(res, err)("sms_too_frequent"); err != nil {
			if app.ErrorCode(err) == app.ECONFLICT {
				return app.RateLimited("sms_too_frequent")
			}
			return err
		}
		for _, b := range budgets {
			var sent int
			err := tx.GetContext(ctx, &sent, `INSERT INTO sms_budgets (scope, period, sent) VALUES (?, ?, 1)
				ON CONFLICT (scope, period) DO UPDATE SET sent = sms_budgets.sent + 1 WHERE sms_budgets.sent < ?
				RETURNING sent`, b.Scope, b.Period, b.Limit)
			if errors.Is(err, sql.ErrNoRows) {
				return app.RateLimited(b.Refusal)
			}
			if err != nil {
				return err
			}
			if sent >= b.Limit {
				filled = append(filled, b)
			}
		}
		// Periods start with their date: anything before yesterday is over.
		_, err = tx.ExecContext(ctx, `DELETE FROM sms_budgets WHERE period < ?`, app.LocalDay(c.SentAt.AddDate(0, 0, -1)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return filled, nil
}

// CheckSMSCode consumes a requester's matching, unexpired code for a phone;
// a wrong one spends an attempt of that code only, and a code with no
// attempts left is void.
func (s *Store) CheckSMSCode(ctx context.Context, phone, requester, codeHash string, now time.Time) error {
	var verdict error
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var c app.SMSCode
		err := tx.GetContext(ctx, &c, `SELECT phone, requester, code_hash, expires_at, attempts_left, sent_at, day FROM sms_codes
			WHERE phone = ? AND requester IN (?, '') ORDER BY requester = '' LIMIT 1`, phone, requester)
		if errors.Is(err, sql.ErrNoRows) {
			verdict = app.Unauthorized("code_expired")
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case !now.Before(c.ExpiresAt):
			verdict = app.Unauthorized("code_expired")
		case c.AttemptsLeft <= 0:
			verdict = app.Unauthorized("code_attempts")
		case !app.EqualHash(c.CodeHash, codeHash):
			verdict = app.Unauthorized("code_wrong")
			_, err = tx.ExecContext(ctx, `UPDATE sms_codes SET attempts_left = attempts_left - 1
				WHERE phone = ? AND requester = ? AND attempts_left > 0`, phone, c.Requester)
			return err
		default:
			_, err = tx.ExecContext(ctx, `DELETE FROM sms_codes WHERE phone = ? AND requester = ?`, phone, c.Requester)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return verdict
}

// ForgetSMSCode removes a stored code that could not be delivered.
func (s *Store) ForgetSMSCode(ctx context.Context, phone, codeHash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sms_codes WHERE phone = ? AND code_hash = ?`, phone, codeHash)
	return err
}
