package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// RecordConsent records that a resident agreed to the 用户协议 and 隐私政策
// of version, at the writer's time, which it returns. An erased account
// is "resident_not_found": there is no one left to agree.
func (s *Store) RecordConsent(ctx context.Context, residentID int64, version string) (time.Time, error) {
	var at time.Time
	err := s.txAt(ctx, func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		at = now
		return guarded(tx.ExecContext(ctx, `UPDATE residents SET consented_at = ?, consent_version = ?
			WHERE id = ? AND erased_at IS NULL`, now, version, residentID))("resident_not_found")
	})
	return at, err
}
