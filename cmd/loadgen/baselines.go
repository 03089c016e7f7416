package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
	"cqvoucher/app/token"
	"cqvoucher/db"
)

// rawResult is baseline (a): the claim transaction with no HTTP, no
// session lookup and no campaign read in front of it.
type rawResult struct {
	claims     int
	elapsed    time.Duration
	errors     int
	firstErr   error
	outs       int // sold-out transactions, for reference
	outElapsed time.Duration
}

func (r rawResult) rate() float64 { return perSecond(r.claims, r.elapsed) }

// rawClaimRate measures db.Store.Claim on a fresh database with the same
// synchronous setting, many goroutines at once as in BenchmarkClaimTx,
// each claim by a different resident (limit 1, as in the drop). It then
// times sold-out attempts on a tier of one voucher, to show what the
// writer costs for an answer that changes nothing.
func rawClaimRate(ctx context.Context, cfg config) (rawResult, error) {
	dir, err := os.MkdirTemp("", "loadgen-raw-")
	if err != nil {
		return rawResult{}, err
	}
	defer os.RemoveAll(dir)
	st, ring, err := openFresh(ctx, sqliteSite(dir), cfg.sync)
	if err != nil {
		return rawResult{}, err
	}
	defer st.Close()
	c, err := liveCampaign(ctx, st, ring, []int{cfg.rawClaims, 1})
	if err != nil {
		return rawResult{}, err
	}
	ids, _, err := insertResidents(ctx, st, cfg.rawClaims+1)
	if err != nil {
		return rawResult{}, err
	}
	// A real signed token, once: the stored row then has its real size,
	// while signing (the domain's work, not the store's) stays out of the timing.
	now := time.Now().UTC()
	tok, err := ring.Sign(token.Claims{Issuer: district, Code: token.NewCode(), CampaignID: c.ID, TierID: c.Tiers[0].ID,
		FaceFen: faceYuan * 100, ThresholdFen: minYuan * 100, Category: "catering", NotBefore: now, Expires: now.Add(7 * 24 * time.Hour)})
	if err != nil {
		return rawResult{}, err
	}
	claim := func(tier int64, resident int64) error {
		at := time.Now().UTC()
		_, err := st.Claim(ctx, app.ClaimInsert{CampaignID: c.ID, TierID: tier, ResidentID: resident,
			Code: token.NewCode(), Token: tok, ExpiresAt: at.Add(7 * 24 * time.Hour)})
		return err
	}

	var res rawResult
	var mu sync.Mutex
	deadline := time.Now().Add(cfg.rawFor)
	res.elapsed, res.claims = hammer(cfg.rawWorkers, cfg.rawClaims, deadline, func(i int) bool {
		err := claim(c.Tiers[0].ID, ids[i])
		if err != nil {
			mu.Lock()
			res.errors++
			res.firstErr = cmp.Or(res.firstErr, err)
			mu.Unlock()
		}
		return err == nil
	})

	// Sold out: the last resident takes the one voucher of tier 2, then
	// everyone asks again. Only the answer "sold_out" counts.
	if err := claim(c.Tiers[1].ID, ids[cfg.rawClaims]); err != nil {
		return res, fmt.Errorf("taking the one voucher of the second tier: %w", err)
	}
	outs := min(cfg.rawClaims, 5000)
	res.outElapsed, res.outs = hammer(cfg.rawWorkers, outs, time.Now().Add(cfg.rawFor), func(i int) bool {
		return app.ErrorReason(claim(c.Tiers[1].ID, ids[i])) == "sold_out"
	})
	return res, ctx.Err()
}

// hammer runs fn(0..n-1) on workers goroutines until all ran or the
// deadline passed, and returns the time taken and how many returned true.
func hammer(workers, n int, deadline time.Time, fn func(i int) bool) (time.Duration, int) {
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					return
				}
				if fn(i) {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), int(ok.Load())
}

// emptyBody is what the empty handler answers: the shape and size of the
// product's sold-out answer, without the work behind it.
var emptyBody = []byte(`{"error":{"code":"conflict","reason":"sold_out","message":"sold out"}}`)

// emptyEcho is baseline (b): an Echo server with one POST route that
// answers 409 at once, served in-process on loopback and pressed by the
// same crowd code, with the same connections, as the real server.
func emptyEcho(ctx context.Context, cfg config, tokens []string) (crowdRun, cpuUse, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/api/v1/resident/campaigns/:id/claims", func(c echo.Context) error {
		return c.JSONBlob(http.StatusConflict, emptyBody)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return crowdRun{}, cpuUse{}, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	defer srv.Close()

	n := min(len(tokens), cfg.echoMax)
	url := fmt.Sprintf("http://%s/api/v1/resident/campaigns/1/claims", l.Addr())
	before := cpuNow()
	run := newCrowd([]string{url}, claimBody(1), cfg.conc, cfg.timeout).run(ctx, tokens[:n])
	used := cpuNow().since(before)
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return run, used, err
	}
	return run, used, ctx.Err()
}

// rawRedeemResult is baseline (c): the redeem transaction with no HTTP, no
// session or cashier lookup, no token verification and no rule reads in
// front of it.
type rawRedeemResult struct {
	setup      time.Duration // untimed: claiming the vouchers to redeem
	redeems    int
	elapsed    time.Duration
	errors     int
	firstErr   error
	losses     int // already-redeemed transactions (the losing press), for reference
	lossesTime time.Duration
}

