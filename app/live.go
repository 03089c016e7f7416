package app

import (
	"context"
	"sort"
	"sync"
	"time"
)

// liveWindow is how many seconds of claim history the live view keeps.
const liveWindow = 60

// liveCounter counts one campaign's presses in this process: claims per
// second over the last minute and refusals by reason. It is what an
// officer watches during a drop; it is not stored (the rollups are).
type liveCounter struct {
	mu        sync.Mutex
	second    [liveWindow]int64 // unix second each slot counts
	claims    [liveWindow]int64
	refusals  map[string]int64
	firstSeen time.Time
}

func (a *App) liveFor(campaignID int64) *liveCounter {
	if v, ok := a.liveStats.Load(campaignID); ok {
		return v.(*liveCounter)
	}
	v, _ := a.liveStats.LoadOrStore(campaignID, &liveCounter{refusals: map[string]int64{}, firstSeen: a.now()})
	return v.(*liveCounter)
}

// recordPress counts a press's answer: a claim, or a refusal's reason.
func (a *App) recordPress(campaignID int64, err error) {
	a.obs.Press(outcomeOf(err, "issued"))
	l := a.liveFor(campaignID)
	now := a.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.refusals[ErrorReason(err)]++
		return
	}
	slot := now % liveWindow
	if l.second[slot] != now {
		l.second[slot], l.claims[slot] = now, 0
	}
	l.claims[slot]++
}

// LiveView is what the live page shows.
type LiveView struct {
	PerSecond []int64          `json:"claims_per_second"` // oldest first, the last 60 seconds
	LastTenS  int64            `json:"claims_last_10s"`
	Refusals  map[string]int64 `json:"refusals_by_reason"`
	Since     time.Time        `json:"counting_since"`
	Stock     []Tier           `json:"tiers"`
	Reasons   []string         `json:"reasons"` // refusal reasons, most frequent first; [] (never nil) before the first refusal
	// RemindersToday counts the expiry reminders sent today (Asia/Shanghai)
	// for the campaign's vouchers, by every process (from the database).
	RemindersToday int64 `json:"reminders_sent_today"`
}

// Live reads a campaign's live view: presses from this process's counters,
// stock from the database.
func (a *App) Live(ctx context.Context, by Officer, id int64) (LiveView, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return LiveView{}, err
	}
	v := LiveView{Stock: c.Tiers, Refusals: map[string]int64{}, PerSecond: make([]int64, liveWindow)}
	l := a.liveFor(id)
	now := a.now().Unix()
	l.mu.Lock()
	for i := 0; i < liveWindow; i++ {
		sec := now - int64(liveWindow-1-i)
		if slot := sec % liveWindow; l.second[slot] == sec {
			v.PerSecond[i] = l.claims[slot]
		}
	}
	v.Reasons = make([]string, 0, len(l.refusals))
	for k, n := range l.refusals {
		v.Refusals[k] = n
		v.Reasons = append(v.Reasons, k)
	}
	v.Since = l.firstSeen
	l.mu.Unlock()
	for _, n := range v.PerSecond[liveWindow-10:] {
		v.LastTenS += n
	}
	sort.Slice(v.Reasons, func(i, j int) bool { return v.Refusals[v.Reasons[i]] > v.Refusals[v.Reasons[j]] })
	if v.RemindersToday, err = a.RemindersSentToday(ctx, id); err != nil {
		return LiveView{}, err
	}
	return v, nil
}
