package web

import (
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

func (s *Server) officerLogin(c echo.Context) error {
	username := c.FormValue("username")
	_, tok, err := s.app.LoginOfficer(c.Request().Context(), username, c.FormValue("password"))
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.page(c, statusOf[app.ErrorCode(err)], "officer/login", "title.officer_login",
			map[string]any{"Error": s.locale(c).Err(err), "Username": username})
	}
	s.startSession(c, officers, tok)
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
		rows[i] = map[string]any{"C": camp, "Phase": camp.Phase(s.app.Now()), "Stats": app.CampaignStats(camp)}
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
	data := map[string]any{"In": in, "Districts": mine, "Categories": cats, "Errors": map[string]string{}}
	if err != nil {
		l := s.locale(c)
		data["Error"] = l.Err(err)
		if fe := l.FieldErrs(err); fe != nil {
			data["Errors"] = fe
		}
	}
	return s.page(c, status, "officer/campaign_new", "title.campaign_new", data)
}

func (s *Server) campaignNewForm(c echo.Context) error {
	o := officerOf(c)
	now := s.app.Now()
	in := app.CampaignInput{
		District:         o.District,
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
		Name: form.Get("name"), District: form.Get("district"), Category: form.Get("category"),
		Budget: form.Get("budget"), ClaimStarts: form.Get("claim_starts"), ClaimEnds: form.Get("claim_ends"),
		ValidDays: form.Get("valid_days"), PerResidentLimit: form.Get("per_resident_limit"),
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

func paramID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.NotFound("campaign_not_found")
	}
	return id, nil
}

// campaignShow is the officer's campaign page: rules, status, actions and
// the evaluation figures computed from stored rollups.
func (s *Server) campaignShow(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	o := officerOf(c)
	camp, err := s.app.CampaignFor(c.Request().Context(), o, id)
	if err != nil {
		return err
	}
	data := map[string]any{
		"C": camp, "Phase": camp.Phase(s.app.Now()), "Stats": app.CampaignStats(camp), "Names": s.names(c),
		"CanSubmit":    camp.Status == app.StatusDraft,
		"CanApprove":   camp.Status == app.StatusSubmitted && o.CanApprove && camp.CreatedBy != o.ID,
		"OwnSubmitted": camp.Status == app.StatusSubmitted && camp.CreatedBy == o.ID,
	}
	return s.page(c, http.StatusOK, "officer/campaign", "title.campaign", data)
}

func (s *Server) campaignTransition(c echo.Context, do func(app.Officer, int64) error, flash string) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := do(officerOf(c), id); err != nil {
		if app.ErrorCode(err) == app.EINTERNAL || app.ErrorCode(err) == app.ENOTFOUND {
			return err
		}
		s.flash(c, "error_"+app.ErrorReason(err))
	} else {
		s.flash(c, flash)
	}
	return c.Redirect(http.StatusSeeOther, "/officer/campaigns/"+itoa(id))
}

func (s *Server) campaignSubmit(c echo.Context) error {
	return s.campaignTransition(c, func(o app.Officer, id int64) error {
		return s.app.SubmitCampaign(c.Request().Context(), o, id)
	}, "campaign_submitted")
}

func (s *Server) campaignApprove(c echo.Context) error {
	return s.campaignTransition(c, func(o app.Officer, id int64) error {
		return s.app.ApproveCampaign(c.Request().Context(), o, id)
	}, "campaign_approved")
}
