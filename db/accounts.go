package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const officerCols = `id, username, display_name, password_hash, role, district_code, can_approve, created_at, disabled_at`

// OfficerByUsername finds an officer by sign-in name.
func (s *Store) OfficerByUsername(ctx context.Context, username string) (app.Officer, error) {
	var o app.Officer
	err := s.r.GetContext(ctx, &o, `SELECT `+officerCols+` FROM officers WHERE username = ?`, username)
	return o, notFound(err, "officer_not_found")
}

// OfficerByID finds an officer.
func (s *Store) OfficerByID(ctx context.Context, id int64) (app.Officer, error) {
	var o app.Officer
	err := s.r.GetContext(ctx, &o, `SELECT `+officerCols+` FROM officers WHERE id = ?`, id)
	return o, notFound(err, "officer_not_found")
}

// Officers lists officer accounts, of one district or ("") all.
func (s *Store) Officers(ctx context.Context, district string) ([]app.Officer, error) {
	var os []app.Officer
	err := s.r.SelectContext(ctx, &os, `SELECT `+officerCols+` FROM officers WHERE ? = '' OR district_code = ?
		ORDER BY district_code, username`, district, district)
	return os, err
}

// CreateOfficer adds an officer account with its audit record; a taken
// username is a conflict.
func (s *Store) CreateOfficer(ctx context.Context, o *app.Officer, audit app.AuditEntry) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO officers (username, display_name, password_hash, role, district_code, can_approve, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, o.Username, o.Name, o.PasswordHash, o.Role, o.District, o.CanApprove, o.CreatedAt.UTC())
		if isUnique(err) {
			return app.Conflict("username_taken")
		}
		if err != nil {
			return err
		}
		if o.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		audit.EntityID = o.ID
		return appendAudit(ctx, tx, &audit)
	})
}

// SetOfficerDisabled disables (at != nil) or re-enables an account, and
// ends its sessions when disabling.
func (s *Store) SetOfficerDisabled(ctx context.Context, id int64, at *time.Time, audit app.AuditEntry) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET disabled_at = ? WHERE id = ?`, utcPtr(at), id))("officer_not_found"); err != nil {
			return err
		}
		if at != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'officer' AND subject_id = ?`, id); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, &audit)
	})
}

const cashierCols = `id, merchant_id, username, display_name, password_hash, created_at, role, disabled_at`

// CashierByUsername finds a cashier by sign-in name.
func (s *Store) CashierByUsername(ctx context.Context, username string) (app.Cashier, error) {
	var c app.Cashier
	err := s.r.GetContext(ctx, &c, `SELECT `+cashierCols+` FROM cashiers WHERE username = ?`, username)
	return c, notFound(err, "cashier_not_found")
}

// CashierByID finds a cashier.
func (s *Store) CashierByID(ctx context.Context, id int64) (app.Cashier, error) {
	var c app.Cashier
	err := s.r.GetContext(ctx, &c, `SELECT `+cashierCols+` FROM cashiers WHERE id = ?`, id)
	return c, notFound(err, "cashier_not_found")
}

// CreateCashier adds a cashier account to a merchant.
func (s *Store) CreateCashier(ctx context.Context, c *app.Cashier) error {
	if c.Role == "" {
		c.Role = app.CashierStaff
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO cashiers (merchant_id, username, display_name, password_hash, created_at, role)
		VALUES (?, ?, ?, ?, ?, ?)`, c.MerchantID, c.Username, c.Name, c.PasswordHash, c.CreatedAt.UTC(), c.Role)
	if isUnique(err) {
		return app.Conflict("username_taken")
	}
	if err != nil {
		return err
	}
	c.ID, err = res.LastInsertId()
	return err
}

const merchantCols = `id, name, district_code, category_code, address, status, created_at, uscc, uscc_checksum_ok,
	contact_name, contact_phone, settlement_account, review_note, reviewed_by, reviewed_at`

// MerchantByID finds a merchant.
func (s *Store) MerchantByID(ctx context.Context, id int64) (app.Merchant, error) {
	var m app.Merchant
	err := s.r.GetContext(ctx, &m, `SELECT `+merchantCols+` FROM merchants WHERE id = ?`, id)
	return m, notFound(err, "merchant_not_found")
}

// CreateMerchant adds a merchant.
func (s *Store) CreateMerchant(ctx context.Context, m *app.Merchant) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO merchants (name, district_code, category_code, address, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, m.Name, m.District, m.Category, m.Address, m.Status, m.CreatedAt.UTC())
	if isUnique(err) {
		return app.Conflict("merchant_exists")
	}
	if err != nil {
		return err
	}
	m.ID, err = res.LastInsertId()
	return err
}

// SetMerchantStatus changes a merchant's status.
func (s *Store) SetMerchantStatus(ctx context.Context, id int64, status string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE merchants SET status = ? WHERE id = ?`, status, id)
	if err != nil {
		return err
	}
	if n, err := affected(res); err != nil || n != 1 {
		return notFound(errors.Join(err, sql.ErrNoRows), "merchant_not_found")
	}
	return nil
}

