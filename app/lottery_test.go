package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// lotteryCampaign approves a campaign of one tier of 10 vouchers whose
// registration closes a day after claims open.
func lotteryCampaign(t *testing.T, e *apptest.Env) app.Campaign {
	t.Helper()
	ctx := context.Background()
	now := e.Clock.Now()
	c, err := e.App.CreateCampaign(ctx, e.Maker, app.CampaignInput{Name: "解放碑火锅摇号季", District: "500103", Category: "catering",
		Budget: "1000", Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1"})
	if err != nil {
		t.Fatal(err)
	}
	closes := now.Add(24 * time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")
	if _, err := e.App.SetLottery(ctx, e.Maker, c.ID, closes); err != nil {
		t.Fatal(err)
	}
	if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "同意，摇号发放"); err != nil {
		t.Fatal(err)
	}
	c, err = e.Store.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A lottery of 10 vouchers among 30 registrations: no one claims first
// come; the draw waits for the close, happens once, gives the 10 winners
// their vouchers through the claim, and its publication lets anyone
// recompute the winners: here with the product's own function and with
// the short Python script the documentation gives.
func TestLotteryDrawIsVerifiableAndHappensOnce(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := lotteryCampaign(t, e)
	l, err := e.Store.Lottery(ctx, c.ID)
	if err != nil || len(l.Commitment) != 64 || l.Seed != nil {
		t.Fatalf("lottery before the draw: %v %+v", err, l)
	}
	var residents []app.Resident
	for i := range 30 {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1390099%04d", i))
		residents = append(residents, r)
		if _, err := e.App.RegisterForLottery(ctx, r, c.ID, c.Tiers[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.App.RegisterForLottery(ctx, residents[0], c.ID, c.Tiers[0].ID); app.ErrorReason(err) != "already_registered" {
		t.Fatalf("registering twice: %v", err)
	}
	if _, err := e.App.Claim(ctx, residents[0], c.ID, c.Tiers[0].ID, ""); app.ErrorReason(err) != "lottery_only" {
		t.Fatalf("a first-come claim of a lottery: %v", err)
	}
	if _, _, err := e.App.DrawLottery(ctx, e.Maker, c.ID); app.ErrorReason(err) != "registration_open" {
		t.Fatalf("a draw before the close: %v", err)
	}
	e.Clock.Set(c.LotteryClosesAt.Add(100 * time.Millisecond))
	late, _ := e.ResidentSession(t, "13900998888")
	if _, err := e.App.RegisterForLottery(ctx, late, c.ID, c.Tiers[0].ID); app.ErrorReason(err) != "registration_closed" {
		t.Fatalf("registering after the close: %v", err)
	}
	if _, _, err := e.App.DrawLottery(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.App.DrawLottery(ctx, e.Approver, c.ID); app.ErrorReason(err) != "already_drawn" {
		t.Fatalf("a second draw: %v", err)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 10 {
		t.Fatalf("%d vouchers issued, want the 10 winners'", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE outcome = 'won' AND voucher_id IS NOT NULL`); n != 10 {
		t.Fatalf("%d winners with their voucher", n)
	}
	// Issuing again (the sweep, after a stop halfway) gives no one a second voucher.
	e.Exec(t, `UPDATE lottery_registrations SET voucher_id = NULL WHERE id = (SELECT MIN(id) FROM lottery_registrations WHERE outcome = 'won')`)
	if err := e.App.IssuePendingLotteries(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, c.ID); n != 10 {
		t.Fatalf("%d vouchers after issuing again", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE outcome = 'won' AND voucher_id IS NULL`); n != 0 {
		t.Fatalf("%d winners left without their voucher", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM lottery_registrations WHERE outcome = 'lost'`); n != 20 {
		t.Fatalf("%d told they lost", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'lottery.draw'`); n != 1 {
		t.Fatalf("the draw audited %d times", n)
	}
	// Each resident learns the outcome.
	won := 0
	for _, r := range residents {
		reg, err := e.App.MyRegistration(ctx, r, c.ID)
		if err != nil || reg.Outcome == nil {
			t.Fatalf("registration of %d: %v %+v", r.ID, err, reg)
		}
		if *reg.Outcome == "won" {
			won++
		}
	}
	if won != 10 {
		t.Fatalf("%d residents told they won", won)
	}

	// The publication, recomputed.
	l, tiers, err := e.App.LotteryOf(ctx, c.ID)
	if err != nil || l.Seed == nil || app.Commitment(*l.Seed) != l.Commitment || len(tiers) != 1 || len(tiers[0].Registrations) != 30 {
		t.Fatalf("publication: %v %+v %+v", err, l, tiers)
	}
	got := app.LotteryWinners(*l.Seed, tiers[0].TierID, tiers[0].Stock, tiers[0].Registrations)
	if fmt.Sprint(got) != fmt.Sprint(tiers[0].Winners) || len(got) != 10 {
		t.Fatalf("recomputed winners %v, published %v", got, tiers[0].Winners)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("VOUCHER_PYTHON_TESTS") != "" {
			t.Fatal("python3 is needed to check the draw independently")
		}
		t.Skip("python3 not installed: the independent check of the draw is skipped")
	}
	pub, _ := json.Marshal(map[string]any{"commitment": l.Commitment, "seed": *l.Seed, "tiers": tiers})
	path := filepath.Join(t.TempDir(), "lottery.json")
	if err := os.WriteFile(path, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "../docs/lottery_verify.py", path).CombinedOutput()
	want := fmt.Sprintf("tier %d: %s", tiers[0].TierID, strings.Trim(fmt.Sprint(tiers[0].Winners), "[]"))
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("the Python check: %v\n%s\nwant %s", err, out, want)
	}
}

// The algorithm on fixed inputs: a fixed seed and registrations give the
// same winners every time (the documented example in docs/lottery.md).
func TestLotteryWinnersOfAFixedSeed(t *testing.T) {
	seed := strings.Repeat("ab", 32)
	got := app.LotteryWinners(seed, 7, 3, []int64{1, 2, 3, 4, 5, 6, 7, 8})
	if len(got) != 3 {
		t.Fatalf("winners %v", got)
	}
	again := app.LotteryWinners(seed, 7, 3, []int64{8, 7, 6, 5, 4, 3, 2, 1})
	if fmt.Sprint(got) != fmt.Sprint(again) {
		t.Fatalf("the order of the list changed the draw: %v, %v", got, again)
	}
	if app.LotteryScore(seed, 7, 1) != app.LotteryScore(seed, 7, 1) || app.LotteryScore(seed, 7, 1) == app.LotteryScore(seed, 8, 1) {
		t.Fatal("scores are not a function of seed, tier and registration")
	}
	t.Logf("seed %s…, tier 7, stock 3, registrations 1–8: winners %v", seed[:8], got)
}

// Stock a draw leaves follows the rollover rule: with rollover, it can be
// claimed first come, first served once drawn; without, it is not given.
func TestLotteryLeftoverFollowsTheRolloverRule(t *testing.T) {
	for _, rollover := range []string{"1", "0"} {
		t.Run("rollover "+rollover, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{})
			ctx := context.Background()
			now := e.Clock.Now()
			c, err := e.App.CreateCampaign(ctx, e.Maker, app.CampaignInput{Name: "摇号", District: "500103", Category: "catering",
				Budget: "1000", Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "10"}},
				ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
				ValidDays: "7", PerResidentLimit: "1", DropRollover: rollover})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.SetLottery(ctx, e.Maker, c.ID, now.Add(time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")); err != nil {
				t.Fatal(err)
			}
			if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "同意"); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				r, _ := e.ResidentSession(t, fmt.Sprintf("1390097%04d", i))
				if _, err := e.App.RegisterForLottery(ctx, r, c.ID, c.Tiers[0].ID); err != nil {
					t.Fatal(err)
				}
			}
			e.Clock.Advance(time.Hour + time.Minute)
			if _, _, err := e.App.DrawLottery(ctx, e.Maker, c.ID); err != nil {
				t.Fatal(err)
			}
			late, _ := e.ResidentSession(t, "13900979999")
			_, err = e.App.Claim(ctx, late, c.ID, c.Tiers[0].ID, "")
			switch {
			case rollover == "1" && err != nil:
				t.Fatalf("a claim of the leftover with rollover: %v", err)
			case rollover == "0" && app.ErrorReason(err) != "lottery_drawn":
				t.Fatalf("a claim of the leftover without rollover: %v", err)
			}
		})
	}
}