func (r rawRedeemResult) rate() float64 { return perSecond(r.redeems, r.elapsed) }

// rawRedeemRate measures db.Store.Redeem on a fresh database with the same
// synchronous setting, many goroutines at once as for (a). The vouchers
// are claimed first through Store.Claim (untimed), and redeemed by C
// cashiers of ⌈C/4⌉ merchants, each with its own Idempotency-Key and the
// wave's bill. It then times a second redemption of already redeemed
// vouchers by another cashier: the losing press, a guarded update that
// changes nothing.
func rawRedeemRate(ctx context.Context, cfg config) (rawRedeemResult, error) {
	var res rawRedeemResult
	dir, err := os.MkdirTemp("", "loadgen-rawredeem-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	st, ring, err := openFresh(ctx, sqliteSite(dir), cfg.sync)
	if err != nil {
		return res, err
	}
	defer st.Close()
	n := cfg.rawRedeems
	t := time.Now()
	c, err := liveCampaign(ctx, st, ring, []int{n})
	if err != nil {
		return res, err
	}
	ids, _, err := insertResidents(ctx, st, n)
	if err != nil {
		return res, err
	}
	cs, err := prepareCashiers(ctx, st, min(cfg.cashiers, n))
	if err != nil {
		return res, err
	}
	now := time.Now().UTC()
	tok, err := ring.Sign(token.Claims{Issuer: district, Code: token.NewCode(), CampaignID: c.ID, TierID: c.Tiers[0].ID,
		FaceFen: faceYuan * 100, ThresholdFen: minYuan * 100, Category: "catering", NotBefore: now, Expires: now.Add(7 * 24 * time.Hour)})
	if err != nil {
		return res, err
	}
	vouchers := make([]app.Voucher, n)
	var mu sync.Mutex
	var claimErr error
	_, claimed := hammer(cfg.rawWorkers, n, time.Now().Add(time.Hour), func(i int) bool {
		at := time.Now().UTC()
		v, err := st.Claim(ctx, app.ClaimInsert{CampaignID: c.ID, TierID: c.Tiers[0].ID, ResidentID: ids[i],
			Code: token.NewCode(), Token: tok, ExpiresAt: at.Add(7 * 24 * time.Hour)})
		if err != nil {
			mu.Lock()
			claimErr = cmp.Or(claimErr, err)
			mu.Unlock()
			return false
		}
		vouchers[i] = v
		return true
	})
	if claimed != n {
		return res, fmt.Errorf("claiming the vouchers to redeem: %d of %d (first error: %v)", claimed, n, claimErr)
	}
	res.setup = time.Since(t)

	C := len(cs.ids)
	keys := make([]string, 2*n)
	for i := range keys {
		keys[i] = "loadgen-" + rand.Text()
	}
	redeem := func(i, cashier int, key string) error {
		v := vouchers[i]
		_, err := st.Redeem(ctx, app.RedeemInsert{VoucherID: v.ID,
			MerchantID: cs.merchants[cashier], CashierID: cs.ids[cashier], BillFen: billFen, DiscountFen: faceYuan * 100, Key: key})
		return err
	}
	res.elapsed, res.redeems = hammer(cfg.rawWorkers, n, time.Now().Add(cfg.rawFor), func(i int) bool {
		err := redeem(i, i%C, keys[i])
		if err != nil {
			mu.Lock()
			res.errors++
			res.firstErr = cmp.Or(res.firstErr, err)
			mu.Unlock()
		}
		return err == nil
	})

	// The losing press: another cashier (another merchant when C ≥ 8),
	// another key, on a voucher redeemed above. Only "already_redeemed" counts.
	again := min(res.redeems, 5000)
	res.lossesTime, res.losses = hammer(cfg.rawWorkers, again, time.Now().Add(cfg.rawFor), func(i int) bool {
		return app.ErrorReason(redeem(i, (i%C+C/2)%C, keys[n+i])) == "already_redeemed"
	})
	return res, ctx.Err()
}

// verifyCost times token verification in-process, on one goroutine, with
// the server's own key ring: the work the server adds to each redemption
// for a scanned QR text, before any database access.
func verifyCost(dir string, vs []storedVoucher) (time.Duration, int, error) {
	ring, err := token.LoadOrCreate(filepath.Join(dir, "keys"))
	if err != nil {
		return 0, 0, err
	}
	n := min(len(vs), 2000)
	if n == 0 {
		return 0, 0, nil
	}
	issuer := func(iss string) bool { return iss == district }
	now := time.Now()
	t := time.Now()
	for i := range n {
		if _, err := ring.Verify(token.ExtractToken("http://x/v/"+vs[i].token), now, issuer); err != nil {
			return 0, 0, fmt.Errorf("voucher %d: %w", vs[i].id, err)
		}
	}
	return time.Since(t) / time.Duration(n), n, nil
}

// rawSingleCommitRate is baseline (d), the disk's rate for the smallest
// durable write transaction (db.SingleCommitRate), on a fresh database at
// the drop's synchronous setting: group commit must beat it (issue 12's
// target: 2×).
func rawSingleCommitRate(ctx context.Context, cfg config) (n int, elapsed time.Duration, err error) {
	dir, err := os.MkdirTemp("", "loadgen-commit-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	return db.SingleCommitRate(ctx, filepath.Join(dir, "commit.db"), cfg.sync, cfg.rawClaims, cfg.rawFor)
}
