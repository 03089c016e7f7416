package app

import (
	"context"
	"strings"
	"unicode/utf8"
)

// GB 32100-2015: the 31 characters of a unified social credit code (no I,
// O, Z, S, V) and the weights of its first 17 positions.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckUSCC normalises a unified social credit code and reports whether
// it has the right shape (18 characters of the alphabet) and whether its
// check character is right. Some real, older codes fail the checksum:
// those go to an officer for review instead of being refused.
func CheckUSCC(s string) (code string, shapeOK, checksumOK bool) {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(toHalfWidth(s)), " ", ""))
	if utf8.RuneCountInString(code) != 18 {
		return code, false, false
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(usccAlphabet, code[i])
		if v < 0 {
			return code, false, false
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	check := (31 - sum%31) % 31
	return code, true, usccAlphabet[check] == code[17]
}

// MerchantApplication is a merchant's online application, as typed.
type MerchantApplication struct {
	Name              string `json:"name" form:"name"`
	USCC              string `json:"uscc" form:"uscc"`
	Category          string `json:"category" form:"category"`
	District          string `json:"district" form:"district"`
	Address           string `json:"address" form:"address"`
	ContactName       string `json:"contact_name" form:"contact_name"`
	ContactPhone      string `json:"contact_phone" form:"contact_phone"`
	SettlementAccount string `json:"settlement_account" form:"settlement_account"`
	OwnerUsername     string `json:"owner_username" form:"owner_username"`
	OwnerPassword     string `json:"owner_password" form:"owner_password"`
}

// Apply records a merchant's application (pending review) and its owner
// account, which can sign in at once to follow the review.
func (a *App) Apply(ctx context.Context, in MerchantApplication) (Merchant, error) {
	fe := FieldErrors{}
	m := Merchant{Name: strings.TrimSpace(in.Name), Category: strings.TrimSpace(in.Category), District: strings.TrimSpace(in.District),
		Address: strings.TrimSpace(in.Address), ContactName: strings.TrimSpace(in.ContactName), Status: MerchantPending, CreatedAt: a.now()}
	for field, v := range map[string]string{"name": m.Name, "address": m.Address, "contact_name": m.ContactName} {
		if v == "" {
			fe.Add(field, "required")
		} else if utf8.RuneCountInString(v) > 200 {
			fe.Add(field, "too_long")
		}
	}
	var shapeOK bool
	m.USCC, shapeOK, m.USCCChecksumOK = CheckUSCC(in.USCC)
	if !shapeOK {
		fe.Add("uscc", "uscc_format")
	}
	districts, err := a.store.Districts(ctx)
	if err != nil {
		return m, err
	}
	if !containsDistrict(districts, m.District) || m.District == CityCode {
		fe.Add("district", "unknown_district")
	}
	cats, err := a.store.Categories(ctx)
	if err != nil {
		return m, err
	}
	if !containsCategory(cats, m.Category) {
		fe.Add("category", "unknown_category")
	}
	if phone, err := NormalizeMobile(in.ContactPhone); err != nil {
		fe.Add("contact_phone", "phone_invalid")
	} else {
		m.ContactPhone = phone
	}
	account := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, toHalfWidth(in.SettlementAccount))
	if len(account) < 10 || len(account) > 30 || !allDigits(account) {
		fe.Add("settlement_account", "account_format")
	}
	m.SettlementAccount = account
	owner := Cashier{Username: strings.ToLower(strings.TrimSpace(in.OwnerUsername)), Name: m.ContactName, Role: CashierOwner, CreatedAt: m.CreatedAt}
	if !usernameRE.MatchString(owner.Username) {
		fe.Add("owner_username", "username_format")
	}
	if n := utf8.RuneCountInString(in.OwnerPassword); n < minPassword || len(in.OwnerPassword) > 72 {
		fe.Add("owner_password", "password_length")
	}
	if err := fe.Err(); err != nil {
		return m, err
	}
	if owner.PasswordHash, err = HashPassword(in.OwnerPassword); err != nil {
		return m, err
	}
	if err := a.SealMerchant(&m); err != nil {
		return m, err
	}
	if err := a.store.CreateMerchantWithOwner(ctx, &m, &owner); err != nil {
		switch ErrorReason(err) {
		case "username_taken":
			return m, &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"owner_username": "username_taken"}}
		case "merchant_exists":
			return m, &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"name": "merchant_exists"}}
		}
		return m, err
	}
	a.log.InfoContext(ctx, "merchant applied", "merchant", m.ID, "district", m.District, "uscc_checksum_ok", m.USCCChecksumOK)
	return m, nil
}

// Staff lists the cashier accounts of the owner's merchant.
func (a *App) Staff(ctx context.Context, owner Cashier) ([]Cashier, error) {
	if owner.Role != CashierOwner {
		return nil, Forbidden("owner_only")
	}
	return a.store.MerchantCashiers(ctx, owner.MerchantID)
}

// AddCashier adds a cashier account to the owner's merchant.
func (a *App) AddCashier(ctx context.Context, owner Cashier, username, name, password string) (Cashier, error) {
	if owner.Role != CashierOwner {
		return Cashier{}, Forbidden("owner_only")
	}
	c := Cashier{MerchantID: owner.MerchantID, Username: strings.ToLower(strings.TrimSpace(username)), Name: strings.TrimSpace(name),
		Role: CashierStaff, CreatedAt: a.now()}
	fe := FieldErrors{}
	if !usernameRE.MatchString(c.Username) {
		fe.Add("username", "username_format")
	}
	if c.Name == "" {
		fe.Add("name", "required")
	}
	if n := utf8.RuneCountInString(password); n < minPassword || len(password) > 72 {
		fe.Add("password", "password_length")
	}
	if err := fe.Err(); err != nil {
		return c, err
	}
	var err error
	if c.PasswordHash, err = HashPassword(password); err != nil {
		return c, err
	}
	if err := a.store.CreateCashier(ctx, &c); err != nil {
		if ErrorReason(err) == "username_taken" {
			return c, &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"username": "username_taken"}}
		}
		return c, err
	}
	return c, nil
}

// RemoveCashier disables a cashier of the owner's merchant and ends its
// sessions; the owner cannot remove itself.
func (a *App) RemoveCashier(ctx context.Context, owner Cashier, id int64) error {
	if owner.Role != CashierOwner {
		return Forbidden("owner_only")
	}
	if id == owner.ID {
		return Conflict("disable_self")
	}
	err := a.store.DisableCashier(ctx, owner.MerchantID, id, a.now())
	if ErrorReason(err) == "cashier_not_found" {
		return NotFound("cashier_not_found") // another merchant's cashier does not exist for this owner
	}
	return err
}
