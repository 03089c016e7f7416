package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"time"
)

// Lottery drops (摇号). A campaign released at once may allocate its stock
// by lottery instead of first come, first served: residents register, one
// registration each, between the claim start and LotteryClosesAt; at or
// after that time an officer draws, once. The draw is verifiable: when the
// campaign is set to draw, the product commits to a secret seed by keeping
// its SHA-256 public (Commitment); the draw publishes the seed and the
// ordered registrations, from which anyone recomputes the winners with
// LotteryWinners (docs/lottery.md says it in words, and
// docs/lottery_verify.py in another language).

// SealedLotterySeed is the sealing context of a lottery's seed.
const SealedLotterySeed = "lotteries.seed"

// Lottery is a campaign's draw: its commitment, and once drawn, its seed.
type Lottery struct {
	CampaignID int64      `db:"campaign_id" json:"campaign_id"`
	Commitment string     `db:"commitment" json:"commitment"`
	SeedSealed []byte     `db:"seed_sealed" json:"-"`
	Seed       *string    `db:"seed" json:"seed,omitempty"`
	CreatedAt  time.Time  `db:"created_at" json:"-"`
	DrawnAt    *time.Time `db:"drawn_at" json:"drawn_at,omitempty"`
	DrawnBy    *int64     `db:"drawn_by" json:"-"`
}

// Registration is one resident's entry in a lottery.
type Registration struct {
	ID           int64     `db:"id" json:"id"`
	CampaignID   int64     `db:"campaign_id" json:"campaign_id"`
	TierID       int64     `db:"tier_id" json:"tier_id"`
	ResidentID   int64     `db:"resident_id" json:"-"`
	District     string    `db:"district_code" json:"-"`
	RegisteredAt time.Time `db:"registered_at" json:"registered_at"`
	Outcome      *string   `db:"outcome" json:"outcome,omitempty"` // won or lost, once drawn
	VoucherID    *int64    `db:"voucher_id" json:"-"`
}

// DrawTier is one tier's part of a draw: its stock, its registrations in
// id order, and the winners in draw order.
type DrawTier struct {
	TierID        int64   `json:"tier_id"`
	Stock         int64   `json:"stock"`
	Registrations []int64 `json:"registrations"`
	Winners       []int64 `json:"winners"`
}

// LotteryScore is a registration's place in its tier's draw: the SHA-256,
// in lower-case hex, of the text "<seed hex>:<tier id>:<registration id>".
func LotteryScore(seedHex string, tierID, registrationID int64) string {
	sum := sha256.Sum256([]byte(seedHex + ":" + strconv.FormatInt(tierID, 10) + ":" + strconv.FormatInt(registrationID, 10)))
	return hex.EncodeToString(sum[:])
}

// LotteryWinners draws a tier: its registrations ordered by score (ties,
// which SHA-256 makes as good as impossible, by id), the first stock of
// them win. It is the whole algorithm.
func LotteryWinners(seedHex string, tierID, stock int64, registrations []int64) []int64 {
	order := append([]int64(nil), registrations...)
	score := make(map[int64]string, len(order))
	for _, id := range order {
		score[id] = LotteryScore(seedHex, tierID, id)
	}
	sort.Slice(order, func(i, j int) bool {
		if score[order[i]] != score[order[j]] {
			return score[order[i]] < score[order[j]]
		}
		return order[i] < order[j]
	})
	if int64(len(order)) > stock {
		order = order[:max(0, stock)]
	}
	return order
}

// Commitment is the public promise of a seed: SHA-256 of its hex, in hex.
func Commitment(seedHex string) string {
	sum := sha256.Sum256([]byte(seedHex))
	return hex.EncodeToString(sum[:])
}

// SetLottery makes a campaign being prepared release by lottery, with
// registration closing at closes (Asia/Shanghai "2006-01-02T15:04"), and
// commits to its seed. Only a campaign released at once can: its stock is
// what the draw allocates. The seed, once made, is kept: its commitment
// may already have been seen.
func (a *App) SetLottery(ctx context.Context, by Officer, id int64, closes string) (Lottery, error) {
	c, err := a.campaignToChange(ctx, by, id)
	if err != nil {
		return Lottery{}, err
	}
	if c.Status != StatusDraft && c.Status != StatusRejected {
		return Lottery{}, Conflict("not_editable")
	}
	at, perr := time.ParseInLocation("2006-01-02T15:04", closes, Shanghai)
	field := func(reason string) error {
		return &Error{Code: EINVALID, Reason: reason, Fields: map[string]string{"lottery_closes": reason}}
	}
	switch {
	case c.ReleaseMode != ReleaseOnce:
		return Lottery{}, field("lottery_drops")
	case perr != nil:
		return Lottery{}, field("datetime_format")
	case !at.After(c.ClaimStartsAt):
		return Lottery{}, field("lottery_before_start")
	case !at.Before(c.ClaimEndsAt):
		return Lottery{}, field("lottery_after_end")
	}
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return Lottery{}, err
	}
	seedHex := hex.EncodeToString(seed)
	sealed, err := a.seal([]byte(seedHex), SealedLotterySeed)
	if err != nil {
		return Lottery{}, err
	}
	l := Lottery{CampaignID: id, Commitment: Commitment(seedHex), SeedSealed: sealed, CreatedAt: a.now()}
	audit := a.auditOf(by, ActionLotterySet, "campaign", id, c.District, nil, map[string]string{"lottery_closes": closes})
	l, err = a.store.SetLottery(ctx, l, at.UTC(), audit)
	if err == nil {
		a.forgetCampaign(ctx, id)
	}
	return l, err
}

