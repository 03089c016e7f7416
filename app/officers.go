package app

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// OfficerInput is a new officer account as the city admin typed it.
type OfficerInput struct {
	Username   string `json:"username" form:"username"`
	Name       string `json:"name" form:"name"`
	Password   string `json:"password" form:"password"`
	Role       string `json:"role" form:"role"`
	District   string `json:"district" form:"district"`
	CanApprove bool   `json:"can_approve" form:"can_approve"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// minPassword follows NIST 800-63B: length matters, composition rules do not.
const minPassword = 10

func requireCityAdmin(by Officer) error {
	if by.Role != RoleCityAdmin {
		return Forbidden("city_admin_only")
	}
	return nil
}

// Officers lists officer accounts (city admin only).
func (a *App) Officers(ctx context.Context, by Officer) ([]Officer, error) {
	if err := requireCityAdmin(by); err != nil {
		return nil, err
	}
	return a.store.Officers(ctx, "")
}

// CreateOfficer adds an officer account (city admin only).
func (a *App) CreateOfficer(ctx context.Context, by Officer, in OfficerInput) (Officer, error) {
	if err := requireCityAdmin(by); err != nil {
		return Officer{}, err
	}
	fe := FieldErrors{}
	o := Officer{Username: strings.ToLower(strings.TrimSpace(in.Username)), Name: strings.TrimSpace(in.Name),
		Role: in.Role, District: strings.TrimSpace(in.District), CanApprove: in.CanApprove, CreatedAt: a.now()}
	if !usernameRE.MatchString(o.Username) {
		fe.Add("username", "username_format")
	}
	if o.Name == "" {
		fe.Add("name", "required")
	} else if utf8.RuneCountInString(o.Name) > maxNameRunes {
		fe.Add("name", "too_long")
	}
	if utf8.RuneCountInString(in.Password) < minPassword || len(in.Password) > 72 { // bcrypt reads 72 bytes
		fe.Add("password", "password_length")
	}
	switch o.Role {
	case RoleCityAdmin, RoleDistrictOfficer:
	case RoleAuditor:
		if o.CanApprove {
			fe.Add("can_approve", "auditor_cannot_approve")
		}
	default:
		fe.Add("role", "unknown_role")
	}
	districts, err := a.store.Districts(ctx)
	if err != nil {
		return o, err
	}
	if !containsDistrict(districts, o.District) {
		fe.Add("district", "unknown_district")
	} else if o.Role == RoleCityAdmin && o.District != CityCode {
		fe.Add("district", "city_admin_city")
	}
	if err := fe.Err(); err != nil {
		return o, err
	}
	if o.PasswordHash, err = HashPassword(in.Password); err != nil {
		return o, err
	}
	audit := a.auditOf(by, "officer.create", "officer", 0, o.District, nil,
		map[string]any{"username": o.Username, "role": o.Role, "district": o.District, "can_approve": o.CanApprove})
	if err := a.store.CreateOfficer(ctx, &o, audit); err != nil {
		if ErrorReason(err) == "username_taken" {
			return o, &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"username": "username_taken"}}
		}
		return o, err
	}
	return o, nil
}

// SetOfficerDisabled disables or re-enables an account (city admin only);
// a disabled officer's sessions stop working at once.
func (a *App) SetOfficerDisabled(ctx context.Context, by Officer, id int64, disabled bool) error {
	if err := requireCityAdmin(by); err != nil {
		return err
	}
	if id == by.ID {
		return Conflict("disable_self")
	}
	o, err := a.store.OfficerByID(ctx, id)
	if err != nil {
		return err
	}
	var at *time.Time
	action := "officer.enable"
	if disabled {
		now := a.now()
		action, at = "officer.disable", &now
	}
	return a.store.SetOfficerDisabled(ctx, id, at, a.auditOf(by, action, "officer", id, o.District,
		map[string]bool{"disabled": o.DisabledAt != nil}, map[string]bool{"disabled": disabled}))
}
