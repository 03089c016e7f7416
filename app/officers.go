package app

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// OfficerInput is a new officer account as the system administrator
// typed it. It has no password: the holder sets one at activation.
type OfficerInput struct {
	Username   string `json:"username" form:"username"`
	Name       string `json:"name" form:"name"`
	Role       string `json:"role" form:"role"`
	District   string `json:"district" form:"district"`
	CanApprove bool   `json:"can_approve" form:"can_approve"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// Officer accounts and roles are the system administrator's (三员分立):
// not the city admin's, who makes and approves campaigns and so must not
// also be able to make the accounts that approve them.
func requireSystemAdmin(by Officer) error { return requireRole(by, RoleSystemAdmin) }

// Officers lists officer accounts (system and security administrators:
// the security administrator needs the list to reset and unlock).
func (a *App) Officers(ctx context.Context, by Officer) ([]Officer, error) {
	if by.Role != RoleSystemAdmin && by.Role != RoleSecurityAdmin {
		return nil, Forbidden("system_admin_only")
	}
	return a.store.Officers(ctx, "")
}

// NewOfficer is a created account and its one-time activation code, to be
// handed to the holder (shown once; only its hash is stored).
type NewOfficer struct {
	Officer        Officer   `json:"officer"`
	ActivationCode string    `json:"activation_code"`
	ExpiresAt      time.Time `json:"activation_expires_at"`
}

// CreateOfficer adds an officer account awaiting activation by its
// holder (system administrator only). The creator gets an activation
// code, never a password; who created the account is recorded for the
// maker-checker rule (checkApprover).
func (a *App) CreateOfficer(ctx context.Context, by Officer, in OfficerInput) (NewOfficer, error) {
	if err := requireSystemAdmin(by); err != nil {
		return NewOfficer{}, err
	}
	fe := FieldErrors{}
	creator := by.ID
	o := Officer{Username: strings.ToLower(strings.TrimSpace(in.Username)), Name: strings.TrimSpace(in.Name),
		Role: in.Role, District: strings.TrimSpace(in.District), CanApprove: in.CanApprove, CreatedAt: a.now(), CreatedBy: &creator}
	if !usernameRE.MatchString(o.Username) {
		fe.Add("username", "username_format")
	}
	if o.Name == "" {
		fe.Add("name", "required")
	} else if utf8.RuneCountInString(o.Name) > maxNameRunes {
		fe.Add("name", "too_long")
	}
	switch o.Role {
	case RoleCityAdmin, RoleDistrictOfficer:
	case RoleAuditor, RoleSystemAdmin, RoleSecurityAdmin, RoleAuditAdmin, RoleStation:
		if o.CanApprove {
			fe.Add("can_approve", "role_cannot_approve")
		}
	default:
		fe.Add("role", "unknown_role")
	}
	districts, err := a.store.Districts(ctx)
	if err != nil {
		return NewOfficer{}, err
	}
	if !containsDistrict(districts, o.District) {
		fe.Add("district", "unknown_district")
	} else if (o.Role == RoleCityAdmin || o.IsAdministrator()) && o.District != CityCode {
		fe.Add("district", "city_admin_city")
	} else if o.Role == RoleStation && o.District == CityCode {
		fe.Add("district", "station_district")
	}
	if err := fe.Err(); err != nil {
		return NewOfficer{Officer: o}, err
	}
	code, err := newActivationCode()
	if err != nil {
		return NewOfficer{}, err
	}
	expires := a.now().Add(a.cfg.ActivationTTL)
	audit := a.auditOf(by, ActionOfficerCreate, "officer", 0, o.District, nil,
		map[string]any{"username": o.Username, "role": o.Role, "district": o.District, "can_approve": o.CanApprove})
	if err := a.store.CreatePendingOfficer(ctx, &o, hashCode(code), expires, audit); err != nil {
		if ErrorReason(err) == "username_taken" {
			return NewOfficer{Officer: o}, &Error{Code: EINVALID, Reason: "form_invalid", Fields: map[string]string{"username": "username_taken"}}
		}
		return NewOfficer{}, err
	}
	return NewOfficer{Officer: o, ActivationCode: code, ExpiresAt: expires}, nil
}

// SetOfficerDisabled disables or re-enables an account (system
// administrator only); a disabled officer's sessions stop working at once.
func (a *App) SetOfficerDisabled(ctx context.Context, by Officer, id int64, disabled bool) error {
	if err := requireSystemAdmin(by); err != nil {
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
	action := ActionOfficerEnable
	if disabled {
		now := a.now()
		action, at = ActionOfficerDisable, &now
	}
	return a.store.SetOfficerDisabled(ctx, id, at, a.auditOf(by, action, "officer", id, o.District,
		map[string]bool{"disabled": o.DisabledAt != nil}, map[string]bool{"disabled": disabled}))
}

// maxCreatorChain bounds the walk up created_by (accounts cannot form a
// cycle, since an account's creator exists before it; the bound is a
// guard against a damaged database, not a rule).
const maxCreatorChain = 64

// creators lists the accounts up an account's created_by chain: its
// creator, the creator's creator, and so on, up to the product's seed.
func (a *App) creators(ctx context.Context, id int64) ([]int64, error) {
	var out []int64
	for range maxCreatorChain {
		o, err := a.store.OfficerByID(ctx, id)
		if err != nil || o.CreatedBy == nil {
			return out, err
		}
		id = *o.CreatedBy
		out = append(out, id)
	}
	return out, nil
}

// sameSide applies the maker-checker rule to two accounts. The rule:
// the approver may not be the maker, nor an account on the maker's
// creator chain, nor an account the maker's account is on the creator
// chain of. Why: whoever creates an account receives its activation code
// and so may be its holder; the creator of an account, and their creator
// in turn, may therefore be the same person as the account, and an
// approval between an account and any of its creators (or the accounts
// it created, directly or through accounts it created) may be one person
// on both sides. Accounts that merely share a creator are not refused:
// all accounts are made by system administrators, who by role can
// neither make nor approve campaigns; that one person holding two
// accounts they made is left to the audit log (officer.create and
// officer.activate, read by the audit administrator).
func (a *App) sameSide(ctx context.Context, maker, approver int64) (bool, error) {
	if maker == approver {
		return true, nil
	}
	up, err := a.creators(ctx, maker)
	if err != nil {
		return false, err
	}
	down, err := a.creators(ctx, approver)
	if err != nil {
		return false, err
	}
	for _, id := range up {
		if id == approver {
			return true, nil
		}
	}
	for _, id := range down {
		if id == maker {
			return true, nil
		}
	}
	return false, nil
}

// RecordExport audits an export of records that hold personal data
// (names of officers, contacts, accounts) before it is sent: who took
// which data away, with the filter, is itself part of the record. action
// is the export's code (ActionExportAuditLog, ActionExportSettlements).
func (a *App) RecordExport(ctx context.Context, by Officer, action string, filter any) error {
	return a.store.AppendAudit(ctx, a.auditOf(by, action, "export", 0, by.District, nil, filter))
}
