package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify"
	"github.com/spanslo/spanslo/slo"
)

const (
	pdKey     = "R0UT1NGKEYs3cr3tR0UT1NGKEYs3cr3t" // 32 characters, like a real key
	slackPath = "/services/T0SECRET/B0SECRET/XoXsEcReTwEbHoOkToKeN"
)

var t0 = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// golden compares a request body byte for byte with testdata/name.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("request body differs from %s (go test -update rewrites it):\ngot  %s\nwant %s", path, body, want)
	}
}

// clock is a fake clock: Sleep advances it at once and records the wait.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// request is one captured request, stamped with the fake clock.
type request struct {
	At     time.Time
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// server records every request and answers with respond (n counts from 0).
type server struct {
	*httptest.Server
	clock   *clock
	mu      sync.Mutex
	reqs    []request
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newServer(t testing.TB, c *clock, respond func(n int, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{clock: c, respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, request{At: c.Now(), Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		respond := s.respond
		s.mu.Unlock()
		respond(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *server) setRespond(f func(n int, w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

func accepted(_ int, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
}

func slackOK(_ int, w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

// env is a dispatcher wired to fake PagerDuty and Slack servers.
type env struct {
	t        testing.TB
	clock    *clock
	pd       *server
	slack    *server
	cfg      *slo.Config
	opts     notify.Options
	d        *notify.Dispatcher
	logs     *bytes.Buffer
	reg      *prometheus.Registry
	slackURL string
	mu       sync.Mutex
	env      map[string]string
}

func (e *env) setEnv(k, v string) {
	e.mu.Lock()
	e.env[k] = v
	e.mu.Unlock()
}

const configYAML = `dashboard_url: http://dash.example
notifiers:
  - name: oncall
    type: pagerduty
    routing_key_env: TEST_PD_KEY
    url: PDURL
    source: spanslo-test
  - name: chat
    type: slack
    webhook_url_env: TEST_SLACK_URL
    channel: "#reliability"
routes:
  page: [oncall]
  ticket: [chat]
  zone: [chat]
journeys:
  - name: booking
    runbook: https://runbooks.example.com/booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
`

func newEnv(t testing.TB, pdRespond, slackRespond func(int, http.ResponseWriter, *http.Request)) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), logs: &bytes.Buffer{}}
	e.mu.Lock()
	e.env = map[string]string{"TEST_PD_KEY": pdKey}
	e.mu.Unlock()
	e.pd = newServer(t, e.clock, pdRespond)
	e.slack = newServer(t, e.clock, slackRespond)
	e.slackURL = e.slack.URL + slackPath
	e.setEnv("TEST_SLACK_URL", e.slackURL)
	cfg, err := slo.Load([]byte(strings.Replace(configYAML, "PDURL", e.pd.URL, 1)), "slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	e.opts = notify.Options{
		DataDir: t.TempDir(),
		Now:     e.clock.Now,
		Sleep:   e.clock.Sleep,
		Jitter:  func() float64 { return 0 },
		Logger:  slog.New(slog.NewJSONHandler(&syncWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(k string) string {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.env[k]
		},
		AttemptTimeout: 2 * time.Second,
	}
	e.start()
	return e
}

// start (re)creates the dispatcher, as a restart of spanslo does.
func (e *env) start() {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	e.opts.Registerer = e.reg
	d, err := notify.NewDispatcher(e.cfg, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.d = d
}

func (e *env) flush() error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.d.Flush(ctx)
}

func (e *env) health(name string) notify.NotifierHealth {
	for _, h := range e.d.Health() {
		if h.Name == name {
			return h
		}
	}
	e.t.Fatalf("no health for %s", name)
	return notify.NotifierHealth{}
}

// metric reads one sample of a notification metric.
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	e.t.Fatalf("no metric %s %v", name, labels)
	return 0
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// alert is a firing alert of booking/availability for rule.
func alert(rule, severity string, state burnrate.State) *burnrate.Alert {
	a := &burnrate.Alert{
		Key: "booking/availability/" + rule, SLOID: "booking/availability", SeriesID: "booking/availability",
		Journey: "booking", Rule: rule, Severity: severity, State: state,
		Objective: 0.999, Factor: 14.4, LongWindow: time.Hour, ShortWindow: 5 * time.Minute,
		BurnLong: 16.2, BurnShort: 20.1, BudgetRemaining: 0.62, TimeToExhaustion: 30 * time.Hour,
		RunbookURL: "https://runbooks.example.com/booking", DashboardURL: "http://dash.example/#/slo/booking%2Favailability",
		Traces:  []burnrate.TraceLink{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", URL: "http://jaeger.example/trace/4bf92f3577b34da6a3ce929d0e0e4736"}},
		FiredAt: t0.Add(-2 * time.Minute),
	}
	if state == burnrate.StateResolved {
		a.ResolvedAt = t0.Add(40 * time.Minute)
	}
	return a
}

func fire(a *burnrate.Alert) burnrate.Event { return burnrate.Event{Time: a.FiredAt, Alert: a} }

func resolved(a *burnrate.Alert) burnrate.Event {
	r := *a
	r.State, r.ResolvedAt = burnrate.StateResolved, a.FiredAt.Add(40*time.Minute)
	return burnrate.Event{Time: r.ResolvedAt, Alert: &r}
}

// pdEvent is an Events API v2 request body, decoded for assertions.
type pdEvent struct {
	RoutingKey string `json:"routing_key"`
	Action     string `json:"event_action"`
	DedupKey   string `json:"dedup_key"`
	Links      []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Payload *struct {
		Summary   string         `json:"summary"`
		Source    string         `json:"source"`
		Severity  string         `json:"severity"`
		Timestamp string         `json:"timestamp"`
		Component string         `json:"component"`
		Group     string         `json:"group"`
		Details   map[string]any `json:"custom_details"`
	} `json:"payload"`
}

// checkEventsV2 holds a captured request to the Events API v2 rules and
// decodes it.
func checkEventsV2(t *testing.T, r request) pdEvent {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/v2/enqueue" {
		t.Errorf("request %s %s, want POST /v2/enqueue", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if len(r.Body) == 0 || len(r.Body) > 512*1024 {
		t.Fatalf("body of %d bytes", len(r.Body))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	for k := range raw {
		switch k {
		case "routing_key", "event_action", "dedup_key", "links", "images", "client", "client_url", "payload":
		default:
			t.Errorf("unknown top-level field %q", k)
		}
	}
	var ev pdEvent
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.RoutingKey) != 32 {
		t.Errorf("routing_key of %d characters", len(ev.RoutingKey))
	}
	if ev.DedupKey == "" || utf8.RuneCountInString(ev.DedupKey) > 255 {
		t.Errorf("dedup_key %q: empty or over 255", ev.DedupKey)
	}
	switch ev.Action {
	case "trigger":
		p := ev.Payload
		if p == nil {
			t.Fatal("trigger without payload")
		}
		if p.Summary == "" || utf8.RuneCountInString(p.Summary) > 1024 || !utf8.ValidString(p.Summary) {
			t.Errorf("summary of %d characters", utf8.RuneCountInString(p.Summary))
		}
		if p.Source == "" {
			t.Error("no source")
		}
		switch p.Severity {
		case "critical", "error", "warning", "info":
		default:
			t.Errorf("severity %q", p.Severity)
		}
		if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
			t.Errorf("timestamp %q", p.Timestamp)
		}
	case "resolve", "acknowledge":
	default:
		t.Errorf("event_action %q", ev.Action)
	}
	for _, l := range ev.Links {
		if l.Href == "" {
			t.Error("link without href")
		}
	}
	return ev
}

// slackMessage is an incoming-webhook body, decoded for assertions.
type slackMessage struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
	Blocks  []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
		Elements []map[string]any `json:"elements"`
	} `json:"blocks"`
}

// checkSlack holds a captured request to the incoming-webhook rules.
func checkSlack(t *testing.T, r request) slackMessage {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != slackPath {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var m slackMessage
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if m.Text == "" || utf8.RuneCountInString(m.Text) > 40000 {
		t.Errorf("fallback text of %d characters", len(m.Text))
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		t.Errorf("%d blocks", len(m.Blocks))
	}
	for _, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || utf8.RuneCountInString(b.Text.Text) > 150 {
				t.Errorf("bad header %+v", b.Text)
			}
		case "section":
			if b.Text == nil || utf8.RuneCountInString(b.Text.Text) > 3000 || len(b.Fields) > 10 {
				t.Errorf("bad section")
			}
			for _, f := range b.Fields {
				if utf8.RuneCountInString(f.Text) > 2000 {
					t.Errorf("field of %d characters", len(f.Text))
				}
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > 25 {
				t.Errorf("%d action elements", len(b.Elements))
			}
			for _, el := range b.Elements {
				if u, _ := el["url"].(string); el["type"] != "button" || u == "" || len(u) > 3000 {
					t.Errorf("bad button %v", el)
				}
			}
		case "context", "divider":
		default:
			t.Errorf("unexpected block type %q", b.Type)
		}
	}
	return m
}
