// Package metrics is what voucherd tells operators' monitoring, in
// Prometheus's text format: claims and redemptions by outcome (the
// refusals by their reason), the database writer's queue and commit
// latency, HTTP latency by route, and SMS sends and failures. voucherd
// serves it only on a listen address of its own (-metrics-addr), never on
// the public one.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cqvoucher/app"
)

// Metrics holds one process's collectors, in a registry of its own.
type Metrics struct {
	reg         *prometheus.Registry
	presses     *prometheus.CounterVec
	redemptions *prometheus.CounterVec
	sms         *prometheus.CounterVec
	reminders   *prometheus.CounterVec
	commits     prometheus.Histogram
	requests    *prometheus.HistogramVec
}

// New makes the collectors, with Go's and the process's own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		presses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voucherd_claim_presses_total",
			Help: "Claim presses by outcome: issued, or the reason they were refused (sold_out, limit_reached, too_busy, …).",
		}, []string{"outcome"}),
		redemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voucherd_redemptions_total",
			Help: "Redemption attempts by outcome: redeemed, replayed (a retry answered with its first result), or the reason they were refused.",
		}, []string{"outcome"}),
		sms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voucherd_sms_sends_total",
			Help: "Text messages handed to the SMS gateway, by outcome: sent or failed.",
		}, []string{"outcome"}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voucherd_reminders_total",
			Help: "Expiry reminders handed to the SMS gateway, by outcome: sent, failed (tried again later) or gave_up (the last attempt failed).",
		}, []string{"outcome"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "voucherd_db_commit_seconds",
			Help: "How long each write transaction's COMMIT took (on SQLite, one commit per batch of writes).",
			// From a page-cache write to a slow disk's fsync.
			Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1},
		}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "voucherd_http_request_duration_seconds",
			Help:    "HTTP requests answered, by method, route pattern and status code, and how long they took.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "code"}),
	}
	m.reg.MustRegister(m.presses, m.redemptions, m.sms, m.reminders, m.commits, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Press counts a claim press (app.Observer).
func (m *Metrics) Press(outcome string) { m.presses.WithLabelValues(outcome).Inc() }

// Redemption counts a redemption attempt (app.Observer).
func (m *Metrics) Redemption(outcome string) { m.redemptions.WithLabelValues(outcome).Inc() }

// Reminder counts an expiry reminder's send (app.Observer).
func (m *Metrics) Reminder(outcome string) { m.reminders.WithLabelValues(outcome).Inc() }

// ObserveCommit records one COMMIT's latency (db.Options.ObserveCommit).
func (m *Metrics) ObserveCommit(d time.Duration) { m.commits.Observe(d.Seconds()) }

// ObserveRequest records one answered request (web.Config.ObserveRequest).
func (m *Metrics) ObserveRequest(method, route string, status int, took time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(took.Seconds())
}

// WatchWriterQueue reports queue (the write transactions waiting for the
// database writer or running on it) at every scrape.
func (m *Metrics) WatchWriterQueue(queue func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "voucherd_db_writer_queue",
		Help: "Write transactions waiting for the database writer or running on it; claims beyond -admission-queue are answered too_busy.",
	}, func() float64 { return float64(queue()) }))
}

// CountSMS is s, counting what it sends and what fails.
func (m *Metrics) CountSMS(s app.SMSSender) app.SMSSender { return countingSender{s, m.sms} }

type countingSender struct {
	app.SMSSender
	sends *prometheus.CounterVec
}

func (c countingSender) Send(ctx context.Context, phone, text string) error {
	err := c.SMSSender.Send(ctx, phone, text)
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	c.sends.WithLabelValues(outcome).Inc()
	return err
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
