package web_test

// Tests of the campaign rules that carry money (DESIGN.md §3), driven
// through the real JSON API: campaigns are created by one officer and
// approved by a second, residents claim, cashiers redeem, and the database
// is checked after every step.

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// rulesKit carries one environment and the officers' sessions.
type rulesKit struct {
	t        *testing.T
	e        *apptest.Env
	maker    string // e.Maker: creates, submits, pauses …; no approval right
	approver string // e.Approver: approves
	phones   int
}

func rulesNew(t *testing.T) *rulesKit {
	t.Helper()
	return rulesWith(t, apptest.New(t, apptest.Options{}))
}

func rulesWith(t *testing.T, e *apptest.Env) *rulesKit {
	t.Helper()
	return &rulesKit{t: t, e: e, maker: rulesOfficerToken(t, e, e.Maker), approver: rulesOfficerToken(t, e, e.Approver)}
}

// rulesOfficerToken opens an officer session. Like apptest's
// CashierSession it writes the session row directly: bcrypt is slow by
// design (slower still under -race) and sign-in has tests of its own.
func rulesOfficerToken(t *testing.T, e *apptest.Env, o app.Officer) string {
	t.Helper()
	return e.Session(t, app.KindOfficer, o.ID, 8*time.Hour)
}

// rulesLocal formats a time as an officer types it, in Asia/Shanghai.
func rulesLocal(t time.Time) string { return t.In(app.Shanghai).Format("2006-01-02T15:04") }

// rulesBody is a valid one-off campaign live from now; mod adjusts it.
func rulesBody(e *apptest.Env, mod func(map[string]any)) map[string]any {
	now := e.Clock.Now()
	b := map[string]any{
		"name": "渝味360碗·规则", "district": "500103", "categories": []string{"catering"}, "budget": "100000",
		"tiers":        []map[string]string{{"face": "30", "threshold": "100", "quantity": "100"}},
		"claim_starts": rulesLocal(now), "claim_ends": rulesLocal(now.Add(5 * 24 * time.Hour)),
		"valid_days": "7", "per_resident_limit": "1",
	}
	if mod != nil {
		mod(b)
	}
	return b
}

func rulesFields(r apptest.Response) map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func rulesParams(r apptest.Response) map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	p, _ := e["params"].(map[string]any)
	return p
}

func rulesNum(m map[string]any, key string) int64 {
	f, _ := m[key].(float64)
	return int64(f)
}

func (k *rulesKit) path(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/api/v1/officer/campaigns/%d", id)
	}
	return fmt.Sprintf("/api/v1/officer/campaigns/%d/%s", id, action)
}

