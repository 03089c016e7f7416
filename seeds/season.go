package seeds

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/token"
	"cqvoucher/db"
)

// SeasonOptions size a generated season.
type SeasonOptions struct {
	Redemptions int    // about this many live redemptions (claims are ≈1.4×)
	Seed        uint64 // the same seed gives the same season
	SignTokens  bool   // sign a real token per voucher (slower; benchmarks need not)
}

// SeasonSummary says what was generated.
type SeasonSummary struct {
	Campaigns, Merchants, Residents, Claims, Redemptions, Reversals int
}

// seasonCampaigns are the season's campaigns: the city plan's consumption
// seasons in four places, with the rules real launches used.
var seasonCampaigns = []struct {
	name, season, district string
	categories             []string
	tiers                  [][2]app.Fen // threshold, face
	weight                 float64
}{
	{"渝味360碗·渝中餐饮消费季", "渝味360碗餐饮消费季", "500103", []string{"catering"}, [][2]app.Fen{{10000, 3000}, {20000, 6000}}, 0.4},
	{"江北区文旅惠民消费季", "重庆文化旅游惠民消费季", "500105", []string{"culture-tourism"}, [][2]app.Fen{{20000, 5000}, {0, 2000}}, 0.2},
	{"跟着赛事去旅行·南岸体育消费季", "跟着赛事去旅行", "500108", []string{"sports"}, [][2]app.Fen{{15000, 4000}}, 0.15},
	{"重庆市餐饮住宿消费季", "重庆国际消费中心城市·服务消费季", app.CityCode, []string{"catering", "accommodation"}, [][2]app.Fen{{30000, 8000}, {10000, 2000}}, 0.25},
}

