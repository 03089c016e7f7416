package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"cqvoucher/app/token"
)

// Voiding a voucher. Signals point at vouchers obtained to be cashed out;
// an officer asks for one to be voided, with a reason, and a second
// officer who may approve decides (four eyes, as for a campaign). Voided,
// the voucher cannot be redeemed, its face value is freed from the
// committed budget like an expired one's, the resident is told, and offline
// verifiers learn it from /.well-known/revoked.json.

// VoidRequest is one request to void a voucher, and its decision.
type VoidRequest struct {
	ID              int64      `db:"id" json:"id"`
	VoucherID       int64      `db:"voucher_id" json:"-"`
	VoucherCode     string     `db:"voucher_code" json:"voucher_code"`
	CampaignID      int64      `db:"campaign_id" json:"campaign_id"`
	CampaignName    string     `db:"campaign_name" json:"campaign_name"`
	FaceFen         Fen        `db:"face_fen" json:"face_fen"`
	District        string     `db:"district_code" json:"district"`
	KID             string     `db:"kid" json:"kid"`
	RID             string     `db:"rid" json:"rid"`
	RequestedBy     int64      `db:"requested_by" json:"requested_by"`
	RequestedByName string     `db:"requested_by_name" json:"requested_by_name"`
	RequestedAt     time.Time  `db:"requested_at" json:"requested_at"`
	Reason          string     `db:"reason" json:"reason"`
	DecidedBy       *int64     `db:"decided_by" json:"decided_by,omitempty"`
	DecidedAt       *time.Time `db:"decided_at" json:"decided_at,omitempty"`
	Approved        *bool      `db:"approved" json:"approved,omitempty"`
	DecisionNote    string     `db:"decision_note" json:"decision_note,omitempty"`
}

// WasApproved reports whether it was decided, and approved.
func (r VoidRequest) WasApproved() bool { return r.Approved != nil && *r.Approved }

// Pending reports whether no one has decided yet.
func (r VoidRequest) Pending() bool { return r.DecidedAt == nil }

