package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// A day paid before statements were kept per funding district was paid as
// one sum; the migration splits it by the redemptions' campaigns' districts
// into parts that add up to what was paid, keeping who paid and when, and
// the books check then finds every paid statement equal to its rows.
func TestMigrationSplitsPaidDaysByFundingDistrict(t *testing.T) {
	// It migrates an old SQLite file, made by VACUUM INTO.
	e := apptest.New(t, apptest.Options{Backend: apptest.SQLite})
	ctx := context.Background()
	city := e.NewOfficer(t, "city-maker", app.CityCode, false)
	now := e.Clock.Now()
	in := func(name, district string) app.CampaignInput {
		return app.CampaignInput{Name: name, District: district, Category: "catering", Budget: "100000",
			Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}},
			ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
			ValidDays: "7", PerResidentLimit: "1"}
	}
	yuzhong := e.LiveCampaign(t, apptest.CampaignSpec{})
	citywide := e.Approved(t, city, e.NewOfficer(t, "city-approver", app.CityCode, true), in("全市消费季", app.CityCode))
	for i, c := range []app.Campaign{yuzhong, citywide, citywide} {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1380000000%d", i))
		v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, fmt.Sprintf("k%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Redeem(ctx, e.Cashier, v.Code, 15000, fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Advance(24 * time.Hour)

	// The database as it was: one paid row for the merchant-day.
	old := filepath.Join(t.TempDir(), "old.db")
	if err := e.Store.Backup(ctx, old); err != nil {
		t.Fatal(err)
	}
	apptest.ExecSQLiteFile(t, old, `DROP TABLE settlements`,
		`CREATE TABLE settlements (merchant_id INTEGER NOT NULL REFERENCES merchants(id), day TEXT NOT NULL,
			redemptions INTEGER NOT NULL, reversals INTEGER NOT NULL, subsidy_fen INTEGER NOT NULL, consumption_fen INTEGER NOT NULL,
			paid_at DATETIME NOT NULL, paid_by INTEGER NOT NULL REFERENCES officers(id), PRIMARY KEY (merchant_id, day))`,
		fmt.Sprintf(`INSERT INTO settlements VALUES (%d, '2026-11-25', 3, 0, 9000, 45000, '2026-11-26 02:00:00+00:00', %d)`, e.Merchant.ID, e.Approver.ID),
		`DROP TABLE clawbacks`, `DROP TABLE payment_batches`,
		`DELETE FROM schema_migrations WHERE name IN ('0030_settlements_by_funding_district.sql', '0098_payment_batches.sql', '0100_clawbacks.sql')`)
	st, err := db.Open(ctx, old, db.Options{Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sts, err := st.Statements(ctx, app.StatementFilter{From: "2026-11-25", To: "2026-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]app.Fen{}
	for _, s := range sts {
		if s.PaidAt == nil || s.PaidBy == nil || *s.PaidBy != e.Approver.ID {
			t.Errorf("statement of %s lost its payment: %+v", s.FundingDistrict, s)
		}
		got[s.FundingDistrict] = s.SubsidyFen
	}
	if len(got) != 2 || got["500103"] != 3000 || got[app.CityCode] != 6000 {
		t.Fatalf("statements after the migration: %v", got)
	}
	results, err := st.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s: %s", r.Name, r.Figures)
		}
	}
}
