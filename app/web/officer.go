package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// formTierRows is how many tier rows the new-campaign form offers.
const formTierRows = 3

func (s *Server) officerLoginForm(c echo.Context) error {
	return s.page(c, http.StatusOK, "officer/login", "title.officer_login", nil)
}

// officerLogin takes the password and the second factor in one form, so
// that a refusal never says which of them was wrong.
func (s *Server) officerLogin(c echo.Context) error {
	username := c.FormValue("username")
	in, err := s.app.LoginOfficer(c.Request().Context(), username, c.FormValue("password"), c.FormValue("code"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "officer/login", "title.officer_login",
			map[string]any{"Error": s.locale(c).Err(err), "Username": username})
	}
	if in.Enrol {
		s.startSession(c, officersEnrolling, in.Token)
		return c.Redirect(http.StatusSeeOther, "/officer/2fa")
	}
	s.startSession(c, officers, in.Token)
	if in.Officer.Role == app.RoleStation {
		return c.Redirect(http.StatusSeeOther, "/station")
	}
	return c.Redirect(http.StatusSeeOther, "/officer")
}

func (s *Server) officerLogout(c echo.Context) error {
	if err := s.endSession(c, officers); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/officer/login")
}

// officerCampaigns lists the campaigns the officer may see, with budget use.
func (s *Server) officerCampaigns(c echo.Context) error {
	o := officerOf(c)
	cs, err := s.app.OfficerCampaigns(c.Request().Context(), o)
	if err != nil {
		return err
	}
	rows := make([]map[string]any, len(cs))
	for i, camp := range cs {
		rows[i] = map[string]any{"C": camp, "Phase": camp.Phase(s.app.Now()), "Stats": app.CampaignStats(camp), "NextDrop": camp.NextDrop(s.app.Now())}
	}
	return s.page(c, http.StatusOK, "officer/campaigns", "title.officer_campaigns", map[string]any{"Rows": rows, "Names": s.names(c)})
}

// names gives templates the district and category names by code.
func (s *Server) names(c echo.Context) map[string]string {
	l := s.locale(c)
	out := map[string]string{}
	ctx := c.Request().Context()
	if ds, err := s.app.Districts(ctx); err == nil {
		for _, d := range ds {
			out[d.Code] = l.Name(d.NameZH, d.NameEN)
		}
	}
	if cs, err := s.app.Categories(ctx); err == nil {
		for _, cat := range cs {
			out[cat.Code] = l.Name(cat.NameZH, cat.NameEN)
		}
	}
	return out
}

func (s *Server) campaignForm(c echo.Context, status int, in app.CampaignInput, err error) error {
	return s.campaignFormAt(c, status, "/officer/campaigns", "title.campaign_new", in, err)
}

// campaignFormAt renders the campaign form posting to action: a new
// campaign, or a draft being edited.
func (s *Server) campaignFormAt(c echo.Context, status int, action, title string, in app.CampaignInput, err error) error {
	ctx := c.Request().Context()
	ds, derr := s.app.Districts(ctx)
	if derr != nil {
		return derr
	}
	cats, cerr := s.app.Categories(ctx)
	if cerr != nil {
		return cerr
	}
	o := officerOf(c)
	var mine []app.District
	for _, d := range ds {
		if o.Role == app.RoleCityAdmin || d.Code == o.District {
			mine = append(mine, d)
		}
	}
	for len(in.Tiers) < formTierRows {
		in.Tiers = append(in.Tiers, app.TierInput{})
	}
	data := map[string]any{"In": in, "Districts": mine, "Categories": cats, "Errors": map[string]string{}, "Action": action,
		"IdentityKind": s.app.IdentityKind()} // what the real-name option proves, said beside it
	s.withError(c, data, err)
	return s.page(c, status, "officer/campaign_new", title, data)
}

