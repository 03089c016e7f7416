// Command loadgen replays a 10:00 voucher drop against a real voucherd
// (issue 4, "Benchmark"): R residents, already signed in, press "claim" on
// one tier of S vouchers all at once, over HTTP, through a bounded pool of
// connections. It prints claims/s, answers/s, latency percentiles, errors
// by kind and the server's peak memory, checks the money invariants in the
// database afterwards, and measures two baselines in the same run:
//
//	(a) the raw SQLite claim transaction in-process (db.Store.Claim), and
//	(b) an empty Echo handler on loopback, under the same generator,
//
// so that the ratios against the targets (≥ 0.5 each) can be read off.
//
// Then (issue 5, -redeem, on by default) C cashiers redeem every claimed
// voucher at once, each request carrying the voucher's QR text so that the
// server verifies its token; every 10th voucher is pressed by two cashiers
// at once, and exactly one may win. A third baseline,
//
//	(c) the raw SQLite redeem transaction in-process (db.Store.Redeem),
//
// gives the redemption target (≥ 0.5 of it).
//
//	go run ./cmd/loadgen                 # 100,000 residents, 1,000 vouchers, synchronous=FULL
//	go run ./cmd/loadgen -quick          # 5,000 residents, 500 vouchers
//	go run ./cmd/loadgen -sync NORMAL    # the same drop on the weaker durability setting
//	go run ./cmd/loadgen -postgres URL -instances 2   # on a fresh schema of a PostgreSQL server, two voucherd
//
// With -postgres the run's database is a schema of its own on that server
// (dropped at the end unless -keep), prepared through the store as the
// SQLite file is; -instances voucherd processes serve it, the crowd and
// the cashiers spread over them, and the invariants are read from it. The
// in-process baselines stay on SQLite.
//
// It exits 1 when an invariant fails, not when a target is missed: this is
// a benchmark, not a timed test.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the domain counts days in Asia/Shanghai, as voucherd does

	"cqvoucher/db"
)

// config is every knob of one run.
type config struct {
	dataDir    string        // fresh data directory for the server; "" = a temporary one
	keep       bool          // keep a temporary data directory (and the -postgres schema) afterwards, to inspect them
	postgres   string        // PostgreSQL server URL: the run's database is a fresh schema there; "" = SQLite in the data directory
	instances  int           // voucherd processes serving the run's database (more than one: PostgreSQL only)
	residents  int           // R: residents signed in before the drop, each pressing once
	stock      int           // S: vouchers in the one tier
	conc       int           // concurrent HTTP connections of the crowd
	sync       string        // SQLite synchronous setting for the server and baseline (a)
	server     string        // voucherd binary; "" = build ./cmd/voucherd
	timeout    time.Duration // per request
	rawClaims  int           // baseline (a): stop after this many claims …
	rawFor     time.Duration // … or after this long
	rawWorkers int           // baseline (a): goroutines calling Store.Claim
	echoMax    int           // baseline (b): at most this many requests
	again      bool          // after the drop, everyone presses a second time
	serverEnv  envList       // extra KEY=VALUE for the server process (GOMEMLIMIT, GODEBUG)
	redeem     bool          // after the drop, the redemption wave
	cashiers   int           // C: cashiers of the wave
	contest    int           // every contest-th voucher is pressed by two cashiers at once; 0 = none
	rawRedeems int           // baseline (c): stop after this many redemptions (or after rawFor)
	jsonPath   string        // write the run's figures here (figures.go)
	preset     string        // a named scenario: "hangzhou"
}

