package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"cqvoucher/app"
	"cqvoucher/db"
)

// The redemption wave (issue 5, "Benchmark"): after the drop, C cashiers
// redeem every claimed voucher at once, each request carrying the
// voucher's QR text so that the server verifies its token signature.
const (
	billText            = "128.50" // what every cashier types: above the 100-yuan threshold
	billFen             = 12850
	cashiersPerMerchant = 4 // C cashiers work at ⌈C/4⌉ merchants
)

// cashierSet is C cashiers of approved merchants of the campaign's district
// and category, each signed in.
type cashierSet struct {
	ids       []int64
	merchants []int64  // merchant of cashier i
	tokens    []string // bearer token of cashier i's session
	nMerchant int
}

// prepareCashiers adds n cashiers at ⌈n/4⌉ approved catering merchants of
// district 500103, and a cashier session each, through the store's own
// methods (merchants and cashiers are few; the store knows their columns
// better than a copy of its SQL would). One bcrypt hash serves everyone:
// nobody signs in with a password here.
func prepareCashiers(ctx context.Context, st *db.Store, n int) (cashierSet, error) {
	now := time.Now().UTC()
	hash, err := app.HashPassword(rand.Text())
	if err != nil {
		return cashierSet{}, err
	}
	raw := make([]byte, 32*n)
	if _, err := rand.Read(raw); err != nil {
		return cashierSet{}, err
	}
	cs := cashierSet{ids: make([]int64, n), merchants: make([]int64, n), tokens: make([]string, n)}
	var m app.Merchant
	for i := range n {
		if i%cashiersPerMerchant == 0 {
			m = app.Merchant{Name: fmt.Sprintf("负载测试小面馆%04d", i/cashiersPerMerchant), District: district, Category: "catering",
				Status: app.MerchantApproved, CreatedAt: now}
			if err := st.CreateMerchant(ctx, &m); err != nil {
				return cs, fmt.Errorf("merchant %d: %w", i/cashiersPerMerchant, err)
			}
			cs.nMerchant++
		}
		c := app.Cashier{MerchantID: m.ID, Username: fmt.Sprintf("loadgen-cashier-%04d", i), Name: fmt.Sprintf("收银员%04d", i),
			PasswordHash: hash, CreatedAt: now}
		if err := st.CreateCashier(ctx, &c); err != nil {
			return cs, fmt.Errorf("cashier %d: %w", i, err)
		}
		tok := base64.RawURLEncoding.EncodeToString(raw[32*i : 32*(i+1)])
		if err := st.CreateSession(ctx, app.Session{TokenHash: app.HashSessionToken(tok), Kind: app.KindCashier, SubjectID: c.ID,
			CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			return cs, fmt.Errorf("cashier session %d: %w", i, err)
		}
		cs.ids[i], cs.merchants[i], cs.tokens[i] = c.ID, m.ID, tok
	}
	return cs, nil
}

// storedVoucher is a claimed voucher as the wave needs it.
type storedVoucher struct {
	id    int64
	token string
}

// waveRun is what the redemption wave produced.
type waveRun struct {
	run       crowdRun
	vouchers  []storedVoucher
	voucherOf []int  // press i was for vouchers[voucherOf[i]]
	contested []bool // voucher j was pressed by two cashiers at once
	cashiers  int
	merchants int
	mem       []memory // one per voucherd
	cpu       cpuUse
}

// redemptionWave reads the claimed vouchers from the live database (the
// servers are running; on SQLite WAL lets a reader in) and lets the
// cashiers redeem every one of them at once through the same bounded crowd
// as the drop, spread over the servers as the drop's presses are.
// Every -contest-th voucher is also pressed by a second cashier, of another
// merchant, with another Idempotency-Key, right next to the first press:
// exactly one may win, the other must hear 409 already_redeemed.
func redemptionWave(ctx context.Context, f fleet, s site, cfg config, fx fixture) (waveRun, error) {
	vs, err := claimedVouchers(ctx, s.database, fx.campaignID)
	if err != nil {
		return waveRun{}, fmt.Errorf("reading the claimed vouchers: %w", err)
	}
	cs := fx.cashiers
	C := len(cs.ids)
	w := waveRun{vouchers: vs, contested: make([]bool, len(vs)), cashiers: C, merchants: cs.nMerchant}
	var reqs []request
	contests := 0
	for j, v := range vs {
		first := j % C
		press := []request{redeemRequest(f, v, cs.tokens[first])}
		if cfg.contest > 0 && C > 1 && j%cfg.contest == cfg.contest-1 {
			// Half a ring away: another cashier, and with C ≥ 8 another merchant.
			second := redeemRequest(f, v, cs.tokens[(first+C/2)%C])
			if contests%2 == 0 {
				press = append(press, second)
			} else {
				press = append([]request{second}, press...)
			}
			w.contested[j] = true
			contests++
		}
		for _, r := range press {
			reqs = append(reqs, r)
			w.voucherOf = append(w.voucherOf, j)
		}
	}
	before := cpuNow(f.pids()...)
	w.run = newCrowd(f.urls(redeemPath), nil, cfg.conc, cfg.timeout).runAll(ctx, reqs)
	w.cpu = cpuNow(f.pids()...).since(before)
	if w.mem, err = f.memory(); err != nil {
		return w, err
	}
	return w, ctx.Err()
}

// redeemPath is where a cashier's till posts a redemption.
const redeemPath = "/api/v1/cashier/redemptions"

// redeemRequest is one cashier's press to redeem v: the voucher's QR text
// and the bill, under an Idempotency-Key of its own. The QR text is what
// the first server's -base-url makes of it; every server of the run reads
// the token after "/v/", and every one holds the keys that signed it.
func redeemRequest(f fleet, v storedVoucher, bearer string) request {
	body, _ := json.Marshal(map[string]string{"voucher": "http://" + f[0].addr + "/v/" + v.token, "bill": billText}) // strings always marshal
	return request{bearer: bearer, body: body, key: "loadgen-" + rand.Text()}
}

// claimedVouchers lists the claimed vouchers of a campaign, by id, from
// the run's database.
func claimedVouchers(ctx context.Context, database string, campaignID int64) ([]storedVoucher, error) {
	held, err := readFigures(ctx, database, func(st *db.Store) ([]db.HeldVoucher, error) { return st.CampaignVouchers(ctx, campaignID) })
	if err != nil {
		return nil, err
	}
	var vs []storedVoucher
	for _, v := range held {
		if v.Status == app.VoucherClaimed {
			vs = append(vs, storedVoucher{id: v.ID, token: v.Token})
		}
	}
	return vs, nil
}

// outcome is the wave as seen by the cashiers, voucher by voucher.
type outcome struct {
	contested    int // vouchers pressed twice at once
	contestedOK  int // … of which exactly one press won and the other heard already_redeemed
	wonOnce      int // vouchers with exactly one successful press
	wonTwice     int // vouchers with more than one successful press: a double redemption
	neverWon     int // vouchers no press redeemed
	singleBadAns int // uncontested vouchers whose one press did not succeed
}

func (w waveRun) outcome() outcome {
	wins := make([]int, len(w.vouchers))
	losses := make([]int, len(w.vouchers))
	for i, p := range w.run.presses {
		switch p.class {
		case success:
			wins[w.voucherOf[i]]++
		case redeemed:
			losses[w.voucherOf[i]]++
		}
	}
	var o outcome
	for j := range w.vouchers {
		switch {
		case wins[j] == 1:
			o.wonOnce++
		case wins[j] > 1:
			o.wonTwice++
		default:
			o.neverWon++
		}
		if w.contested[j] {
			o.contested++
			if wins[j] == 1 && losses[j] == 1 {
				o.contestedOK++
			}
		} else if wins[j] != 1 {
			o.singleBadAns++
		}
	}
	return o
}

// checkRedemptions reads the stored truth after the wave from the run's
// database (the servers have stopped).
func checkRedemptions(ctx context.Context, database string, fx fixture, w waveRun, r report) ([]check, error) {
	f, err := readFigures(ctx, database, func(st *db.Store) (db.RedemptionFigures, error) {
		return st.RedemptionFigures(ctx, fx.campaignID, fx.tierID)
	})
	if err != nil {
		return nil, err
	}
	n := int64(len(w.vouchers))
	wins := int64(r.counts[success])
	face := int64(faceYuan * 100)
	o := w.outcome()
	return []check{
		{"redemptions == vouchers redeemed == successes == S", f.Redemptions == f.RedeemedVouchers && f.RedeemedVouchers == wins && wins == n && n == f.Vouchers,
			fmt.Sprintf("%d redemptions, %d vouchers redeemed, %d successful answers, %d vouchers pressed, %d vouchers claimed", f.Redemptions, f.RedeemedVouchers, wins, n, f.Vouchers)},
		{"no voucher with more than one redemption", f.Doubles == 0 && o.wonTwice == 0,
			fmt.Sprintf("%d vouchers with more than one redemption row; %d vouchers with more than one successful answer", f.Doubles, o.wonTwice)},
		{"contested vouchers: one 201, one 409 already_redeemed", o.contestedOK == o.contested,
			fmt.Sprintf("%d of %d contested vouchers", o.contestedOK, o.contested)},
		{"campaigns.redeemed_count == tiers.redeemed_count == S", f.CampaignRedeemed == n && f.TierRedeemed == n,
			fmt.Sprintf("campaign %d, tier %d, S %d", f.CampaignRedeemed, f.TierRedeemed, n)},
		{"subsidy_fen == S × face == Σ discount_fen", f.SubsidyFen == n*face && f.DiscountFen == f.SubsidyFen,
			fmt.Sprintf("subsidy %d fen, Σ discount %d fen, expected %d × %d = %d", f.SubsidyFen, f.DiscountFen, n, face, n*face)},
		{"consumption_fen == S × bill", f.ConsumptionFen == n*billFen,
			fmt.Sprintf("consumption %d fen, expected %d × %d = %d", f.ConsumptionFen, n, billFen, n*billFen)},
		{"every press answered, never 5xx nor \"database is locked\"",
			r.counts[server5xx] == 0 && r.counts[transport] == 0 && r.locked == 0 && o.singleBadAns == 0,
			fmt.Sprintf("%d 5xx, %d without an answer, %d \"database is locked\", %d uncontested presses not 201",
				r.counts[server5xx], r.counts[transport], r.locked, o.singleBadAns)},
	}, nil
}
