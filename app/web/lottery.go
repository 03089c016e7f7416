package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// Lottery drops (app/lottery.go): residents register on the campaign's
// page, officers set the close on a campaign being prepared and draw after
// it, and anyone reads the publication (/campaigns/:id/lottery.json) to
// recompute the draw.

// residentRegister enters the signed-in resident in the lottery for a tier.
func (s *Server) residentRegister(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	tier, _ := strconv.ParseInt(c.FormValue("tier"), 10, 64)
	if _, err := s.app.RegisterForLotteryFrom(c.Request().Context(), residentOf(c), id, tier, c.FormValue("district")); err != nil {
		switch {
		case app.ErrorCode(err) == app.EINTERNAL:
			return err
		case app.ErrorReason(err) == "real_name_required":
			return c.Redirect(http.StatusSeeOther, "/m/identity?back=/m/campaigns/"+itoa(id))
		case app.ErrorReason(err) == "consent_renewal_required":
			return c.Redirect(http.StatusSeeOther, "/m/consent?back=/m/campaigns/"+itoa(id))
		}
		return s.claimAnswer(c, statusOf[app.ErrorCode(err)], s.locale(c).Err(err))
	}
	s.flash(c, "lottery_registered")
	return c.Redirect(http.StatusSeeOther, "/m/campaigns/"+itoa(id))
}

func (s *Server) apiRegister(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		TierID   int64  `json:"tier_id"`
		District string `json:"district"` // where the resident lives, optional: the fairness figures
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.app.RegisterForLotteryFrom(c.Request().Context(), residentOf(c), id, in.TierID, in.District)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) apiMyRegistration(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	r, err := s.app.MyRegistration(c.Request().Context(), residentOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// lotteryPublication is the draw as anyone may check it: before the draw
// the commitment and the close; after it, the seed and each tier's stock,
// registrations in id order and winners (docs/lottery.md).
func (s *Server) lotteryPublication(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	camp, err := s.app.PublicCampaign(c.Request().Context(), id)
	if err != nil {
		return err
	}
	l, tiers, err := s.app.LotteryOf(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := map[string]any{"campaign_id": id, "commitment": l.Commitment, "closes_at": camp.LotteryClosesAt, "algorithm": "docs/lottery.md"}
	if l.Seed != nil {
		out["seed"], out["drawn_at"], out["tiers"] = *l.Seed, l.DrawnAt, tiers
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.JSON(http.StatusOK, out)
}
