package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"cqvoucher/app"
)

// feedbackSelect reads feedback with what it is tied to: the voucher and
// its campaign, the redemption's merchant, and the filer's sealed number.
const feedbackSelect = `SELECT f.id, f.resident_id, f.district_code, f.category, f.body, f.voucher_id, f.redemption_id,
	f.status, f.created_at, f.local_day, f.answer, f.answered_by, f.answered_at, f.closed_by, f.closed_at, f.notice_at, f.seen_at,
	v.code AS voucher_code, v.campaign_id, c.name AS campaign_name, m.name AS merchant_name, r.created_at AS redeemed_at,
	res.phone_sealed
	FROM feedback f
	JOIN residents res ON res.id = f.resident_id
	LEFT JOIN vouchers v ON v.id = f.voucher_id
	LEFT JOIN campaigns c ON c.id = v.campaign_id
	LEFT JOIN redemptions r ON r.id = f.redemption_id
	LEFT JOIN merchants m ON m.id = r.merchant_id`

// CreateFeedback stores a filing in one transaction: the daily limit is
// part of the INSERT (counted on the writer's day, after BEGIN), the
// voucher's latest redemption (reversed or not: a complaint may be about
// the reversal) is tied to it, and the audit entry names the new record.
func (s *Store) CreateFeedback(ctx context.Context, f *app.Feedback, dailyCap int, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		day := app.LocalDay(now)
		id, err := tx.insertID(ctx, `INSERT INTO feedback (resident_id, district_code, category, body, voucher_id, redemption_id,
				status, created_at, local_day)
			SELECT ?, ?, ?, ?, ?, (SELECT MAX(id) FROM redemptions WHERE voucher_id = ?), ?, ?, ?
			WHERE (SELECT COUNT(*) FROM feedback WHERE resident_id = ? AND local_day = ?) < ?`,
			f.ResidentID, f.District, f.Category, f.Body, f.VoucherID, f.VoucherID, app.FeedbackOpen, now, day,
			f.ResidentID, day, dailyCap)
		if errors.Is(err, sql.ErrNoRows) {
			return app.RateLimited("feedback_too_frequent") // the day's cap: the SELECT gave no row to insert
		}
		if err != nil {
			return err
		}
		f.ID = id
		f.CreatedAt, f.LocalDay, f.Status = now, day, app.FeedbackOpen
		if err := tx.GetContext(ctx, &f.RedemptionID, `SELECT redemption_id FROM feedback WHERE id = ?`, f.ID); err != nil {
			return err
		}
		audit.EntityID, audit.At = f.ID, now.Truncate(time.Microsecond)
		return s.appendAudit(ctx, tx, &audit)
	})
}

// FeedbackByID reads one record.
func (s *Store) FeedbackByID(ctx context.Context, id int64) (app.Feedback, error) {
	var f app.Feedback
	err := s.r.GetContext(ctx, &f, feedbackSelect+` WHERE f.id = ?`, id)
	return f, notFound(err, "feedback_not_found")
}

// Feedbacks lists records of a filter, newest first.
func (s *Store) Feedbacks(ctx context.Context, ff app.FeedbackFilter) ([]app.Feedback, error) {
	q := feedbackSelect + ` WHERE 1 = 1`
	var args []any
	switch {
	case ff.ResidentID > 0:
		q += ` AND f.resident_id = ?`
		args = append(args, ff.ResidentID)
	case !ff.AllDistricts:
		q += ` AND f.district_code = ?`
		args = append(args, ff.District)
	}
	if ff.Status != "" {
		q += ` AND f.status = ?`
		args = append(args, ff.Status)
	}
	if ff.Limit <= 0 {
		ff.Limit = 100
	}
	q += ` ORDER BY f.id DESC LIMIT ?`
	args = append(args, ff.Limit)
	var out []app.Feedback
	err := s.r.SelectContext(ctx, &out, q, args...)
	return out, err
}

// AnswerFeedback records an answer to a record that is not closed.
func (s *Store) AnswerFeedback(ctx context.Context, id int64, answer string, by int64, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE feedback SET answer = ?, answered_by = ?, answered_at = ?, notice_at = ?,
			status = ? WHERE id = ? AND status IN (?, ?)`, answer, by, now, now, app.FeedbackAnswered, id,
			app.FeedbackOpen, app.FeedbackAnswered))("feedback_closed"); err != nil {
			return err
		}
		audit.At = now.Truncate(time.Microsecond)
		return s.appendAudit(ctx, tx, &audit)
	})
}

// CloseFeedback closes a record that is not closed.
func (s *Store) CloseFeedback(ctx context.Context, id int64, by int64, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE feedback SET status = ?, closed_by = ?, closed_at = ?, notice_at = ?
			WHERE id = ? AND status <> ?`, app.FeedbackClosed, by, now, now, id, app.FeedbackClosed))("feedback_closed"); err != nil {
			return err
		}
		audit.At = now.Truncate(time.Microsecond)
		return s.appendAudit(ctx, tx, &audit)
	})
}

// MarkFeedbackSeen records that the resident has read their feedback as it is now.
func (s *Store) MarkFeedbackSeen(ctx context.Context, residentID int64) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE feedback SET seen_at = ? WHERE resident_id = ? AND notice_at IS NOT NULL
			AND (seen_at IS NULL OR seen_at < notice_at)`, now, residentID)
		return err
	})
}

// UnreadFeedback counts the resident's records with news not yet read.
func (s *Store) UnreadFeedback(ctx context.Context, residentID int64) (int, error) {
	var n int
	err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM feedback WHERE resident_id = ? AND notice_at IS NOT NULL
		AND (seen_at IS NULL OR seen_at < notice_at)`, residentID)
	return n, err
}
