package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

// EraseResident erases a resident's personal data in one transaction: the
// sealed and hashed phone and the ID hash go, the row stays as a tombstone
// (its vouchers and money records still point at it), every session of
// the resident ends, and the audit entry is appended. Erasing twice is
// "resident_not_found": the second request finds no one to erase.
func (s *Store) EraseResident(ctx context.Context, residentID int64, audit app.AuditEntry) error {
	return s.txAt(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE residents SET phone = NULL, phone_hash = NULL, phone_sealed = NULL,
			id_hash = NULL, erased_at = ? WHERE id = ? AND erased_at IS NULL`, now, residentID))("resident_not_found"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'resident' AND subject_id = ?`, residentID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, &audit)
	})
}

// ResidentSessions lists a resident's sessions still kept, newest first.
// Token hashes are left out: they are nobody's business, not even the
// resident's.
func (s *Store) ResidentSessions(ctx context.Context, residentID int64) ([]app.Session, error) {
	var ss []app.Session
	err := s.r.SelectContext(ctx, &ss, `SELECT kind, subject_id, created_at, expires_at FROM sessions
		WHERE kind = 'resident' AND subject_id = ? ORDER BY created_at DESC LIMIT 50`, residentID)
	return ss, err
}

// SweepRetention deletes sessions that ended before sessionsEnded and SMS
// codes (with their per-number day counters) sent before smsSent.
func (s *Store) SweepRetention(ctx context.Context, sessionsEnded, smsSent time.Time) (app.RetentionSwept, error) {
	var swept app.RetentionSwept
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, sessionsEnded.UTC())
		if err != nil {
			return err
		}
		if swept.Sessions, err = affected(res); err != nil {
			return err
		}
		if res, err = tx.ExecContext(ctx, `DELETE FROM sms_codes WHERE sent_at < ?`, smsSent.UTC()); err != nil {
			return err
		}
		swept.SMSCodes, err = affected(res)
		return err
	})
	return swept, err
}