// create posts a campaign as the maker and requires it stored as a draft.
func (k *rulesKit) create(body map[string]any) (int64, apptest.Response) {
	k.t.Helper()
	r := k.e.API(k.t, http.MethodPost, "/api/v1/officer/campaigns", k.maker, body)
	if r.Status != 201 || r.Body["status"] != "draft" {
		k.t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	return rulesNum(r.Body, "id"), r
}

// live creates, submits (maker) and approves (approver) a campaign.
func (k *rulesKit) live(body map[string]any) (int64, []int64) {
	k.t.Helper()
	id, _ := k.create(body)
	if r := k.act(k.maker, id, "submit", nil); r.Status != 200 || r.Body["status"] != "submitted" {
		k.t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	r := k.act(k.approver, id, "approve", map[string]string{"opinion": "同意"})
	if r.Status != 200 || r.Body["status"] != "approved" {
		k.t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	var tiers []int64
	for _, tr := range r.Body["tiers"].([]any) {
		tiers = append(tiers, rulesNum(tr.(map[string]any), "id"))
	}
	return id, tiers
}

func (k *rulesKit) act(tok string, id int64, action string, body any) apptest.Response {
	k.t.Helper()
	return k.e.API(k.t, http.MethodPost, k.path(id, action), tok, body)
}

func (k *rulesKit) show(id int64) map[string]any {
	k.t.Helper()
	r := k.e.API(k.t, http.MethodGet, k.path(id, ""), k.maker, nil)
	if r.Status == 401 { // the session outlived the clock: sign in again
		k.maker = rulesOfficerToken(k.t, k.e, k.e.Maker)
		r = k.e.API(k.t, http.MethodGet, k.path(id, ""), k.maker, nil)
	}
	if r.Status != 200 {
		k.t.Fatalf("show campaign %d: %d %s", id, r.Status, r.Raw)
	}
	return r.Body
}

// apiTier is a tier as the officer's API shows it.
func (k *rulesKit) apiTier(id int64, i int) map[string]any {
	k.t.Helper()
	return k.show(id)["tiers"].([]any)[i].(map[string]any)
}

// resident signs in a new resident and returns the session token.
func (k *rulesKit) resident() string {
	k.t.Helper()
	k.phones++
	_, tok := k.e.ResidentSession(k.t, fmt.Sprintf("137%08d", k.phones))
	return tok
}

func (k *rulesKit) claim(tok string, id, tier int64) apptest.Response {
	return k.e.API(k.t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", id), tok, map[string]any{"tier_id": tier})
}

// rulesVoucher is what a claim answers with.
type rulesVoucher struct{ Code, Token, ExpiresAt, ValidFrom string }

// claimOK claims and requires a voucher.
func (k *rulesKit) claimOK(tok string, id, tier int64) rulesVoucher {
	k.t.Helper()
	r := k.claim(tok, id, tier)
	if r.Status != 201 {
		k.t.Fatalf("claim at %s: %d %s", app.FormatLocal(k.e.Clock.Now()), r.Status, r.Raw)
	}
	v := rulesVoucher{Code: r.Body["code"].(string), Token: r.Body["token"].(string), ExpiresAt: r.Body["expires_at"].(string)}
	v.ValidFrom, _ = r.Body["valid_from"].(string)
	return v
}

// cashier opens a fresh cashier session (they last an hour) for a merchant.
func (k *rulesKit) cashier(m app.Merchant) string {
	k.t.Helper()
	k.phones++
	return k.e.CashierSession(k.t, k.e.NewCashier(k.t, m, fmt.Sprintf("rules-cashier-%d", k.phones)))
}

func (k *rulesKit) redeem(cashierTok, voucher, bill string) apptest.Response {
	k.phones++
	return k.e.API(k.t, http.MethodPost, "/api/v1/cashier/redemptions", cashierTok,
		map[string]string{"voucher": voucher, "bill": bill}, "Idempotency-Key", fmt.Sprintf("rules-%d", k.phones))
}

// want checks an answer's status and reason.
func (k *rulesKit) want(what string, r apptest.Response, status int, reason string) bool {
	k.t.Helper()
	if r.Status != status || r.Reason() != reason {
		k.t.Errorf("%s: %d %s, want %d %q", what, r.Status, r.Raw, status, reason)
		return false
	}
	return true
}

// wantField checks a 422 answer that names a field.
func (k *rulesKit) wantField(what string, r apptest.Response, field, reason string) {
	k.t.Helper()
	if r.Status != 422 || rulesFields(r)[field] != reason {
		k.t.Errorf("%s: %d %s, want 422 with %s: %s", what, r.Status, r.Raw, field, reason)
	}
}

func (k *rulesKit) count(query string, args ...any) int64 {
	k.t.Helper()
	return k.e.Count(k.t, query, args...)
}

// rulesTierState is one tier's stock as stored.
type rulesTierState struct{ Quantity, Released, Remaining, Lapsed, Claimed, Vouchers int64 }

func (k *rulesKit) tier(id int64) rulesTierState {
	k.t.Helper()
	col := func(c string) int64 { return k.count(`SELECT `+c+` FROM tiers WHERE id = ?`, id) }
	return rulesTierState{Quantity: col("quantity"), Released: col("released"), Remaining: col("remaining"), Lapsed: col("lapsed"),
		Claimed: col("claimed_count"), Vouchers: k.count(`SELECT COUNT(*) FROM vouchers WHERE tier_id = ?`, id)}
}

// wantTier checks a tier's stored stock and that the officer's API shows the same.
func (k *rulesKit) wantTier(step string, campaign int64, i int, tier int64, want rulesTierState) {
	k.t.Helper()
	if got := k.tier(tier); got != want {
		k.t.Errorf("%s: tier = %+v, want %+v", step, got, want)
	}
	api := k.apiTier(campaign, i)
	if rulesNum(api, "released") != want.Released || rulesNum(api, "remaining") != want.Remaining ||
		rulesNum(api, "lapsed") != want.Lapsed || rulesNum(api, "quantity") != want.Quantity || rulesNum(api, "claimed") != want.Claimed {
		k.t.Errorf("%s: API shows tier %v, want %+v", step, api, want)
	}
	k.invariant(step)
}

// invariant: issued ≤ released ≤ quantity, stock adds up, rollups match rows.
func (k *rulesKit) invariant(step string) {
	k.t.Helper()
	if n := k.count(`SELECT COUNT(*) FROM tiers t WHERE NOT (
			t.claimed_count <= t.released AND t.released <= t.quantity AND t.remaining >= 0 AND t.lapsed >= 0
			AND t.claimed_count + t.remaining + t.lapsed = t.released
			AND t.claimed_count = (SELECT COUNT(*) FROM vouchers v WHERE v.tier_id = t.id))`); n != 0 {
		k.t.Errorf("%s: %d tiers break claimed ≤ released ≤ quantity", step, n)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaigns c WHERE c.claimed_count <> (SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = c.id)
			OR c.redeemed_count <> (SELECT COUNT(*) FROM redemptions r WHERE r.campaign_id = c.id)`); n != 0 {
		k.t.Errorf("%s: %d campaigns' rollups disagree with their rows", step, n)
	}
}

// audited checks how many audit rows an action left on a campaign.
func (k *rulesKit) audited(id int64, action string, want int64) {
	k.t.Helper()
	if n := k.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND entity_id = ? AND action = ?`, id, action); n != want {
		k.t.Errorf("audit rows %s on campaign %d = %d, want %d", action, id, n, want)
	}
}

// chainIntact checks that the audit chain still verifies.
func (k *rulesKit) chainIntact() {
	k.t.Helper()
	rep, err := k.e.App.VerifyAudit(context.Background())
	if err != nil {
		k.t.Fatal(err)
	}
	if rep.Break != nil || rep.Rows == 0 {
		k.t.Errorf("audit chain: %d rows, break %+v", rep.Rows, rep.Break)
	}
	if n := k.count(`SELECT COUNT(*) FROM audit_log`); n != rep.Rows {
		k.t.Errorf("audit chain verified %d rows of %d", rep.Rows, n)
	}
}

// ---------------------------------------------------------------- 1. drops

func TestRulesDropsRollOver(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	e.Clock.Advance(-10 * time.Minute) // 09:50 Shanghai, 2026-11-25
	k := rulesWith(t, e)
	body := rulesBody(e, func(b map[string]any) {
		b["budget"] = "1000"
		b["tiers"] = []map[string]string{{"face": "10", "threshold": "50", "quantity": "5"}} // 5 per drop
		b["claim_starts"], b["claim_ends"] = "2026-11-25T09:55", "2026-11-28T12:00"
		b["release_mode"], b["drop_daily"], b["drop_days"] = "drops", "10:00", "3"
	})
	id, created := k.create(body)
	ct := created.Body["tiers"].([]any)[0].(map[string]any)
	if rulesNum(ct, "quantity") != 15 || rulesNum(ct, "released") != 0 || rulesNum(ct, "remaining") != 0 {
		t.Fatalf("drops campaign tier as created: %v, want quantity 15 (3 drops × 5), nothing released", ct)
	}
	if n := k.count(`SELECT COUNT(*) FROM drops WHERE campaign_id = ?`, id); n != 3 {
		t.Fatalf("drops stored = %d, want 3", n)
	}
	for i, day := range []int{25, 26, 27} {
		want := time.Date(2026, 11, day, 10, 0, 0, 0, app.Shanghai).UTC()
		if n := k.count(`SELECT COUNT(*) FROM drops WHERE campaign_id = ? AND opens_at = ? AND quantity = 5 AND released_at IS NULL`, id, want); n != 1 {
			t.Errorf("drop %d at %s not stored", i, want)
		}
	}
	if r := k.act(k.maker, id, "submit", nil); r.Status != 200 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	if r := k.act(k.approver, id, "approve", map[string]string{"opinion": "同意"}); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	tier := rulesNum(k.apiTier(id, 0), "id")

	// 09:50: claims have not opened.
	early := k.resident()
	r := k.claim(early, id, tier)
	if k.want("before the claim window", r, 409, "not_open") && rulesParams(r)["opens"] != "2026-11-25 09:55" {
		t.Errorf("not_open names %v, want opens 2026-11-25 09:55", rulesParams(r)["opens"])
	}
	// 09:55: open, but the first drop is at 10:00.
	e.Clock.Advance(5 * time.Minute)
	// The answer is "not open yet, opens at 10:00" or "sold out, next drop
	// at 10:00": either way it names the first drop.
	r = k.claim(early, id, tier)
	if when := rulesParams(r)["opens"]; r.Status != 409 || r.Reason() != "not_open" || when != "2026-11-25 10:00" {
		if when := rulesParams(r)["next"]; r.Status != 409 || r.Reason() != "sold_out_next" || when != "2026-11-25 10:00" {
			t.Errorf("before the first drop: %d %s, want 409 not_open or sold_out_next naming 2026-11-25 10:00", r.Status, r.Raw)
		}
	}
	k.wantTier("09:55", id, 0, tier, rulesTierState{Quantity: 15})

	// 10:00: 20 residents race for the 5 of the first drop.
	e.Clock.Advance(5 * time.Minute)
	toks := make([]string, 20)
	for i := range toks {
		toks[i] = k.resident()
	}
	var mu sync.Mutex
	got := map[string]int{}
	nexts := map[string]int{}
	race(len(toks), func(i int) {
		r := k.claim(toks[i], id, tier)
		mu.Lock()
		defer mu.Unlock()
		got[fmt.Sprintf("%d %s", r.Status, r.Reason())]++
		if r.Status == 409 {
			nexts[fmt.Sprint(rulesParams(r)["next"])]++
		}
	})
	if got["201 "] != 5 || got["409 sold_out_next"] != 15 || len(got) != 2 {
		t.Fatalf("race at the first drop: %v, want 5 vouchers and 15 sold_out_next", got)
	}
	if nexts["2026-11-26 10:00"] != 15 {
		t.Errorf("sold-out answers name next drops %v, want 15 × 2026-11-26 10:00", nexts)
	}
	k.wantTier("day 1 after the race", id, 0, tier, rulesTierState{Quantity: 15, Released: 5, Remaining: 0, Claimed: 5, Vouchers: 5})
	if n := k.count(`SELECT COUNT(*) FROM drops WHERE tier_id = ? AND released_at IS NOT NULL`, tier); n != 1 {
		t.Errorf("released drops = %d, want 1", n)
	}

	// Day 2, one second before the drop: nothing yet.
	e.Clock.Advance(24*time.Hour - time.Second)
	r = k.claim(k.resident(), id, tier)
	if k.want("09:59:59 on day 2", r, 409, "sold_out_next") && rulesParams(r)["next"] != "2026-11-26 10:00" {
		t.Errorf("09:59:59 on day 2: next = %v", rulesParams(r)["next"])
	}
	k.wantTier("09:59:59 day 2", id, 0, tier, rulesTierState{Quantity: 15, Released: 5, Claimed: 5, Vouchers: 5})

	// 10:00 day 2: five more; only three are claimed.
	e.Clock.Advance(time.Second)
	for i := 0; i < 3; i++ {
		k.claimOK(k.resident(), id, tier)
	}
	k.wantTier("day 2", id, 0, tier, rulesTierState{Quantity: 15, Released: 10, Remaining: 2, Claimed: 8, Vouchers: 8})

	// 10:00 day 3: the two left over roll into the last drop: 7 to claim.
	e.Clock.Advance(24 * time.Hour)
	for i := 0; i < 7; i++ {
		k.claimOK(k.resident(), id, tier)
	}
	k.wantTier("day 3", id, 0, tier, rulesTierState{Quantity: 15, Released: 15, Remaining: 0, Claimed: 15, Vouchers: 15})
	// After the last drop there is no next one to promise.
	r = k.claim(k.resident(), id, tier)
	if k.want("after the last drop", r, 409, "sold_out") && rulesParams(r)["next"] != nil {
		t.Errorf("sold_out after the last drop names a next drop: %s", r.Raw)
	}
	k.wantTier("end", id, 0, tier, rulesTierState{Quantity: 15, Released: 15, Remaining: 0, Claimed: 15, Vouchers: 15})
	k.audited(id, "campaign.create", 1)
	k.audited(id, "campaign.submit", 1)
	k.audited(id, "campaign.approve", 1)
	k.chainIntact()
}

func TestRulesDropsLapseWithoutRollover(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	id, tiers := k.live(rulesBody(e, func(b map[string]any) {
		b["budget"] = "1000"
		b["tiers"] = []map[string]string{{"face": "10", "threshold": "50", "quantity": "5"}}
		b["claim_starts"], b["claim_ends"] = "2026-11-25T10:00", "2026-11-29T12:00"
		b["release_mode"], b["drop_daily"], b["drop_days"], b["drop_rollover"] = "drops", "10:00", "4", "0"
	}))
	tier := tiers[0]
	if k.show(id)["drop_rollover"] != false {
		t.Fatalf("drop_rollover \"0\" stored as rollover on")
	}

	// Day 1: 3 of 5 claimed.
	for i := 0; i < 3; i++ {
		k.claimOK(k.resident(), id, tier)
	}
	k.wantTier("day 1", id, 0, tier, rulesTierState{Quantity: 20, Released: 5, Remaining: 2, Claimed: 3, Vouchers: 3})

	// Day 2: the 2 left over lapse; the new drop's 5 are all there is.
	e.Clock.Advance(24 * time.Hour)
	k.claimOK(k.resident(), id, tier)
	k.wantTier("day 2", id, 0, tier, rulesTierState{Quantity: 20, Released: 10, Remaining: 4, Lapsed: 2, Claimed: 4, Vouchers: 4})

	// Day 3 passes without a claim; on day 4 day 2's 4 and day 3's whole drop have lapsed.
	e.Clock.Advance(48 * time.Hour)
	k.claimOK(k.resident(), id, tier)
	k.wantTier("day 4", id, 0, tier, rulesTierState{Quantity: 20, Released: 20, Remaining: 4, Lapsed: 2 + 4 + 5, Claimed: 5, Vouchers: 5})
	if n := k.count(`SELECT COUNT(*) FROM drops WHERE tier_id = ? AND released_at IS NOT NULL`, tier); n != 4 {
		t.Errorf("released drops = %d, want 4", n)
	}
	for i := 0; i < 4; i++ {
		k.claimOK(k.resident(), id, tier)
	}
	k.want("after everything left is claimed", k.claim(k.resident(), id, tier), 409, "sold_out")
	k.wantTier("sold out", id, 0, tier, rulesTierState{Quantity: 20, Released: 20, Remaining: 0, Lapsed: 11, Claimed: 9, Vouchers: 9})
}

// ------------------------------------------------------ 2. drops validated

func TestRulesDropValidation(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	// Claims from 2026-11-25 10:00 to 2026-11-30 10:00.
	for _, tc := range []struct {
		name   string
		drops  map[string]string
		reason string
	}{
		{"the same minute listed twice", map[string]string{"drop_times": "2026-11-26 12:00\n2026-11-26 12:00"}, "drops_overlap"},
		{"two times within one minute", map[string]string{"drop_times": "2026-11-26 12:00\n2026-11-26 12:00:30"}, "drops_overlap"},
		{"a listed time equal to a daily drop", map[string]string{"drop_daily": "10:00", "drop_days": "3", "drop_times": "2026-11-26 10:00"}, "drops_overlap"},
		{"a drop after the claim window", map[string]string{"drop_times": "2026-12-31 10:00"}, "drop_outside_window"},
		{"a drop at the end of the claim window", map[string]string{"drop_times": "2026-11-30 10:00"}, "drop_outside_window"},
		{"a drop before the claim window", map[string]string{"drop_times": "2026-11-25 09:00"}, "drop_outside_window"},
		{"daily drops beyond the claim window", map[string]string{"drop_daily": "10:00", "drop_days": "30"}, "drop_outside_window"},
		{"drops mode without times", map[string]string{}, "drops_required"},
		{"drops mode with blank lines only", map[string]string{"drop_times": "\n  \n"}, "drops_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker, rulesBody(e, func(b map[string]any) {
				b["release_mode"] = "drops"
				for f, v := range tc.drops {
					b[f] = v
				}
			}))
			if r.Status != 422 || rulesFields(r)["drop_times"] != tc.reason {
				t.Errorf("%d %s, want 422 with drop_times: %s", r.Status, r.Raw, tc.reason)
			}
		})
	}
	for table, want := range map[string]int64{"campaigns": 0, "tiers": 0, "drops": 0} {
		if n := k.count(`SELECT COUNT(*) FROM ` + table); n != want {
			t.Errorf("refused drop schedules stored %d %s", n, table)
		}
	}
	// Daily drops and a listed extra one at another time make four drops.
	id, r := k.create(rulesBody(e, func(b map[string]any) {
		b["tiers"] = []map[string]string{{"face": "30", "threshold": "100", "quantity": "10"}}
		b["release_mode"], b["drop_daily"], b["drop_days"], b["drop_times"] = "drops", "10:00", "3", "2026-11-26 15:00"
	}))
	if q := rulesNum(r.Body["tiers"].([]any)[0].(map[string]any), "quantity"); q != 40 {
		t.Errorf("4 drops of 10: quantity %d, want 40", q)
	}
	if n := k.count(`SELECT COUNT(*) FROM drops WHERE campaign_id = ?`, id); n != 4 {
		t.Errorf("drops stored = %d, want 4", n)
	}
}

