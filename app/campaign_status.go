package app

import (
	"context"
	"strings"
	"unicode/utf8"
)

// A campaign's life: submitted by its maker, approved or rejected by
// another officer with the approval right, paused, resumed and ended while
// it runs. Each step is one guarded status change with its audit record.

// move changes a campaign's status with its guard and audit record.
// reason is a rejection's, which the maker is shown; opinion an
// approver's 审批意见, kept in the audit log.
func (a *App) move(ctx context.Context, by Officer, c Campaign, action string, from []string, to, reason, opinion string) error {
	before := map[string]string{"status": c.Status}
	after := map[string]string{"status": to}
	if reason != "" {
		after["reason"] = reason
	}
	if opinion != "" {
		after["opinion"] = opinion
	}
	err := a.changeCampaignStatus(ctx, StatusChange{
		CampaignID: c.ID, From: from, To: to, By: by.ID, At: a.now(), Reason: reason,
		Audit: a.auditOf(by, action, "campaign", c.ID, c.District, before, after),
	})
	if err == nil {
		a.log.InfoContext(ctx, "campaign status changed", "campaign", c.ID, "officer", by.ID, "to", to)
	}
	return err
}

// SubmitCampaign sends a draft for approval.
func (a *App) SubmitCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if c.Status != StatusDraft {
		return Conflict("not_draft")
	}
	return a.move(ctx, by, c, ActionCampaignSubmit, []string{StatusDraft}, StatusSubmitted, "", "")
}

// checkApprover applies the two-person rule: the approver holds the
// approval right and is not the officer who asked, nor on that officer's
// account creator chain either way (see sameSide).
func (a *App) checkApprover(ctx context.Context, by Officer, maker int64) error {
	if !by.CanApprove || by.Role == RoleAuditor || by.IsAdministrator() {
		return Forbidden("no_approval_right")
	}
	same, err := a.sameSide(ctx, maker, by.ID)
	switch {
	case err != nil:
		return err
	case maker == by.ID:
		return Forbidden("approve_own")
	case same:
		return Forbidden("approve_related_account")
	}
	return nil
}

// ApproveCampaign approves a submitted campaign. Spending public money
// takes two people.
func (a *App) ApproveCampaign(ctx context.Context, by Officer, id int64, opinion string) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if err := a.checkApprover(ctx, by, c.CreatedBy); err != nil {
		return err
	}
	if c.Status != StatusSubmitted {
		return Conflict("not_submitted")
	}
	opinion, err = approvalOpinion(opinion)
	if err != nil {
		return err
	}
	return a.move(ctx, by, c, ActionCampaignApprove, []string{StatusSubmitted}, StatusApproved, "", opinion)
}

// RejectCampaign sends a submitted campaign back with a reason; the maker
// sees the reason.
func (a *App) RejectCampaign(ctx context.Context, by Officer, id int64, reason string) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if err := a.checkApprover(ctx, by, c.CreatedBy); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return &Error{Code: EINVALID, Reason: "reason_required", Fields: map[string]string{"reason": "reason_required"}}
	}
	if c.Status != StatusSubmitted {
		return Conflict("not_submitted")
	}
	return a.move(ctx, by, c, ActionCampaignReject, []string{StatusSubmitted}, StatusRejected, reason, "")
}

// PauseCampaign stops claims and redemptions at once.
func (a *App) PauseCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if c.Status != StatusApproved {
		return Conflict("not_running")
	}
	return a.move(ctx, by, c, ActionCampaignPause, []string{StatusApproved}, StatusPaused, "", "")
}

// ResumeCampaign lifts a pause.
func (a *App) ResumeCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if c.Status != StatusPaused {
		return Conflict("not_paused")
	}
	return a.move(ctx, by, c, ActionCampaignResume, []string{StatusPaused}, StatusApproved, "", "")
}

// EndCampaign closes claims for good. Vouchers already claimed stay
// redeemable until they expire: residents were promised them.
func (a *App) EndCampaign(ctx context.Context, by Officer, id int64) error {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return err
	}
	if c.Status != StatusApproved && c.Status != StatusPaused {
		return Conflict("not_running")
	}
	return a.move(ctx, by, c, ActionCampaignEnd, []string{StatusApproved, StatusPaused}, StatusEnded, "", "")
}

// approvalOpinion is an approver's 审批意见 as kept: required, as on a
// paper approval form, and at most 500 characters.
func approvalOpinion(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 500 {
		return "", &Error{Code: EINVALID, Reason: "opinion_required", Fields: map[string]string{"opinion": "opinion_required"}}
	}
	return s, nil
}
