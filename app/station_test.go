package app_test

import (
	"context"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// stationClaim sends the resident's code as the station and claims with
// it, as the staff member types it.
func stationClaim(t *testing.T, e *apptest.Env, staff app.Officer, phone string, c app.Campaign, idNumber string) (app.Voucher, error) {
	t.Helper()
	ctx := context.Background()
	e.Clock.Advance(2 * time.Minute) // past the resend interval of the last code
	if _, err := e.App.StationSendCode(ctx, staff, phone, true); err != nil {
		t.Fatal(err)
	}
	return e.App.AssistedClaim(ctx, staff, app.AssistedClaimInput{Phone: phone, Code: e.SMS.Code(phone),
		CampaignID: c.ID, TierID: c.Tiers[0].ID, IDNumber: idNumber})
}

// An assisted claim is the resident's claim: it counts against the same
// per-resident limit whether the resident claimed on the phone first or at
// the station, and a second station claim is refused too. The voucher names
// the staff member, and the claim's audit row the station.
func TestAssistedClaimKeepsThePerResidentLimit(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		e := apptest.New(t, apptest.Options{})
		ctx := context.Background()
		staff := e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
		c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 1})

		// At the station first: claimed, marked, audited.
		v, err := stationClaim(t, e, staff, "13800138001", c, "")
		if err != nil {
			t.Fatalf("assisted claim: %v", err)
		}
		if v.AssistedBy == nil || *v.AssistedBy != staff.ID {
			t.Errorf("assisted_by = %v, want %d", v.AssistedBy, staff.ID)
		}
		if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor_id = ? AND district_code = ? AND entity_id = ?`,
			app.ActionStationClaim, staff.ID, "500103", v.ID); n != 1 {
			t.Errorf("%d audit rows for the assisted claim, want 1", n)
		}
		if _, err := stationClaim(t, e, staff, "13800138001", c, ""); app.ErrorReason(err) != "limit_reached" {
			t.Errorf("second assisted claim: %v, want limit_reached", err)
		}

		// On the phone first, then at the station.
		r, _ := e.ResidentSession(t, "13800138002")
		if _, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := stationClaim(t, e, staff, "13800138002", c, ""); app.ErrorReason(err) != "limit_reached" {
			t.Errorf("assisted claim after the resident's own: %v, want limit_reached", err)
		}
		if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 2 {
			t.Errorf("%d vouchers, want 2", n)
		}
		if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, app.ActionStationClaim); n != 1 {
			t.Errorf("%d assisted-claim audit rows, want 1 (refused claims write none)", n)
		}
		// The wallet lists the station's voucher as the resident's own.
		res, _ := e.ResidentSession(t, "13800138001")
		if w, err := e.App.Wallet(ctx, res); err != nil || len(w) != 1 || !w[0].Assisted() {
			t.Errorf("wallet: %v %+v", err, w)
		}
	})
}

// Only station staff claim for residents, only for their district's (and
// the city's) campaigns; a real-name campaign checks the ID number.
func TestAssistedClaimRefusals(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	staff := e.NewOfficerRole(t, "yz-station", app.RoleStation, "500103")
	own := e.LiveCampaign(t, apptest.CampaignSpec{})
	other := e.LiveCampaign(t, apptest.CampaignSpec{Name: "江北消费券", District: "500105"})

	if _, err := e.App.StationSendCode(ctx, e.Maker, "13800138003", true); app.ErrorReason(err) != "station_only" {
		t.Errorf("district officer sending a station code: %v", err)
	}
	if _, err := e.App.AssistedClaim(ctx, e.Maker, app.AssistedClaimInput{CampaignID: own.ID}); app.ErrorReason(err) != "station_only" {
		t.Errorf("district officer claiming at a station: %v", err)
	}
	if _, err := e.App.StationSendCode(ctx, staff, "13800138003", false); app.ErrorReason(err) != "consent_required" {
		t.Errorf("code without the resident's agreement: %v", err)
	}
	if _, err := stationClaim(t, e, staff, "13800138003", other, ""); app.ErrorReason(err) != "other_district" {
		t.Errorf("another district's campaign: %v, want other_district", err)
	}
	// The code was not spent on the refused campaign.
	if _, err := e.App.AssistedClaim(ctx, staff, app.AssistedClaimInput{Phone: "13800138003", Code: e.SMS.Code("13800138003"),
		CampaignID: own.ID, TierID: own.Tiers[0].ID}); err != nil {
		t.Errorf("own campaign with the same code: %v", err)
	}

	// Real name: the first ID binds the account, another is refused.
	in := app.CampaignInput{Name: "实名消费券", District: "500103", Category: "catering", Budget: "10000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}},
		ClaimStarts: e.Clock.Now().Format(time.RFC3339), ClaimEnds: e.Clock.Now().Add(72 * time.Hour).Format(time.RFC3339),
		ValidDays: "3", PerResidentLimit: "2", RequireRealName: "1"}
	rn := e.Approved(t, e.Maker, e.Approver, in)
	if _, err := stationClaim(t, e, staff, "13800138004", rn, ""); app.ErrorReason(err) != "id_invalid" {
		t.Errorf("real-name campaign without an ID: %v", err)
	}
	if _, err := stationClaim(t, e, staff, "13800138004", rn, "11010519491231002X"); err != nil {
		t.Errorf("real-name campaign with an ID: %v", err)
	}
	if _, err := stationClaim(t, e, staff, "13800138004", rn, "110105198001010016"); app.ErrorReason(err) != "id_mismatch" {
		t.Errorf("real-name campaign with another ID: %v, want id_mismatch", err)
	}
}
