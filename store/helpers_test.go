package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// testYAML has a rolling and a calendar SLO, and a grouped one.
const testYAML = `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
      - name: latency
        objective: 99
        window: 7d
        latency: {threshold: 800ms}
        group_by: [app.tier]
        max_series: 3
  - name: search
    match: {service: search-api}
    slos:
      - name: availability
        objective: 99.5
        window: month
        availability: {http_status: 2xx}
`

func testConfig(t testing.TB) *slo.Config {
	t.Helper()
	cfg, err := slo.Load([]byte(testYAML), "slos.yaml")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// span is a root server span of a service named "request", with an
// app.tier attribute unless tier is "".
func span(service, tier string, end time.Time, dur time.Duration, code int, trace slo.TraceID) *slotest.Span {
	s := slotest.Server(service, code, end, dur).WithString("app.tier", tier).WithTrace(trace)
	s.SpanName = "request"
	return s
}

// clock is a fake clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var start = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)

var tiers = []string{"gold", "silver", "bronze"}

// traffic observes one interval's spans ending at now: n per journey, every
// third bad, the given share arriving late (ending 90 minutes ago), and
// returns how many events it counted per SLO.
func traffic(t testing.TB, tr *slo.Tracker, now time.Time, n int, late bool) {
	t.Helper()
	for i := range n {
		code, dur := 200, 100*time.Millisecond
		if i%3 == 0 {
			code, dur = 500, 2*time.Second
		}
		end := now.Add(-time.Duration(i) * time.Second)
		if late && i%5 == 0 {
			end = now.Add(-90 * time.Minute)
		}
		var trace slo.TraceID
		trace[0], trace[1], trace[2] = byte(i), byte(now.Unix()), byte(now.Unix()>>8)
		for _, svc := range []string{"booking-api", "search-api"} {
			sp := span(svc, tiers[i%len(tiers)], end, dur, code, trace)
			if o := tr.Observe(sp, 1, now); o != slo.Counted {
				t.Fatalf("span %d at %v: %v", i, now, o)
			}
		}
	}
}

// view is everything a restart must keep about a series.
type view struct {
	ID                 string
	Status             slo.Status
	R5m, R1h, R6h, R3d slo.Counts
	Cumulative         slo.Counts
	Hourly             []slo.Counts
	Examples           []slo.Example
}

func views(tr *slo.Tracker, now time.Time) []view {
	var out []view
	for _, ss := range tr.SLOs() {
		for _, s := range ss.Series() {
			out = append(out, view{
				ID: s.ID, Status: s.Status(now),
				R5m: s.Rolling(now, 5*time.Minute), R1h: s.Rolling(now, time.Hour),
				R6h: s.Rolling(now, 6*time.Hour), R3d: s.Rolling(now, 72*time.Hour),
				Cumulative: s.Cumulative(), Hourly: s.Hourly(now.Add(-4*24*time.Hour), now),
				Examples: s.Examples(8),
			})
		}
	}
	return out
}

// totalEvents is the cumulative weighted events of every series.
func totalEvents(tr *slo.Tracker) float64 {
	sum := 0.0
	for _, ss := range tr.SLOs() {
		for _, s := range ss.Series() {
			sum += s.Cumulative().Total
		}
	}
	return sum
}