// RevocationID is how /.well-known/revoked.json names a voided voucher:
// the first 64 bits of SHA-256 of its code (the token's jti), base64url.
// A verifier holding a token computes it from the jti; the list itself
// gives no one a code. docs/revocation.md documents it.
func RevocationID(code string) string {
	sum := sha256.Sum256([]byte(code))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// RevokedKey is one signing key's revocation list, in the manner of the
// SMART Health Cards: the key id, the method ("rid") and the ids.
type RevokedKey struct {
	KID    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int64    `json:"ctr"` // grows whenever the key's list grows
	RIDs   []string `json:"rids"`
}

// RequestVoid asks for a voucher to be voided. The voucher must be the
// officer's district's, still unspent and unexpired; the reason is
// required.
func (a *App) RequestVoid(ctx context.Context, by Officer, code, reason string) (VoidRequest, error) {
	v, err := a.VoucherForOfficer(ctx, by, code)
	if err != nil {
		return VoidRequest{}, err
	}
	if !by.CanChange(v.District) {
		return VoidRequest{}, Forbidden("read_only")
	}
	if reason, err = requiredNote(reason); err != nil {
		return VoidRequest{}, err
	}
	if v.State(a.now()) != VoucherClaimed || v.VoidedAt != nil {
		return VoidRequest{}, Conflict("voucher_not_voidable")
	}
	kid, err := token.KeyID(v.Token)
	if err != nil {
		return VoidRequest{}, err
	}
	r := VoidRequest{VoucherID: v.ID, VoucherCode: v.Code, CampaignID: v.CampaignID, District: v.District, KID: kid,
		RID: RevocationID(v.Code), RequestedBy: by.ID, Reason: reason}
	audit := a.auditOf(by, ActionVoucherVoidRequest, "campaign", v.CampaignID, v.District, nil,
		map[string]string{"voucher": token.MaskCode(v.Code), "reason": reason})
	if r, err = a.store.RequestVoid(ctx, r, audit); err != nil {
		return r, err
	}
	a.log.InfoContext(ctx, "void requested", "void", r.ID, "campaign", v.CampaignID, "officer", by.ID)
	return r, nil
}

// DecideVoid approves or rejects a request. Only an officer who may
// approve, of the voucher's district, and not the one who asked, decides;
// a rejection says why. An approval voids the voucher in the decision's
// transaction, if it is still unspent, and then tells the resident.
func (a *App) DecideVoid(ctx context.Context, by Officer, id int64, approve bool, note string) (VoidRequest, error) {
	r, err := a.VoidRequestFor(ctx, by, id)
	if err != nil {
		return r, err
	}
	// Four eyes, as for a campaign (checkApprover), in this area's words:
	// not the asker, nor an account the asker made or that made the asker.
	related, err := a.sameSide(ctx, r.RequestedBy, by.ID)
	switch {
	case err != nil:
		return r, err
	case !by.CanChange(r.District) || !by.CanApprove || by.Role == RoleAuditor:
		return r, Forbidden("approver_only")
	case by.ID == r.RequestedBy:
		return r, Forbidden("second_officer_required")
	case related:
		return r, Forbidden("approve_related_account")
	case !r.Pending():
		return r, Conflict("void_decided")
	}
	note = strings.TrimSpace(note)
	if !approve {
		if note, err = requiredNote(note); err != nil {
			return r, err
		}
	} else if utf8.RuneCountInString(note) > 500 {
		return r, &Error{Code: EINVALID, Reason: "too_long", Fields: map[string]string{"reason": "too_long"}}
	}
	action := ActionVoucherVoidReject
	if approve {
		action = ActionVoucherVoid
	}
	audit := a.auditOf(by, action, "campaign", r.CampaignID, r.District, nil,
		map[string]string{"voucher": token.MaskCode(r.VoucherCode), "reason": r.Reason, "note": note})
	if r, err = a.store.DecideVoid(ctx, id, by.ID, approve, note, audit); err != nil {
		return r, err
	}
	a.log.InfoContext(ctx, "void decided", "void", id, "approved", approve, "officer", by.ID)
	if approve {
		a.forgetCampaign(ctx, r.CampaignID)
		a.tellVoided(ctx, r)
	}
	return r, nil
}

// tellVoided sends the resident a text that the voucher is void, and why.
// The void stands whether or not the text goes out: a failure is logged,
// and the wallet says it too.
func (a *App) tellVoided(ctx context.Context, r VoidRequest) {
	v, err := a.store.VoucherByCode(ctx, r.VoucherCode)
	if err == nil {
		var res Resident
		if res, err = a.store.ResidentByID(ctx, v.ResidentID); err == nil && res.ErasedAt == nil {
			if err = a.openPhone(&res); err == nil && res.Phone != "" {
				err = a.sms.Send(ctx, res.Phone, "【重庆消费券】您的「"+v.CampaignName+"」消费券（尾号"+v.Code[len(v.Code)-4:]+
					"）已作废："+r.Reason+"。如有疑问请在“意见反馈”中提出。")
			}
		}
	}
	if err != nil {
		a.log.WarnContext(ctx, "void: resident not told by SMS", "void", r.ID, "err", err)
	}
}

// VoucherForOfficer finds a voucher by its code for an officer of its
// district: what the void request page shows.
func (a *App) VoucherForOfficer(ctx context.Context, by Officer, code string) (Voucher, error) {
	code, ok := token.NormalizeCode(code)
	if !ok {
		return Voucher{}, Invalid("voucher_code_format")
	}
	v, err := a.store.VoucherByCode(ctx, code)
	if err == nil && !by.Sees(v.District) {
		return Voucher{}, NotFound("voucher_unknown")
	}
	return v, err
}

// VoidRequestFor reads a request of a district the officer sees.
func (a *App) VoidRequestFor(ctx context.Context, by Officer, id int64) (VoidRequest, error) {
	r, err := a.store.VoidRequest(ctx, id)
	if err == nil && !by.Sees(r.District) {
		return VoidRequest{}, NotFound("void_not_found")
	}
	return r, err
}

// VoidRequests lists the requests of the officer's districts, pending
// first, then the latest decided.
func (a *App) VoidRequests(ctx context.Context, by Officer) ([]VoidRequest, error) {
	if by.IsAdministrator() {
		return nil, Forbidden("officer_role")
	}
	district := ""
	if !by.SeesAllDistricts() {
		district = by.District
	}
	return a.store.VoidRequests(ctx, district, 200)
}

// RevokedList is what /.well-known/revoked.json publishes: per signing
// key, the revocation ids of its vouchers that were voided.
func (a *App) RevokedList(ctx context.Context) ([]RevokedKey, error) {
	return a.store.Revoked(ctx)
}

// requiredNote is a reason or note an officer must give: trimmed, not
// empty, at most 500 characters.
func requiredNote(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &Error{Code: EINVALID, Reason: "reason_required", Fields: map[string]string{"reason": "reason_required"}}
	case utf8.RuneCountInString(s) > 500:
		return "", &Error{Code: EINVALID, Reason: "too_long", Fields: map[string]string{"reason": "too_long"}}
	}
	return s, nil
}
