package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/token"
	"cqvoucher/app/web"
	"cqvoucher/db"
	"cqvoucher/templates"
)

const (
	district = "500103" // 渝中区
	faceYuan = 30       // 满100减30
	minYuan  = 100
)

// fixture is what the drop needs to know about the prepared database.
type fixture struct {
	campaignID int64
	tierID     int64
	tokens     []string   // bearer token of resident i's session, in insertion order
	residents  []int64    // resident i's id
	cashiers   cashierSet // with -redeem: the cashiers of the redemption wave
}

// prepare makes the site the servers will open: schema, reference data,
// keys, a live campaign created through the domain, R residents each with
// a session and, with -redeem, C cashiers each with a session (before the
// drop: the servers read them from the database when they press).
func prepare(ctx context.Context, s site, cfg config) (fixture, error) {
	st, ring, err := openFresh(ctx, s, cfg.sync)
	if err != nil {
		return fixture{}, err
	}
	defer st.Close()
	c, err := liveCampaign(ctx, st, ring, []int{cfg.stock})
	if err != nil {
		return fixture{}, err
	}
	ids, tokens, err := insertResidents(ctx, st, cfg.residents)
	if err != nil {
		return fixture{}, err
	}
	fx := fixture{campaignID: c.ID, tierID: c.Tiers[0].ID, tokens: tokens, residents: ids}
	if cfg.redeem {
		if fx.cashiers, err = prepareCashiers(ctx, st, cfg.cashiers); err != nil {
			return fx, err
		}
	}
	return fx, nil
}

// noSMS satisfies app.SMSSender; no one signs in by SMS here.
type noSMS struct{}

func (noSMS) Send(context.Context, string, string) error { return nil }

// liveCampaign creates two officers of the district and, through the domain
// (so that validation, the audit log and the four-eyes rule all apply),
// a campaign opening now with one tier per quantity, per-resident limit 1.
func liveCampaign(ctx context.Context, st *db.Store, ring *token.Ring, quantities []int) (app.Campaign, error) {
	now := time.Now().UTC()
	maker, err := newOfficer(ctx, st, "loadgen-maker", false, now)
	if err != nil {
		return app.Campaign{}, err
	}
	approver, err := newOfficer(ctx, st, "loadgen-approver", true, now)
	if err != nil {
		return app.Campaign{}, err
	}
	a := app.New(st, ring, noSMS{}, app.DefaultConfig(), nil, quietLog)
	in := app.CampaignInput{
		Name: "负载测试·渝味消费券", District: district, Category: "catering",
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1",
	}
	total := 0
	for _, q := range quantities {
		in.Tiers = append(in.Tiers, app.TierInput{Face: strconv.Itoa(faceYuan), Threshold: strconv.Itoa(minYuan), Quantity: strconv.Itoa(q)})
		total += q
	}
	in.Budget = strconv.Itoa(total * faceYuan) // exactly what the tiers commit
	c, err := a.CreateCampaign(ctx, maker, in)
	if err != nil {
		return c, fmt.Errorf("create campaign: %w", err)
	}
	if err := a.SubmitCampaign(ctx, maker, c.ID); err != nil {
		return c, fmt.Errorf("submit campaign: %w", err)
	}
	if err := a.ApproveCampaign(ctx, approver, c.ID, "同意"); err != nil {
		return c, fmt.Errorf("approve campaign: %w", err)
	}
	return st.Campaign(ctx, c.ID)
}

// newOfficer writes an officer directly, as the bootstrap of a new district
// would: the domain's CreateOfficer needs an officer to act, and there is
// none yet. The password is random and thrown away; no one signs in.
func newOfficer(ctx context.Context, st *db.Store, username string, canApprove bool, now time.Time) (app.Officer, error) {
	hash, err := app.HashPassword(rand.Text())
	if err != nil {
		return app.Officer{}, err
	}
	o := app.Officer{Username: username, Name: username, PasswordHash: hash, Role: app.RoleDistrictOfficer,
		District: district, CanApprove: canApprove, CreatedAt: now}
	err = st.CreateOfficer(ctx, &o, app.SystemAudit(now, app.ActionOfficerCreate, "officer", district, nil))
	return o, err
}

// insertResidents adds n residents, each with a resident session valid for
// a day, in ONE bulk load (db.Loader): n transactions of the store's would
// each wait for an fsync and take minutes. Only the SHA-256 of each token
// is stored, as app.HashSessionToken does at sign-in; the tokens
// themselves are returned, in the order of the returned ids.
func insertResidents(ctx context.Context, st *db.Store, n int) (ids []int64, tokens []string, err error) {
	before, err := st.ResidentCount(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Each resident has agreed to the texts the server (with its default
	// organiser) serves, as sign-in records: else every claim is refused.
	terms, err := web.TermsVersion(templates.FS, app.DefaultConfig().Terms)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	expires := now.Add(24 * time.Hour)
	raw := make([]byte, 32*n)
	if _, err := rand.Read(raw); err != nil {
		return nil, nil, err
	}
	ids, tokens = make([]int64, n), make([]string, n)
	// The rows are handed over residentChunk at a time: all 3,000,000 of
	// the largest scenario at once would take hundreds of megabytes more.
	const residentChunk = 10_000
	rs := make([]db.LoadResident, 0, residentChunk)
	ss := make([]app.Session, 0, residentChunk)
	err = st.Load(ctx, func(l *db.Loader) error {
		for from := 0; from < n; from += residentChunk {
			to := min(n, from+residentChunk)
			rs = rs[:0]
			for i := from; i < to; i++ {
				phone := fmt.Sprintf("139%08d", before+int64(i)) // distinct mainland numbers
				rs = append(rs, db.LoadResident{Phone: phone, CreatedAt: now, ConsentedAt: &now, ConsentVersion: terms})
			}
			got, err := l.Residents(rs)
			if err != nil {
				return err
			}
			copy(ids[from:to], got)
			ss = ss[:0]
			for i := from; i < to; i++ {
				tokens[i] = base64.RawURLEncoding.EncodeToString(raw[32*i : 32*(i+1)])
				ss = append(ss, app.Session{TokenHash: app.HashSessionToken(tokens[i]), Kind: app.KindResident, SubjectID: ids[i],
					CreatedAt: now, ExpiresAt: expires})
			}
			if err := l.Sessions(ss); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return ids, tokens, nil
}
