package db

import (
	"context"
	"time"

	"cqvoucher/app"
)

const residentCols = `id, phone_hash, phone_sealed, created_at, id_hash, erased_at, consented_at, consent_version`

// ResidentByID finds a resident (an erased one too: it is a tombstone).
func (s *Store) ResidentByID(ctx context.Context, id int64) (app.Resident, error) {
	var r app.Resident
	err := s.r.GetContext(ctx, &r, `SELECT `+residentCols+` FROM residents WHERE id = ?`, id)
	return r, notFound(err, "resident_not_found")
}

// EnsureResident returns the resident whose phone has this keyed hash,
// creating it with the sealed number if new. A known resident's number is
// sealed afresh, so each sign-in moves it to the current sealer (a new
// mode or key). An erased resident has no hash any more, so the same
// phone signing in again is a new account.
func (s *Store) EnsureResident(ctx context.Context, phoneHash string, phoneSealed []byte, now time.Time) (app.Resident, error) {
	var r app.Resident
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO residents (phone_hash, phone_sealed, created_at) VALUES (?, ?, ?)
			ON CONFLICT (phone_hash) DO UPDATE SET phone_sealed = excluded.phone_sealed`, phoneHash, phoneSealed, now.UTC()); err != nil {
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
