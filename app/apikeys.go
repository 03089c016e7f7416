package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// APIKey is a POS terminal's key to the cashier API. The secret itself is
// shown once, when made; only its SHA-256 is kept.
type APIKey struct {
	ID         int64      `db:"id" json:"id"`
	MerchantID int64      `db:"merchant_id" json:"merchant_id"`
	CashierID  int64      `db:"cashier_id" json:"cashier_id"`
	Label      string     `db:"label" json:"label"`
	KeyHash    string     `db:"key_hash" json:"-"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
	Secret     string     `db:"-" json:"key,omitempty"` // only in the answer that creates it
}

// apiKeyPrefix makes a leaked key recognisable in logs and code scanners.
const apiKeyPrefix = "cqvpos_"

// CreateAPIKey makes a key for one of the owner's POS terminals.
func (a *App) CreateAPIKey(ctx context.Context, owner Cashier, label string) (APIKey, error) {
	if owner.Role != CashierOwner {
		return APIKey{}, Forbidden("owner_only")
	}
	label = strings.TrimSpace(label)
	if label == "" || utf8.RuneCountInString(label) > 50 {
		return APIKey{}, &Error{Code: EINVALID, Reason: "label_required", Fields: map[string]string{"label": "label_required"}}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return APIKey{}, err
	}
	secret := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	k := APIKey{MerchantID: owner.MerchantID, Label: label, KeyHash: HashSessionToken(secret), CreatedAt: a.now()}
	// The terminal's own cashier account: no password can sign it in.
	terminal := Cashier{MerchantID: owner.MerchantID, Username: "pos-" + HashSessionToken(secret)[:12], Name: "POS " + label,
		PasswordHash: "!", Role: CashierStaff, CreatedAt: k.CreatedAt}
	if err := a.store.CreateAPIKey(ctx, &k, &terminal); err != nil {
		return APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

// APIKeys lists the owner's merchant's keys (without secrets).
func (a *App) APIKeys(ctx context.Context, owner Cashier) ([]APIKey, error) {
	if owner.Role != CashierOwner {
		return nil, Forbidden("owner_only")
	}
	return a.store.APIKeys(ctx, owner.MerchantID)
}

// RevokeAPIKey stops a key at once.
func (a *App) RevokeAPIKey(ctx context.Context, owner Cashier, id int64) error {
	if owner.Role != CashierOwner {
		return Forbidden("owner_only")
	}
	return a.store.RevokeAPIKey(ctx, owner.MerchantID, id, a.now())
}

// CashierByAPIKey is the terminal account behind a live key.
func (a *App) CashierByAPIKey(ctx context.Context, secret string) (Cashier, error) {
	if !strings.HasPrefix(secret, apiKeyPrefix) || len(secret) > 100 {
		return Cashier{}, Unauthorized("signed_out")
	}
	c, err := a.store.CashierByAPIKeyHash(ctx, HashSessionToken(secret))
	if ErrorCode(err) == ENOTFOUND || (err == nil && c.DisabledAt != nil) {
		return Cashier{}, Unauthorized("signed_out")
	}
	return c, err
}