// ------------------------------------------------------------- 3. limits

func TestRulesDayLimit(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	id, tiers := k.live(rulesBody(e, func(b map[string]any) {
		b["per_day_limit"], b["per_resident_limit"] = "1", "3"
		b["claim_ends"] = rulesLocal(e.Clock.Now().Add(10 * 24 * time.Hour))
	}))
	tier := tiers[0]
	res := k.resident()
	k.claimOK(res, id, tier) // 10:00 on 2026-11-25
	r := k.claim(res, id, tier)
	if k.want("second claim the same day", r, 409, "day_limit_reached") && rulesParams(r)["limit"] != "1" {
		t.Errorf("day limit answer lacks the limit: %s", r.Raw)
	}
	k.wantTier("refused the same day", id, 0, tier, rulesTierState{Quantity: 100, Released: 100, Remaining: 99, Claimed: 1, Vouchers: 1})
	if n := k.count(`SELECT claimed FROM resident_claims WHERE campaign_id = ?`, id); n != 1 {
		t.Errorf("resident_claims counts %d after a refused claim, want 1", n)
	}

	// Ten presses at once by another resident: one voucher, nine refusals.
	other := k.resident()
	var mu sync.Mutex
	got := map[string]int{}
	race(10, func(int) {
		r := k.claim(other, id, tier)
		mu.Lock()
		got[fmt.Sprintf("%d %s", r.Status, r.Reason())]++
		mu.Unlock()
	})
	if got["201 "] != 1 || got["409 day_limit_reached"] != 9 {
		t.Errorf("10 simultaneous presses under a daily limit of 1: %v", got)
	}
	k.wantTier("after the presses", id, 0, tier, rulesTierState{Quantity: 100, Released: 100, Remaining: 98, Claimed: 2, Vouchers: 2})

	// 23:59:59 Shanghai is still the same day …
	e.Clock.Advance(13*time.Hour + 59*time.Minute + 59*time.Second)
	k.want("23:59:59 the same day", k.claim(res, id, tier), 409, "day_limit_reached")
	// … 00:00 Shanghai is the next day, although it is still 2026-11-25 in UTC.
	e.Clock.Advance(time.Second)
	k.claimOK(res, id, tier)
	k.want("second claim on day 2", k.claim(res, id, tier), 409, "day_limit_reached")
	e.Clock.Advance(24 * time.Hour)
	k.claimOK(res, id, tier)
	// Day 4: the day allows one more, the campaign limit of 3 does not.
	e.Clock.Advance(24 * time.Hour)
	k.want("fourth claim", k.claim(res, id, tier), 409, "limit_reached")
	k.wantTier("end", id, 0, tier, rulesTierState{Quantity: 100, Released: 100, Remaining: 96, Claimed: 4, Vouchers: 4})
	if n := k.count(`SELECT COUNT(*) FROM resident_day_claims WHERE campaign_id = ?`, id); n != 4 {
		t.Errorf("resident_day_claims rows = %d, want one per resident and day claimed (4)", n)
	}
	if n := k.count(`SELECT COUNT(*) FROM resident_day_claims WHERE campaign_id = ? AND claimed > 1`, id); n != 0 {
		t.Errorf("%d days hold more than the daily limit", n)
	}
	if n := k.count(`SELECT COUNT(*) FROM resident_day_claims WHERE campaign_id = ? AND day IN ('2026-11-25', '2026-11-26', '2026-11-27')`, id); n != 4 {
		t.Errorf("day rows are not Asia/Shanghai dates")
	}
}

