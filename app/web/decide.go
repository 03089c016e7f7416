package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// Decisions with the facts in front of them. A campaign's high-stakes
// actions are never one tap on the campaign page: the button leads to a
// page that says what will happen (for an approval, the whole checklist),
// and only the form there, with its confirmation, acts. Both pages post to
// the same action routes as before (campaignActions), which the API
// mirrors; a refusal shows this page again with the reason.

// confirmedActions are the campaign actions whose button leads to a
// confirmation page first; approve has the checklist instead.
var confirmedActions = map[string]bool{"reject": true, "pause": true, "end": true, "budget": true, "budget/approve": true}

// campaignApproveForm shows a submitted campaign's approval checklist and
// the approver's opinion box.
func (s *Server) campaignApproveForm(c echo.Context) error {
	return s.approvePage(c, http.StatusOK, nil)
}

func (s *Server) approvePage(c echo.Context, status int, err error) error {
	id, perr := paramID(c)
	if perr != nil {
		return perr
	}
	o := officerOf(c)
	list, lerr := s.app.ApprovalChecklist(c.Request().Context(), o, id)
	if lerr != nil {
		return lerr
	}
	data := map[string]any{"List": list, "C": list.Campaign, "Stats": list.Stats, "Names": s.names(c),
		"Opinion": c.FormValue("opinion"), "CanDecide": s.canApprove(o, list.Campaign)}
	s.withError(c, data, err)
	return s.page(c, status, "officer/approve", "title.approve", data)
}

// canApprove is whether the page offers o the approval form: the App
// decides again when it is posted (checkApprover).
func (s *Server) canApprove(o app.Officer, c app.Campaign) bool {
	return o.CanChange(c.District) && o.CanApprove && o.Role != app.RoleAuditor &&
		c.Status == app.StatusSubmitted && c.CreatedBy != o.ID
}

// campaignConfirm shows what one of confirmedActions will do, with the
// form that does it.
func (s *Server) campaignConfirm(c echo.Context) error {
	action := c.Param("action")
	if action == "" { // the route of budget/approve, which has no :action
		action = "budget/approve"
	}
	return s.confirmPage(c, action, http.StatusOK, nil)
}

func (s *Server) confirmPage(c echo.Context, action string, status int, err error) error {
	if !confirmedActions[action] {
		return echo.ErrNotFound
	}
	id, perr := paramID(c)
	if perr != nil {
		return perr
	}
	camp, cerr := s.app.CampaignFor(c.Request().Context(), officerOf(c), id)
	if cerr != nil {
		return cerr
	}
	stats := app.CampaignStats(camp)
	data := map[string]any{"C": camp, "Stats": stats, "Action": action, "Names": s.names(c),
		"Reason": c.FormValue("reason"), "Budget": c.FormValue("budget")}
	switch action {
	case "budget":
		if to, perr := app.ParseYuan(c.FormValue("budget")); perr == nil {
			data["To"], data["Raise"] = to, to-stats.BudgetFen
		}
	case "budget/approve":
		if camp.PendingBudgetFen != nil {
			data["To"], data["Raise"] = *camp.PendingBudgetFen, *camp.PendingBudgetFen-stats.BudgetFen
		}
	}
	data["Unclaimed"] = stats.Released - stats.Claimed
	data["Live"] = stats.Claimed - stats.Redeemed
	s.withError(c, data, err)
	return s.page(c, status, "officer/confirm", "title.confirm", data)
}
