package app

// Officer and cashier sign-in to the standard of a level-3 assessment
// (GB/T 22239-2019 8.1.4.1 identity): accounts activated by their holder,
// a password policy, a TOTP second factor (RFC 6238) with recovery codes,
// failed sign-ins counted and locked per account, and idle sessions that end.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The separation-of-duties roles (三员分立). None of them makes,
// approves or reads campaigns: the system administrator manages officer
// accounts and roles, the security administrator resets second factors
// and releases locked accounts, and the audit administrator reads the
// audit log, except its own rows, which the security administrator reads.
const (
	RoleSystemAdmin   = "system_admin"
	RoleSecurityAdmin = "security_admin"
	RoleAuditAdmin    = "audit_admin"
)

// IsAdministrator reports one of the three separation-of-duties roles.
func (o Officer) IsAdministrator() bool {
	return o.Role == RoleSystemAdmin || o.Role == RoleSecurityAdmin || o.Role == RoleAuditAdmin
}

// KindOfficerEnrol is the session of an officer who has proven the
// password but has not yet enrolled a second factor: it opens only the
// enrolment page, never the officer pages or API.
const KindOfficerEnrol = "officer_enrol"

// OfficerCredentials is what sign-in checks, read apart from Officer so
// that no list or JSON answer ever carries it.
type OfficerCredentials struct {
	ID                  int64      `db:"id"`
	PasswordHash        string     `db:"password_hash"`
	ActivationHash      *string    `db:"activation_hash"`
	ActivationExpiresAt *time.Time `db:"activation_expires_at"`
	TOTPSecret          string     `db:"totp_secret"` // sealed
	TOTPEnabledAt       *time.Time `db:"totp_enabled_at"`
	TOTPLastStep        int64      `db:"totp_last_step"`
	LockedUntil         *time.Time `db:"locked_until"`
}

// LockoutPolicy is how failed sign-ins lock an account.
type LockoutPolicy struct {
	Failures int           // failures within Window that lock the account
	Window   time.Duration // counted from the first failure
	LockFor  time.Duration
}

// Passwords: NIST SP 800-63B 5.1.1.2 and what an assessor asks for —
// long enough, not the username, not a well-known password; no
// composition rules, which make passwords worse, not better.
const (
	minOfficerPassword = 12
	maxPassword        = 72 // bcrypt reads 72 bytes
	// minPassword is the cashiers' (merchant staff) shorter minimum: their
	// accounts move no public money and sign in at a till.
	minPassword = 10
)

// commonPasswords are refused whatever their length; lower-cased, and a
// password is compared lower-cased and with digits and symbols around a
// word removed, so that "Password123!" is refused with "password".
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`123456789012 1234567890123 password passw0rd password1 password123 qwertyuiop
		qwerty123456 1q2w3e4r5t6y 1qaz2wsx3edc iloveyou admin administrator admin123 root welcome letmein
		abc123456789 abcdefghijkl 111111111111 000000000000 888888888888 666666666666 aaaaaaaaaaaa
		woaini1314 woaini5201314 5201314 1314520 zhangwei wangwei chongqing chongqing123 cqvoucher voucher
		changeme trustno1 dragon monkey sunshine football baseball superman`) {
		commonPasswords[p] = true
	}
}

// CheckPasswordPolicy returns the reason a new password is refused, "" if it is acceptable.
func CheckPasswordPolicy(username, pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < minOfficerPassword || len(pw) > maxPassword:
		return "password_length"
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, 0):
		return "password_invalid"
	}
	lower := strings.ToLower(pw)
	core := strings.TrimFunc(lower, func(r rune) bool { return r < 'a' || r > 'z' })
	switch {
	case username != "" && strings.Contains(lower, strings.ToLower(username)):
		return "password_has_username"
	case commonPasswords[lower] || commonPasswords[core]:
		return "password_common"
	case len(strings.Split(lower, lower[:1])) == len(lower)+1: // one character repeated
		return "password_common"
	}
	return ""
}

// activationCode is a one-time code for a new account: 16 characters of
// base32 (80 bits), grouped for reading aloud or typing.
func newActivationCode() (string, error) {
	raw := make([]byte, 10)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s := base32.StdEncoding.EncodeToString(raw)
	return s[:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16], nil
}

// normalizeCode reads an activation or recovery code as people type it.
func normalizeCode(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, toHalfWidth(strings.TrimSpace(s))))
}

// hashCode is how activation and recovery codes are stored: they carry
// 80 bits, so a plain SHA-256 cannot be searched back.
func hashCode(code string) string { return HashSessionToken(normalizeCode(code)) }

