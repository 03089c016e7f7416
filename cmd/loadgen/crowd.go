package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// class is how one press was answered.
type class uint8

const (
	success     class = iota // 201: a voucher
	soldOut                  // 409 sold_out / sold_out_next
	limit                    // 409 limit_reached (and the day and tier limits)
	notOpen                  // 409 not_open
	rateLimited              // 429
	other4xx                 // any other 4xx, e.g. 401 signed_out (a session that did not match)
	server5xx                // any 5xx: the issue says never
	transport                // no HTTP answer at all: refused, reset, timeout
	redeemed                 // 409 already_redeemed: the losing press of a contested voucher (redemption wave)
	numClasses
)

var classNames = [numClasses]string{"success", "sold_out", "limit", "not_open", "rate_limited", "other_4xx", "5xx", "transport", "already_redeemed"}

func (c class) String() string { return classNames[c] }

// press is one resident's press, timed from the start of the crowd.
type press struct {
	start, end time.Duration
	class      class
	locked     bool // the body said "database is locked"
	via        int  // the server it went to: an index into the crowd's urls
}

// crowdRun is everything a crowd produced.
type crowdRun struct {
	presses []press
	kinds   map[string]int // "409 ended", "401 signed_out", "transport: …": for errors by kind
}

// request is one press: whose session, what body, which Idempotency-Key.
type request struct {
	bearer string // session token for "Authorization: Bearer"
	body   []byte // nil: the crowd's body
	key    string // Idempotency-Key header; "" sends none (a claim press from the crowd sends none)
}

// crowd sends one POST per request, all at once but never more than conc
// in flight, each on a keep-alive connection: a crowd of phones, bounded
// so that a 2-core machine can play it.
//
// With several servers (urls, one per voucherd) request i goes to
// urls[i mod N]: round-robin per press, as an HTTP load balancer in front
// of the processes spreads requests. Per press rather than per connection
// so that each process gets the same share of the presses whatever its
// speed (a test can say "half the crowd through each"), and adjacent
// requests, the contested pairs of the redemption wave among them, reach
// different processes. Each worker then keeps one connection to each
// server: N × conc connections at most, conc of them busy.
type crowd struct {
	client *http.Client
	urls   []string
	body   []byte
	conc   int
	// answered, if set, hears every press as soon as it is answered (from
	// the crowd's goroutines): a test acts in the middle of a burst.
	answered func(press)
}

func newCrowd(urls []string, body []byte, conc int, timeout time.Duration) *crowd {
	tr := &http.Transport{
		Proxy:       nil, // loopback; an HTTP_PROXY in the environment must not intervene
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// One connection per worker, kept alive: as many idle slots as
		// connections, so that none is closed and re-dialled between presses.
		MaxConnsPerHost:     conc,
		MaxIdleConns:        conc * len(urls),
		MaxIdleConnsPerHost: conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // answers are small; gzip would only cost CPU on both sides
		ForceAttemptHTTP2:   false,
	}
	return &crowd{client: &http.Client{Transport: tr, Timeout: timeout}, urls: urls, body: body, conc: conc}
}

// run makes every token press once, with the crowd's body, and waits for
// every answer.
func (cr *crowd) run(ctx context.Context, tokens []string) crowdRun {
	reqs := make([]request, len(tokens))
	for i, tok := range tokens {
		reqs[i] = request{bearer: tok}
	}
	return cr.runAll(ctx, reqs)
}

// runAll sends every request once and waits for every answer; presses[i]
// is the answer to reqs[i]. Requests are taken in order, so two adjacent
// requests leave within microseconds of each other on different connections.
func (cr *crowd) runAll(ctx context.Context, reqs []request) crowdRun {
	out := crowdRun{presses: make([]press, len(reqs)), kinds: map[string]int{}}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	go0 := make(chan struct{})
	var t0 time.Time
	for range min(cr.conc, len(reqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kinds := map[string]int{}
			<-go0 // all workers start together: 10:00:00
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) || ctx.Err() != nil {
					break
				}
				out.presses[i] = cr.press(ctx, i%len(cr.urls), reqs[i], t0, kinds)
				if cr.answered != nil {
					cr.answered(out.presses[i])
				}
			}
			mu.Lock()
			for k, n := range kinds {
				out.kinds[k] += n
			}
			mu.Unlock()
		}()
	}
	t0 = time.Now()
	close(go0)
	wg.Wait()
	cr.client.CloseIdleConnections() // the next crowd (or baseline) starts from cold connections too
	return out
}

// press sends one request to server via and classifies its answer. The
// latency covers the request and reading the whole answer.
func (cr *crowd) press(ctx context.Context, via int, r request, t0 time.Time, kinds map[string]int) press {
	p := press{start: time.Since(t0), via: via}
	sent := r.body
	if sent == nil {
		sent = cr.body
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cr.urls[via], bytes.NewReader(sent))
	if err != nil {
		panic(err) // the URL is ours
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.bearer)
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	res, err := cr.client.Do(req)
	if err != nil {
		p.end, p.class = time.Since(t0), transport
		kinds["transport: "+shortErr(err)]++
		return p
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	p.end = time.Since(t0)
	if err != nil {
		p.class = transport
		kinds["transport: reading the answer: "+shortErr(err)]++
		return p
	}
	p.locked = bytes.Contains(body, []byte("database is locked"))
	var kind string
	p.class, kind = classify(res.StatusCode, body)
	if kind != "" {
		kinds[kind]++
	}
	return p
}

// classify names an answer's class and, for anything but the expected
// answers, a kind ("409 ended") for the errors-by-kind table.
func classify(status int, body []byte) (class, string) {
	if status == http.StatusCreated {
		return success, ""
	}
	reason := reasonOf(body)
	kind := strconv.Itoa(status) + " " + reason
	switch {
	case status == http.StatusConflict:
		switch reason {
		case "sold_out", "sold_out_next":
			return soldOut, ""
		case "limit_reached", "day_limit_reached", "tier_limit_reached":
			return limit, ""
		case "not_open":
			return notOpen, ""
		case "already_redeemed":
			return redeemed, ""
		}
		return other4xx, kind
	case status == http.StatusTooManyRequests:
		return rateLimited, ""
	case status >= 500:
		return server5xx, kind
	}
	return other4xx, kind // including unexpected 2xx and 3xx: not what a press should get
}

// reasonOf reads the stable error reason of an API answer,
// {"error":{"code":…,"reason":…}}.
func reasonOf(body []byte) string {
	var e struct {
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Reason == "" {
		return "(no reason)"
	}
	return e.Error.Reason
}

// shortErr keeps the informative tail of a transport error, without the
// URL and address that make every instance distinct.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// claimBody is the JSON a phone sends to claim from a tier.
func claimBody(tierID int64) []byte {
	return fmt.Appendf(nil, `{"tier_id":%d}`, tierID)
}
