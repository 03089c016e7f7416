package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"cqvoucher/app"
)

// lotteryPublication is what /campaigns/{id}/lottery.json publishes after
// a draw.
type lotteryPublication struct {
	CampaignID int64          `json:"campaign_id"`
	Commitment string         `json:"commitment"`
	Seed       string         `json:"seed"`
	Tiers      []app.DrawTier `json:"tiers"`
}

// lotteryVerify recomputes a draw from its publication (a file, or - for
// standard input), with nothing but the published algorithm: the seed
// must hash to the commitment, and each tier's winners must be the ones
// the algorithm gives. It needs no database: anyone can run it.
func lotteryVerify(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) != 2 || args[0] != "verify" {
		return errors.New("usage: voucherd lottery verify FILE (the campaign's /campaigns/ID/lottery.json, or - for standard input)")
	}
	in := stdin
	if args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var pub lotteryPublication
	if err := json.NewDecoder(in).Decode(&pub); err != nil {
		return fmt.Errorf("reading the publication: %w", err)
	}
	if pub.Seed == "" {
		return errors.New("the publication has no seed: the lottery is not drawn yet")
	}
	if app.Commitment(pub.Seed) != pub.Commitment {
		return fmt.Errorf("the seed does not hash to the commitment %s: this is not the seed promised", pub.Commitment)
	}
	bad := 0
	for _, t := range pub.Tiers {
		got := app.LotteryWinners(pub.Seed, t.TierID, t.Stock, t.Registrations)
		fmt.Fprintf(out, "tier %d: %d entries, stock %d, winners %s\n", t.TierID, len(t.Registrations), t.Stock, ids(got))
		if ids(got) != ids(t.Winners) {
			fmt.Fprintf(out, "tier %d: the published winners %s are not the draw's\n", t.TierID, ids(t.Winners))
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d tiers' winners do not follow from the seed", bad)
	}
	fmt.Fprintln(out, "the draw follows from the committed seed")
	return nil
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, " ")
}
