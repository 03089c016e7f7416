package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"time"
)

// latency is a distribution summary of answer times.
type latency struct {
	n                  int
	p50, p95, p99, max time.Duration
}

// report is a crowdRun reduced to the figures the issue asks for.
type report struct {
	presses  int
	counts   [numClasses]int
	locked   int            // answers whose body said "database is locked"
	kinds    map[string]int // errors by kind
	wall     time.Duration  // from the first press to the last answer
	answers  int            // presses that got an HTTP answer
	lastWin  time.Duration  // end of the last successful claim
	firstOut time.Duration  // end of the first sold-out answer: the stock had run out
	lastOut  time.Duration  // end of the last sold-out answer
	all      latency
	by       [numClasses]latency
	byServer [][numClasses]int // answers by class, per voucherd (press.via)
}

func summarize(r crowdRun) report {
	rep := report{presses: len(r.presses), kinds: r.kinds, firstOut: -1}
	var all []time.Duration
	var by [numClasses][]time.Duration
	for _, p := range r.presses {
		d := p.end - p.start
		rep.counts[p.class]++
		for p.via >= len(rep.byServer) {
			rep.byServer = append(rep.byServer, [numClasses]int{})
		}
		rep.byServer[p.via][p.class]++
		all = append(all, d)
		by[p.class] = append(by[p.class], d)
		rep.wall = max(rep.wall, p.end)
		if p.locked {
			rep.locked++
		}
		if p.class != transport {
			rep.answers++
		}
		switch p.class {
		case success:
			rep.lastWin = max(rep.lastWin, p.end)
		case soldOut:
			if rep.firstOut < 0 || p.end < rep.firstOut {
				rep.firstOut = p.end
			}
			rep.lastOut = max(rep.lastOut, p.end)
		}
	}
	rep.all = distribution(all)
	for c := range by {
		rep.by[c] = distribution(by[c])
	}
	return rep
}

func distribution(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return latency{n: len(ds), p50: at(0.50), p95: at(0.95), p99: at(0.99), max: ds[len(ds)-1]}
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// claimsPerSec counts successes over the time until the last of them.
func (r report) claimsPerSec() float64 { return perSecond(r.counts[success], r.lastWin) }

func (r report) answersPerSec() float64 { return perSecond(r.answers, r.wall) }

// soldOutPerSec is the rate of sold-out answers once the stock has run
// out: from the first sold-out answer to the last, not counting the first
// (it opens the interval). With no success phase (the empty handler) the
// interval starts at the first press instead.
func (r report) soldOutPerSec() (n int, d time.Duration, rate float64) {
	if r.counts[soldOut] == 0 {
		return 0, 0, 0
	}
	if r.counts[success] == 0 {
		return r.counts[soldOut], r.lastOut, perSecond(r.counts[soldOut], r.lastOut)
	}
	n, d = r.counts[soldOut]-1, r.lastOut-r.firstOut
	return n, d, perSecond(n, d)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// printPass prints one round of presses: the drop, or with -again the
// second press, when the server has every session in its cache.
func printPass(w io.Writer, i int, r report, mem []memory, cpu cpuUse) {
	if i == 0 {
		fmt.Fprintf(w, "\n== the drop ==\n")
	} else {
		fmt.Fprintf(w, "\n== everyone presses again (-again; sessions now cached by the server) ==\n")
	}
	fmt.Fprintf(w, "presses                %7d, last answer after %.2f s\n", r.presses, r.wall.Seconds())
	fmt.Fprintf(w, "answers/s overall      %9.0f  (%d answers / %.2f s)\n", r.answersPerSec(), r.answers, r.wall.Seconds())
	if r.counts[success] > 0 {
		fmt.Fprintf(w, "successful claims/s    %9.0f  (%d claims / %.3f s until the last success)\n",
			r.claimsPerSec(), r.counts[success], r.lastWin.Seconds())
	} else {
		fmt.Fprintf(w, "successful claims/s          n/a  (no successful claims)\n")
	}
	n, d, rate := r.soldOutPerSec()
	switch {
	case n > 0 && r.counts[success] == 0:
		fmt.Fprintf(w, "sold-out answers/s     %9.0f  (%d answers / %.2f s; the stock was gone before the first press)\n",
			rate, n, d.Seconds())
	case n > 0:
		fmt.Fprintf(w, "sold-out answers/s     %9.0f  (%d answers / %.2f s after the stock ran out at %.3f s)\n",
			rate, n, d.Seconds(), r.firstOut.Seconds())
	default:
		fmt.Fprintf(w, "sold-out answers/s           n/a  (no sold-out answers)\n")
	}
	printLatency(w, r)
	printKinds(w, r)
	fmt.Fprintf(w, "answers saying \"database is locked\": %d\n", r.locked)
	printMemory(w, mem)
	printCPU(w, cpu, r)
}

// totalMemory sums the servers' memory. The sum of their peaks may exceed
// what they held at any one moment: it is the bound a machine must have.
func totalMemory(ms []memory) memory {
	var t memory
	for _, m := range ms {
		t.hwmKiB += m.hwmKiB
		t.rssKiB += m.rssKiB
	}
	return t
}

// printMemory prints the servers' memory: summed, and per process when
// there are several.
func printMemory(w io.Writer, ms []memory) {
	t := totalMemory(ms)
	if len(ms) == 1 {
		fmt.Fprintf(w, "server memory: peak (VmHWM) %.1f MiB = %.1f MB; at the end (VmRSS) %.1f MiB\n",
			t.hwmMiB(), float64(t.hwmKiB)*1024/1e6, t.rssMiB())
		return
	}
	fmt.Fprintf(w, "server memory, %d processes summed: peaks (VmHWM) %.1f MiB = %.1f MB; at the end (VmRSS) %.1f MiB\n",
		len(ms), t.hwmMiB(), float64(t.hwmKiB)*1024/1e6, t.rssMiB())
	for k, m := range ms {
		fmt.Fprintf(w, "  voucherd %d: peak %.1f MiB, at the end %.1f MiB\n", k+1, m.hwmMiB(), m.rssMiB())
	}
}

// printCPU shows who used the machine's cores during a crowd: on a 2-core
// machine the generator and the server compete, and the split says how
// much of the wall time the server could have had.
func printCPU(w io.Writer, cpu cpuUse, r report) {
	perAnswer := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(1, r.answers)) }
	servers := "server"
	if len(cpu.servers) > 1 {
		servers = fmt.Sprintf("%d servers summed", len(cpu.servers))
	}
	fmt.Fprintf(w, "CPU over %.2f s (%d cores): %s %.2f s (%.0f µs/answer), loadgen %.2f s (%.0f µs/answer)\n",
		r.wall.Seconds(), runtime.NumCPU(), servers, cpu.server().Seconds(), perAnswer(cpu.server()), cpu.self.Seconds(), perAnswer(cpu.self))
	if len(cpu.servers) > 1 {
		for k, d := range cpu.servers {
			fmt.Fprintf(w, "  voucherd %d: %.2f s\n", k+1, d.Seconds())
		}
	}
}