func TestRulesTierLimit(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	id, tiers := k.live(rulesBody(e, func(b map[string]any) {
		b["per_tier_limit"], b["per_resident_limit"] = "1", "2"
		b["tiers"] = []map[string]string{{"face": "30", "threshold": "100", "quantity": "100"}, {"face": "50", "threshold": "200", "quantity": "100"}}
	}))
	res := k.resident()
	k.claimOK(res, id, tiers[0])
	r := k.claim(res, id, tiers[0])
	if k.want("second voucher of the same tier", r, 409, "tier_limit_reached") && rulesParams(r)["limit"] != "1" {
		t.Errorf("tier limit answer lacks the limit: %s", r.Raw)
	}
	k.wantTier("tier 1 refused", id, 0, tiers[0], rulesTierState{Quantity: 100, Released: 100, Remaining: 99, Claimed: 1, Vouchers: 1})
	k.claimOK(res, id, tiers[1])
	k.wantTier("tier 2", id, 1, tiers[1], rulesTierState{Quantity: 100, Released: 100, Remaining: 99, Claimed: 1, Vouchers: 1})
	k.want("third voucher", k.claim(res, id, tiers[1]), 409, "limit_reached")
	k.wantTier("tier 2 refused", id, 1, tiers[1], rulesTierState{Quantity: 100, Released: 100, Remaining: 99, Claimed: 1, Vouchers: 1})
	if n := k.count(`SELECT COUNT(*) FROM resident_tier_claims WHERE claimed = 1 AND tier_id IN (?, ?)`, tiers[0], tiers[1]); n != 2 {
		t.Errorf("resident_tier_claims rows at 1 = %d, want 2", n)
	}
	// Another resident is not held by the first one's tier count.
	k.claimOK(k.resident(), id, tiers[0])
}

