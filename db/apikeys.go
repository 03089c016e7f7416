package db

import (
	"context"
	"time"

	"cqvoucher/app"
)

const apiKeyCols = `id, merchant_id, cashier_id, label, key_hash, created_at, revoked_at`

// CreateAPIKey stores a key and its terminal's cashier account together.
func (s *Store) CreateAPIKey(ctx context.Context, k *app.APIKey, terminal *app.Cashier) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := insertCashier(ctx, tx.statements, terminal); err != nil {
			return err
		}
		k.CashierID = terminal.ID
		id, err := tx.insertID(ctx, `INSERT INTO api_keys (merchant_id, cashier_id, label, key_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.MerchantID, k.CashierID, k.Label, k.KeyHash, k.CreatedAt.UTC())
		if err != nil {
			return err
		}
		k.ID = id
		return err
	})
}

// APIKeys lists a merchant's keys.
func (s *Store) APIKeys(ctx context.Context, merchantID int64) ([]app.APIKey, error) {
	var ks []app.APIKey
	err := s.r.SelectContext(ctx, &ks, `SELECT `+apiKeyCols+` FROM api_keys WHERE merchant_id = ? ORDER BY id DESC`, merchantID)
	return ks, err
}

// RevokeAPIKey revokes one of a merchant's keys and disables its terminal account.
func (s *Store) RevokeAPIKey(ctx context.Context, merchantID, id int64, at time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND merchant_id = ? AND revoked_at IS NULL`, at.UTC(), id, merchantID)
		if err := guarded(res, err)("api_key_not_found"); err != nil {
			if app.ErrorCode(err) == app.ECONFLICT {
				return app.NotFound("api_key_not_found")
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE cashiers SET disabled_at = ? WHERE id = (SELECT cashier_id FROM api_keys WHERE id = ?)`, at.UTC(), id)
		return err
	})
}

// CashierByAPIKeyHash finds the terminal account of a live key.
func (s *Store) CashierByAPIKeyHash(ctx context.Context, hash string) (app.Cashier, error) {
	var c app.Cashier
	err := s.r.GetContext(ctx, &c, `SELECT c.id, c.merchant_id, c.username, c.display_name, c.password_hash, c.created_at, c.role, c.disabled_at
		FROM api_keys k JOIN cashiers c ON c.id = k.cashier_id WHERE k.key_hash = ? AND k.revoked_at IS NULL`, hash)
	return c, notFound(err, "api_key_not_found")
}