// RegisterForLottery enters a resident in a campaign's lottery for one
// tier: once per resident, while registration is open at the writer's
// time; a campaign asking for real name takes only residents who did it.
func (a *App) RegisterForLottery(ctx context.Context, r Resident, campaignID, tierID int64) (Registration, error) {
	return a.registerForLottery(ctx, r, campaignID, tierID, "", nil)
}

// RegisterForLotteryFrom is RegisterForLottery with the district the
// resident says they live in ("" for none given): the lottery's fairness
// figures are by district.
func (a *App) RegisterForLotteryFrom(ctx context.Context, r Resident, campaignID, tierID int64, district string) (Registration, error) {
	if district != "" {
		ds, err := a.store.Districts(ctx)
		if err != nil {
			return Registration{}, err
		}
		if !containsDistrict(ds, district) || district == CityCode {
			return Registration{}, &Error{Code: EINVALID, Reason: "unknown_district", Fields: map[string]string{"district": "unknown_district"}}
		}
	}
	return a.registerForLottery(ctx, r, campaignID, tierID, district, nil)
}

// LotteryDistrict is one district's part of a lottery: entries and
// winners, for the fairness figures ("" is entries that named none).
type LotteryDistrict struct {
	District      string `db:"district_code"`
	Registrations int64  `db:"registrations"`
	Winners       int64  `db:"winners"`
}

// WinRateBP is winners ÷ registrations in basis points.
func (d LotteryDistrict) WinRateBP() int64 { return ShareBP(d.Winners, d.Registrations) }

// registerForLottery is a registration, the resident's own or made at a
// station (district, and its audit entry, in the same transaction).
func (a *App) registerForLottery(ctx context.Context, r Resident, campaignID, tierID int64, district string, audit *AuditEntry) (Registration, error) {
	c, _, err := a.cachedCampaign(ctx, campaignID)
	if err != nil {
		return Registration{}, err
	}
	if c.LotteryClosesAt == nil {
		return Registration{}, Conflict("not_a_lottery")
	}
	found := false
	for _, t := range c.Tiers {
		found = found || t.ID == tierID
	}
	if !found {
		return Registration{}, NotFound("tier_not_found")
	}
	now := a.now()
	switch {
	case c.Status != StatusApproved:
		return Registration{}, Conflict("campaign_inactive")
	case now.Before(c.ClaimStartsAt):
		return Registration{}, Conflict("not_open").With("opens", FormatLocal(c.ClaimStartsAt))
	case !now.Before(*c.LotteryClosesAt):
		return Registration{}, Conflict("registration_closed")
	}
	if c.RequireRealName {
		full, err := a.Resident(ctx, r.ID)
		if err != nil {
			return Registration{}, err
		}
		if !full.RealName() {
			return Registration{}, Conflict("real_name_required")
		}
	}
	if err := a.requireConsent(ctx, r); err != nil {
		return Registration{}, err
	}
	return a.store.RegisterForLottery(ctx, Registration{CampaignID: campaignID, TierID: tierID, ResidentID: r.ID, District: district}, audit)
}

