package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// GB 11643-1999: weights of the first 17 digits and the check characters
// for sum mod 11.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
	// Province-level codes of GB/T 2260 (the first two digits).
	idProvinces = map[string]bool{
		"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
		"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
		"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, "50": true,
		"51": true, "52": true, "53": true, "54": true, "61": true, "62": true, "63": true, "64": true, "65": true,
		"71": true, "81": true, "82": true,
	}
)

// NormalizeResidentID checks an 18-character resident ID number (GB 11643):
// province code, a real birth date not in the future, and the check
// character. Spaces are dropped and a lower-case x accepted.
func NormalizeResidentID(s string, now time.Time) (string, bool) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(toHalfWidth(s)), " ", ""))
	if len(s) != 18 || !allDigits(s[:17]) || !idProvinces[s[:2]] {
		return "", false
	}
	birth, err := time.ParseInLocation("20060102", s[6:14], Shanghai)
	if err != nil || birth.Year() < 1900 || birth.After(now) {
		return "", false
	}
	sum := 0
	for i, w := range idWeights {
		sum += int(s[i]-'0') * w
	}
	if idChecks[sum%11] != s[17] {
		return "", false
	}
	return s, true
}

// IdentityHash is the only form in which an ID number is kept: an HMAC
// under a key that lives outside the database, so a copy of the database
// cannot be searched for a known ID.
func (a *App) IdentityHash(id string) string {
	m := hmac.New(sha256.New, a.cfg.IdentityKey)
	m.Write([]byte("resident-id:" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// IdentityVerifier checks that a name and an ID number belong together,
// as a licensed 实名核验 service does against the public security
// authority's records. verified false is a clear "no"; err means no answer
// (the provider is down, slow or refused us), never a "no".
type IdentityVerifier interface {
	Verify(ctx context.Context, name, idNumber string) (verified bool, err error)
	// Kind says what a pass proves, for the forms: IdentityChecksum or IdentityProvider.
	Kind() string
}

// What the configured verifier proves.
const (
	// IdentityChecksum: the number is well formed (region, birth date,
	// GB 11643 check character). Anyone can invent such a number: it
	// proves no identity and that the number is nobody else's.
	IdentityChecksum = "checksum"
	// IdentityProvider: a 实名核验 service confirmed that the name and the
	// number belong to one real person. It does not prove that this
	// person is the one holding the phone.
	IdentityProvider = "provider"
)

// ChecksumOnly is the demo default verifier: every number that passed
// NormalizeResidentID passes.
type ChecksumOnly struct{}

// Verify implements IdentityVerifier.
func (ChecksumOnly) Verify(context.Context, string, string) (bool, error) { return true, nil }

// Kind implements IdentityVerifier.
func (ChecksumOnly) Kind() string { return IdentityChecksum }

// identity is the configured verifier, checksum-only unless one is set.
func (a *App) identity() IdentityVerifier {
	if a.cfg.Identity == nil {
		return ChecksumOnly{}
	}
	return a.cfg.Identity
}

// IdentityKind says what the configured verifier proves (IdentityChecksum
// or IdentityProvider), for the real-name and campaign forms.
func (a *App) IdentityKind() string { return a.identity().Kind() }

// IdentityNeedsName reports whether the real-name step asks for the name:
// a provider compares name and number; the checksum needs only the number.
func (a *App) IdentityNeedsName() bool { return a.IdentityKind() != IdentityChecksum }

// VerifyIdentity binds a resident account to an ID number, once, after the
// configured verifier accepted it with the name. An ID already bound to
// another account is refused: one person, one account, whatever phones
// they have. Only the ID's keyed hash is kept; the name is not kept at all.
func (a *App) VerifyIdentity(ctx context.Context, r Resident, name, rawID string) error {
	id, ok := NormalizeResidentID(rawID, a.now())
	name = strings.TrimSpace(toHalfWidth(name))
	fe := FieldErrors{}
	if !ok {
		fe.Add("id_number", "id_invalid")
	}
	if a.IdentityNeedsName() && (name == "" || utf8.RuneCountInString(name) > 50) {
		fe.Add("name", "name_required")
	}
	if len(fe) > 0 {
		reason := "id_invalid"
		if ok {
			reason = "name_required"
		}
		return &Error{Code: EINVALID, Reason: reason, Fields: fe}
	}
	if len(a.cfg.IdentityKey) < 32 {
		return &Error{Code: EINTERNAL, Reason: "internal"} // refuse rather than store a weakly keyed hash
	}
	hash := a.IdentityHash(id)
	r, err := a.store.ResidentByID(ctx, r.ID)
	if err != nil {
		return err
	}
	if r.IDHash != nil {
		if EqualHash(*r.IDHash, hash) {
			return nil
		}
		return Conflict("id_already_verified")
	}
	verified, err := a.identity().Verify(ctx, name, id)
	if err != nil {
		// Never the name or the number in the log: the resident and the
		// provider's answer are enough to follow it up.
		a.log.ErrorContext(ctx, "identity provider gave no answer", "resident", r.ID, "err", err)
		return &Error{Code: EINTERNAL, Reason: "identity_unavailable"}
	}
	if !verified {
		a.log.InfoContext(ctx, "identity not verified", "resident", r.ID)
		return &Error{Code: EINVALID, Reason: "id_not_verified", Fields: map[string]string{"id_number": "id_not_verified"}}
	}
	defer a.changed(ctx, newsResident, idKey(r.ID))
	return a.store.BindIdentity(ctx, r.ID, hash)
}