func printLatency(w io.Writer, r report) {
	fmt.Fprintf(w, "\n%-13s %7s %10s %10s %10s %10s\n", "latency", "n", "p50", "p95", "p99", "max")
	row := func(name string, l latency) {
		fmt.Fprintf(w, "%-13s %7d %10s %10s %10s %10s\n", name, l.n, ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max))
	}
	row("all", r.all)
	for c := range numClasses {
		if r.by[c].n > 0 {
			row(c.String(), r.by[c])
		}
	}
}

func printKinds(w io.Writer, r report) {
	fmt.Fprintf(w, "\nanswers by class:")
	for c := range numClasses {
		fmt.Fprintf(w, " %s=%d", c, r.counts[c])
	}
	fmt.Fprintln(w)
	if len(r.byServer) > 1 {
		for k, counts := range r.byServer {
			fmt.Fprintf(w, "  through voucherd %d:", k+1)
			for c := range numClasses {
				if counts[c] > 0 {
					fmt.Fprintf(w, " %s=%d", c, counts[c])
				}
			}
			fmt.Fprintln(w)
		}
	}
	if len(r.kinds) == 0 {
		fmt.Fprintln(w, "errors by kind: none")
		return
	}
	fmt.Fprintln(w, "errors by kind:")
	keys := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r.kinds[keys[i]] > r.kinds[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(w, "  %7d  %s\n", r.kinds[k], k)
	}
}

// check is one invariant or promise, verified after the drop.
type check struct {
	name   string
	ok     bool
	detail string
}

// printChecks prints PASS/FAIL per check and reports whether all passed.
func printChecks(w io.Writer, title string, cs []check) bool {
	fmt.Fprintf(w, "\n== %s ==\n", title)
	all := true
	for _, c := range cs {
		verdict := "PASS"
		if !c.ok {
			verdict, all = "FAIL", false
		}
		fmt.Fprintf(w, "%s  %s: %s\n", verdict, c.name, c.detail)
	}
	return all
}

// redeemFigures is what the redemption wave adds to the baselines: the
// wave itself, baseline (c) and the cost of one token verification.
type redeemFigures struct {
	wave       report
	raw        rawRedeemResult
	verifyEach time.Duration
	verified   int
}

