package db

import (
	"context"
	"time"
)

// RecordConsent records that a resident agreed to the 用户协议 and 隐私政策
// of version, at the writer's time, which it returns. An erased account
// is "resident_not_found": there is no one left to agree.
func (s *Store) RecordConsent(ctx context.Context, residentID int64, version string) (time.Time, error) {
	var at time.Time
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		at = now
		return guarded(tx.ExecContext(ctx, `UPDATE residents SET consented_at = ?, consent_version = ?
			WHERE id = ? AND erased_at IS NULL`, now, version, residentID))("resident_not_found")
	})
	return at, err
}

// ConsentVersion is the version of the texts a resident last agreed to
// ("" for none), read alone: the claim's consent check needs nothing else
// of the account, and at a drop every first press asks it.
func (s *Store) ConsentVersion(ctx context.Context, residentID int64) (string, error) {
	var v string
	err := s.r.GetContext(ctx, &v, `SELECT COALESCE(consent_version, '') FROM residents WHERE id = ? AND erased_at IS NULL`, residentID)
	return v, notFound(err, "resident_not_found")
}
