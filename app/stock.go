package app

import (
	"context"
	"time"
)

// What can be claimed now.
//
// A tier's stored counters (Released, Remaining, Lapsed) move only inside
// a writer's transaction; a drop whose time has come is folded into them
// by the first claim after it (see ReleaseDue). Between the drop's time
// and that claim the stored row still says what it said before the drop,
// so no view may read it raw: every page, API answer, fast path, live view
// and report reads the campaign through AsOf, and the writer releases
// through ReleaseDue. This file is the one place that knows how a drop
// adds to a tier.

// ReleaseDue returns the tier as it stands at now once every drop in due
// whose time has come is released, and the ids of those drops. With
// rollover the unclaimed stock of earlier drops stays claimable; without
// it, what was left and every due drop but the latest lapses, so that a
// resident can only ever claim the stock of the latest drop.
func ReleaseDue(t Tier, drops []Drop, rollover bool, now time.Time) (Tier, []int64) {
	var sum, latest int64
	var latestAt time.Time
	var ids []int64
	for _, d := range drops {
		if d.TierID != t.ID || d.ReleasedAt != nil || d.OpensAt.After(now) {
			continue
		}
		ids = append(ids, d.ID)
		sum += d.Quantity
		if latestAt.IsZero() || !d.OpensAt.Before(latestAt) {
			latestAt, latest = d.OpensAt, d.Quantity
		}
	}
	if len(ids) == 0 {
		return t, nil
	}
	t.Released += sum
	if rollover {
		t.Remaining += sum
	} else {
		t.Lapsed += t.Remaining + sum - latest
		t.Remaining = latest
	}
	return t, ids
}

// AsOf returns the campaign as residents and officers must see it at now:
// every drop that is due counted as released (with its stock claimable),
// as the writer will count it at the next claim. The stored campaign is
// not changed; the copy shares nothing with it.
func (c Campaign) AsOf(now time.Time) Campaign {
	tiers := make([]Tier, len(c.Tiers))
	drops := make([]Drop, len(c.Drops))
	copy(drops, c.Drops)
	for i, t := range c.Tiers {
		tiers[i], _ = ReleaseDue(t, c.Drops, c.DropRollover, now)
	}
	for i := range drops {
		if drops[i].ReleasedAt == nil && !drops[i].OpensAt.After(now) {
			at := drops[i].OpensAt
			drops[i].ReleasedAt = &at
		}
	}
	c.Tiers, c.Drops = tiers, drops
	return c
}

// Claimable is how many vouchers of a tier can be claimed at now: its
// released stock plus the drops due. An unknown tier has none.
func (c Campaign) Claimable(tierID int64, now time.Time) int64 {
	for _, t := range c.Tiers {
		if t.ID == tierID {
			t, _ = ReleaseDue(t, c.Drops, c.DropRollover, now)
			return t.Remaining
		}
	}
	return 0
}

// Planned is the stock of all tiers over the whole campaign (Σ quantity),
// and Released the part of it released by now: the two are shown apart.
func (c Campaign) Planned() int64 {
	var n int64
	for _, t := range c.Tiers {
		n += t.Quantity
	}
	return n
}

// ReleasedBy is the stock released by now, due drops included.
func (c Campaign) ReleasedBy(now time.Time) int64 {
	var n int64
	for _, t := range c.Tiers {
		t, _ = ReleaseDue(t, c.Drops, c.DropRollover, now)
		n += t.Released
	}
	return n
}

// storedCampaign and storedCampaigns read campaigns from the store as they
// stand at the App's clock (see AsOf): officers' pages, reports and
// listings read through them, never through the store directly.
func (a *App) storedCampaign(ctx context.Context, id int64) (Campaign, error) {
	c, err := a.store.Campaign(ctx, id)
	if err != nil {
		return c, err
	}
	return c.AsOf(a.now()), nil
}

func (a *App) storedCampaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error) {
	cs, err := a.store.Campaigns(ctx, f)
	now := a.now()
	for i := range cs {
		cs[i] = cs[i].AsOf(now)
	}
	return cs, err
}
