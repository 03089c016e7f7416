package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"cqvoucher/app/apptest"
)

// TestMetricsAfterADropAndJSONLogs runs voucherd as an operator would, with
// -metrics-addr and -log-format json: residents sign in and press through
// the API, then /metrics is scraped from its own address and read with
// Prometheus's own text parser. The public address has no /metrics, and
// every log line a request caused is JSON naming that request.
func TestMetricsAfterADropAndJSONLogs(t *testing.T) {
	logs := &apptest.LogBuffer{}
	buf := newLogBuffer(logs)
	cfg, _, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-log-format", "json",
		"-data", t.TempDir(), "-demo"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Open(ctx, cfg, newLog(buf, cfg.LogFormat))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-served
			m.Close()
			buf.Close()
		}
	}
	t.Cleanup(func() { stop(); requireBalancedBooks(t, cfg.DataDir) })
	base := "http://" + m.Addr()

	call := func(method, path, bearer string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}

	live, err := m.App.LiveCampaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var campaign, tier int64
	limit := 0
	for _, c := range live {
		for _, tr := range c.Tiers {
			if tr.Remaining >= 10 && campaign == 0 {
				campaign, tier, limit = c.ID, tr.ID, c.PerResidentLimit
			}
		}
	}
	if campaign == 0 {
		t.Fatal("the demo data has no live tier with stock")
	}
	// Three residents sign in by SMS code and press until their limit
	// holds: limit issued vouchers and one refusal each.
	const residents = 3
	codeRe := regexp.MustCompile(`[0-9]{6}`)
	for i := range residents {
		phone := fmt.Sprintf("1391234%04d", i)
		if st, _ := call(http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": phone, "consent": true}); st != http.StatusAccepted {
			t.Fatalf("SMS code for %s: %d", phone, st)
		}
		code := codeRe.FindString(m.outbox.Latest()[0].Text)
		st, s := call(http.MethodPost, "/api/v1/resident/sessions", "", map[string]any{"phone": phone, "code": code})
		if st != http.StatusCreated {
			t.Fatalf("sign-in of %s: %d %v", phone, st, s)
		}
		tok, _ := s["token"].(string)
		for p := 0; p <= limit; p++ {
			st, out := call(http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", campaign), tok, map[string]any{"tier_id": tier})
			if want := map[bool]int{true: http.StatusCreated, false: http.StatusConflict}[p < limit]; st != want {
				t.Fatalf("press %d of %s: %d %v, want %d", p+1, phone, st, out, want)
			}
		}
	}

	if res, err := http.Get(base + "/metrics"); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the public address: %d, want 404", res.StatusCode)
	}
	res, err := http.Get("http://" + m.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("the scrape does not parse as Prometheus text: %v", err)
	}
	// value sums the family's samples whose labels include want.
	value := func(name string, want map[string]string) (float64, int) {
		t.Helper()
		f := families[name]
		if f == nil {
			t.Fatalf("no %s in the scrape", name)
		}
		var sum float64
		var n int
	next:
		for _, mt := range f.GetMetric() {
			for k, v := range want {
				found := false
				for _, l := range mt.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			n++
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				sum += mt.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				sum += mt.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				sum += float64(mt.GetHistogram().GetSampleCount())
			}
		}
		return sum, n
	}
	if v, _ := value("voucherd_claim_presses_total", map[string]string{"outcome": "issued"}); v != float64(residents*limit) {
		t.Errorf("presses issued: %v, want %d", v, residents*limit)
	}
	if v, _ := value("voucherd_claim_presses_total", map[string]string{"outcome": "limit_reached"}); v != residents {
		t.Errorf("presses refused at the limit: %v, want %d", v, residents)
	}
	if v, _ := value("voucherd_sms_sends_total", map[string]string{"outcome": "sent"}); v != residents {
		t.Errorf("SMS sent: %v, want %d", v, residents)
	}
	route := map[string]string{"method": "POST", "route": "/api/v1/resident/campaigns/:id/claims", "code": "201"}
	if v, _ := value("voucherd_http_request_duration_seconds", route); v != float64(residents*limit) {
		t.Errorf("claim requests answered 201: %v, want %d", v, residents*limit)
	}
	if v, _ := value("voucherd_db_commit_seconds", nil); v < float64(residents*limit) {
		t.Errorf("commits observed: %v, want at least the %d claims'", v, residents*limit)
	}
	if _, n := value("voucherd_db_writer_queue", nil); n != 1 {
		t.Errorf("writer queue gauge: %d samples", n)
	}

	// The JSON log: every line an object, and every line a request caused
	// naming the request, the domain's as well as the access log's.
	stop()
	byRequest := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("a log line that is not JSON: %q", sc.Text())
		}
		msg, _ := line["msg"].(string)
		id, _ := line["request_id"].(string)
		if msg == "request" && id == "" {
			t.Errorf("an access log line without its request id: %q", sc.Text())
		}
		if id != "" {
			byRequest[id] = append(byRequest[id], msg)
		}
	}
	// Each SMS request logged its text message ("sms") and its access line.
	smsLines := 0
	for _, msgs := range byRequest {
		if strings.Join(msgs, ",") == "sms,request" {
			smsLines++
		}
	}
	if smsLines != residents {
		t.Errorf("requests whose lines were the SMS and the access line: %d, want %d; by request: %v", smsLines, residents, byRequest)
	}
}