// ResidentByID finds a resident.
func (s *Store) ResidentByID(ctx context.Context, id int64) (app.Resident, error) {
	var r app.Resident
	err := s.r.GetContext(ctx, &r, `SELECT id, phone, created_at, id_hash FROM residents WHERE id = ?`, id)
	return r, notFound(err, "resident_not_found")
}

// EnsureResident returns the resident with the phone, creating it if new.
func (s *Store) EnsureResident(ctx context.Context, phone string, now time.Time) (app.Resident, error) {
	var r app.Resident
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO residents (phone, created_at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING`, phone, now.UTC()); err != nil {
			return err
		}
		return tx.GetContext(ctx, &r, `SELECT id, phone, created_at, id_hash FROM residents WHERE phone = ?`, phone)
	})
	return r, err
}

// BindIdentity records a resident's ID hash, once; the unique index makes
// an ID already bound to another account a conflict.
func (s *Store) BindIdentity(ctx context.Context, residentID int64, idHash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE residents SET id_hash = ? WHERE id = ? AND id_hash IS NULL`, idHash, residentID)
	if isUnique(err) {
		return app.Conflict("id_bound_elsewhere")
	}
	return guarded(res, err)("id_already_verified")
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se app.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, kind, subject_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		se.TokenHash, se.Kind, se.SubjectID, se.CreatedAt.UTC(), se.ExpiresAt.UTC())
	return err
}

// SessionByTokenHash finds a session that has not expired at now.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (app.Session, error) {
	var se app.Session
	err := s.r.GetContext(ctx, &se, `SELECT token_hash, kind, subject_id, created_at, expires_at FROM sessions
		WHERE token_hash = ? AND expires_at > ?`, hash, now.UTC())
	return se, notFound(err, "session_not_found")
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
	return err
}

// DeleteExpiredSessions removes sessions that ended before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UTC())
	if err != nil {
		return 0, err
	}
	return affected(res)
}

// Merchants lists merchants of one district (or "" all), pending first.
func (s *Store) Merchants(ctx context.Context, district string) ([]app.Merchant, error) {
	var ms []app.Merchant
	err := s.r.SelectContext(ctx, &ms, `SELECT `+merchantCols+` FROM merchants WHERE ? = '' OR district_code = ?
		ORDER BY status <> 'pending', district_code, name LIMIT 2000`, district, district)
	return ms, err
}

// CreateMerchantWithOwner records an application and its owner account
// in one transaction: both or neither.
func (s *Store) CreateMerchantWithOwner(ctx context.Context, m *app.Merchant, owner *app.Cashier) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO merchants (name, district_code, category_code, address, status, created_at,
			uscc, uscc_checksum_ok, contact_name, contact_phone, settlement_account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Name, m.District, m.Category, m.Address, m.Status, m.CreatedAt.UTC(), m.USCC, m.USCCChecksumOK,
			m.ContactName, m.ContactPhone, m.SettlementAccount)
		if isUnique(err) {
			return app.Conflict("merchant_exists")
		}
		if err != nil {
			return err
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		owner.MerchantID = m.ID
		res, err = tx.ExecContext(ctx, `INSERT INTO cashiers (merchant_id, username, display_name, password_hash, created_at, role)
			VALUES (?, ?, ?, ?, ?, ?)`, owner.MerchantID, owner.Username, owner.Name, owner.PasswordHash, owner.CreatedAt.UTC(), owner.Role)
		if isUnique(err) {
			return app.Conflict("username_taken")
		}
		if err != nil {
			return err
		}
		owner.ID, err = res.LastInsertId()
		return err
	})
}

// ReviewMerchant moves a merchant between statuses, guarded on the
// current one, with its audit record.
func (s *Store) ReviewMerchant(ctx context.Context, r app.MerchantReview) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		q, args, err := sqlx.In(`UPDATE merchants SET status = ?, review_note = ?, reviewed_by = ?, reviewed_at = ?
			WHERE id = ? AND status IN (?)`, r.To, r.Note, r.By, r.At.UTC(), r.MerchantID, r.From)
		if err != nil {
			return err
		}
		if err := guarded(tx.ExecContext(ctx, tx.Rebind(q), args...))("merchant_status"); err != nil {
			return err
		}
		audit := r.Audit
		return appendAudit(ctx, tx, &audit)
	})
}

// MerchantCashiers lists a merchant's cashier accounts.
func (s *Store) MerchantCashiers(ctx context.Context, merchantID int64) ([]app.Cashier, error) {
	var cs []app.Cashier
	err := s.r.SelectContext(ctx, &cs, `SELECT `+cashierCols+` FROM cashiers WHERE merchant_id = ? ORDER BY role <> 'owner', username`, merchantID)
	return cs, err
}

// DisableCashier disables one of a merchant's cashiers and ends its sessions.
func (s *Store) DisableCashier(ctx context.Context, merchantID, cashierID int64, at time.Time) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE cashiers SET disabled_at = ? WHERE id = ? AND merchant_id = ? AND disabled_at IS NULL`,
			at.UTC(), cashierID, merchantID))("cashier_not_found"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'cashier' AND subject_id = ?`, cashierID)
		return err
	})
}
