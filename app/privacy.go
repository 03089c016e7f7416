package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The contexts of sealed values: each binds a sealed value to the column
// it belongs in, so that one copied into another column does not open.
const (
	SealedResidentPhone     = "residents.phone"
	SealedMerchantPhone     = "merchants.contact_phone"
	SealedSettlementAccount = "merchants.settlement_account"
)

// PhoneHash is how a phone number is looked up ("one account per phone",
// sign-in, pending SMS codes): an HMAC-SHA256 under the identity key,
// domain-separated from ID hashes, so a copy of the database cannot be
// searched for a known number, nor the 10^10 mobile numbers tried.
func (a *App) PhoneHash(phone string) string {
	m := hmac.New(sha256.New, a.cfg.IdentityKey)
	m.Write([]byte("resident-phone:" + phone))
	return hex.EncodeToString(m.Sum(nil))
}

// seal encrypts a personal value for the column named by context.
// Without the keys the product refuses to store it rather than keep it
// weakly protected.
func (a *App) seal(plain []byte, context string) ([]byte, error) {
	if len(a.cfg.IdentityKey) < 32 || a.cfg.Sealer == nil {
		return nil, &Error{Code: EINTERNAL, Reason: "internal"}
	}
	return a.cfg.Sealer.Seal(plain, context)
}

// open decrypts a sealed value into *dst; an absent one (NULL: a
// tombstone, an empty field) leaves *dst as it is.
func (a *App) open(dst *string, sealed []byte, context string) error {
	if sealed == nil {
		return nil
	}
	if a.cfg.Sealer == nil {
		return &Error{Code: EINTERNAL, Reason: "internal"}
	}
	plain, err := a.cfg.Sealer.Open(sealed, context)
	if err != nil {
		return errors.Join(&Error{Code: EINTERNAL, Reason: "internal"}, fmt.Errorf("%s: %w", context, err))
	}
	*dst = string(plain)
	return nil
}

// sealPhone is a phone number as it is stored: its lookup hash and its
// sealed form.
func (a *App) sealPhone(phone string) (string, []byte, error) {
	sealed, err := a.seal([]byte(phone), SealedResidentPhone)
	return a.PhoneHash(phone), sealed, err
}

// openPhone fills in r.Phone from its sealed form.
func (a *App) openPhone(r *Resident) error {
	return a.open(&r.Phone, r.PhoneSealed, SealedResidentPhone)
}

// SealMerchant seals a merchant's contact phone and settlement account
// before the merchant is stored; only the sealed forms are written.
func (a *App) SealMerchant(m *Merchant) error {
	var err error
	if m.PhoneSealed, err = a.seal([]byte(m.ContactPhone), SealedMerchantPhone); err != nil {
		return err
	}
	m.AccountSealed, err = a.seal([]byte(m.SettlementAccount), SealedSettlementAccount)
	return err
}

// SealLegacyPersonalData seals personal data stored before sealing existed
// (once, at start-up, after the migrations): idempotent, one transaction.
// It returns how many rows it sealed.
func (a *App) SealLegacyPersonalData(ctx context.Context) (int, error) {
	return a.store.SealLegacyPersonalData(ctx, a.PhoneHash, a.seal)
}

// PersonalData is everything the product keeps about one resident, as
// they are shown it on "我的信息" and GET /api/v1/resident/me.
type PersonalData struct {
	Resident Resident
	// Sessions are the resident's sign-ins still kept (open ones, and
	// ended ones until the retention sweep deletes them), newest first.
	Sessions []Session
	Vouchers []Voucher
	// Feedback is what they filed (and the answers), newest first.
	Feedback []Feedback
}

// PersonalData reads what is stored about a resident.
func (a *App) PersonalData(ctx context.Context, r Resident) (PersonalData, error) {
	full, err := a.Resident(ctx, r.ID)
	if err != nil {
		return PersonalData{}, err
	}
	pd := PersonalData{Resident: full}
	if pd.Sessions, err = a.store.ResidentSessions(ctx, r.ID); err != nil {
		return PersonalData{}, err
	}
	if pd.Vouchers, err = a.store.ResidentVouchers(ctx, r.ID); err != nil {
		return PersonalData{}, err
	}
	// Read without marking answers seen: that is for 我的反馈 itself.
	if pd.Feedback, err = a.store.Feedbacks(ctx, FeedbackFilter{ResidentID: r.ID, Limit: 200}); err != nil {
		return PersonalData{}, err
	}
	return pd, nil
}

// EraseResident deletes a resident's personal information at their
// request (个人信息保护法 art. 47). Their vouchers, claims and redemptions
// are fiscal records and stay, pointing at the resident row, which keeps
// only its id and dates: the phone number (sealed and hashed) and the ID
// hash are erased, every session ends, and the erasure is audited in the
// same transaction. The same phone signing in later is a new account.
// confirmed is the resident's answer to the confirmation step; without
// it nothing is erased.
func (a *App) EraseResident(ctx context.Context, r Resident, confirmed bool) error {
	if !confirmed {
		return &Error{Code: EINVALID, Reason: "erase_unconfirmed", Fields: map[string]string{"confirm": "erase_unconfirmed"}}
	}
	full, err := a.Resident(ctx, r.ID)
	if err != nil {
		return err
	}
	audit := AuditEntry{
		At: a.now().Truncate(time.Microsecond), Actor: "resident", Action: ActionResidentErase,
		Entity: "resident", EntityID: r.ID,
		BeforeJSON: snapshot(map[string]any{"real_name": full.RealName(), "created_at": full.CreatedAt}),
		AfterJSON:  snapshot(map[string]any{"erased": true}),
	}
	// API requests trust a cached session without loading the resident:
	// the resident's other devices must not keep claiming for a minute,
	// on this process or any other.
	defer a.changed(ctx, newsResidentSessions, idKey(r.ID))
	if err := a.store.EraseResident(ctx, r.ID, audit); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "resident erased their personal data", "resident", r.ID)
	return nil
}

// RetentionSwept counts what one retention sweep deleted.
type RetentionSwept struct {
	Sessions int64
	SMSCodes int64
}

// SweepRetention deletes what is kept no longer than docs/privacy.md
// says: sessions ended more than SessionRetention ago, and SMS codes
// (with their per-day counters) sent more than SMSCodeRetention ago.
// It runs on the App's clock.
func (a *App) SweepRetention(ctx context.Context) (RetentionSwept, error) {
	now := a.now()
	return a.store.SweepRetention(ctx, now.Add(-a.cfg.SessionRetention), now.Add(-a.cfg.SMSCodeRetention))
}
