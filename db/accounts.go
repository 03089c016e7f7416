package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const officerCols = `id, username, display_name, password_hash, role, district_code, can_approve, created_at, disabled_at,
	created_by, activated_at, totp_enabled_at, locked_until`

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

// CreateOfficer adds an account that is active at once (seeds and the
// product's own accounts), with its audit record; a taken username is a
// conflict.
func (s *Store) CreateOfficer(ctx context.Context, o *app.Officer, audit app.AuditEntry) error {
	if o.ActivatedAt == nil {
		at := o.CreatedAt
		o.ActivatedAt = &at
	}
	return s.insertOfficer(ctx, o, nil, nil, audit)
}

// CreatePendingOfficer adds an account that its holder activates with the
// code whose hash is given.
func (s *Store) CreatePendingOfficer(ctx context.Context, o *app.Officer, activationHash string, expires time.Time, audit app.AuditEntry) error {
	o.PasswordHash, o.ActivatedAt = "", nil
	exp := expires.UTC()
	return s.insertOfficer(ctx, o, &activationHash, &exp, audit)
}

func (s *Store) insertOfficer(ctx context.Context, o *app.Officer, activationHash *string, expires *time.Time, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		id, err := tx.insertID(ctx, `INSERT INTO officers (username, display_name, password_hash, role, district_code, can_approve, created_at,
				created_by, activated_at, activation_hash, activation_expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, o.Username, o.Name, o.PasswordHash, o.Role, o.District, o.CanApprove, o.CreatedAt.UTC(),
			o.CreatedBy, utcPtr(o.ActivatedAt), activationHash, expires)
		if isUnique(err) {
			return app.Conflict("username_taken")
		}
		if err != nil {
			return err
		}
		o.ID = id
		audit.EntityID = o.ID
		return s.appendAudit(ctx, tx, &audit)
	})
}

// ActivateOfficer sets an account's first password if the activation
// code's hash matches and has not expired; the code is spent.
func (s *Store) ActivateOfficer(ctx context.Context, username, activationHash, passwordHash string, now time.Time, audit func(app.Officer) app.AuditEntry) (app.Officer, error) {
	var o app.Officer
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET password_hash = ?, activated_at = ?, activation_hash = NULL,
				activation_expires_at = NULL
			WHERE username = ? AND activation_hash = ? AND activation_expires_at > ? AND activated_at IS NULL AND disabled_at IS NULL`,
			passwordHash, now.UTC(), username, activationHash, now.UTC()))("activation_invalid"); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &o, `SELECT `+officerCols+` FROM officers WHERE username = ?`, username); err != nil {
			return err
		}
		e := audit(o)
		return s.appendAudit(ctx, tx, &e)
	})
	return o, err
}

// OfficerCredentials reads what sign-in checks.
func (s *Store) OfficerCredentials(ctx context.Context, id int64) (app.OfficerCredentials, error) {
	var c app.OfficerCredentials
	err := s.r.GetContext(ctx, &c, `SELECT id, password_hash, activation_hash, activation_expires_at, totp_secret, totp_enabled_at,
		totp_last_step, locked_until FROM officers WHERE id = ?`, id)
	return c, notFound(err, "officer_not_found")
}

// lockoutTable names the table of an account kind; only these two.
func lockoutTable(kind string) string {
	return map[string]string{app.KindOfficer: "officers", app.KindCashier: "cashiers"}[kind]
}

// RecordSignInFailure counts a failed sign-in in one statement: a failure
// after the window opens a new count; the count reaching the policy's
// number locks the account and starts counting afresh.
func (s *Store) RecordSignInFailure(ctx context.Context, kind string, id int64, now time.Time, p app.LockoutPolicy) error {
	t := lockoutTable(kind)
	if t == "" || p.Failures <= 0 {
		return nil
	}
	n, windowStart, lockEnd := now.UTC(), now.Add(-p.Window).UTC(), now.Add(p.LockFor).UTC()
	_, err := s.w.ExecContext(ctx, `UPDATE `+t+` SET
			failed_count = CASE WHEN failed_since IS NULL OR failed_since <= ? THEN 1 ELSE failed_count + 1 END,
			failed_since = CASE WHEN failed_since IS NULL OR failed_since <= ? THEN ? ELSE failed_since END
		WHERE id = ?`, windowStart, windowStart, n, id)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `UPDATE `+t+` SET locked_until = ?, failed_count = 0, failed_since = NULL
		WHERE id = ? AND failed_count >= ?`, lockEnd, id, p.Failures)
	return err
}

