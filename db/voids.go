package db

import (
	"context"
	"time"

	"cqvoucher/app"
)

const voidCols = `x.id, x.voucher_id, v.code AS voucher_code, x.campaign_id, c.name AS campaign_name, t.face_fen, x.district_code,
	x.kid, x.rid, x.requested_by, o.display_name AS requested_by_name, x.requested_at, x.reason, x.decided_by, x.decided_at,
	x.approved, x.decision_note
	FROM voucher_voids x JOIN vouchers v ON v.id = x.voucher_id JOIN campaigns c ON c.id = x.campaign_id
	JOIN tiers t ON t.id = v.tier_id JOIN officers o ON o.id = x.requested_by`

// RequestVoid records a pending request for an unspent voucher.
func (s *Store) RequestVoid(ctx context.Context, r app.VoidRequest, audit app.AuditEntry) (app.VoidRequest, error) {
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		id, err := tx.insertID(ctx, `INSERT INTO voucher_voids (voucher_id, campaign_id, district_code, kid, rid, requested_by, requested_at, reason)
			SELECT id, ?, ?, ?, ?, ?, ?, ? FROM vouchers WHERE id = ? AND status = 'claimed' AND lapsed_at IS NULL AND expires_at > ?`,
			r.CampaignID, r.District, r.KID, r.RID, r.RequestedBy, now, r.Reason, r.VoucherID, now)
		switch {
		case isUnique(err):
			return app.Conflict("void_requested")
		case err != nil:
			return notFound(err, "voucher_not_voidable")
		}
		audit.At = now
		if err := s.appendAudit(ctx, tx, &audit); err != nil {
			return err
		}
		return tx.GetContext(ctx, &r, `SELECT `+voidCols+` WHERE x.id = ?`, id)
	})
	if app.ErrorReason(err) == "voucher_not_voidable" {
		err = app.Conflict("voucher_not_voidable")
	}
	return r, err
}

// DecideVoid decides a pending request once; an approval voids the
// voucher if it is still unspent at the writer's time, counting it as
// expired (its face freed from the committed budget; never recycled).
func (s *Store) DecideVoid(ctx context.Context, id, by int64, approve bool, note string, audit app.AuditEntry) (app.VoidRequest, error) {
	var r app.VoidRequest
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE voucher_voids SET decided_by = ?, decided_at = ?, approved = ?, decision_note = ?
			WHERE id = ? AND decided_at IS NULL AND requested_by <> ?`, by, now, approve, note, id, by))("void_decided"); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `SELECT `+voidCols+` WHERE x.id = ?`, id); err != nil {
			return err
		}
		if approve {
			var tier int64
			err := tx.GetContext(ctx, &tier, `UPDATE vouchers SET lapsed_at = ?, voided_at = ?, void_reason = ?
				WHERE id = ? AND status = 'claimed' AND lapsed_at IS NULL RETURNING tier_id`, now, now, r.Reason, r.VoucherID)
			if err != nil {
				return notFound(err, "voucher_not_voidable")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE tiers SET expired = expired + 1 WHERE id = ?`, tier); err != nil {
				return err
			}
		}
		audit.At = now
		return s.appendAudit(ctx, tx, &audit)
	})
	if app.ErrorReason(err) == "voucher_not_voidable" {
		err = app.Conflict("voucher_not_voidable")
	}
	return r, err
}

// VoidRequest reads one request.
func (s *Store) VoidRequest(ctx context.Context, id int64) (app.VoidRequest, error) {
	var r app.VoidRequest
	err := s.r.GetContext(ctx, &r, `SELECT `+voidCols+` WHERE x.id = ?`, id)
	return r, notFound(err, "void_not_found")
}

// VoidRequests lists a district's requests ("" = all), pending first.
func (s *Store) VoidRequests(ctx context.Context, district string, limit int) ([]app.VoidRequest, error) {
	var out []app.VoidRequest
	err := s.r.SelectContext(ctx, &out, `SELECT `+voidCols+` WHERE (? = '' OR x.district_code = ?)
		ORDER BY CASE WHEN x.decided_at IS NULL THEN 0 ELSE 1 END, x.id DESC LIMIT ?`, district, district, limit)
	return out, err
}

// Revoked lists the approved voids' revocation ids by signing key; a
// key's counter is how many it has, which only grows.
func (s *Store) Revoked(ctx context.Context) ([]app.RevokedKey, error) {
	var rows []struct {
		KID string `db:"kid"`
		RID string `db:"rid"`
	}
	if err := s.r.SelectContext(ctx, &rows, `SELECT kid, rid FROM voucher_voids WHERE approved = 1 ORDER BY kid, id`); err != nil {
		return nil, err
	}
	out := []app.RevokedKey{}
	for _, row := range rows {
		if len(out) == 0 || out[len(out)-1].KID != row.KID {
			out = append(out, app.RevokedKey{KID: row.KID, Method: "rid", RIDs: []string{}})
		}
		k := &out[len(out)-1]
		k.RIDs = append(k.RIDs, row.RID)
		k.Ctr++
	}
	return out, nil
}