func (s *Server) campaignNewForm(c echo.Context) error {
	o := officerOf(c)
	if o.Role == app.RoleAuditor || o.IsAdministrator() {
		return app.Forbidden("read_only") // a form that can only be refused helps no one
	}
	now := s.app.Now()
	in := app.CampaignInput{
		District:         o.District,
		ValidityMode:     app.ValidityDays,
		ReleaseMode:      app.ReleaseOnce,
		DropRollover:     "1",
		DropDaily:        "10:00",
		ClaimStarts:      now.Add(24*3600e9).In(app.Shanghai).Format("2006-01-02") + "T10:00",
		ClaimEnds:        now.Add(15*24*3600e9).In(app.Shanghai).Format("2006-01-02") + "T22:00",
		ValidDays:        "7",
		PerResidentLimit: "1",
	}
	return s.campaignForm(c, http.StatusOK, in, nil)
}

// campaignInputFromForm reads the new-campaign form; tier rows come as
// parallel lists tier_face[i], tier_threshold[i], tier_quantity[i].
func campaignInputFromForm(c echo.Context) (app.CampaignInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return app.CampaignInput{}, app.Invalid("bad_request")
	}
	in := app.CampaignInput{
		Name: form.Get("name"), Season: form.Get("season"), District: form.Get("district"),
		Category: form.Get("category"), Categories: form["categories"],
		Budget: form.Get("budget"), ClaimStarts: form.Get("claim_starts"), ClaimEnds: form.Get("claim_ends"),
		ValidityMode: form.Get("validity_mode"), ValidDays: form.Get("valid_days"),
		ValidFrom: form.Get("valid_from"), ValidUntil: form.Get("valid_until"),
		PerResidentLimit: form.Get("per_resident_limit"), PerDayLimit: form.Get("per_day_limit"), PerTierLimit: form.Get("per_tier_limit"), MaxBill: form.Get("max_bill"),
		ReleaseMode: form.Get("release_mode"), DropDaily: form.Get("drop_daily"), DropDays: form.Get("drop_days"),
		DropTimes: form.Get("drop_times"), DropRollover: form.Get("drop_rollover"), RecycleExpired: form.Get("recycle_expired"),
		RequireRealName: form.Get("require_real_name"),
		Include:         form.Get("include_merchants"), Exclude: form.Get("exclude_merchants"),
	}
	if len(form["categories"]) > 20 {
		return in, app.Invalid("too_many_categories")
	}
	faces, thresholds, quantities := form["tier_face"], form["tier_threshold"], form["tier_quantity"]
	n := max(len(faces), len(thresholds), len(quantities))
	if n > 20 {
		return in, app.Invalid("too_many_tiers")
	}
	at := func(list []string, i int) string {
		if i < len(list) {
			return list[i]
		}
		return ""
	}
	for i := 0; i < n; i++ {
		in.Tiers = append(in.Tiers, app.TierInput{Face: at(faces, i), Threshold: at(thresholds, i), Quantity: at(quantities, i)})
	}
	return in, nil
}

func (s *Server) campaignCreate(c echo.Context) error {
	in, err := campaignInputFromForm(c)
	if err != nil {
		return err
	}
	camp, err := s.app.CreateCampaign(c.Request().Context(), officerOf(c), in)
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.campaignForm(c, http.StatusUnprocessableEntity, in, err)
		}
		return err
	}
	s.flash(c, "campaign_created")
	return c.Redirect(http.StatusSeeOther, "/officer/campaigns/"+itoa(camp.ID))
}

// campaignEditForm shows a draft (or rejected campaign) in the form.
func (s *Server) campaignEditForm(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	o := officerOf(c)
	camp, err := s.app.CampaignFor(c.Request().Context(), o, id)
	if err != nil {
		return err
	}
	if !o.CanChange(camp.District) {
		return app.Forbidden("read_only")
	}
	if camp.Status != app.StatusDraft && camp.Status != app.StatusRejected {
		return app.Conflict("not_draft")
	}
	return s.campaignFormAt(c, http.StatusOK, "/officer/campaigns/"+itoa(id), "title.campaign_edit", app.InputOf(camp), nil)
}

func (s *Server) campaignUpdate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	in, err := campaignInputFromForm(c)
	if err != nil {
		return err
	}
	if _, err := s.app.UpdateDraft(c.Request().Context(), officerOf(c), id, in); err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			return s.campaignFormAt(c, http.StatusUnprocessableEntity, "/officer/campaigns/"+itoa(id), "title.campaign_edit", in, err)
		}
		return err
	}
	s.flash(c, "campaign_saved")
	return c.Redirect(http.StatusSeeOther, "/officer/campaigns/"+itoa(id))
}