// ClearSignInFailures forgets the failures of an account that signed in.
func (s *Store) ClearSignInFailures(ctx context.Context, kind string, id int64) error {
	t := lockoutTable(kind)
	if t == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `UPDATE `+t+` SET failed_count = 0, failed_since = NULL, locked_until = NULL
		WHERE id = ? AND (failed_count <> 0 OR locked_until IS NOT NULL)`, id)
	return err
}

// CashierLockedUntil is when a cashier's lock ends (nil: not locked).
func (s *Store) CashierLockedUntil(ctx context.Context, id int64) (*time.Time, error) {
	var at *time.Time
	err := s.r.GetContext(ctx, &at, `SELECT locked_until FROM cashiers WHERE id = ?`, id)
	return at, notFound(err, "cashier_not_found")
}

// UnlockOfficer releases a lock, with its audit record.
func (s *Store) UnlockOfficer(ctx context.Context, id int64, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET failed_count = 0, failed_since = NULL, locked_until = NULL
			WHERE id = ?`, id))("officer_not_found"); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// SetPendingTOTP stores the secret of an enrolment not yet finished.
func (s *Store) SetPendingTOTP(ctx context.Context, id int64, sealed string) error {
	return guarded(s.w.ExecContext(ctx, `UPDATE officers SET totp_secret = ? WHERE id = ? AND totp_enabled_at IS NULL`, sealed, id))("totp_enrolled")
}

// EnableTOTP finishes an enrolment, replacing any older recovery codes.
func (s *Store) EnableTOTP(ctx context.Context, id int64, sealed string, step int64, now time.Time, recoveryHashes []string, audit *app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET totp_secret = ?, totp_enabled_at = ?, totp_last_step = ?
			WHERE id = ? AND totp_enabled_at IS NULL`, sealed, now.UTC(), step, id))("totp_enrolled"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM officer_recovery_codes WHERE officer_id = ?`, id); err != nil {
			return err
		}
		for _, h := range recoveryHashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO officer_recovery_codes (officer_id, code_hash) VALUES (?, ?)`, id, h); err != nil {
				return err
			}
		}
		if audit == nil {
			return nil
		}
		audit.EntityID = id
		return s.appendAudit(ctx, tx, audit)
	})
}

// UseTOTPStep records an accepted step; the guard makes a replay, even
// by two sign-ins at once, lose.
func (s *Store) UseTOTPStep(ctx context.Context, id, step int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE officers SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
	if n, aerr := affected(res); err == nil && aerr == nil && n == 0 {
		return app.Conflict("totp_replayed")
	}
	return err
}

// UseRecoveryCode spends an unused recovery code.
func (s *Store) UseRecoveryCode(ctx context.Context, id int64, hash string, now time.Time) error {
	return guarded(s.w.ExecContext(ctx, `UPDATE officer_recovery_codes SET used_at = ?
		WHERE officer_id = ? AND code_hash = ? AND used_at IS NULL`, now.UTC(), id, hash))("recovery_code_not_found")
}

