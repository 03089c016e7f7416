package app

// Observer is told what the product does as it does it, for operators'
// metrics (app/metrics implements it with Prometheus; cmd/voucherd wires
// it when -metrics-addr is set). Its methods are called on the claim's
// and the redemption's path: they must be cheap and never block.
type Observer interface {
	// Press is one claim press: "issued", or the reason it was refused
	// (sold_out, limit_reached, too_busy, …), whether the store or the
	// cached sold-out state answered it.
	Press(outcome string)
	// Redemption is one redemption attempt: "redeemed", "replayed" (a
	// retry answered with its first result), or the reason it was refused.
	Redemption(outcome string)
	// Reminder is one expiry reminder's send: sent, failed (tried again
	// later) or gave_up (its last attempt failed).
	Reminder(outcome string)
}

type noObserver struct{}

func (noObserver) Press(string)      {}
func (noObserver) Redemption(string) {}
func (noObserver) Reminder(string)   {}

// Observe makes o the App's observer. Call it before serving.
func (a *App) Observe(o Observer) {
	if o == nil {
		o = noObserver{}
	}
	a.obs = o
}

// outcomeOf names an action's result for an Observer: ok when it
// succeeded, else its stable reason ("error" for a failure without one).
func outcomeOf(err error, ok string) string {
	if err == nil {
		return ok
	}
	if r := ErrorReason(err); r != "" {
		return r
	}
	return "error"
}
