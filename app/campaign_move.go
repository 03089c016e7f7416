package app

import (
	"context"
	"strconv"
)

// Moving quantity between the tiers of a running campaign: the what-if of
// the pacing page (CampaignForecast.WhatIf), asked for by one officer and
// applied when a second approves it, like a budget raise. Only a campaign
// released at once has its stock in its tiers to move; a campaign of
// drops changes its drops instead.

// RequestQuantityMove asks for m: the first tier's unclaimed vouchers to
// the second, within the budget.
func (a *App) RequestQuantityMove(ctx context.Context, by Officer, id int64, m QuantityMove) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	if c.ReleaseMode != ReleaseOnce {
		return Conflict("move_drops")
	}
	if c.PendingMoveN != nil {
		return Conflict("move_pending")
	}
	if err := checkMove(c, m); err != nil {
		return err
	}
	return a.changeCampaign(ctx, CampaignChange{CampaignID: id, Move: &m, At: a.now(),
		Audit: a.auditOf(by, ActionCampaignRequestMove, "campaign", id, c.District, nil, m.snapshot())})
}

// ApproveQuantityMove applies the pending move; the approver is not the
// officer who asked. The store checks the stock and the budget again.
func (a *App) ApproveQuantityMove(ctx context.Context, by Officer, id int64) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	m, ok := c.PendingMove()
	if !ok {
		return Conflict("no_move_pending")
	}
	if err := a.checkApprover(ctx, by, *c.PendingMoveBy); err != nil {
		return err
	}
	defer a.forgetCampaign(ctx, id)
	return a.store.ApplyQuantityMove(ctx, id, m, by.ID, a.auditOf(by, ActionCampaignApproveMove, "campaign", id, c.District, nil, m.snapshot()))
}

// DeclineQuantityMove withdraws the pending move (the officer who asked)
// or declines it (an officer who may approve), with a reason, so that the
// campaign can take another; a move the stock or budget no longer allows
// would otherwise wait for ever.
func (a *App) DeclineQuantityMove(ctx context.Context, by Officer, id int64, reason string) error {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return err
	}
	m, ok := c.PendingMove()
	if !ok {
		return Conflict("no_move_pending")
	}
	if *c.PendingMoveBy != by.ID && !by.CanApprove {
		return Forbidden("approver_only")
	}
	if reason, err = requiredNote(reason); err != nil {
		return err
	}
	after := m.snapshot()
	return a.store.DeclineQuantityMove(ctx, id, m, a.auditOf(by, ActionCampaignDeclineMove, "campaign", id, c.District, after,
		map[string]string{"reason": reason}))
}

// PendingMove is the move waiting for approval, if there is one.
func (c Campaign) PendingMove() (QuantityMove, bool) {
	if c.PendingMoveFrom == nil || c.PendingMoveTo == nil || c.PendingMoveN == nil || c.PendingMoveBy == nil {
		return QuantityMove{}, false
	}
	return QuantityMove{From: *c.PendingMoveFrom, To: *c.PendingMoveTo, N: *c.PendingMoveN}, true
}

// checkMove is the rule of a move as the campaign stands: two different
// tiers of it, at least one voucher, no more than the first has left
// unclaimed, and Σ face × quantity after it within the budget.
func checkMove(c Campaign, m QuantityMove) error {
	var from, to *Tier
	for i := range c.Tiers {
		switch c.Tiers[i].ID {
		case m.From:
			from = &c.Tiers[i]
		case m.To:
			to = &c.Tiers[i]
		}
	}
	field := func(name, reason string) *Error {
		return &Error{Code: EINVALID, Reason: reason, Fields: map[string]string{name: reason}}
	}
	switch {
	case from == nil || to == nil || m.From == m.To:
		return field("move_to", "tier_unknown")
	case m.N <= 0:
		return field("move_n", "quantity_range")
	case m.N > from.Remaining:
		return field("move_n", "move_beyond_unclaimed").With("left", strconv.FormatInt(from.Remaining, 10))
	}
	if after := c.Committed() + Fen(m.N)*(to.FaceFen-from.FaceFen); after > c.BudgetFen {
		return field("move_n", "budget_below_committed").With("committed", after.Grouped())
	}
	return nil
}

func (m QuantityMove) snapshot() map[string]int64 {
	return map[string]int64{"move_from": m.From, "move_to": m.To, "move_n": m.N}
}