// campaignOf loads the campaign of the :id in the path, if the signed-in
// officer may see it (another district's is not found).
func (s *Server) campaignOf(c echo.Context) (app.Campaign, error) {
	id, err := paramID(c)
	if err != nil {
		return app.Campaign{}, err
	}
	return s.app.CampaignFor(c.Request().Context(), officerOf(c), id)
}

func paramID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.NotFound("campaign_not_found")
	}
	return id, nil
}

// campaignShow is the officer's campaign page: rules, status, the
// actions this officer may take now, and the evaluation figures computed
// from stored rollups.
func (s *Server) campaignShow(c echo.Context) error {
	return s.campaignPage(c, http.StatusOK, nil)
}

// campaignPage renders the campaign page, with a failed action's error
// beside its form when err is set.
func (s *Server) campaignPage(c echo.Context, status int, err error) error {
	id, perr := paramID(c)
	if perr != nil {
		return perr
	}
	o := officerOf(c)
	ctx := c.Request().Context()
	camp, cerr := s.app.CampaignFor(ctx, o, id)
	if cerr != nil {
		return cerr
	}
	now := s.app.Now()
	canChange := o.CanChange(camp.District)
	running := camp.Status == app.StatusApproved || camp.Status == app.StatusPaused
	approver := canChange && o.CanApprove && o.Role != app.RoleAuditor
	history, herr := s.app.AuditLog(ctx, o, app.AuditFilter{Entity: "campaign", EntityID: camp.ID, Limit: 20})
	if herr != nil {
		return herr
	}
	var lottery *app.LotteryFigures
	if camp.LotteryDrawnAt != nil {
		if f, ferr := s.app.LotteryFiguresOf(ctx, o, camp.ID); ferr == nil {
			lottery = &f
		}
	}
	data := map[string]any{
		"C": camp, "Phase": camp.Phase(now), "Stats": app.CampaignStats(camp), "Names": s.names(c), "Lottery": lottery,
		"NextDrop": camp.NextDrop(now), "History": history, "Errors": map[string]string{},
		"CanSubmit":       canChange && camp.Status == app.StatusDraft,
		"CanEdit":         canChange && (camp.Status == app.StatusDraft || camp.Status == app.StatusRejected),
		"CanApprove":      approver && camp.Status == app.StatusSubmitted && camp.CreatedBy != o.ID,
		"OwnSubmitted":    camp.Status == app.StatusSubmitted && camp.CreatedBy == o.ID,
		"CanPause":        canChange && camp.Status == app.StatusApproved,
		"CanResume":       canChange && camp.Status == app.StatusPaused,
		"CanEnd":          canChange && running,
		"CanChange":       canChange && running,
		"CanApproveRaise": approver && camp.PendingBudgetFen != nil && camp.PendingBy != nil && *camp.PendingBy != o.ID,
		"CanApproveMove":  approver && camp.PendingMoveBy != nil && *camp.PendingMoveBy != o.ID,
		"CanDeclineMove":  canChange && camp.PendingMoveBy != nil && (approver || *camp.PendingMoveBy == o.ID),
		"CanSetLottery":   canChange && (camp.Status == app.StatusDraft || camp.Status == app.StatusRejected) && camp.ReleaseMode == app.ReleaseOnce,
		"CanDraw": canChange && camp.LotteryClosesAt != nil && camp.LotteryDrawnAt == nil && !now.Before(*camp.LotteryClosesAt) &&
			(camp.Status == app.StatusApproved || camp.Status == app.StatusPaused),
	}
	s.withError(c, data, err)
	return s.page(c, status, "officer/campaign", "title.campaign", data)
}

