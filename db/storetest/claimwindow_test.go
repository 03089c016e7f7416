package storetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// TestClaimWindowToTheQuarterSecond: the writer decides "not open" and
// "ended" from the stored claim window at its own time, to the fraction
// of a second: a quarter second before the start is not open, the start
// itself is; a quarter second before the end is open, the end is ended.
func TestClaimWindowToTheQuarterSecond(t *testing.T) {
	apptest.EachBackend(t, testClaimWindowToTheQuarterSecond)
}

func testClaimWindowToTheQuarterSecond(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Opens: 90 * time.Minute})
	start, end := c.ClaimStartsAt, c.ClaimEndsAt
	for i, step := range []struct {
		at   time.Time
		want string
	}{
		{start.Add(-250 * time.Millisecond), "not_open"},
		{start, ""},
		{start.Add(250 * time.Millisecond), ""},
		{end.Add(-250 * time.Millisecond), ""},
		{end, "ended"},
		{end.Add(250 * time.Millisecond), "ended"},
	} {
		e.Clock.Set(step.at)
		r, _ := e.ResidentSession(t, fmt.Sprintf("1350000%04d", i))
		_, err := e.Store.Claim(ctx, app.ClaimInsert{CampaignID: c.ID, TierID: c.Tiers[0].ID, ResidentID: r.ID,
			Code: token.NewCode(), Token: "t", ExpiresAt: step.at.Add(48 * time.Hour)})
		if got := app.ErrorReason(err); got != step.want || (step.want == "" && err != nil) {
			t.Errorf("claim at %s: %v, want %q", step.at.Format(time.RFC3339Nano), err, step.want)
		}
	}
}
