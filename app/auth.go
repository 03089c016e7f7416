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
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	return tok, err
}

// SessionExpiry is when a session of the kind opened now ends.
func (a *App) SessionExpiry(kind string) time.Time {
	ttl := map[string]time.Duration{KindOfficer: a.cfg.OfficerSession, KindCashier: a.cfg.CashierSession, KindResident: a.cfg.ResidentSession}[kind]
	return a.now().Add(ttl)
}

// SignOut ends a session.
func (a *App) SignOut(ctx context.Context, tok string) error {
	hash := HashSessionToken(tok)
	a.sessions.forget(hash)
	return a.store.DeleteSession(ctx, hash)
}

// LoginOfficer checks an officer's password and opens a new session.
func (a *App) LoginOfficer(ctx context.Context, username, password string) (Officer, string, error) {
	o, err := a.store.OfficerByUsername(ctx, strings.TrimSpace(username))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Officer{}, "", err
	}
	if !checkPassword(o.PasswordHash, password) {
		a.log.Info("sign-in failed", "kind", KindOfficer, "username", username)
		return Officer{}, "", Unauthorized("bad_credentials")
	}
	if o.DisabledAt != nil {
		a.log.Info("sign-in refused: account disabled", "officer", o.ID)
		return Officer{}, "", Unauthorized("account_disabled")
	}
	tok, err := a.newSession(ctx, KindOfficer, o.ID, a.cfg.OfficerSession)
	if err != nil {
		return Officer{}, "", err
	}
	if err := a.store.AppendAudit(ctx, a.auditOf(o, "officer.sign_in", "officer", o.ID, o.District, nil, nil)); err != nil {
		return Officer{}, "", err
	}
	a.log.Info("signed in", "kind", KindOfficer, "officer", o.ID)
	return o, tok, nil
}

// LoginCashier checks a cashier's password and opens a new session.
func (a *App) LoginCashier(ctx context.Context, username, password string) (Cashier, string, error) {
	c, err := a.store.CashierByUsername(ctx, strings.TrimSpace(username))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Cashier{}, "", err
	}
	if !checkPassword(c.PasswordHash, password) {
		a.log.Info("sign-in failed", "kind", KindCashier, "username", username)
		return Cashier{}, "", Unauthorized("bad_credentials")
	}
	if c.DisabledAt != nil {
		return Cashier{}, "", Unauthorized("account_disabled")
	}
	tok, err := a.newSession(ctx, KindCashier, c.ID, a.cfg.CashierSession)
	if err != nil {
		return Cashier{}, "", err
	}
	a.log.Info("signed in", "kind", KindCashier, "cashier", c.ID)
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
	if err == nil {
		a.residents.put(id, r)
	}
	return r, err
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
	r, err := a.store.EnsureResident(ctx, phone, a.now())
	if err != nil {
		return Resident{}, "", err
	}
	tok, err := a.newSession(ctx, KindResident, r.ID, a.cfg.ResidentSession)
	return r, tok, err
}

// EqualHash compares two hex digests in constant time.
func EqualHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