// ResetTOTP removes a second factor and its recovery codes, and ends the
// officer's sessions, with the audit record.
func (s *Store) ResetTOTP(ctx context.Context, id int64, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET totp_secret = '', totp_enabled_at = NULL, totp_last_step = 0
			WHERE id = ?`, id))("officer_not_found"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM officer_recovery_codes WHERE officer_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind IN ('officer', 'officer_enrol') AND subject_id = ?`, id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// TouchSession moves a session's last use to now, unless it was idle
// since before idleSince: then it is deleted and not found. Every request
// of a cashier touches its session, so this is a write step of the
// writer like the redemption it comes with, sharing its commit (a write
// of its own here cost each redemption a second fsync).
func (s *Store) TouchSession(ctx context.Context, hash string, now, idleSince time.Time) error {
	var idle bool
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND COALESCE(last_seen_at, created_at) > ?`,
			now.UTC(), hash, idleSince.UTC())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		idle = true
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
		return err
	})
	if err == nil && idle {
		return app.NotFound("session_not_found")
	}
	return err
}

// SetOfficerDisabled disables (at != nil) or re-enables an account, and
// ends its sessions when disabling.
func (s *Store) SetOfficerDisabled(ctx context.Context, id int64, at *time.Time, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE officers SET disabled_at = ? WHERE id = ?`, utcPtr(at), id))("officer_not_found"); err != nil {
			return err
		}
		if at != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'officer' AND subject_id = ?`, id); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, &audit)
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
	return insertCashier(ctx, s.w.statements, c)
}

// cashierInsert and cashierArgs write a cashier account, here and in bulk
// loads (Loader.Cashier).
const cashierInsert = `INSERT INTO cashiers (merchant_id, username, display_name, password_hash, created_at, role)`

func cashierArgs(args []any, c *app.Cashier) []any {
	if c.Role == "" {
		c.Role = app.CashierStaff
	}
	return append(args, c.MerchantID, c.Username, c.Name, c.PasswordHash, c.CreatedAt.UTC(), c.Role)
}

// insertCashier adds a cashier account (a staff cashier unless c.Role
// says otherwise) on x, a pool or a transaction, and sets c.ID; a taken
// username is a conflict.
func insertCashier(ctx context.Context, x statements, c *app.Cashier) error {
	id, err := x.insertID(ctx, cashierInsert+` VALUES (?, ?, ?, ?, ?, ?)`, cashierArgs(nil, c)...)
	if isUnique(err) {
		return app.Conflict("username_taken")
	}
	if err != nil {
		return err
	}
	c.ID = id
	return nil
}

const merchantCols = `id, name, district_code, category_code, address, status, created_at, uscc, uscc_checksum_ok,
	contact_name, contact_phone_sealed, settlement_account_sealed, review_note, reviewed_by, reviewed_at`

// MerchantByID finds a merchant.
func (s *Store) MerchantByID(ctx context.Context, id int64) (app.Merchant, error) {
	var m app.Merchant
	err := s.r.GetContext(ctx, &m, `SELECT `+merchantCols+` FROM merchants WHERE id = ?`, id)
	return m, notFound(err, "merchant_not_found")
}

// CreateMerchant adds a merchant.
func (s *Store) CreateMerchant(ctx context.Context, m *app.Merchant) error {
	id, err := s.w.insertID(ctx, `INSERT INTO merchants (name, district_code, category_code, address, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, m.Name, m.District, m.Category, m.Address, m.Status, m.CreatedAt.UTC())
	if isUnique(err) {
		return app.Conflict("merchant_exists")
	}
	if err != nil {
		return err
	}
	m.ID = id
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

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se app.Session) error {
	_, err := s.w.ExecContext(ctx, sessionInsert+` VALUES (?, ?, ?, ?, ?, ?)`, sessionArgs(nil, se)...)
	return err
}

// sessionInsert and sessionArgs write a session, here and in bulk loads
// (Loader.Sessions).
const sessionInsert = `INSERT INTO sessions (token_hash, kind, subject_id, created_at, expires_at, last_seen_at)`

func sessionArgs(args []any, se app.Session) []any {
	return append(args, se.TokenHash, se.Kind, se.SubjectID, se.CreatedAt.UTC(), se.ExpiresAt.UTC(), utcPtr(se.LastSeenAt))
}