// DrawLottery draws a campaign's lottery, once, at or after registration
// closes, by an officer who may change the campaign. The draw (seed,
// counts) is in the audit log; the winners' vouchers are then issued
// through the store's guarded claim, as any claim is.
func (a *App) DrawLottery(ctx context.Context, by Officer, id int64) (Lottery, []DrawTier, error) {
	c, err := a.changeable(ctx, by, id)
	if err != nil {
		return Lottery{}, nil, err
	}
	if c.LotteryClosesAt == nil {
		return Lottery{}, nil, Conflict("not_a_lottery")
	}
	l, err := a.store.Lottery(ctx, id)
	if err != nil {
		return l, nil, err
	}
	var seedHex string
	if err := a.open(&seedHex, l.SeedSealed, SealedLotterySeed); err != nil {
		return l, nil, err
	}
	if Commitment(seedHex) != l.Commitment {
		return l, nil, &Error{Code: EINTERNAL, Reason: "internal"} // a seed that is not the one promised is never used
	}
	audit := a.auditOf(by, ActionLotteryDraw, "campaign", id, c.District, nil, map[string]string{"commitment": l.Commitment, "seed": seedHex})
	l, tiers, err := a.store.DrawLottery(ctx, id, seedHex, by.ID, audit)
	if err != nil {
		return l, tiers, err
	}
	a.log.InfoContext(ctx, "lottery drawn", "campaign", id, "officer", by.ID)
	return l, tiers, a.IssueLotteryVouchers(ctx, id)
}

// IssueLotteryVouchers gives each winner without a voucher yet its
// voucher, through the guarded claim (stock, limits, the claim window),
// with a request key of its own so that issuing again (after a crash, or
// from the sweep) never gives a second one.
func (a *App) IssueLotteryVouchers(ctx context.Context, id int64) error {
	c, err := a.store.Campaign(ctx, id)
	if err != nil {
		return err
	}
	winners, err := a.store.UnissuedWinners(ctx, id)
	if err != nil {
		return err
	}
	tiers := map[int64]Tier{}
	for _, t := range c.Tiers {
		tiers[t.ID] = t
	}
	for _, w := range winners {
		in, err := a.claimInsert(c, tiers[w.TierID], Resident{ID: w.ResidentID}, "lottery-"+strconv.FormatInt(w.ID, 10), a.now())
		if err != nil {
			return err
		}
		v, err := a.store.Claim(ctx, in)
		if ErrorCode(err) == ECONFLICT {
			if prior, perr := a.store.VoucherByRequestKey(ctx, w.ResidentID, in.RequestKey); perr == nil {
				v, err = prior, nil
			}
		}
		if err != nil {
			return err
		}
		if err := a.store.LinkLotteryVoucher(ctx, w.ID, v.ID); err != nil {
			return err
		}
	}
	a.forgetCampaign(ctx, id)
	return nil
}

// LotteryOf is a campaign's lottery as published: the commitment, and once
// drawn, the seed and each tier's ordered registrations and winners.
func (a *App) LotteryOf(ctx context.Context, id int64) (Lottery, []DrawTier, error) {
	l, err := a.store.Lottery(ctx, id)
	if err != nil || l.Seed == nil {
		return l, nil, err
	}
	tiers, err := a.store.DrawnTiers(ctx, id)
	return l, tiers, err
}

// MyRegistration is the resident's entry in a campaign's lottery, if any.
func (a *App) MyRegistration(ctx context.Context, r Resident, campaignID int64) (Registration, error) {
	return a.store.Registration(ctx, campaignID, r.ID)
}

// IssuePendingLotteries issues the vouchers of every drawn lottery whose
// winners are not all issued yet.
func (a *App) IssuePendingLotteries(ctx context.Context) error {
	ids, err := a.store.LotteriesToIssue(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.IssueLotteryVouchers(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// LotteryFigures are a drawn lottery's outcome for the evaluation: how
// many registered, won and lost, and of each side the share who redeemed
// a voucher of the season's other campaigns (did losing send residents
// elsewhere, or away?).
type LotteryFigures struct {
	Registrations    int64             `db:"registrations"`
	Winners          int64             `db:"winners"`
	Losers           int64             `db:"losers"`
	WinnersRedeemed  int64             `db:"winners_redeemed"`  // their lottery voucher
	WinnersElsewhere int64             `db:"winners_elsewhere"` // a voucher of another campaign of the season
	LosersElsewhere  int64             `db:"losers_elsewhere"`
	Districts        []LotteryDistrict `db:"-"` // entries and winners by the district each entry gave
}

// ShareBP is part ÷ whole in basis points.
func ShareBP(part, whole int64) int64 {
	if whole == 0 {
		return 0
	}
	return part * 10000 / whole
}

// LotteryFiguresOf reads a lottery campaign's figures for an officer who
// may see it.
func (a *App) LotteryFiguresOf(ctx context.Context, by Officer, id int64) (LotteryFigures, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return LotteryFigures{}, err
	}
	if c.LotteryClosesAt == nil {
		return LotteryFigures{}, Conflict("not_a_lottery")
	}
	f, err := a.store.LotteryFigures(ctx, id, c.Season)
	if err != nil {
		return f, err
	}
	f.Districts, err = a.store.LotteryDistricts(ctx, id)
	return f, err
}