// ActivateOfficer lets the holder of a new account set its password with
// the one-time code its creator handed over: the creator never knows the
// password. A wrong, spent or expired code is one answer, activation_invalid.
func (a *App) ActivateOfficer(ctx context.Context, username, code, password, repeat string) (Officer, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	fe := FieldErrors{}
	if reason := CheckPasswordPolicy(username, password); reason != "" {
		fe.Add("password", reason)
	} else if password != repeat {
		fe.Add("password_repeat", "password_mismatch")
	}
	if err := fe.Err(); err != nil {
		return Officer{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Officer{}, err
	}
	o, err := a.store.ActivateOfficer(ctx, username, hashCode(code), hash, a.now(), func(o Officer) AuditEntry {
		return a.auditOf(o, ActionOfficerActivate, "officer", o.ID, o.District, nil, nil)
	})
	if err != nil {
		if ErrorReason(err) == "activation_invalid" {
			return Officer{}, &Error{Code: EINVALID, Reason: "activation_invalid", Fields: map[string]string{"code": "activation_invalid"}}
		}
		return Officer{}, err
	}
	a.log.InfoContext(ctx, "officer account activated", "officer", o.ID)
	return o, nil
}

// OfficerSignIn is the result of a correct password (and code).
type OfficerSignIn struct {
	Officer Officer
	Token   string
	// Enrol: the account has no second factor yet; Token is an enrolment
	// session (KindOfficerEnrol) that opens only the enrolment page.
	Enrol bool
}

// badCredentials is every refusal before the password and code are both
// proven: a wrong username, password or code and a locked account read
// alike, so that the answer reveals neither which accounts exist nor
// which are locked.
func badCredentials() error { return Unauthorized("bad_credentials") }

// LoginOfficer checks an officer's password and second factor (a TOTP
// code, or one of the recovery codes) and opens a session; an officer
// without a second factor gets an enrolment session instead.
func (a *App) LoginOfficer(ctx context.Context, username, password, code string) (OfficerSignIn, error) {
	o, err := a.store.OfficerByUsername(ctx, strings.TrimSpace(strings.ToLower(username)))
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return OfficerSignIn{}, err
	}
	var cr OfficerCredentials
	if o.ID != 0 {
		if cr, err = a.store.OfficerCredentials(ctx, o.ID); err != nil {
			return OfficerSignIn{}, err
		}
	}
	now := a.now()
	locked := cr.LockedUntil != nil && now.Before(*cr.LockedUntil)
	pwHash := cr.PasswordHash
	if locked {
		pwHash = "" // spend the same bcrypt time, prove nothing
	}
	if !checkPassword(pwHash, password) || (cr.TOTPEnabledAt != nil && !a.secondFactor(ctx, cr, code)) {
		a.log.InfoContext(ctx, "sign-in failed", "kind", KindOfficer, "officer", o.ID, "locked", locked)
		if o.ID != 0 && !locked {
			if err := a.store.RecordSignInFailure(ctx, KindOfficer, o.ID, now, a.cfg.Lockout); err != nil {
				return OfficerSignIn{}, err
			}
		}
		return OfficerSignIn{}, badCredentials()
	}
	if o.DisabledAt != nil {
		a.log.InfoContext(ctx, "sign-in refused: account disabled", "officer", o.ID)
		return OfficerSignIn{}, Unauthorized("account_disabled")
	}
	if err := a.store.ClearSignInFailures(ctx, KindOfficer, o.ID); err != nil {
		return OfficerSignIn{}, err
	}
	if cr.TOTPEnabledAt == nil {
		tok, err := a.newSession(ctx, KindOfficerEnrol, o.ID, a.cfg.EnrolSession)
		a.log.InfoContext(ctx, "password proven; second factor to enrol", "officer", o.ID)
		return OfficerSignIn{Officer: o, Token: tok, Enrol: true}, err
	}
	tok, err := a.openOfficerSession(ctx, o, ActionOfficerSignIn, nil)
	return OfficerSignIn{Officer: o, Token: tok}, err
}

func (a *App) openOfficerSession(ctx context.Context, o Officer, action string, after any) (string, error) {
	tok, err := a.newSession(ctx, KindOfficer, o.ID, a.cfg.OfficerSession)
	if err != nil {
		return "", err
	}
	if err := a.store.AppendAudit(ctx, a.auditOf(o, action, "officer", o.ID, o.District, nil, after)); err != nil {
		return "", err
	}
	a.log.InfoContext(ctx, "signed in", "kind", KindOfficer, "officer", o.ID)
	return tok, nil
}