// LoadSeason generates a realistic season ending now: campaigns made and
// approved by two officers, merchants in their districts, residents, and
// claims and redemptions over the last 14 days with drops at 10:00, bills
// clustered above thresholds, some refunds and some expiries; then it
// rebuilds every counter and rollup from the raw rows, as the live
// transactions would have kept them.
func LoadSeason(ctx context.Context, st *db.Store, a *app.App, opt SeasonOptions) (SeasonSummary, error) {
	var sum SeasonSummary
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	now := a.Now()
	start := now.AddDate(0, 0, -14)
	hash, err := app.HashPassword("season-" + fmt.Sprint(opt.Seed))
	if err != nil {
		return sum, err
	}
	claims := int(float64(opt.Redemptions) / 0.7)
	type tierPlan struct {
		tier      app.Tier
		campaign  app.Campaign
		merchants []app.Merchant
	}
	var plans []tierPlan
	var weights []float64
	for ci, sc := range seasonCampaigns {
		district := sc.district
		if district == app.CityCode {
			district = "500000"
		}
		maker := app.Officer{Username: fmt.Sprintf("season%d.maker.%d", opt.Seed, ci), Name: "季经办", PasswordHash: hash,
			Role: app.RoleDistrictOfficer, District: district, CreatedAt: now}
		approver := maker
		approver.Username, approver.Name, approver.CanApprove = fmt.Sprintf("season%d.approver.%d", opt.Seed, ci), "季审核", true
		if district == app.CityCode {
			maker.Role, approver.Role = app.RoleCityAdmin, app.RoleCityAdmin
		}
		for _, o := range []*app.Officer{&maker, &approver} {
			if err := st.CreateOfficer(ctx, o, app.SystemAudit(now, app.ActionOfficerCreate, "officer", district, map[string]string{"username": o.Username})); err != nil {
				return sum, err
			}
		}
		perTier := int(float64(claims)*sc.weight/float64(len(sc.tiers))*1.2) + 10
		c := app.Campaign{Name: sc.name, Season: sc.season, District: sc.district, Category: sc.categories[0], Categories: sc.categories,
			Status: app.StatusSubmitted, ClaimStartsAt: start, ClaimEndsAt: now.AddDate(0, 0, 16), ValidityMode: app.ValidityDays, ValidDays: 7,
			PerResidentLimit: 3, ReleaseMode: app.ReleaseOnce, DropRollover: true, CreatedBy: maker.ID, CreatedAt: start.Add(-72 * time.Hour)}
		for _, t := range sc.tiers {
			c.Tiers = append(c.Tiers, app.Tier{ThresholdFen: t[0], FaceFen: t[1], Quantity: int64(perTier), Released: int64(perTier), Remaining: int64(perTier)})
		}
		c.BudgetFen = c.Committed() + c.Committed()/10
		if err := st.CreateCampaign(ctx, &c, app.SystemAudit(now, app.ActionCampaignCreate, "campaign", c.District, nil)); err != nil {
			return sum, err
		}
		if err := st.ChangeCampaignStatus(ctx, app.StatusChange{CampaignID: c.ID, From: []string{app.StatusSubmitted}, To: app.StatusApproved,
			By: approver.ID, At: start.Add(-24 * time.Hour), Audit: app.SystemAudit(now, app.ActionCampaignApprove, "campaign", c.District, nil)}); err != nil {
			return sum, err
		}
		sum.Campaigns++
		var merchants []app.Merchant
		mDistricts := []string{sc.district}
		if sc.district == app.CityCode {
			mDistricts = []string{"500103", "500105", "500106", "500107", "500108", "500112"}
		}
		for i := 0; i < 24; i++ {
			m := app.Merchant{Name: fmt.Sprintf("%s·%s%02d号店", seasonShop[sc.categories[i%len(sc.categories)]], string([]rune(sc.season)[:3]), i+1),
				District: mDistricts[i%len(mDistricts)], Category: sc.categories[i%len(sc.categories)], Address: fmt.Sprintf("第 %d 街 %d 号", i+1, 10+i),
				Status: app.MerchantApproved, CreatedAt: start}
			m.Name = fmt.Sprintf("%s %d-%02d", m.Name, opt.Seed, ci)
			if err := st.CreateMerchant(ctx, &m); err != nil {
				return sum, err
			}
			merchants = append(merchants, m)
			sum.Merchants++
		}
		for _, t := range c.Tiers {
			plans = append(plans, tierPlan{tier: t, campaign: c, merchants: merchants})
			weights = append(weights, sc.weight/float64(len(sc.tiers)))
		}
	}

	residents := claims/2 + 1
	err = st.Load(ctx, func(l *db.Loader) error {
		rs := make([]db.LoadResident, residents)
		for i := range rs {
			rs[i] = db.LoadResident{Phone: fmt.Sprintf("19%09d", int64(opt.Seed%90)*10_000_000+int64(i)), CreatedAt: start}
		}
		resIDs, err := l.Residents(rs)
		if err != nil {
			return err
		}
		sum.Residents = residents

		// Vouchers are written seasonBatch at a time, then their
		// redemptions, which name them by id.
		var vs []db.LoadVoucher
		var reds []db.LoadRedemption
		var redeemedVoucher []int // reds[j] is of vs[redeemedVoucher[j]]
		flush := func() error {
			ids, err := l.Vouchers(vs)
			if err != nil {
				return err
			}
			for j, k := range redeemedVoucher {
				reds[j].VoucherID, reds[j].Key = ids[k], fmt.Sprintf("season-%d", ids[k])
			}
			if err := l.Redemptions(reds); err != nil {
				return err
			}
			vs, reds, redeemedVoucher = vs[:0], reds[:0], redeemedVoucher[:0]
			return nil
		}
		cashiers := map[int64]int64{} // merchant → a cashier, made on first use
		held := map[[2]int64]int{}    // (campaign, resident) → vouchers held
		issued := map[int64]int64{}   // tier → claimed
		for n := 0; n < claims; n++ {
			p := &plans[pick(rng, weights)]
			if issued[p.tier.ID] >= p.tier.Quantity {
				continue
			}
			res := resIDs[rng.IntN(residents)]
			key := [2]int64{p.campaign.ID, res}
			if held[key] >= p.campaign.PerResidentLimit {
				continue
			}
			held[key]++
			issued[p.tier.ID]++
			claimedAt := claimTime(rng, start, now)
			expires := app.EndOfDayAfter(claimedAt, p.campaign.ValidDays-1)
			v := db.LoadVoucher{Code: token.NewCode(), CampaignID: p.campaign.ID, TierID: p.tier.ID, ResidentID: res, Slot: int64(held[key]),
				Token: "generated", ClaimedAt: claimedAt, ExpiresAt: expires}
			if opt.SignTokens {
				if v.Token, err = a.Ring().Sign(token.Claims{Issuer: p.campaign.District, Code: v.Code, CampaignID: p.campaign.ID, TierID: p.tier.ID,
					FaceFen: int64(p.tier.FaceFen), ThresholdFen: int64(p.tier.ThresholdFen), Category: p.campaign.Category,
					NotBefore: claimedAt.Add(-time.Minute), Expires: expires}); err != nil {
					return err
				}
			}
			sum.Claims++
			redeemAt := claimedAt.Add(time.Duration(rng.ExpFloat64()*36*float64(time.Hour)) + 10*time.Minute)
			if rng.Float64() < 0.72 && redeemAt.Before(expires) && redeemAt.Before(now) {
				m := p.merchants[zipf(rng, len(p.merchants))]
				cid, ok := cashiers[m.ID]
				if !ok {
					c := app.Cashier{MerchantID: m.ID, Username: fmt.Sprintf("s%d-c%d", opt.Seed, m.ID), Name: "收银", PasswordHash: hash, CreatedAt: start}
					if err := l.Cashier(&c); err != nil {
						return err
					}
					cid = c.ID
					cashiers[m.ID] = cid
				}
				bill := billFor(rng, p.tier)
				r := db.LoadRedemption{CampaignID: p.campaign.ID, MerchantID: m.ID, CashierID: cid, BillFen: bill, DiscountFen: min(p.tier.FaceFen, bill),
					CreatedAt: redeemAt, WaitS: app.ClaimToRedeemSeconds(claimedAt, redeemAt)}
				if rng.Float64() < 0.02 {
					// A refund the same day: the voucher went back and expired or
					// was not used again (kept simple: it stays claimed).
					reversedAt := redeemAt.Add(30 * time.Minute)
					r.ReversedAt, r.ReversedBy = &reversedAt, cid
					sum.Reversals++
				} else {
					v.RedeemedAt = &redeemAt
					sum.Redemptions++
				}
				reds = append(reds, r)
				redeemedVoucher = append(redeemedVoucher, len(vs))
			}
			vs = append(vs, v)
			if len(vs) == seasonBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		return sum, err
	}
	if err := st.RebuildDerived(ctx); err != nil {
		return sum, err
	}
	_, err = a.SweepExpired(ctx)
	return sum, err
}

// seasonBatch is how many vouchers are held before they are written.
const seasonBatch = 1000

var seasonShop = map[string]string{"catering": "火锅", "culture-tourism": "景区", "sports": "运动馆", "accommodation": "酒店"}

// pick draws an index by weight.
func pick(rng *rand.Rand, weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// zipf favours the first merchants, as real seasons do: a few popular shops.
func zipf(rng *rand.Rand, n int) int {
	i := int(math.Floor(math.Pow(rng.Float64(), 2.2) * float64(n)))
	return min(i, n-1)
}

// claimTime is a claim in the season: most in the minutes after the daily
// 10:00 drop, the rest through the day, never in the future.
func claimTime(rng *rand.Rand, start, now time.Time) time.Time {
	for {
		day := start.In(app.Shanghai).AddDate(0, 0, rng.IntN(15))
		var t time.Time
		if rng.Float64() < 0.6 {
			t = time.Date(day.Year(), day.Month(), day.Day(), 10, 0, rng.IntN(300), 0, app.Shanghai)
		} else {
			t = time.Date(day.Year(), day.Month(), day.Day(), 8+rng.IntN(14), rng.IntN(60), rng.IntN(60), 0, app.Shanghai)
		}
		if t.After(start) && t.Before(now) {
			return t.UTC()
		}
	}
}

// billFor is a believable bill for a tier: mostly 1–2.5× the threshold, one
// in seven just above it; fixed-value vouchers see ordinary small bills.
func billFor(rng *rand.Rand, t app.Tier) app.Fen {
	if t.ThresholdFen == 0 {
		return app.Fen(3000 + rng.IntN(15000))
	}
	if rng.Float64() < 0.15 {
		return t.ThresholdFen + app.Fen(rng.IntN(int(t.ThresholdFen/20)))
	}
	f := 1 + math.Abs(rng.NormFloat64())*0.8
	return app.Fen(float64(t.ThresholdFen) * f)
}
