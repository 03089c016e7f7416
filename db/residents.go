package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const residentCols = `id, phone_hash, phone_sealed, created_at, id_hash, erased_at`

// ResidentByID finds a resident (an erased one too: it is a tombstone).
func (s *Store) ResidentByID(ctx context.Context, id int64) (app.Resident, error) {
	var r app.Resident
	err := s.r.GetContext(ctx, &r, `SELECT `+residentCols+` FROM residents WHERE id = ?`, id)
	return r, notFound(err, "resident_not_found")
}

// EnsureResident returns the resident whose phone has this keyed hash,
// creating it with the sealed number if new. An erased resident has no
// hash any more, so the same phone signing in again is a new account.
func (s *Store) EnsureResident(ctx context.Context, phoneHash string, phoneSealed []byte, now time.Time) (app.Resident, error) {
	var r app.Resident
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO residents (phone_hash, phone_sealed, created_at) VALUES (?, ?, ?)
			ON CONFLICT (phone_hash) DO NOTHING`, phoneHash, phoneSealed, now.UTC()); err != nil {
			return err
		}
		return tx.GetContext(ctx, &r, `SELECT `+residentCols+` FROM residents WHERE phone_hash = ?`, phoneHash)
	})
	return r, err
}

// BindIdentity records a resident's ID hash, once; the unique index makes
// an ID already bound to another account a conflict.
func (s *Store) BindIdentity(ctx context.Context, residentID int64, idHash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE residents SET id_hash = ? WHERE id = ? AND id_hash IS NULL AND erased_at IS NULL`, idHash, residentID)
	if isUnique(err) {
		return app.Conflict("id_bound_elsewhere")
	}
	return guarded(res, err)("id_already_verified")
}

// SealResidentPhones replaces every number still stored in clear (rows
// written before numbers were sealed) by its keyed hash and sealed form,
// in one transaction, then checkpoints and truncates the WAL so that the
// clear numbers' old pages leave the WAL too (secure_delete has zeroed
// them in the database). It is idempotent: a second run finds nothing.
func (s *Store) SealResidentPhones(ctx context.Context, seal func(phone string) (hash string, sealed []byte, err error)) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var rows []struct {
			ID    int64  `db:"id"`
			Phone string `db:"phone"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT id, phone FROM residents WHERE phone IS NOT NULL`); err != nil {
			return err
		}
		for _, r := range rows {
			hash, sealed, err := seal(r.Phone)
			if err != nil {
				return fmt.Errorf("db: sealing resident %d: %w", r.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE residents SET phone = NULL, phone_hash = ?, phone_sealed = ? WHERE id = ?`,
				hash, sealed, r.ID); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil || n == 0 {
		return n, err
	}
	var busy, logFrames, done int
	if err := s.w.QueryRowxContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return n, err
	}
	if busy != 0 {
		return n, errors.New("db: numbers sealed, but a reader kept the WAL from being truncated")
	}
	return n, nil
}