// envList collects a repeatable -server-env flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var c config
	var quick bool
	fs.StringVar(&c.dataDir, "data", "", "fresh data directory for the server (default: a temporary directory, removed afterwards)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary data directory (database, keys, server log) and the -postgres schema for inspection")
	fs.StringVar(&c.postgres, "postgres", "", "PostgreSQL server URL (postgres://user:password@host/db): the run's database is a fresh schema there, dropped afterwards unless -keep (default: SQLite in the data directory)")
	fs.IntVar(&c.instances, "instances", 1, "voucherd processes serving the run's database; more than one needs -postgres")
	fs.IntVar(&c.residents, "residents", 100_000, "R: residents signed in before the drop; each presses once")
	fs.IntVar(&c.stock, "stock", 1000, "S: vouchers in the campaign's one tier")
	fs.IntVar(&c.conc, "conc", 256, "concurrent HTTP connections (the crowd's phones, bounded for a small machine)")
	fs.StringVar(&c.sync, "sync", "FULL", "SQLite synchronous setting: FULL or NORMAL (server and baseline (a))")
	fs.StringVar(&c.server, "server", "", "path of a voucherd binary (default: go build ./cmd/voucherd into a temporary directory)")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "per-request timeout")
	fs.IntVar(&c.rawClaims, "raw-claims", 5000, "baseline (a): number of claims to run in-process …")
	fs.DurationVar(&c.rawFor, "raw-for", 3*time.Second, "baseline (a): … or for at most this long")
	fs.IntVar(&c.rawWorkers, "raw-workers", 16, "baseline (a): goroutines calling Store.Claim (BenchmarkClaimTx uses 8×GOMAXPROCS)")
	fs.IntVar(&c.echoMax, "echo-max", 50_000, "baseline (b): requests to the empty handler, at most R")
	fs.BoolVar(&c.again, "again", false, "after the drop, every resident presses once more (sessions now cached): sold-out answers without SQLite reads")
	fs.Var(&c.serverEnv, "server-env", "KEY=VALUE added to the server's environment, e.g. GOMEMLIMIT=100MiB or GODEBUG=gctrace=1 (repeatable)")
	fs.BoolVar(&c.redeem, "redeem", true, "after the drop, C cashiers redeem every claimed voucher at once (issue 5); -redeem=false skips it")
	fs.IntVar(&c.cashiers, "cashiers", 256, "C: cashiers of the redemption wave, 4 per merchant")
	fs.IntVar(&c.contest, "contest", 10, "every N-th voucher is also redeemed by a second cashier at the same time; 0 = none")
	fs.IntVar(&c.rawRedeems, "raw-redeems", 5000, "baseline (c): number of redemptions to run in-process (claimed first, untimed) …")
	fs.BoolVar(&quick, "quick", false, "small run: 5,000 residents and 500 vouchers (unless set explicitly)")
	fs.StringVar(&c.jsonPath, "json", "", "write the run's figures to this file as JSON (keys: see cmd/loadgen/figures.go)")
	fs.StringVar(&c.preset, "preset", "", `named scenario: "hangzhou" = 3,000,000 residents pressing for 1,500,000 vouchers, no redemption wave (unless set explicitly)`)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	preset := func(residents, stock int) {
		if !set["residents"] {
			c.residents = residents
		}
		if !set["stock"] {
			c.stock = stock
		}
	}
	switch c.preset {
	case "":
	case "hangzhou":
		// Hangzhou's second round: 1.5 million packs at 10:00 (issue 12).
		// The redemption wave of 1.5 million vouchers would be a run of its
		// own; ask for it with -redeem.
		preset(3_000_000, 1_500_000)
		if !set["redeem"] {
			c.redeem = false
		}
	default:
		return c, fmt.Errorf("-preset %q: the only preset is hangzhou", c.preset)
	}
	if quick {
		preset(5000, 500)
	}
	c.sync = strings.ToUpper(c.sync)
	switch {
	case c.residents < 1 || c.stock < 1 || c.conc < 1 || c.rawClaims < 1 || c.rawWorkers < 1 || c.echoMax < 1:
		return c, fmt.Errorf("-residents, -stock, -conc, -raw-claims, -raw-workers and -echo-max must be positive")
	case c.redeem && (c.cashiers < 1 || c.rawRedeems < 1 || c.contest < 0):
		return c, fmt.Errorf("-cashiers and -raw-redeems must be positive, -contest not negative")
	case c.sync != "FULL" && c.sync != "NORMAL":
		return c, fmt.Errorf("-sync must be FULL or NORMAL, not %q", c.sync)
	case c.postgres != "" && !db.IsPostgresURL(c.postgres):
		return c, fmt.Errorf("-postgres must be a postgres:// URL, not %q", c.postgres)
	case c.instances < 1:
		return c, fmt.Errorf("-instances must be positive")
	case c.instances > 1 && c.postgres == "":
		return c, fmt.Errorf("-instances %d needs -postgres: a SQLite database has one writer process, so one voucherd serves it", c.instances)
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run carries out the whole scenario; ok is false when an invariant failed.
func run(ctx context.Context, cfg config) (ok bool, err error) {
	dir, cleanup, err := dataDir(cfg)
	if err != nil {
		return false, err
	}
	defer cleanup()
	s, drop, err := newSite(ctx, dir, cfg)
	if err != nil {
		return false, err
	}
	defer drop()
	database := "SQLite, synchronous=" + cfg.sync
	if s.postgres() {
		database = fmt.Sprintf("PostgreSQL, %d voucherd", cfg.instances)
	}
	fmt.Printf("loadgen: R=%d residents, S=%d vouchers, conc=%d, %s, GOMAXPROCS=%d, %s\n",
		cfg.residents, cfg.stock, cfg.conc, database, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("data dir: %s\n", dir)

	// The commit measured: the tree's when the run starts (a -server
	// binary built elsewhere is named by whoever passes it).
	commit := commitOf()
	t := time.Now()
	fx, err := prepare(ctx, s, cfg)
	if err != nil {
		return false, fmt.Errorf("prepare: %w", err)
	}
	fmt.Printf("prepared campaign %d (tier %d), %d signed-in residents and %d signed-in cashiers at %d merchants in %s\n",
		fx.campaignID, fx.tierID, len(fx.tokens), len(fx.cashiers.ids), fx.cashiers.nMerchant, time.Since(t).Round(time.Millisecond))

	passes, wave, err := runDrop(ctx, s, cfg, fx)
	if err != nil {
		return false, err
	}
	reps := make([]report, len(passes))
	for i, p := range passes {
		reps[i] = summarize(p.run)
		printPass(os.Stdout, i, reps[i], p.mem, p.cpu)
	}
	rep, mem := reps[0], totalMemory(passes[0].mem)

	checks, err := checkInvariants(ctx, s.database, fx, cfg, reps)
	if err != nil {
		return false, fmt.Errorf("invariants: %w", err)
	}
	ok = printChecks(os.Stdout, "invariants ("+s.readFrom()+")", checks)

	var waveRep report
	if wave != nil {
		waveRep = summarize(wave.run)
		printWave(os.Stdout, *wave, waveRep)
		checks, err := checkRedemptions(ctx, s.database, fx, *wave, waveRep)
		if err != nil {
			return false, fmt.Errorf("redemption invariants: %w", err)
		}
		ok = printChecks(os.Stdout, "redemption invariants ("+s.readFrom()+")", checks) && ok
	}

	// The baselines run after the server has stopped, so that they have the
	// machine to themselves, as the server had during the drop.
	raw, err := rawClaimRate(ctx, cfg)
	if err != nil {
		return ok, fmt.Errorf("baseline (a): %w", err)
	}
	echoRun, echoCPU, err := emptyEcho(ctx, cfg, fx.tokens)
	if err != nil {
		return ok, fmt.Errorf("baseline (b): %w", err)
	}
	var red *redeemFigures
	if wave != nil {
		rr, err := rawRedeemRate(ctx, cfg)
		if err != nil {
			return ok, fmt.Errorf("baseline (c): %w", err)
		}
		per, n, err := verifyCost(dir, wave.vouchers)
		if err != nil {
			return ok, fmt.Errorf("token verification: %w", err)
		}
		red = &redeemFigures{wave: waveRep, raw: rr, verifyEach: per, verified: n}
	}
	commits, elapsed, err := rawSingleCommitRate(ctx, cfg)
	if err != nil {
		return ok, fmt.Errorf("baseline (d): %w", err)
	}
	empty := summarize(echoRun)
	printBaselines(os.Stdout, cfg, rep, mem, raw, empty, echoCPU, red)
	fmt.Printf("(d) raw single commit, one single-row UPDATE per transaction, synchronous=%s, one connection: %d in %.2f s → %.0f commits/s\n",
		cfg.sync, commits, elapsed.Seconds(), perSecond(commits, elapsed))

	f := figures{Commit: commit, Backend: s.backend(), Instances: cfg.instances, Residents: cfg.residents, Stock: cfg.stock, Conc: cfg.conc, Sync: cfg.sync,
		ClaimsPerS: rep.claimsPerSec(), AllocationS: rep.lastWin.Seconds(), DropS: rep.wall.Seconds(),
		WinnerP50Ms: msOf(rep.by[success].p50), WinnerP99Ms: msOf(rep.by[success].p99),
		Unanswered: rep.presses - rep.answers, Server5xx: rep.counts[server5xx],
		RawClaimTxPerS: raw.rate(), RawSingleCommitPerS: perSecond(commits, elapsed),
		ServerPeakMB: float64(mem.hwmKiB) * 1024 / 1e6, InvariantsPass: ok}
	_, _, f.SoldOutPerS = rep.soldOutPerSec()
	_, _, f.EchoEmptyPerS = empty.soldOutPerSec()
	f.ServerCPUPerAnswerUs = float64(passes[0].cpu.server().Microseconds()) / float64(max(1, rep.answers))
	f.LoadgenCPUPerAnsUs = float64(passes[0].cpu.self.Microseconds()) / float64(max(1, rep.answers))
	if red != nil {
		f.RedemptionsPerS, f.RawRedeemTxPerS = red.wave.claimsPerSec(), red.raw.rate()
		f.ServerPeakMB = max(f.ServerPeakMB, float64(totalMemory(wave.mem).hwmKiB)*1024/1e6)
	}
	if f.WriterCommits, f.WriterSteps, err = writerStats(s, cfg.instances); err != nil {
		fmt.Println("group commit figures unavailable:", err)
	} else if f.WriterCommits > 0 {
		f.StepsPerCommit = float64(f.WriterSteps) / float64(f.WriterCommits)
	}
	printTargets(os.Stdout, f)
	if cfg.jsonPath != "" {
		if err := f.write(cfg.jsonPath); err != nil {
			return ok, fmt.Errorf("-json: %w", err)
		}
		fmt.Printf("figures written to %s\n", cfg.jsonPath)
	}
	return ok, nil
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// commitOf names the commit measured, when run inside a git checkout.
func commitOf() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// dataDir returns the server's data directory: the one asked for, which
// must not hold a database yet, or a new temporary one.
func dataDir(cfg config) (string, func(), error) {
	if cfg.dataDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.dataDir, "voucher.db")); err == nil {
			return "", nil, fmt.Errorf("-data %s already holds a database; loadgen needs a fresh directory", cfg.dataDir)
		}
		return cfg.dataDir, func() {}, os.MkdirAll(cfg.dataDir, 0o700)
	}
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return "", nil, err
	}
	if cfg.keep {
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// quietLog is for the domain inside loadgen: its info lines are not results.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))