// ------------------------------------------------------ 4. fixed validity

func TestRulesFixedValidity(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	fixed := func(from, until string) func(map[string]any) {
		return func(b map[string]any) {
			b["validity_mode"], b["valid_from"], b["valid_until"] = "fixed", from, until
			b["valid_days"] = ""
			b["claim_ends"] = "2026-11-30T00:00"
			b["per_resident_limit"] = "1"
		}
	}
	for _, tc := range []struct {
		name, from, until, field, reason string
	}{
		{"until before from", "2026-12-10", "2026-12-01", "valid_until", "end_before_start"},
		{"until before the end of claims", "2026-11-28", "2026-11-29", "valid_until", "validity_before_claims_end"},
		{"from not a date", "2026/12/01", "2026-12-10", "valid_from", "date_format"},
		{"until not a date", "2026-12-01", "next month", "valid_until", "date_format"},
	} {
		r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker, rulesBody(e, fixed(tc.from, tc.until)))
		k.wantField(tc.name, r, tc.field, tc.reason)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaigns`); n != 0 {
		t.Fatalf("refused validity stored %d campaigns", n)
	}

	id, tiers := k.live(rulesBody(e, fixed("2026-11-28", "2026-12-10")))
	vs := []rulesVoucher{k.claimOK(k.resident(), id, tiers[0]), k.claimOK(k.resident(), id, tiers[0]), k.claimOK(k.resident(), id, tiers[0])}
	wantFrom := time.Date(2026, 11, 28, 0, 0, 0, 0, app.Shanghai)
	wantUntil := time.Date(2026, 12, 11, 0, 0, 0, 0, app.Shanghai) // the exclusive bound after 10 Dec
	for _, v := range vs {
		exp, err := time.Parse(time.RFC3339, v.ExpiresAt)
		if err != nil || !exp.Equal(wantUntil) {
			t.Errorf("expires_at %q, want %s (the midnight that ends valid_until in Asia/Shanghai)", v.ExpiresAt, wantUntil.UTC())
		}
		from, err := time.Parse(time.RFC3339, v.ValidFrom)
		if err != nil || !from.Equal(wantFrom) {
			t.Errorf("valid_from %q, want %s", v.ValidFrom, wantFrom.UTC())
		}
	}
	if n := k.count(`SELECT COUNT(*) FROM vouchers WHERE campaign_id = ? AND valid_from = ? AND expires_at = ?`, id, wantFrom.UTC(), wantUntil.UTC()); n != 3 {
		t.Errorf("vouchers stored with the fixed validity = %d, want 3", n)
	}
	// Claims may not be extended beyond the vouchers' last day.
	k.wantField("extend beyond validity", k.act(k.maker, id, "extend", map[string]string{"claim_ends": "2026-12-11T00:00"}), "claim_ends", "extend_beyond_validity")

	// 2026-11-27 23:59:59 Shanghai: one second too early, by token and by code.
	e.Clock.Advance(wantFrom.Sub(e.Clock.Now()) - time.Second)
	cs := k.cashier(e.Merchant)
	k.want("token before valid_from", k.redeem(cs, vs[0].Token, "150"), 409, "not_yet_valid")
	k.want("code before valid_from", k.redeem(cs, vs[0].Code, "150"), 409, "not_yet_valid")
	k.want("inspect before valid_from", e.API(t, http.MethodPost, "/api/v1/cashier/inspect", cs, map[string]string{"voucher": vs[0].Code}), 409, "not_yet_valid")
	if n := k.count(`SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Fatalf("a voucher was redeemed before its first day")
	}
	// 00:00 on valid_from: it works.
	e.Clock.Advance(time.Second)
	k.want("on valid_from", k.redeem(cs, vs[0].Token, "150"), 201, "")
	// The last minute of valid_until still works; the next day it has expired.
	e.Clock.Advance(wantUntil.Sub(e.Clock.Now()) - 59*time.Second)
	cs = k.cashier(e.Merchant)
	k.want("last minute of valid_until", k.redeem(cs, vs[1].Code, "150"), 201, "")
	e.Clock.Advance(time.Minute)
	k.want("day after valid_until (code)", k.redeem(cs, vs[2].Code, "150"), 409, "expired")
	k.want("day after valid_until (token)", k.redeem(cs, vs[2].Token, "150"), 409, "expired")
	if n := k.count(`SELECT COUNT(*) FROM redemptions WHERE campaign_id = ?`, id); n != 2 {
		t.Errorf("redemptions = %d, want 2", n)
	}
	k.invariant("fixed validity")
}

// --------------------------------------------------- 5. eligible merchants

