package web

import (
	"net/http"
	"strings"

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
var confirmedActions = map[string]bool{"reject": true, "pause": true, "end": true, "budget": true, "budget/approve": true, "move/approve": true, "move/decline": true, "draw": true}

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
	if action == "" { // the routes of budget/approve and move/approve, which have no :action
		action = strings.TrimPrefix(c.Path()[strings.LastIndex(c.Path(), "/confirm/"):], "/confirm/")
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
	l := s.locale(c)
	stats := app.CampaignStats(camp)
	unclaimed, live := stats.Released-stats.Claimed, stats.Claimed-stats.Redeemed
	page := "/officer/campaigns/" + itoa(id)
	cf := confirmation{
		Heading: l.T("confirm.title."+action, "name", camp.Name), Post: page + "/" + action, Cancel: page,
		Button: l.T("confirm.button." + action), Warn: action == "pause" || action == "end",
		Facts: []fact{
			{l.T("stats.budget"), stats.BudgetFen.Grouped()}, {l.T("stats.committed"), stats.CommittedFen.Grouped()},
			{l.T("stats.subsidy"), stats.SubsidyFen.Grouped()}, {l.T("stats.released"), itoa(stats.Released)},
			{l.T("stats.claimed"), itoa(stats.Claimed)}, {l.T("stats.redeemed"), itoa(stats.Redeemed)},
		},
	}
	raise := func(key string, to app.Fen) {
		cf.Effects = append(cf.Effects, l.T(key, "from", stats.BudgetFen.Grouped(), "to", to.Grouped(), "raise", (to-stats.BudgetFen).Grouped()))
	}
	switch action {
	case "pause", "end":
		cf.Effects = []string{l.T("confirm."+action, "unclaimed", unclaimed, "live", live)}
	case "reject":
		cf.Effects = []string{l.T("confirm.reject")}
		cf.Reason = &reasonField{Label: l.T("field.reason"), Value: c.FormValue("reason")}
	case "budget":
		typed := c.FormValue("budget")
		if to, perr := app.ParseYuan(typed); perr == nil {
			raise("confirm.budget", to)
		} else {
			cf.Problem = l.T("confirm.budget_unreadable", "typed", typed)
		}
		cf.Hidden = map[string]string{"budget": typed}
	case "budget/approve":
		if camp.PendingBudgetFen != nil {
			raise("confirm.budget_approve", *camp.PendingBudgetFen)
		}
	case "draw":
		cf.Effects = []string{l.T("confirm.draw")}
	case "move/decline":
		if m, ok := camp.PendingMove(); ok {
			label := app.TierLabeler(camp)
			cf.Effects = []string{l.T("confirm.move_decline", "n", m.N, "from", label(m.From), "to", label(m.To))}
		}
		cf.Reason = &reasonField{Label: l.T("field.reason"), Value: c.FormValue("reason")}
	case "move/approve":
		if m, ok := camp.PendingMove(); ok {
			label := app.TierLabeler(camp)
			cf.Effects = []string{l.T("confirm.move_approve", "n", m.N, "from", label(m.From), "to", label(m.To))}
			if _, f, ferr := s.app.Forecast(c.Request().Context(), officerOf(c), id); ferr == nil {
				if w, werr := f.WhatIf(camp, m); werr == nil {
					cf.Effects = append(cf.Effects, l.T("forecast.what_if_budget", "before", l.Money(w.CommittedFen), "after", l.Money(w.CommittedAfterFen),
						"budget", l.Money(w.BudgetFen)), l.T("forecast.what_if_unclaimed", "before", w.UnclaimedBefore, "after", w.Unclaimed))
				}
			}
		}
	}
	return s.confirmationPage(c, status, cf, err)
}

// confirmation is what a confirmation page shows, whatever it confirms:
// what will happen, the figures behind it, and the one form that acts.
// Its handler fills it in the officer's language.
type confirmation struct {
	Heading string
	Effects []string // what the action does, a paragraph each
	Problem string   // why the action cannot go ahead as asked, if it cannot
	Facts   []fact
	Post    string // where the form posts: the action's own route
	Reason  *reasonField
	Hidden  map[string]string // values carried over from the page before
	Button  string
	Warn    bool   // an action that stops something
	Cancel  string // back to the record, changing nothing
}

type fact struct{ Label, Value string }

// reasonField is a required reason box (field "reason"), with its label.
type reasonField struct{ Label, Value string }

// confirmationPage renders a confirmation, with a refusal's messages when
// err is set.
func (s *Server) confirmationPage(c echo.Context, status int, cf confirmation, err error) error {
	data := map[string]any{"Confirm": cf}
	s.withError(c, data, err)
	return s.page(c, status, "officer/confirm", "title.confirm", data)
}