// campaignAction runs one officer action on a campaign: on success a flash
// and a redirect back; on refusal the page again with the reason.
//
// An action decided on a page of its own (decide.go) shows that page
// again on refusal, with what was typed.
func (s *Server) campaignAction(action, flash string, do func(c echo.Context, o app.Officer, id int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c)
		if err != nil {
			return err
		}
		if err := do(c, officerOf(c), id); err != nil {
			switch app.ErrorCode(err) {
			case app.EINTERNAL, app.ENOTFOUND:
				return err
			}
			status := statusOf[app.ErrorCode(err)]
			switch {
			case action == "approve":
				return s.approvePage(c, status, err)
			case action == "move":
				return s.forecastPage(c, status, err)
			case confirmedActions[action]:
				return s.confirmPage(c, action, status, err)
			}
			return s.campaignPage(c, status, err)
		}
		s.flash(c, flash)
		return c.Redirect(http.StatusSeeOther, "/officer/campaigns/"+itoa(id))
	}
}

func (s *Server) campaignActions() map[string]echo.HandlerFunc {
	ctx := func(c echo.Context) context.Context { return c.Request().Context() }
	return map[string]echo.HandlerFunc{
		"submit": s.campaignAction("submit", "campaign_submitted", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.SubmitCampaign(ctx(c), o, id)
		}),
		"approve": s.campaignAction("approve", "campaign_approved", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.ApproveCampaign(ctx(c), o, id, c.FormValue("opinion"))
		}),
		"reject": s.campaignAction("reject", "campaign_rejected", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.RejectCampaign(ctx(c), o, id, c.FormValue("reason"))
		}),
		"pause": s.campaignAction("pause", "campaign_paused", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.PauseCampaign(ctx(c), o, id)
		}),
		"resume": s.campaignAction("resume", "campaign_resumed", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.ResumeCampaign(ctx(c), o, id)
		}),
		"end": s.campaignAction("end", "campaign_ended", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.EndCampaign(ctx(c), o, id)
		}),
		"extend": s.campaignAction("extend", "campaign_extended", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.ExtendCampaign(ctx(c), o, id, c.FormValue("claim_ends"))
		}),
		"quantity": s.campaignAction("quantity", "quantity_added", func(c echo.Context, o app.Officer, id int64) error {
			tier, _ := strconv.ParseInt(c.FormValue("tier"), 10, 64)
			return s.app.AddQuantity(ctx(c), o, id, tier, c.FormValue("quantity"))
		}),
		"budget": s.campaignAction("budget", "budget_requested", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.RequestBudgetRaise(ctx(c), o, id, c.FormValue("budget"))
		}),
		"budget/approve": s.campaignAction("budget/approve", "budget_approved", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.ApproveBudgetRaise(ctx(c), o, id)
		}),
		"lottery": s.campaignAction("lottery", "lottery_set", func(c echo.Context, o app.Officer, id int64) error {
			_, err := s.app.SetLottery(ctx(c), o, id, c.FormValue("lottery_closes"))
			return err
		}),
		"draw": s.campaignAction("draw", "lottery_drawn", func(c echo.Context, o app.Officer, id int64) error {
			_, _, err := s.app.DrawLottery(ctx(c), o, id)
			return err
		}),
		"move": s.campaignAction("move", "move_requested", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.RequestQuantityMove(ctx(c), o, id, moveOf(c))
		}),
		"move/approve": s.campaignAction("move/approve", "move_approved", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.ApproveQuantityMove(ctx(c), o, id)
		}),
		"move/decline": s.campaignAction("move/decline", "move_declined", func(c echo.Context, o app.Officer, id int64) error {
			return s.app.DeclineQuantityMove(ctx(c), o, id, c.FormValue("reason"))
		}),
	}
}

// campaignPreview shows the campaign exactly as a resident will see it.
func (s *Server) campaignPreview(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	camp, err := s.app.CampaignFor(ctx, officerOf(c), id)
	if err != nil {
		return err
	}
	merchants, err := s.app.EligibleMerchants(ctx, camp)
	if err != nil {
		return err
	}
	now := s.app.Now()
	return s.page(c, http.StatusOK, "officer/preview", "title.preview", map[string]any{
		"Rows":  []map[string]any{{"C": camp, "Phase": camp.Phase(now), "NextDrop": camp.NextDrop(now)}},
		"Names": s.names(c), "Merchants": merchants, "Preview": true, "CampaignID": camp.ID,
	})
}