// totpOpts are RFC 6238's defaults, which every authenticator app uses.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpStep finds the time step of a code for the secret at now, allowing
// one step either side for clock drift; 0 if the code matches none.
func totpStep(secret, code string, now time.Time) int64 {
	step := now.Unix() / int64(totpOpts.Period)
	for _, s := range []int64{step, step - 1, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(totpOpts.Period), 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s
		}
	}
	return 0
}

// secondFactor checks a TOTP code, accepted once (a step not after the
// last accepted one is a replay), or spends a recovery code.
func (a *App) secondFactor(ctx context.Context, cr OfficerCredentials, code string) bool {
	code = strings.TrimSpace(toHalfWidth(code))
	if len(code) == 6 && allDigits(code) {
		secret, err := a.openSecret(cr.TOTPSecret)
		if err != nil {
			a.log.ErrorContext(ctx, "opening a second-factor secret failed", "officer", cr.ID, "err", err)
			return false
		}
		step := totpStep(secret, code, a.now())
		if step == 0 || step <= cr.TOTPLastStep {
			return false
		}
		return a.store.UseTOTPStep(ctx, cr.ID, step) == nil
	}
	if len(normalizeCode(code)) != 16 {
		return false
	}
	return a.store.UseRecoveryCode(ctx, cr.ID, hashCode(code), a.now()) == nil
}

// Enrolment is what the enrolment page shows: the otpauth:// URL (for the
// QR image) and the secret for typing in by hand.
type Enrolment struct {
	Officer Officer
	URL     string
	Secret  string
}

func (a *App) enrolSession(ctx context.Context, tok string) (Officer, OfficerCredentials, error) {
	se, err := a.Session(ctx, KindOfficerEnrol, tok)
	if err != nil {
		return Officer{}, OfficerCredentials{}, err
	}
	o, err := a.Officer(ctx, se.SubjectID)
	if err != nil {
		return o, OfficerCredentials{}, err
	}
	cr, err := a.store.OfficerCredentials(ctx, o.ID)
	if err == nil && cr.TOTPEnabledAt != nil {
		err = Conflict("totp_enrolled")
	}
	return o, cr, err
}

// StartEnrolment gives the enrolment session its secret: a new one the
// first time, the same one on reloads until enrolment is finished.
func (a *App) StartEnrolment(ctx context.Context, enrolTok string) (Enrolment, error) {
	o, cr, err := a.enrolSession(ctx, enrolTok)
	if err != nil {
		return Enrolment{}, err
	}
	var secret string
	if cr.TOTPSecret != "" {
		if secret, err = a.openSecret(cr.TOTPSecret); err != nil {
			return Enrolment{}, err
		}
	} else {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "重庆消费券", AccountName: o.Username, SecretSize: 20})
		if err != nil {
			return Enrolment{}, err
		}
		secret = key.Secret()
		sealed, err := a.SealSecret(secret)
		if err != nil {
			return Enrolment{}, err
		}
		if err := a.store.SetPendingTOTP(ctx, o.ID, sealed); err != nil {
			return Enrolment{}, err
		}
	}
	return Enrolment{Officer: o, URL: totpURL(o.Username, secret), Secret: secret}, nil
}

func totpURL(username, secret string) string {
	const issuer = "重庆消费券"
	v := url.Values{"secret": {secret}, "issuer": {issuer}, "period": {"30"}, "digits": {"6"}, "algorithm": {"SHA1"}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + username, RawQuery: v.Encode()}
	return u.String()
}

// FinishEnrolment checks one code of the new secret before the second
// factor is enabled (a secret the phone did not take must not lock the
// officer out), then opens an officer session and returns ten recovery
// codes, shown once.
func (a *App) FinishEnrolment(ctx context.Context, enrolTok, code string) (string, []string, error) {
	o, cr, err := a.enrolSession(ctx, enrolTok)
	if err != nil {
		return "", nil, err
	}
	secret, err := a.openSecret(cr.TOTPSecret)
	if err != nil || cr.TOTPSecret == "" {
		return "", nil, Conflict("totp_not_started")
	}
	code = strings.TrimSpace(toHalfWidth(code))
	step := int64(0)
	if len(code) == 6 && allDigits(code) {
		step = totpStep(secret, code, a.now())
	}
	if step == 0 {
		return "", nil, &Error{Code: EINVALID, Reason: "totp_wrong", Fields: map[string]string{"code": "totp_wrong"}}
	}
	codes, hashes := make([]string, 10), make([]string, 10)
	for i := range codes {
		if codes[i], err = newActivationCode(); err != nil {
			return "", nil, err
		}
		hashes[i] = hashCode(codes[i])
	}
	audit := a.auditOf(o, ActionOfficerTOTPEnrol, "officer", o.ID, o.District, nil, nil)
	if err := a.store.EnableTOTP(ctx, o.ID, cr.TOTPSecret, step, a.now(), hashes, &audit); err != nil {
		return "", nil, err
	}
	if err := a.SignOut(ctx, enrolTok); err != nil {
		return "", nil, err
	}
	tok, err := a.openOfficerSession(ctx, o, ActionOfficerSignIn, nil)
	return tok, codes, err
}

