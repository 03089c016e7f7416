package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"cqvoucher/app"
)

// voucherd lottery verify recomputes a published draw: the true one
// passes; a winner swapped for a loser, or a seed that is not the one
// committed to, is refused.
func TestLotteryVerify(t *testing.T) {
	seed := strings.Repeat("5e", 32)
	regs := []int64{3, 5, 8, 13, 21, 34, 55}
	pub := lotteryPublication{CampaignID: 9, Commitment: app.Commitment(seed), Seed: seed,
		Tiers: []app.DrawTier{{TierID: 4, Stock: 3, Registrations: regs, Winners: app.LotteryWinners(seed, 4, 3, regs)}}}
	run := func(p lotteryPublication) (string, error) {
		raw, _ := json.Marshal(p)
		var out bytes.Buffer
		err := lotteryVerify([]string{"verify", "-"}, bytes.NewReader(raw), &out)
		return out.String(), err
	}
	if out, err := run(pub); err != nil || !strings.Contains(out, "the draw follows from the committed seed") {
		t.Fatalf("the true draw: %v\n%s", err, out)
	}
	tampered := pub
	tampered.Tiers = []app.DrawTier{pub.Tiers[0]}
	loser := int64(0)
	for _, r := range regs {
		if !strings.Contains(" "+ids(pub.Tiers[0].Winners)+" ", " "+ids([]int64{r})+" ") {
			loser = r
		}
	}
	tampered.Tiers[0].Winners = append([]int64{loser}, pub.Tiers[0].Winners[1:]...)
	if _, err := run(tampered); err == nil {
		t.Fatal("a winner swapped for a loser passed")
	}
	other := pub
	other.Seed = strings.Repeat("00", 32)
	if _, err := run(other); err == nil || !strings.Contains(err.Error(), "commitment") {
		t.Fatalf("a seed other than the committed one: %v", err)
	}
}