func TestRulesEligibleMerchants(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	hotel := e.NewMerchant(t, "解放碑酒店", "500103", "accommodation")
	sports := e.NewMerchant(t, "渝中体育用品", "500103", "sports")
	outsider := e.NewMerchant(t, "观音桥小面", "500105", "catering")       // another district, named on the include list
	otherHotel := e.NewMerchant(t, "江北酒店", "500105", "accommodation") // another district, not named
	banned := e.NewMerchant(t, "较场口火锅", "500103", "catering")         // eligible but for the exclude list

	lists := func(include, exclude string) func(map[string]any) {
		return func(b map[string]any) {
			b["categories"] = []string{"catering", "accommodation"}
			b["include_merchants"], b["exclude_merchants"] = include, exclude
			b["per_resident_limit"] = "10"
		}
	}
	// A district officer cannot see another district's merchants: naming
	// one is refused with the very answer a non-existent id gets, so the
	// field tells nobody which ids exist elsewhere.
	districtMaker := k.maker
	for _, ids := range []string{fmt.Sprint(outsider.ID), "999999"} {
		r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", districtMaker, rulesBody(e, lists(ids, "")))
		k.wantField("district officer includes "+ids, r, "include_merchants", "merchant_unknown")
		r = e.API(t, http.MethodPost, "/api/v1/officer/campaigns", districtMaker, rulesBody(e, lists("", ids)))
		k.wantField("district officer excludes "+ids, r, "exclude_merchants", "merchant_unknown")
	}
	// The city sees every district and may include any merchant (its
	// redemptions are settled by the campaign's district's fund).
	k.maker = rulesOfficerToken(t, e, e.NewOfficer(t, "city-maker", app.CityCode, false))
	k.wantField("merchant in both lists", e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker,
		rulesBody(e, lists(fmt.Sprint(outsider.ID), fmt.Sprintf("%d, %d", banned.ID, outsider.ID)))), "exclude_merchants", "merchant_in_both_lists")
	k.wantField("unknown merchant included", e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker,
		rulesBody(e, lists("999999", ""))), "include_merchants", "merchant_unknown")
	k.wantField("unknown merchant excluded", e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker,
		rulesBody(e, lists("", "999999"))), "exclude_merchants", "merchant_unknown")
	if n := k.count(`SELECT COUNT(*) FROM campaigns`) + k.count(`SELECT COUNT(*) FROM campaign_merchants`); n != 0 {
		t.Fatalf("refused merchant lists stored %d rows", n)
	}

	id, tiers := k.live(rulesBody(e, lists(fmt.Sprint(outsider.ID), fmt.Sprint(banned.ID))))
	if n := k.count(`SELECT COUNT(*) FROM campaign_merchants WHERE campaign_id = ?`, id); n != 2 {
		t.Errorf("campaign_merchants rows = %d, want 2", n)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaign_categories WHERE campaign_id = ? AND category_code IN ('catering', 'accommodation')`, id); n != 2 {
		t.Errorf("campaign_categories rows = %d, want 2", n)
	}
	res := k.resident()
	v := make([]rulesVoucher, 4)
	for i := range v {
		v[i] = k.claimOK(res, id, tiers[0])
	}
	k.want("hotel of the district", k.redeem(k.cashier(hotel), v[0].Code, "150"), 201, "")
	k.want("sports shop of the district", k.redeem(k.cashier(sports), v[1].Code, "150"), 409, "wrong_category")
	k.want("hotel of another district", k.redeem(k.cashier(otherHotel), v[1].Code, "150"), 409, "wrong_district")
	k.want("excluded restaurant", k.redeem(k.cashier(banned), v[1].Code, "150"), 409, "merchant_excluded")
	k.want("excluded restaurant (token)", k.redeem(k.cashier(banned), v[1].Token, "150"), 409, "merchant_excluded")
	if n := k.count(`SELECT COUNT(*) FROM redemptions WHERE voucher_id = (SELECT id FROM vouchers WHERE code = ?)`, v[1].Code); n != 0 {
		t.Fatalf("a refused merchant redeemed")
	}
	k.want("included merchant of another district", k.redeem(k.cashier(outsider), v[1].Code, "150"), 201, "")
	k.want("restaurant of the district", k.redeem(k.cashier(e.Merchant), v[2].Code, "150"), 201, "")
	if n := k.count(`SELECT COUNT(*) FROM redemptions WHERE campaign_id = ?`, id); n != 3 {
		t.Errorf("redemptions = %d, want 3", n)
	}
	if n := k.count(`SELECT COUNT(*) FROM redemptions WHERE merchant_id IN (?, ?, ?)`, sports.ID, otherHotel.ID, banned.ID); n != 0 {
		t.Errorf("ineligible merchants hold %d redemptions", n)
	}

	r := e.API(t, http.MethodGet, k.path(id, "merchants"), k.maker, nil)
	if r.Status != 200 {
		t.Fatalf("eligible merchants: %d %s", r.Status, r.Raw)
	}
	var got []int64
	for _, m := range r.Body["merchants"].([]any) {
		got = append(got, rulesNum(m.(map[string]any), "id"))
	}
	want := []int64{e.Merchant.ID, hotel.ID, outsider.ID}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("eligible merchants %v, want %v (restaurant, hotel, included outsider)", got, want)
	}
	k.invariant("eligible merchants")
}

// --------------------------------------------------------- 6. lifecycle

func TestRulesLifecycle(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	id, tiers := k.live(rulesBody(e, func(b map[string]any) { b["per_resident_limit"] = "5" }))
	tier := tiers[0]
	res := k.resident()
	v1 := k.claimOK(res, id, tier)
	cs := k.cashier(e.Merchant)

	// Pause: neither claims nor redemptions, and nothing is written.
	if r := k.act(k.maker, id, "pause", nil); r.Status != 200 || r.Body["status"] != "paused" {
		t.Fatalf("pause: %d %s", r.Status, r.Raw)
	}
	k.want("pause a paused campaign", k.act(k.maker, id, "pause", nil), 409, "not_running")
	k.want("claim while paused", k.claim(res, id, tier), 409, "paused")
	k.want("claim while paused, another resident", k.claim(k.resident(), id, tier), 409, "paused")
	k.want("redeem while paused (token)", k.redeem(cs, v1.Token, "150"), 409, "campaign_paused")
	k.want("redeem while paused (code)", k.redeem(cs, v1.Code, "150"), 409, "campaign_paused")
	k.want("inspect while paused", e.API(t, http.MethodPost, "/api/v1/cashier/inspect", cs, map[string]string{"voucher": v1.Code}), 409, "campaign_paused")
	k.wantTier("paused", id, 0, tier, rulesTierState{Quantity: 100, Released: 100, Remaining: 99, Claimed: 1, Vouchers: 1})
	if n := k.count(`SELECT COUNT(*) FROM redemptions`) + k.count(`SELECT subsidy_fen FROM campaigns WHERE id = ?`, id) +
		k.count(`SELECT COUNT(*) FROM vouchers WHERE status <> 'claimed'`); n != 0 {
		t.Fatalf("a paused campaign wrote redemptions")
	}

	// Resume: both work again.
	if r := k.act(k.maker, id, "resume", nil); r.Status != 200 || r.Body["status"] != "approved" || r.Body["phase"] != "live" {
		t.Fatalf("resume: %d %s", r.Status, r.Raw)
	}
	k.want("resume a running campaign", k.act(k.maker, id, "resume", nil), 409, "not_paused")
	v2 := k.claimOK(res, id, tier)
	k.want("redeem after resume", k.redeem(cs, v1.Token, "150"), 201, "")

	// End: no more claims, but a voucher already claimed still redeems.
	if r := k.act(k.maker, id, "end", nil); r.Status != 200 || r.Body["status"] != "ended" {
		t.Fatalf("end: %d %s", r.Status, r.Raw)
	}
	k.want("claim after end", k.claim(res, id, tier), 409, "ended")
	k.want("claim after end, another resident", k.claim(k.resident(), id, tier), 409, "ended")
	k.want("redeem a voucher claimed before the end", k.redeem(cs, v2.Code, "150"), 201, "")
	k.want("pause an ended campaign", k.act(k.maker, id, "pause", nil), 409, "not_running")
	k.want("resume an ended campaign", k.act(k.maker, id, "resume", nil), 409, "not_paused")
	k.want("end an ended campaign", k.act(k.maker, id, "end", nil), 409, "not_running")
	k.wantTier("ended", id, 0, tier, rulesTierState{Quantity: 100, Released: 100, Remaining: 98, Claimed: 2, Vouchers: 2})
	if n := k.count(`SELECT COUNT(*) FROM redemptions WHERE campaign_id = ?`, id); n != 2 {
		t.Errorf("redemptions = %d, want 2", n)
	}
	if n := k.count(`SELECT subsidy_fen FROM campaigns WHERE id = ?`, id); n != 6000 {
		t.Errorf("subsidy = %d fen, want 6000", n)
	}
	for action, want := range map[string]int64{"campaign.create": 1, "campaign.submit": 1, "campaign.approve": 1,
		"campaign.pause": 1, "campaign.resume": 1, "campaign.end": 1} {
		k.audited(id, action, want)
	}

	// Reject needs a reason, records it, and a rejected campaign cannot be paused.
	rid, _ := k.create(rulesBody(e, nil))
	if r := k.act(k.maker, rid, "submit", nil); r.Status != 200 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	for _, reason := range []string{"", "   ", strings.Repeat("长", 501)} {
		r := k.act(k.approver, rid, "reject", map[string]string{"reason": reason})
		if r.Status != 422 || r.Reason() != "reason_required" || rulesFields(r)["reason"] != "reason_required" {
			t.Errorf("reject with reason %.10q: %d %s", reason, r.Status, r.Raw)
		}
	}
	k.want("reject without a body", k.act(k.approver, rid, "reject", nil), 422, "reason_required")
	k.want("maker rejects", k.act(k.maker, rid, "reject", map[string]string{"reason": "x"}), 403, "no_approval_right")
	if n := k.count(`SELECT COUNT(*) FROM campaigns WHERE id = ? AND status = 'submitted'`, rid); n != 1 {
		t.Fatalf("refused rejections changed the campaign")
	}
	const why = "预算口径与区财政局批复不符"
	r := k.act(k.approver, rid, "reject", map[string]string{"reason": "  " + why + " "})
	if r.Status != 200 || r.Body["status"] != "rejected" || r.Body["rejection_reason"] != why {
		t.Fatalf("reject: %d %s", r.Status, r.Raw)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaigns WHERE id = ? AND status = 'rejected' AND rejection_reason = ?`, rid, why); n != 1 {
		t.Errorf("rejection reason not stored")
	}
	if got := k.show(rid)["rejection_reason"]; got != why {
		t.Errorf("maker sees rejection reason %v", got)
	}
	k.want("pause a rejected campaign", k.act(k.maker, rid, "pause", nil), 409, "not_running")
	k.want("end a rejected campaign", k.act(k.maker, rid, "end", nil), 409, "not_running")
	k.audited(rid, "campaign.reject", 1)
	if n := k.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.reject' AND entity_id = ? AND after_json LIKE ?`, rid, "%"+why+"%"); n != 1 {
		t.Errorf("the audit row of the rejection does not carry the reason")
	}
	k.audited(rid, "campaign.pause", 0)
	k.audited(rid, "campaign.end", 0)
	k.chainIntact()
}