// EnrolTOTPDirectly enables a second factor with a known secret, without
// the page: for the product's own seeding (demo accounts) and for tests.
// It is part of setting the account up, whose officer.create row is the
// record, so it adds no audit row of its own.
func (a *App) EnrolTOTPDirectly(ctx context.Context, o Officer, secret string) error {
	sealed, err := a.SealSecret(secret)
	if err != nil {
		return err
	}
	return a.store.EnableTOTP(ctx, o.ID, sealed, 0, a.now(), nil, nil)
}

// SealSecret and openSecret keep TOTP secrets out of the database in the
// clear. They go through the product's Sealer for data at rest (AES-256-GCM,
// or SM4-GCM in the commercial cryptography mode, under keys kept outside
// the database), marked "v2:". Secrets sealed earlier ("v1:", AES-256-GCM
// under a key derived from the identity key) still open, and are sealed
// again the v2 way when the second factor is next enrolled.
const sealedTOTP = "officers.totp_secret"

func (a *App) SealSecret(plain string) (string, error) {
	if a.cfg.Sealer != nil {
		sealed, err := a.cfg.Sealer.Seal([]byte(plain), sealedTOTP)
		if err != nil {
			return "", err
		}
		return "v2:" + base64.RawStdEncoding.EncodeToString(sealed), nil
	}
	gcm, err := a.sealer()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "v1:" + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), []byte("totp"))), nil
}

func (a *App) openSecret(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if body, ok := strings.CutPrefix(sealed, "v2:"); ok {
		raw, err := base64.RawStdEncoding.DecodeString(body)
		if err != nil || a.cfg.Sealer == nil {
			return "", errors.New("sealed secret malformed")
		}
		plain, err := a.cfg.Sealer.Open(raw, sealedTOTP)
		return string(plain), err
	}
	gcm, err := a.sealer()
	if err != nil {
		return "", err
	}
	body, ok := strings.CutPrefix(sealed, "v1:")
	raw, derr := base64.RawStdEncoding.DecodeString(body)
	if !ok || derr != nil || len(raw) < gcm.NonceSize() {
		return "", errors.New("sealed secret malformed")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte("totp"))
	return string(plain), err
}

func (a *App) sealer() (cipher.AEAD, error) {
	if len(a.cfg.IdentityKey) < 32 {
		return nil, errors.New("no key for sealing secrets (identity key missing)")
	}
	m := hmac.New(sha256.New, a.cfg.IdentityKey)
	m.Write([]byte("cqvoucher officer secret sealing v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// requireRole refuses anyone but the role.
func requireRole(by Officer, role string) error {
	if by.Role != role {
		return Forbidden(role + "_only")
	}
	return nil
}

// officerToAdminister is another officer's account, for an administrator
// (never one's own: one person would then act on both sides).
func (a *App) officerToAdminister(ctx context.Context, by Officer, role string, id int64) (Officer, error) {
	if err := requireRole(by, role); err != nil {
		return Officer{}, err
	}
	if id == by.ID {
		return Officer{}, Conflict("administer_self")
	}
	return a.store.OfficerByID(ctx, id)
}

// ResetSecondFactor removes an officer's second factor (a lost phone) so
// that they enrol again at their next sign-in; security administrator
// only, audited, and their sessions end.
func (a *App) ResetSecondFactor(ctx context.Context, by Officer, id int64) error {
	o, err := a.officerToAdminister(ctx, by, RoleSecurityAdmin, id)
	if err != nil {
		return err
	}
	return a.store.ResetTOTP(ctx, id, a.auditOf(by, ActionOfficerTOTPReset, "officer", id, o.District,
		map[string]bool{"totp": o.TOTPEnabledAt != nil}, map[string]bool{"totp": false}))
}

// UnlockOfficer releases an account locked by failed sign-ins before its
// lock ends; security administrator only, audited.
func (a *App) UnlockOfficer(ctx context.Context, by Officer, id int64) error {
	o, err := a.officerToAdminister(ctx, by, RoleSecurityAdmin, id)
	if err != nil {
		return err
	}
	return a.store.UnlockOfficer(ctx, id, a.auditOf(by, ActionOfficerUnlock, "officer", id, o.District, nil, nil))
}
