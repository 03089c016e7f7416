package app

import (
	"testing"
	"time"
)

func TestReleaseDue(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 25, 2, min, 0, 0, time.UTC) }
	released := at(0)
	drops := []Drop{
		{ID: 1, TierID: 7, OpensAt: at(0), Quantity: 5, ReleasedAt: &released},
		{ID: 2, TierID: 7, OpensAt: at(1), Quantity: 4},
		{ID: 3, TierID: 7, OpensAt: at(2), Quantity: 3},
		{ID: 4, TierID: 8, OpensAt: at(1), Quantity: 100}, // another tier's
	}
	before := Tier{ID: 7, Quantity: 12, Released: 5, Remaining: 2, Lapsed: 0}
	for _, tc := range []struct {
		name     string
		now      time.Time
		rollover bool
		want     Tier
		ids      int
	}{
		{"nothing due yet", at(1).Add(-time.Millisecond), true, before, 0},
		{"one due, rollover", at(1).Add(300 * time.Millisecond), true, Tier{ID: 7, Quantity: 12, Released: 9, Remaining: 6}, 1},
		{"two due, rollover", at(2), true, Tier{ID: 7, Quantity: 12, Released: 12, Remaining: 9}, 2},
		{"one due, lapse", at(1), false, Tier{ID: 7, Quantity: 12, Released: 9, Remaining: 4, Lapsed: 2}, 1},
		{"two due, lapse: only the latest stays", at(3), false, Tier{ID: 7, Quantity: 12, Released: 12, Remaining: 3, Lapsed: 6}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ids := ReleaseDue(before, drops, tc.rollover, tc.now)
			if got != tc.want || len(ids) != tc.ids {
				t.Errorf("ReleaseDue = %+v %v, want %+v with %d drops", got, ids, tc.want, tc.ids)
			}
			if got.Released-got.Remaining-got.Lapsed != before.Released-before.Remaining-before.Lapsed {
				t.Errorf("claimed stock changed: %+v", got)
			}
		})
	}
	c := Campaign{Tiers: []Tier{before}, Drops: drops, DropRollover: true}
	if n := c.Claimable(7, at(2)); n != 9 {
		t.Errorf("Claimable = %d, want 9", n)
	}
	seen := c.AsOf(at(2))
	if seen.Tiers[0].Remaining != 9 || c.Tiers[0].Remaining != 2 || c.Drops[1].ReleasedAt != nil || seen.Drops[1].ReleasedAt == nil {
		t.Errorf("AsOf must return a changed copy and leave the campaign alone: %+v / %+v", seen.Tiers[0], c.Tiers[0])
	}
	if c.ReleasedBy(at(2)) != 12 || c.Planned() != 12 {
		t.Errorf("released by 10:02 %d, planned %d; want 12 and 12", c.ReleasedBy(at(2)), c.Planned())
	}
}
