package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cqvoucher/app"
)

// EraseResident erases a resident's personal data in one transaction: the
// sealed and hashed phone and the ID hash go, the row stays as a tombstone
// (its vouchers and money records still point at it), every session of
// the resident ends, and the audit entry is appended. Erasing twice is
// "resident_not_found": the second request finds no one to erase.
func (s *Store) EraseResident(ctx context.Context, residentID int64, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE residents SET phone = NULL, phone_hash = NULL, phone_sealed = NULL,
			id_hash = NULL, erased_at = ? WHERE id = ? AND erased_at IS NULL`, now, residentID))("resident_not_found"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'resident' AND subject_id = ?`, residentID); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
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
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if alone, err := s.onlyOneAtATime(ctx, tx, sweepRetentionJob); err != nil || !alone {
			return err // another process is sweeping
		}
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

// SealLegacyPersonalData seals every personal value still stored in clear
// (rows written before sealing existed): residents' numbers get their
// keyed hash and sealed form, merchants' contact phones and settlement
// accounts their sealed form, and the clear columns are emptied, all in
// one transaction. Then the WAL is checkpointed and truncated, so the
// clear values' old pages leave it too (secure_delete has zeroed them in
// the database). Idempotent: a second run finds nothing. It returns how
// many rows it sealed.
func (s *Store) SealLegacyPersonalData(ctx context.Context, hashPhone func(phone string) string,
	seal func(plain []byte, context string) ([]byte, error)) (int, error) {
	n := 0
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var residents []struct {
			ID    int64  `db:"id"`
			Phone string `db:"phone"`
		}
		if err := tx.SelectContext(ctx, &residents, `SELECT id, phone FROM residents WHERE phone IS NOT NULL`); err != nil {
			return err
		}
		for _, r := range residents {
			sealed, err := seal([]byte(r.Phone), app.SealedResidentPhone)
			if err != nil {
				return fmt.Errorf("db: sealing resident %d: %w", r.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE residents SET phone = NULL, phone_hash = ?, phone_sealed = ? WHERE id = ?`,
				hashPhone(r.Phone), sealed, r.ID); err != nil {
				return err
			}
		}
		var merchants []struct {
			ID      int64  `db:"id"`
			Phone   string `db:"contact_phone"`
			Account string `db:"settlement_account"`
		}
		if err := tx.SelectContext(ctx, &merchants, `SELECT id, contact_phone, settlement_account FROM merchants
			WHERE contact_phone <> '' OR settlement_account <> ''`); err != nil {
			return err
		}
		for _, m := range merchants {
			phone, err := sealNonEmpty(m.Phone, app.SealedMerchantPhone, seal)
			if err != nil {
				return fmt.Errorf("db: sealing merchant %d: %w", m.ID, err)
			}
			account, err := sealNonEmpty(m.Account, app.SealedSettlementAccount, seal)
			if err != nil {
				return fmt.Errorf("db: sealing merchant %d: %w", m.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE merchants SET contact_phone = '', settlement_account = '',
				contact_phone_sealed = ?, settlement_account_sealed = ? WHERE id = ?`, phone, account, m.ID); err != nil {
				return err
			}
		}
		n = len(residents) + len(merchants)
		return nil
	})
	// On PostgreSQL the WAL is the server's, not a file of ours to
	// truncate; the clear values' old row versions go at its next VACUUM.
	if err != nil || n == 0 || s.Postgres() {
		return n, err
	}
	var busy, logFrames, done int
	if err := s.w.QueryRowxContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return n, err
	}
	if busy != 0 {
		return n, errors.New("db: personal data sealed, but a reader kept the WAL from being truncated")
	}
	return n, nil
}

// sealNonEmpty seals a value, leaving an empty one NULL.
func sealNonEmpty(v, context string, seal func([]byte, string) ([]byte, error)) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	return seal([]byte(v), context)
}
