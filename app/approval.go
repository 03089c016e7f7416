package app

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
)

// ApprovalChecklist is what an approver has in front of them before
// deciding on a submitted campaign: the money, the stock and its schedule,
// the rules, where the vouchers can be spent, and what the maker changed
// since the approver's colleagues last saw it.
type ApprovalChecklist struct {
	Campaign Campaign
	Stats    Stats // budget, Σ face × quantity (CommittedFen), planned vouchers
	// CommittedBP is Σ face × quantity as a share of the budget, in basis
	// points; TierCommits each tier's face × quantity, in the tiers' order.
	CommittedBP int64
	TierCommits []Fen
	// Merchants is how many merchants accept the campaign's vouchers today.
	Merchants int
	// Warnings name what the approver must not miss, as stable reasons:
	// no_merchants (nowhere to spend the vouchers), opens_at_once (the
	// claim window has begun: approval opens it now), budget_unused (the
	// tiers commit less than half of the budget).
	Warnings []string
	// Resubmitted says the campaign was submitted before (and sent back);
	// Changes are then the maker's edits since that submission.
	Resubmitted bool
	Changes     []FieldChange
}

// FieldChange is one field of the campaign as it was and as it is.
type FieldChange struct {
	Field  string // the campaign input's name: budget, tiers, claim_starts, …
	Before string
	After  string
}

// ApprovalChecklist reads a campaign's checklist for an officer who may
// read it.
func (a *App) ApprovalChecklist(ctx context.Context, by Officer, id int64) (ApprovalChecklist, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return ApprovalChecklist{}, err
	}
	out := ApprovalChecklist{Campaign: c, Stats: CampaignStats(c)}
	out.CommittedBP = ratioBP(int64(out.Stats.CommittedFen), int64(out.Stats.BudgetFen))
	for _, t := range c.Tiers {
		out.TierCommits = append(out.TierCommits, MulFen(t.FaceFen, t.Quantity))
	}
	merchants, err := a.EligibleMerchants(ctx, c)
	if err != nil {
		return out, err
	}
	out.Merchants = len(merchants)
	if out.Merchants == 0 {
		out.Warnings = append(out.Warnings, "no_merchants")
	}
	if !a.now().Before(c.ClaimStartsAt) {
		out.Warnings = append(out.Warnings, "opens_at_once")
	}
	if out.Stats.CommittedFen*2 < out.Stats.BudgetFen {
		out.Warnings = append(out.Warnings, "budget_unused")
	}
	// The campaign's own history, whoever may read whose entries: it is
	// the campaign that is being decided.
	history, err := a.store.AuditLog(ctx, AuditFilter{Entity: "campaign", EntityID: id, Limit: 200})
	if err != nil {
		return out, err
	}
	out.Resubmitted, out.Changes = changesSinceSubmission(history)
	return out, nil
}

// changesSinceSubmission reads a campaign's audit history (newest first):
// whether it was submitted before its latest submission, and what the
// edits between the two changed, field by field, from the first edit's
// before to the last edit's after.
func changesSinceSubmission(history []AuditEntry) (bool, []FieldChange) {
	var submits []int
	for i, e := range history {
		if e.Action == ActionCampaignSubmit {
			submits = append(submits, i)
		}
	}
	if len(submits) < 2 {
		return false, nil
	}
	var first, last *AuditEntry
	for i := submits[0] + 1; i < submits[1]; i++ {
		if e := &history[i]; e.Action == ActionCampaignEdit {
			if last == nil {
				last = e
			}
			first = e
		}
	}
	if first == nil {
		return true, nil // sent again unchanged
	}
	var out []FieldChange
	for _, ch := range SnapshotDiff(first.BeforeJSON, last.AfterJSON) {
		if b, a := ShownValue(ch.Before), ShownValue(ch.After); b != a {
			out = append(out, FieldChange{Field: ch.Field, Before: b, After: a})
		}
	}
	return true, out
}

// SnapshotChange is one key of an audit row's snapshots whose value
// differs between before and after, as stored (nil where absent).
type SnapshotChange struct {
	Field         string
	Before, After json.RawMessage
}

// SnapshotDiff compares two audit snapshots key by key and returns the
// keys whose values differ, in the order of the campaign form, then by
// name. A snapshot that is empty or not an object has no keys (a
// creation's before), and a null value counts as absent.
func SnapshotDiff(before, after string) []SnapshotChange {
	b, a := snapshotFields(before), snapshotFields(after)
	var out []SnapshotChange
	for k, v := range b {
		if !bytes.Equal(v, a[k]) {
			out = append(out, SnapshotChange{Field: k, Before: v, After: a[k]})
		}
	}
	for k, v := range a {
		if _, both := b[k]; !both {
			out = append(out, SnapshotChange{Field: k, After: v})
		}
	}
	// A stored campaign's fields are the form's in fen and times:
	// budget_fen sorts where budget does, claim_ends_at where claim_ends.
	order := func(field string) int {
		return fieldOrder(strings.TrimSuffix(strings.TrimSuffix(field, "_fen"), "_at"))
	}
	sort.Slice(out, func(i, j int) bool {
		if oi, oj := order(out[i].Field), order(out[j].Field); oi != oj {
			return oi < oj
		}
		return out[i].Field < out[j].Field
	})
	return out
}

func snapshotFields(snapshot string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(snapshot), &m) != nil {
		return nil
	}
	for k, v := range m {
		if bytes.Equal(v, []byte("null")) {
			delete(m, k)
		}
	}
	return m
}

// ShownValue is a stored input value as an approver reads it: text as it
// was typed, tiers as 满…减…×…, lists joined; "" for nothing.
func ShownValue(raw json.RawMessage) string {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var tiers []TierInput
	if json.Unmarshal(raw, &tiers) == nil && len(tiers) > 0 && tiers[0].Face != "" {
		parts := make([]string, len(tiers))
		for i, t := range tiers {
			yuan := func(s string) string { return strings.TrimSuffix(s, ".00") }
			parts[i] = "满" + yuan(t.Threshold) + "减" + yuan(t.Face) + " × " + t.Quantity
		}
		return strings.Join(parts, "；")
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "、")
	}
	return string(raw)
}

// fieldOrder keeps changes in the order of the campaign form.
func fieldOrder(field string) int {
	for i, f := range []string{"name", "season", "district", "category", "categories", "budget", "tiers", "claim_starts", "claim_ends",
		"validity_mode", "valid_days", "valid_from", "valid_until", "per_resident_limit", "per_day_limit", "per_tier_limit", "max_bill",
		"release_mode", "drop_daily", "drop_days", "drop_times", "drop_rollover", "recycle_expired", "require_real_name",
		"include_merchants", "exclude_merchants"} {
		if f == field {
			return i
		}
	}
	return 1000
}
