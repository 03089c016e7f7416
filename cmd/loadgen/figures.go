package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
)

// figures are a run's results as -json writes them: one flat object whose
// keys are stable (docs/performance.md quotes them), so that runs of
// different commits can be compared by a script.
type figures struct {
	Commit    string `json:"commit,omitempty"`
	Backend   string `json:"backend"`   // "sqlite" or "postgres"
	Instances int    `json:"instances"` // voucherd processes serving the drop
	Residents int    `json:"residents"`
	Stock     int    `json:"stock"`
	Conc      int    `json:"conc"`
	Sync      string `json:"synchronous"`

	ClaimsPerS      float64 `json:"claims_per_s"`      // successful claims over HTTP, until the last success
	SoldOutPerS     float64 `json:"sold_out_per_s"`    // sold-out answers once the stock had run out
	AllocationS     float64 `json:"allocation_s"`      // first press to the last voucher issued
	DropS           float64 `json:"drop_s"`            // first press to the last answer
	WinnerP50Ms     float64 `json:"winner_p50_ms"`     // latency of successful claims
	WinnerP99Ms     float64 `json:"winner_p99_ms"`     //
	Unanswered      int     `json:"unanswered"`        // presses without an HTTP answer
	Server5xx       int     `json:"server_5xx"`        //
	RedemptionsPerS float64 `json:"redemptions_per_s"` // successful redemptions (token verified), 0 without the wave

	EchoEmptyPerS        float64 `json:"echo_empty_per_s"`          // baseline (b)
	RawClaimTxPerS       float64 `json:"raw_claim_tx_per_s"`        // baseline (a): Store.Claim in-process
	RawRedeemTxPerS      float64 `json:"raw_redeem_tx_per_s"`       // baseline (c), 0 without the wave
	RawSingleCommitPerS  float64 `json:"raw_single_commit_per_s"`   // baseline (d): the disk's durable commit rate
	ServerPeakMB         float64 `json:"server_peak_mb"`            // VmHWM over the whole run, summed over the instances
	ServerCPUPerAnswerUs float64 `json:"server_cpu_per_answer_us"`  // over the drop, summed over the instances
	LoadgenCPUPerAnsUs   float64 `json:"loadgen_cpu_per_answer_us"` // over the drop
	WriterCommits        int64   `json:"writer_commits"`            // from the servers' logs at shutdown, summed
	WriterSteps          int64   `json:"writer_steps"`              //
	StepsPerCommit       float64 `json:"steps_per_commit"`          //
	InvariantsPass       bool    `json:"invariants_pass"`
}

func (f figures) write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writerStatsLine is what voucherd logs at shutdown (cmd/voucherd Serve).
var writerStatsLine = regexp.MustCompile(`msg="writer stats" commits=(\d+) steps=(\d+)`)

// writerStats reads the writers' commits and steps from the logs of the
// run's n servers on s, summed.
func writerStats(s site, n int) (commits, steps int64, err error) {
	for k := 1; k <= n; k++ {
		path := logPath(s, k)
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, 0, err
		}
		m := writerStatsLine.FindAllSubmatch(b, -1)
		if len(m) == 0 {
			return 0, 0, fmt.Errorf("%s: no writer stats line", path)
		}
		last := m[len(m)-1]
		c, _ := strconv.ParseInt(string(last[1]), 10, 64)
		st, _ := strconv.ParseInt(string(last[2]), 10, 64)
		commits, steps = commits+c, steps+st
	}
	return commits, steps, nil
}

// printTargets prints issue 12's targets, each a ratio of two figures of
// this run (absolute figures move with the machine).
func printTargets(w io.Writer, f figures) {
	fmt.Fprintf(w, "\n== targets (ratios of this run's own figures) ==\n")
	ratio := func(name string, got, base, want float64) {
		r := 0.0
		if base > 0 {
			r = got / base
		}
		fmt.Fprintf(w, "%-44s %9.0f / %9.0f = %5.2f   target ≥ %.1f   %s\n", name, got, base, r, want, verdict(r >= want))
	}
	ratio("successful claims/s ÷ raw single commit/s", f.ClaimsPerS, f.RawSingleCommitPerS, 2)
	if f.RedemptionsPerS > 0 {
		ratio("redemptions/s ÷ raw single commit/s", f.RedemptionsPerS, f.RawSingleCommitPerS, 1)
	}
	ratio("sold-out answers/s ÷ empty Echo answers/s", f.SoldOutPerS, f.EchoEmptyPerS, 0.8)
	fmt.Fprintf(w, "%-44s %9.0f claims/s                 goal ≥ 10000   %s\n", "successful claims/s (absolute)", f.ClaimsPerS, verdict(f.ClaimsPerS >= 10000))
	fmt.Fprintf(w, "%-44s %9.1f ms                       target ≤ 1000  %s\n", "winners' p99", f.WinnerP99Ms, verdict(f.WinnerP99Ms <= 1000))
	limit := 150.0
	if f.Residents > 100_000 {
		limit = 600 // the target stated for 3 M residents
	}
	fmt.Fprintf(w, "%-44s %9.1f MB                       target ≤ %.0f   %s\n", "server peak memory", f.ServerPeakMB, limit, verdict(f.ServerPeakMB <= limit))
	if f.Stock >= 1_000_000 {
		fmt.Fprintf(w, "%-44s %9.1f s                        target ≤ 180   %s (moonshot 120: %s)\n",
			"allocation (first press to last voucher)", f.AllocationS, verdict(f.AllocationS <= 180), verdict(f.AllocationS <= 120))
	}
	if f.WriterCommits > 0 {
		fmt.Fprintf(w, "group commit: %d steps in %d commits = %.1f steps per commit\n", f.WriterSteps, f.WriterCommits, f.StepsPerCommit)
	}
}