// ------------------------------------------------------- 7. safe changes

func TestRulesSafeChanges(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	// ¥10,000 budget; 100 × ¥30 committed.
	id, tiers := k.live(rulesBody(e, func(b map[string]any) { b["budget"] = "10000" }))
	tier := tiers[0]
	c := k.show(id)
	end, _ := time.Parse(time.RFC3339, c["claim_ends_at"].(string))

	// Extend: later only.
	k.wantField("extend earlier", k.act(k.maker, id, "extend", map[string]string{"claim_ends": rulesLocal(end.Add(-time.Hour))}), "claim_ends", "extend_not_later")
	k.wantField("extend to the same end", k.act(k.maker, id, "extend", map[string]string{"claim_ends": rulesLocal(end)}), "claim_ends", "extend_not_later")
	k.wantField("extend to nonsense", k.act(k.maker, id, "extend", map[string]string{"claim_ends": "soon"}), "claim_ends", "time_format")
	later := end.Add(48 * time.Hour)
	if r := k.act(k.maker, id, "extend", map[string]string{"claim_ends": rulesLocal(later)}); r.Status != 200 {
		t.Errorf("extend later: %d %s", r.Status, r.Raw)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaigns WHERE id = ? AND claim_ends_at = ?`, id, later.UTC()); n != 1 {
		t.Errorf("claim end not moved to %s", later.UTC())
	}
	k.audited(id, "campaign.extend", 1)

	// Add quantity: within the budget, then beyond it.
	if r := k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier, "quantity": "200"}); r.Status != 200 {
		t.Errorf("add 200 (¥9,000 of ¥10,000): %d %s", r.Status, r.Raw)
	}
	k.wantTier("added 200", id, 0, tier, rulesTierState{Quantity: 300, Released: 300, Remaining: 300})
	k.wantField("add beyond the budget", k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier, "quantity": "34"}), "quantity", "budget_below_committed")
	k.wantField("add zero", k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier, "quantity": "0"}), "quantity", "quantity_range")
	k.want("add to an unknown tier", k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier + 1000, "quantity": "1"}), 404, "tier_not_found")
	k.wantTier("refused additions", id, 0, tier, rulesTierState{Quantity: 300, Released: 300, Remaining: 300})
	if n := k.count(`SELECT budget_fen FROM campaigns WHERE id = ?`, id); n != 1_000_000 {
		t.Errorf("budget = %d fen", n)
	}
	k.audited(id, "campaign.add_quantity", 1)

	// Budget raise by the maker: pending until a second officer approves.
	k.wantField("raise below committed", k.act(k.maker, id, "budget", map[string]string{"budget": "8000"}), "budget", "budget_below_committed")
	k.wantField("raise to the same budget", k.act(k.maker, id, "budget", map[string]string{"budget": "10000"}), "budget", "budget_not_raised")
	k.wantField("cut above committed", k.act(k.maker, id, "budget", map[string]string{"budget": "9500"}), "budget", "budget_not_raised")
	k.audited(id, "campaign.request_budget", 0)
	r := k.act(k.maker, id, "budget", map[string]string{"budget": "12000"})
	if r.Status != 200 || rulesNum(r.Body, "pending_budget_fen") != 1_200_000 || rulesNum(r.Body, "budget_fen") != 1_000_000 {
		t.Fatalf("request raise: %d %s", r.Status, r.Raw)
	}
	k.want("second request while one is pending", k.act(k.maker, id, "budget", map[string]string{"budget": "13000"}), 409, "raise_pending")
	k.want("requester approves own raise", k.act(k.maker, id, "budget/approve", nil), 403, "no_approval_right")
	if n := k.count(`SELECT budget_fen FROM campaigns WHERE id = ? AND pending_budget_fen = 1200000`, id); n != 1_000_000 {
		t.Fatalf("budget changed before approval")
	}
	r = k.act(k.approver, id, "budget/approve", nil)
	if r.Status != 200 || rulesNum(r.Body, "budget_fen") != 1_200_000 || r.Body["pending_budget_fen"] != nil {
		t.Fatalf("approve raise: %d %s", r.Status, r.Raw)
	}
	if n := k.count(`SELECT COUNT(*) FROM campaigns WHERE id = ? AND budget_fen = 1200000 AND pending_budget_fen IS NULL AND pending_by IS NULL`, id); n != 1 {
		t.Errorf("raise not applied or pending not cleared")
	}
	k.want("approve with nothing pending", k.act(k.approver, id, "budget/approve", nil), 409, "no_raise_pending")
	// The raise makes room for the 34 that did not fit.
	if r := k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier, "quantity": "34"}); r.Status != 200 {
		t.Errorf("add 34 after the raise: %d %s", r.Status, r.Raw)
	}

	// A raise requested by an officer with the approval right: not by themselves either.
	r = k.act(k.approver, id, "budget", map[string]string{"budget": "15000"})
	if r.Status != 200 || rulesNum(r.Body, "pending_budget_fen") != 1_500_000 {
		t.Fatalf("approver requests raise: %d %s", r.Status, r.Raw)
	}
	k.want("same officer approves own raise", k.act(k.approver, id, "budget/approve", nil), 403, "approve_own")
	if n := k.count(`SELECT budget_fen FROM campaigns WHERE id = ?`, id); n != 1_200_000 {
		t.Fatalf("own raise applied: budget %d", n)
	}
	second := rulesOfficerToken(t, e, e.NewOfficer(t, "rules-approver-2", "500103", true))
	if r := k.act(second, id, "budget/approve", nil); r.Status != 200 || rulesNum(r.Body, "budget_fen") != 1_500_000 {
		t.Fatalf("second approver: %d %s", r.Status, r.Raw)
	}
	// Never a cut, whoever asks.
	for _, tok := range []string{k.maker, k.approver, second} {
		k.wantField("cut", k.act(tok, id, "budget", map[string]string{"budget": "14999.99"}), "budget", "budget_not_raised")
	}
	if n := k.count(`SELECT budget_fen FROM campaigns WHERE id = ? AND pending_budget_fen IS NULL`, id); n != 1_500_000 {
		t.Errorf("budget = %d fen after refused cuts, want 1500000", n)
	}
	k.audited(id, "campaign.request_budget", 2)
	k.audited(id, "campaign.approve_budget", 2)
	k.audited(id, "campaign.add_quantity", 2)
	k.audited(id, "campaign.extend", 1)

	// Ended: nothing changes any more.
	if r := k.act(k.maker, id, "end", nil); r.Status != 200 {
		t.Fatalf("end: %d %s", r.Status, r.Raw)
	}
	k.want("extend an ended campaign", k.act(k.maker, id, "extend", map[string]string{"claim_ends": rulesLocal(later.Add(time.Hour))}), 409, "not_running")
	k.want("raise an ended campaign", k.act(k.maker, id, "budget", map[string]string{"budget": "20000"}), 409, "not_running")
	k.want("add to an ended campaign", k.act(k.maker, id, "quantity", map[string]any{"tier_id": tier, "quantity": "1"}), 409, "not_running")
	k.audited(id, "campaign.end", 1)
	k.audited(id, "campaign.extend", 1)
	k.invariant("safe changes")
	k.chainIntact()
}

func TestRulesAddQuantityRefusedForDrops(t *testing.T) {
	k := rulesNew(t)
	id, tiers := k.live(rulesBody(k.e, func(b map[string]any) {
		b["release_mode"], b["drop_daily"], b["drop_days"] = "drops", "10:00", "2"
	}))
	k.want("add quantity to a drops campaign", k.act(k.maker, id, "quantity", map[string]any{"tier_id": tiers[0], "quantity": "1"}), 409, "add_quantity_drops")
	if n := k.count(`SELECT quantity FROM tiers WHERE id = ?`, tiers[0]); n != 200 {
		t.Errorf("quantity = %d, want 200", n)
	}
	k.audited(id, "campaign.add_quantity", 0)
}

// ------------------------------------------------------ 8. dates in the past

func TestRulesPastDates(t *testing.T) {
	k := rulesNew(t)
	e := k.e
	now := e.Clock.Now()
	k.wantField("claims start 11 minutes ago", e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker,
		rulesBody(e, func(b map[string]any) { b["claim_starts"] = rulesLocal(now.Add(-11 * time.Minute)) })), "claim_starts", "in_the_past")
	k.wantField("claims start yesterday", e.API(t, http.MethodPost, "/api/v1/officer/campaigns", k.maker,
		rulesBody(e, func(b map[string]any) { b["claim_starts"] = rulesLocal(now.Add(-24 * time.Hour)) })), "claim_starts", "in_the_past")
	if n := k.count(`SELECT COUNT(*) FROM campaigns`); n != 0 {
		t.Fatalf("campaigns starting in the past stored: %d", n)
	}
	// A form that took a few minutes to fill may still start "now".
	id, _ := k.create(rulesBody(e, func(b map[string]any) { b["claim_starts"] = rulesLocal(now.Add(-9 * time.Minute)) }))
	k.audited(id, "campaign.create", 1)
	k.chainIntact()
}