// SessionByTokenHash finds a session that has not expired at now.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string, now time.Time) (app.Session, error) {
	var se app.Session
	err := s.r.GetContext(ctx, &se, `SELECT s.token_hash, s.kind, s.subject_id, s.created_at, s.expires_at, s.last_seen_at,
		COALESCE((SELECT consent_version FROM residents WHERE id = s.subject_id AND s.kind = 'resident' AND erased_at IS NULL), '') AS consent_version
		FROM sessions s WHERE s.token_hash = ? AND s.expires_at > ?`, hash, now.UTC())
	return se, notFound(err, "session_not_found")
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
	return err
}

// Merchants lists one page of the merchants f selects: pending first,
// then suspended, approved and rejected (app.MerchantStatuses), each in
// application order. OFFSET paging is enough here: a city has thousands
// of merchants, not millions, and an officer pages a few screens deep.
func (s *Store) Merchants(ctx context.Context, f app.MerchantFilter) ([]app.Merchant, error) {
	where, args := merchantWhere(f)
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, f.Status)
	}
	var ms []app.Merchant
	err := s.r.SelectContext(ctx, &ms, `SELECT `+merchantCols+` FROM merchants WHERE `+where+`
		ORDER BY CASE status WHEN 'pending' THEN 0 WHEN 'suspended' THEN 1 WHEN 'approved' THEN 2 ELSE 3 END, id
		LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	return ms, err
}

// MerchantCounts counts the merchants f selects, whatever their status,
// by status.
func (s *Store) MerchantCounts(ctx context.Context, f app.MerchantFilter) (map[string]int, error) {
	where, args := merchantWhere(f)
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := s.r.SelectContext(ctx, &rows, `SELECT status, COUNT(*) AS n FROM merchants WHERE `+where+` GROUP BY status`, args...); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// merchantWhere is the district and search part of a merchant filter. The
// name is compared lower-cased on both sides, since SQLite's LIKE ignores
// ASCII case and PostgreSQL's does not; USCCs are stored upper-case.
func merchantWhere(f app.MerchantFilter) (string, []any) {
	where, args := `(? = '' OR district_code = ?)`, []any{f.District, f.District}
	if f.Search != "" {
		where += ` AND (LOWER(name) LIKE ? ESCAPE '\' OR uscc LIKE ? ESCAPE '\')`
		args = append(args, "%"+escapeLike(strings.ToLower(f.Search))+"%", escapeLike(strings.ToUpper(f.Search))+"%")
	}
	return where, args
}

// CreateMerchantWithOwner records an application and its owner account
// in one transaction: both or neither.
func (s *Store) CreateMerchantWithOwner(ctx context.Context, m *app.Merchant, owner *app.Cashier) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		id, err := tx.insertID(ctx, `INSERT INTO merchants (name, district_code, category_code, address, status, created_at,
			uscc, uscc_checksum_ok, contact_name, contact_phone_sealed, settlement_account_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Name, m.District, m.Category, m.Address, m.Status, m.CreatedAt.UTC(), m.USCC, m.USCCChecksumOK,
			m.ContactName, m.PhoneSealed, m.AccountSealed)
		if isUnique(err) {
			return app.Conflict("merchant_exists")
		}
		if err != nil {
			return err
		}
		m.ID = id
		owner.MerchantID = m.ID
		return insertCashier(ctx, tx.statements, owner)
	})
}

// ReviewMerchant moves a merchant between statuses, guarded on the
// current one, with its audit record.
func (s *Store) ReviewMerchant(ctx context.Context, r app.MerchantReview) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		q, args, err := sqlx.In(`UPDATE merchants SET status = ?, review_note = ?, reviewed_by = ?, reviewed_at = ?
			WHERE id = ? AND status IN (?)`, r.To, r.Note, r.By, r.At.UTC(), r.MerchantID, r.From)
		if err != nil {
			return err
		}
		if err := guarded(tx.ExecContext(ctx, q, args...))("merchant_status"); err != nil {
			return err
		}
		audit := r.Audit
		return s.appendAudit(ctx, tx, &audit)
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
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE cashiers SET disabled_at = ? WHERE id = ? AND merchant_id = ? AND disabled_at IS NULL`,
			at.UTC(), cashierID, merchantID))("cashier_not_found"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = 'cashier' AND subject_id = ?`, cashierID)
		return err
	})
}