func printBaselines(w io.Writer, cfg config, drop report, mem memory, raw rawResult, empty report, emptyCPU cpuUse, red *redeemFigures) {
	fmt.Fprintf(w, "\n== baselines, same run ==\n")
	if cfg.postgres != "" {
		fmt.Fprintf(w, "(the drop ran on PostgreSQL; baselines (a), (c) and (d) run on SQLite, in-process, synchronous=%s: the ratios against them compare the two backends)\n", cfg.sync)
	}
	fmt.Fprintf(w, "(a) raw claim transaction, in-process, synchronous=%s, %d goroutines: %d claims in %.2f s → %.0f claims/s",
		cfg.sync, cfg.rawWorkers, raw.claims, raw.elapsed.Seconds(), raw.rate())
	if raw.errors > 0 {
		fmt.Fprintf(w, " (%d errors, first: %v)", raw.errors, raw.firstErr)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    (for reference) sold-out transaction on the same store: %d in %.2f s → %.0f /s\n",
		raw.outs, raw.outElapsed.Seconds(), perSecond(raw.outs, raw.outElapsed))
	_, _, emptyRate := empty.soldOutPerSec()
	fmt.Fprintf(w, "(b) empty Echo handler, in-process on loopback, %d connections: %d answers in %.2f s → %.0f answers/s (p50 %s, p99 %s)",
		cfg.conc, empty.answers, empty.wall.Seconds(), emptyRate, ms(empty.all.p50), ms(empty.all.p99))
	if bad := empty.presses - empty.counts[soldOut]; bad > 0 {
		fmt.Fprintf(w, " (%d answers other than the 409)", bad)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    CPU over %.2f s: loadgen, generator and empty server together, %.2f s (%.0f µs/answer)\n",
		empty.wall.Seconds(), emptyCPU.self.Seconds(), float64(emptyCPU.self.Microseconds())/float64(max(1, empty.answers)))
	if red != nil {
		rr := red.raw
		fmt.Fprintf(w, "(c) raw redeem transaction, in-process, synchronous=%s, %d goroutines: %d redemptions in %.2f s → %.0f redemptions/s",
			cfg.sync, cfg.rawWorkers, rr.redeems, rr.elapsed.Seconds(), rr.rate())
		if rr.errors > 0 {
			fmt.Fprintf(w, " (%d errors, first: %v)", rr.errors, rr.firstErr)
		}
		fmt.Fprintf(w, "\n    (untimed setup: fresh database, %d vouchers claimed through Store.Claim, in %.2f s)\n",
			cfg.rawRedeems, rr.setup.Seconds())
		fmt.Fprintf(w, "    (for reference) losing press, already-redeemed transaction on the same store: %d in %.2f s → %.0f /s\n",
			rr.losses, rr.lossesTime.Seconds(), perSecond(rr.losses, rr.lossesTime))
		fmt.Fprintf(w, "token verification in-process (server's key ring, one goroutine): %.1f µs per QR text (%d tokens)\n",
			float64(red.verifyEach.Nanoseconds())/1e3, red.verified)
	}

	fmt.Fprintf(w, "\n== ratios vs targets ==\n")
	target := func(name string, got, base float64) {
		ratio := 0.0
		if base > 0 {
			ratio = got / base
		}
		fmt.Fprintf(w, "%-31s %8.0f / %8.0f = %5.2f   target ≥ 0.50   %s\n", name, got, base, ratio, verdict(ratio >= 0.5))
	}
	target("successful claims/s ÷ (a)", drop.claimsPerSec(), raw.rate())
	_, _, outRate := drop.soldOutPerSec()
	target("sold-out answers/s ÷ (b)", outRate, emptyRate)
	if red != nil {
		target("successful redemptions/s ÷ (c)", red.wave.claimsPerSec(), red.raw.rate())
	}
	mb := float64(mem.hwmKiB) * 1024 / 1e6
	note := ""
	if cfg.residents != 100_000 {
		note = fmt.Sprintf("  (the target is stated for 100,000 residents; this run had %d)", cfg.residents)
	}
	fmt.Fprintf(w, "%-31s %8.1f MB (%.1f MiB)        target ≤ 150 MB   %s%s\n",
		"server peak memory (VmHWM)", mb, mem.hwmMiB(), verdict(mb <= 150), note)
}

func verdict(ok bool) string {
	if ok {
		return "MEETS"
	}
	return "MISSES"
}

// printWave prints the redemption wave.
func printWave(w io.Writer, wv waveRun, r report) {
	o := wv.outcome()
	fmt.Fprintf(w, "\n== the redemption wave ==\n")
	fmt.Fprintf(w, "%d vouchers, %d of them contested (pressed by two cashiers of different merchants at once); %d cashiers at %d merchants; bill %s yuan; QR texts (token verified by the server)\n",
		len(wv.vouchers), o.contested, wv.cashiers, wv.merchants, billText)
	fmt.Fprintf(w, "presses                %7d, last answer after %.2f s\n", r.presses, r.wall.Seconds())
	fmt.Fprintf(w, "answers/s overall      %9.0f  (%d answers / %.2f s)\n", r.answersPerSec(), r.answers, r.wall.Seconds())
	if r.counts[success] > 0 {
		fmt.Fprintf(w, "successful redemptions/s %7.0f  (%d redemptions / %.3f s until the last success)\n",
			r.claimsPerSec(), r.counts[success], r.lastWin.Seconds())
	} else {
		fmt.Fprintf(w, "successful redemptions/s     n/a  (no successful redemptions)\n")
	}
	fmt.Fprintf(w, "contested vouchers: %d of %d won by exactly one press, the other told already_redeemed; %d vouchers won twice, %d never won\n",
		o.contestedOK, o.contested, o.wonTwice, o.neverWon)
	printLatency(w, r)
	printKinds(w, r)
	fmt.Fprintf(w, "answers saying \"database is locked\": %d\n", r.locked)
	printMemory(w, wv.mem)
	printCPU(w, wv.cpu, r)
}
