package burnrate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// testConfig has one journey with a 99.9 % availability SLO and a 99.5 %
// latency SLO over 30 days, the workbook's default rules and min_events 20.
const testConfig = `
dashboard_url: https://slo.example
trace_url: https://tempo.example/trace/{trace_id}
notifiers:
  - name: oncall
    type: pagerduty
    routing_key_env: TEST_PD_KEY
  - name: chat
    type: slack
    webhook_url_env: TEST_SLACK_URL
routes:
  page: [oncall]
  ticket: [chat]
  zone: [chat]
defaults:
  window: 30d
  min_events: 20
journeys:
  - name: booking
    runbook: https://runbooks.example/booking
    match:
      service: booking-api
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
      - name: latency
        objective: 99.5
        latency: {threshold: 800ms}
`

// start is where scenarios begin: an hour boundary, with 30 days of
// history before it.
var start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func loadConfig(t testing.TB, yaml string) *slo.Config {
	t.Helper()
	cfg, err := slo.Load([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

// series returns the single series of an SLO.
func series(t testing.TB, tr *slo.Tracker, id string) *slo.Series {
	t.Helper()
	ss := tr.SLO(id)
	if ss == nil || len(ss.Series()) != 1 {
		t.Fatalf("no single series for %s", id)
	}
	return ss.Series()[0]
}

// traceID makes a distinct trace id per minute.
func traceID(minute int) slo.TraceID {
	var id slo.TraceID
	id[0] = 0xab
	id[14], id[15] = byte(minute>>8), byte(minute)
	return id
}

// prefill counts perMinute good events in every minute of the 30 days
// before start, without ticking: a steady history.
func prefill(s *slo.Series, perMinute float64) {
	for m := -30 * 24 * 60; m < 0; m++ {
		at := start.Add(time.Duration(m)*time.Minute + 30*time.Second)
		s.Add(at.UnixNano(), true, perMinute, slo.TraceID{})
	}
}

// traffic is the good and bad events of minute m after start.
type traffic func(m int) (good, bad float64)

// tickAt is the last instant of minute m after start: a tick there sees
// every window as whole minutes, the current one included.
func tickAt(m int) time.Time { return start.Add(time.Duration(m+1)*time.Minute - time.Nanosecond) }

// simulate counts traffic minute by minute (events in the middle of each
// minute) and ticks at the end of every minute, like a 1-minute tick. It
// returns the timeline as "minute state rule" strings; minute is the
// tick's offset from start, rounded.
func simulate(ev *burnrate.Evaluator, s *slo.Series, minutes int, tf traffic) []string {
	return simulate2(ev, s, 0, minutes, tf)
}

// simulate2 is simulate for minutes [from, to).
func simulate2(ev *burnrate.Evaluator, s *slo.Series, from, to int, tf traffic) []string {
	var out []string
	for m := from; m < to; m++ {
		good, bad := tf(m)
		at := start.Add(time.Duration(m)*time.Minute + 30*time.Second).UnixNano()
		if good > 0 {
			s.Add(at, true, good, slo.TraceID{})
		}
		if bad > 0 {
			s.Add(at, false, bad, traceID(m))
		}
		out = append(out, timeline(ev.Tick(tickAt(m)))...)
	}
	return out
}

func timeline(events []burnrate.Event) []string {
	var out []string
	for _, e := range events {
		m := int(e.Time.Sub(start).Round(time.Minute) / time.Minute)
		switch {
		case e.Alert != nil:
			out = append(out, fmt.Sprintf("%dm %s %s", m, e.Alert.State, e.Alert.Rule))
		case e.Zone != nil:
			out = append(out, fmt.Sprintf("%dm zone %s->%s", m, e.Zone.From, e.Zone.To))
		}
	}
	return out
}

// detectMinute is the SRE workbook's detection time, factor / burn × long
// window, as the first whole-minute tick after it.
func detectMinute(factor, burn float64, long time.Duration) int {
	return int(factor/burn*long.Minutes()) + 1
}

// resetMinutes is how long after errors stop the short window drops to
// the factor: the first tick k with burn × (short - k) / short ≤ factor.
func resetMinutes(factor, burn float64, short time.Duration) int {
	s := short.Minutes()
	for k := 0; ; k++ {
		if burn*(s-float64(k))/s <= factor {
			return k
		}
	}
}
