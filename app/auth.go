package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Session kinds: who the session belongs to.
const (
	KindOfficer  = "officer"
	KindCashier  = "cashier"
	KindResident = "resident"
)

// Session is a server-side session. The secret token is given to the
// client once; only its SHA-256 is stored, so a database copy signs no one in.
type Session struct {
	TokenHash string    `db:"token_hash"`
	Kind      string    `db:"kind"`
	SubjectID int64     `db:"subject_id"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
	// LastSeenAt is the session's last use, for ending idle sessions.
	LastSeenAt *time.Time `db:"last_seen_at"`
	// ConsentVersion is a resident's consent on record, read with the
	// session ("" for none and for other kinds): a press checks consent
	// from it instead of reading the account again (see requireConsent).
	ConsentVersion string `db:"consent_version"`
}

// HashPassword hashes a password with bcrypt at the library's default cost.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash is compared against when the user does not exist, so that a
// wrong username costs as long as a wrong password and reveals nothing.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

func checkPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// HashSessionToken is how a session token is looked up.
func HashSessionToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func (a *App) newSession(ctx context.Context, kind string, subject int64, ttl time.Duration) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	now := a.now()
	err := a.store.CreateSession(ctx, Session{
		TokenHash: HashSessionToken(tok), Kind: kind, SubjectID: subject,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: &now,
	})
	return tok, err
}

// SessionExpiry is when a session of the kind opened now ends.
func (a *App) SessionExpiry(kind string) time.Time {
	ttl := map[string]time.Duration{KindOfficer: a.cfg.OfficerSession, KindCashier: a.cfg.CashierSession, KindResident: a.cfg.ResidentSession}[kind]
	return a.now().Add(ttl)
}

// idleLimit is how long a session of the kind may go unused (0: no limit).
func (a *App) idleLimit(kind string) time.Duration {
	switch kind {
	case KindOfficer, KindOfficerEnrol:
		return a.cfg.OfficerIdle
	case KindCashier:
		return a.cfg.CashierIdle
	}
	return 0
}

// SignOut ends a session.
func (a *App) SignOut(ctx context.Context, tok string) error {
	hash := HashSessionToken(tok)
	err := a.store.DeleteSession(ctx, hash)
	a.changed(ctx, newsSession, hash)
	return err
}

// LoginCashier checks a cashier's password and opens a new session.
// Failures count and lock per account like an officer's (see LoginOfficer).
func (a *App) LoginCashier(ctx context.Context, username, password string) (Cashier, string, error) {
	c, err := a.store.CashierByUsername(ctx, strings.TrimSpace(username))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Cashier{}, "", err
	}
	now := a.now()
	locked := false
	if c.ID != 0 {
		until, err := a.store.CashierLockedUntil(ctx, c.ID)
		if err != nil {
			return Cashier{}, "", err
		}
		locked = until != nil && now.Before(*until)
	}
	pwHash := c.PasswordHash
	if locked {
		pwHash = ""
	}
	if !checkPassword(pwHash, password) {
		a.log.InfoContext(ctx, "sign-in failed", "kind", KindCashier, "cashier", c.ID, "locked", locked)
		if c.ID != 0 && !locked {
			if err := a.store.RecordSignInFailure(ctx, KindCashier, c.ID, now, a.cfg.Lockout); err != nil {
				return Cashier{}, "", err
			}
		}
		return Cashier{}, "", badCredentials()
	}
	if c.DisabledAt != nil {
		return Cashier{}, "", Unauthorized("account_disabled")
	}
	if err := a.store.ClearSignInFailures(ctx, KindCashier, c.ID); err != nil {
		return Cashier{}, "", err
	}
	tok, err := a.newSession(ctx, KindCashier, c.ID, a.cfg.CashierSession)
	if err != nil {
		return Cashier{}, "", err
	}
	a.log.InfoContext(ctx, "signed in", "kind", KindCashier, "cashier", c.ID)
	return c, tok, nil
}

// Session looks up a live session of the given kind by its token.
func (a *App) Session(ctx context.Context, kind, tok string) (Session, error) {
	if tok == "" {
		return Session{}, Unauthorized("signed_out")
	}
	hash := HashSessionToken(tok)
	s, cached := a.sessions.get(hash)
	if !cached {
		var err error
		if s, err = a.store.SessionByTokenHash(ctx, hash, a.now()); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return Session{}, Unauthorized("signed_out")
			}
			return Session{}, err
		}
		// Only residents' sessions are cached: they are the crowd at a
		// drop, while officers and cashiers are few and their accounts can
		// be disabled at any moment.
		if s.Kind == KindResident {
			a.sessions.put(hash, s)
		}
	}
	if s.Kind != kind || !a.now().Before(s.ExpiresAt) {
		return Session{}, Unauthorized("signed_out")
	}
	if idle := a.idleLimit(kind); idle > 0 {
		// An unused session ends (GB/T 22239 8.1.4.1 c): each use moves
		// last_seen_at, and one idle for the limit is deleted here.
		now := a.now()
		if err := a.store.TouchSession(ctx, hash, now, now.Add(-idle)); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				a.log.InfoContext(ctx, "idle session ended", "kind", kind, "subject", s.SubjectID)
				return Session{}, Unauthorized("signed_out")
			}
			return Session{}, err
		}
	}
	return s, nil
}

// Officer, Cashier and Resident load the account behind a session.
func (a *App) Officer(ctx context.Context, id int64) (Officer, error) {
	o, err := a.store.OfficerByID(ctx, id)
	if err == nil && o.DisabledAt != nil {
		// A session that slipped in while the account was being disabled
		// (sign-in spends bcrypt time between reading and writing) dies here.
		return Officer{}, Unauthorized("account_disabled")
	}
	return o, err
}
func (a *App) Cashier(ctx context.Context, id int64) (Cashier, error) {
	c, err := a.store.CashierByID(ctx, id)
	if err == nil && c.DisabledAt != nil {
		return Cashier{}, Unauthorized("account_disabled")
	}
	return c, err
}
func (a *App) Resident(ctx context.Context, id int64) (Resident, error) {
	if r, ok := a.residents.get(id); ok {
		return r, nil
	}
	r, err := a.store.ResidentByID(ctx, id)
	if err != nil {
		return r, err
	}
	if r.ErasedAt != nil {
		// A session cached before the erasure dies here.
		return Resident{}, Unauthorized("signed_out")
	}
	if err := a.openPhone(&r); err != nil {
		return Resident{}, err
	}
	a.residents.put(id, r)
	return r, nil
}

// Merchant loads a merchant.
func (a *App) Merchant(ctx context.Context, id int64) (Merchant, error) {
	return a.store.MerchantByID(ctx, id)
}

var mobileRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// NormalizeMobile accepts a mainland mobile number as people write it
// (+86 / 0086 prefix, spaces, dashes, full-width digits) and returns its 11 digits.
func NormalizeMobile(s string) (string, error) {
	s = toHalfWidth(s)
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(s, "+86")
	if strings.HasPrefix(s, "0086") {
		s = s[4:]
	}
	if !mobileRE.MatchString(s) {
		return "", &Error{Code: EINVALID, Reason: "phone_invalid", Fields: map[string]string{"phone": "phone_invalid"}}
	}
	return s, nil
}

// openResidentSession signs in a resident whose phone has been proven.
func (a *App) openResidentSession(ctx context.Context, phone string) (Resident, string, error) {
	hash, sealed, err := a.sealPhone(phone)
	if err != nil {
		return Resident{}, "", err
	}
	r, err := a.store.EnsureResident(ctx, hash, sealed, a.now())
	if err != nil {
		return Resident{}, "", err
	}
	if err := a.openPhone(&r); err != nil {
		return Resident{}, "", err
	}
	tok, err := a.newSession(ctx, KindResident, r.ID, a.cfg.ResidentSession)
	return r, tok, err
}

// EqualHash compares two hex digests in constant time.
func EqualHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
