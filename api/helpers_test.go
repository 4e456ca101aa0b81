package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// testConfig has a plain SLO, a group-by SLO and trace/dashboard links.
const testConfig = `
dashboard_url: http://dash.example.com
trace_url: https://tempo.example.com/trace/{trace_id}
defaults:
  window: 30d
  min_events: 20
journeys:
  - name: booking
    description: Book a room
    runbook: https://runbooks.example.com/booking
    match:
      service: booking-api
      http_route: /v1/bookings
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
  - name: search
    match:
      service: search-api
    slos:
      - name: availability
        objective: 99.5
        availability: {http_status: 2xx}
        group_by: [app.tier]
        max_series: 4
`

// start is the fake clock's origin: a Saturday noon, so hour buckets and
// the 30-day window are easy to reason about.
var start = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// routeSpan is a root server span of a service and route, named after the
// route, lasting 50 ms and ending at end, with attrs and http.route.
func routeSpan(service, route string, end time.Time, attrs map[string]slo.Value) *slotest.Span {
	s := slotest.Server(service, 0, end, 50*time.Millisecond)
	s.SpanName = "POST " + route
	for k, v := range attrs {
		s.With(k, v)
	}
	return s.With("http.route", slo.StringValue(route))
}

// fakeAlerts is an AlertSource with fixed answers.
type fakeAlerts struct {
	mu     sync.Mutex
	alerts []burnrate.Alert
	rules  map[string][]burnrate.RuleStatus
}

func (f *fakeAlerts) Alerts() []burnrate.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]burnrate.Alert(nil), f.alerts...)
}

func (f *fakeAlerts) Rules(seriesID string) []burnrate.RuleStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rules[seriesID]
}

// env is a running API over a tracker fed through a fake clock.
type env struct {
	t       *testing.T
	now     atomic.Pointer[time.Time]
	tracker atomic.Pointer[slo.Tracker]
	reg     *prometheus.Registry
	alerts  *fakeAlerts
	srv     *httptest.Server
	logs    *syncBuffer
}

func loadConfig(t testing.TB, yaml string) *slo.Config {
	t.Helper()
	cfg, err := slo.Load([]byte(yaml), "slos.yaml")
	if err != nil {
		t.Fatalf("load test config: %v", err)
	}
	return cfg
}

// newEnv starts the API; edit adjusts the options before New.
func newEnv(t *testing.T, yaml string, edit func(*Options)) *env {
	t.Helper()
	e := &env{t: t, reg: prometheus.NewRegistry(), alerts: &fakeAlerts{}, logs: &syncBuffer{}}
	now := start
	e.now.Store(&now)
	e.tracker.Store(slo.NewTracker(loadConfig(t, yaml)))
	opts := Options{
		Tracker:  e.tracker.Load,
		Alerts:   e.alerts,
		Registry: e.reg,
		Now:      e.clock,
		Logger:   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&opts)
	}
	e.srv = httptest.NewServer(New(opts))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) setNow(t time.Time) { e.now.Store(&t) }

// feed counts good and bad events (weights) for a service at the fake now.
func (e *env) feed(service, route string, good, bad float64, attrs map[string]slo.Value) {
	e.t.Helper()
	now := *e.now.Load()
	tr := e.tracker.Load()
	if good > 0 {
		s := routeSpan(service, route, now, attrs)
		if o := tr.Observe(s, good, now); o != slo.Counted {
			e.t.Fatalf("good span: outcome %v", o)
		}
	}
	if bad > 0 {
		s := routeSpan(service, route, now, attrs).WithStatus(slo.StatusError).
			WithTrace(slo.TraceID{0xab, 0xcd, 15: byte(bad)})
		if o := tr.Observe(s, bad, now); o != slo.Counted {
			e.t.Fatalf("bad span: outcome %v", o)
		}
	}
}

// do sends a request and returns the status and body.
func (e *env) do(method, path string, body io.Reader, header map[string]string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, b
}

// getJSON GETs path, checks the status and decodes the JSON body into v.
func (e *env) getJSON(path string, wantStatus int, v any) {
	e.t.Helper()
	status, body := e.do(http.MethodGet, path, nil, nil)
	if status != wantStatus {
		e.t.Fatalf("GET %s: status %d, want %d; body %s", path, status, wantStatus, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		e.t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *env) clock() time.Time { return *e.now.Load() }
