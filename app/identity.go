package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
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

// VerifyIdentity binds a resident account to an ID number, once. An ID
// already bound to another account is refused: one person, one account,
// whatever phones they have.
func (a *App) VerifyIdentity(ctx context.Context, r Resident, rawID string) error {
	id, ok := NormalizeResidentID(rawID, a.now())
	if !ok {
		return &Error{Code: EINVALID, Reason: "id_invalid", Fields: map[string]string{"id_number": "id_invalid"}}
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
	defer a.residents.forget(r.ID)
	return a.store.BindIdentity(ctx, r.ID, hash)
}
