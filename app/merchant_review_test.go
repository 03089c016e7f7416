package app_test

import (
	"context"
	"errors"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestReviewMerchantNeedsAReasonToRejectOrSuspend: the domain refuses a
// rejection or a suspension without a reason (blank counts as none) with
// reason_required on the field reason, whoever calls it, and writes
// nothing; approval and reinstatement need none. A reason given is in the
// merchant's file.
func TestReviewMerchantNeedsAReasonToRejectOrSuspend(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	pending := e.NewMerchant(t, "较场口面馆", "500103", "catering")
	if err := e.Store.SetMerchantStatus(ctx, pending.ID, app.MerchantPending); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action string
		id     int64
	}{{"reject", pending.ID}, {"suspend", e.Merchant.ID}} {
		for _, reason := range []string{"", " \n\t "} {
			err := e.App.ReviewMerchant(ctx, e.Maker, c.id, c.action, reason)
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != app.EINVALID || ae.Reason != "reason_required" || ae.Fields["reason"] != "reason_required" {
				t.Errorf("%s with reason %q: %v, want reason_required", c.action, reason, err)
			}
		}
	}
	if m, _ := e.Store.MerchantByID(ctx, pending.ID); m.Status != app.MerchantPending {
		t.Fatalf("a refused rejection changed the merchant: %s", m.Status)
	}
	file, err := e.App.MerchantFileFor(ctx, e.Maker, e.Merchant.ID)
	if err != nil || file.Merchant.Status != app.MerchantApproved || len(file.History) != 0 {
		t.Fatalf("after refused suspensions: %v %+v", err, file)
	}
	if err := e.App.ReviewMerchant(ctx, e.Maker, e.Merchant.ID, "suspend", "投诉核查中"); err != nil {
		t.Fatal(err)
	}
	if err := e.App.ReviewMerchant(ctx, e.Maker, e.Merchant.ID, "reinstate", ""); err != nil {
		t.Fatalf("reinstating needs no reason: %v", err)
	}
	file, err = e.App.MerchantFileFor(ctx, e.Maker, e.Merchant.ID)
	if err != nil || len(file.History) != 2 || file.History[1].Action != "merchant.suspend" || file.History[1].Note != "投诉核查中" ||
		file.History[0].Action != "merchant.reinstate" {
		t.Fatalf("the history, newest first: %v %+v", err, file.History)
	}
}
