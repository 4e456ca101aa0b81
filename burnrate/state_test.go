package burnrate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// burning returns an evaluator whose availability page-1h fired at minute
// 1 of a total outage, ticked through minute 9, with its series.
func burning(t *testing.T) (*burnrate.Evaluator, *slo.Tracker, *slo.Series) {
	t.Helper()
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{})
	if got := simulate(ev, s, 10, outage(0, 60, 1)); !slices.Equal(got, []string{"1m firing page-1h"}) {
		t.Fatalf("timeline %q", got)
	}
	return ev, tr, s
}

func TestARestoredEvaluatorDoesNotNotifyAgainButStillResolves(t *testing.T) {
	ev, tr, s := burning(t)
	saved, err := ev.State()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(saved), "TEST_PD_KEY") {
		t.Errorf("state holds a secret reference: %s", saved)
	}
	restarted := burnrate.New(tr, burnrate.Options{})
	if err := restarted.Restore(saved); err != nil {
		t.Fatal(err)
	}
	if got, want := len(restarted.Alerts()), len(ev.Alerts()); got != want {
		t.Fatalf("restored %d alerts, want %d", got, want)
	}
	got := simulate2(restarted, s, 10, 70, outage(0, 60, 1))
	want := []string{"22m zone normal->caution", "33m zone caution->freeze", "44m firing budget-exhausted", "65m resolved page-1h", "65m firing page-6h"}
	if !slices.Equal(got, want) {
		t.Errorf("after restore:\n got %q\nwant %q", got, want)
	}
}

func TestRestoreRejectsStateItCannotRead(t *testing.T) {
	ev := burnrate.New(slo.NewTracker(loadConfig(t, testConfig)), burnrate.Options{})
	for name, data := range map[string]string{
		"not json":       "{",
		"another format": `{"version":99}`,
		"an odd state":   `{"version":1,"alerts":[{"key":"a/b","series":"a","rule":"b","state":"pending"}]}`,
		"an odd zone":    `{"version":1,"zones":{"a":"panic"}}`,
	} {
		if err := ev.Restore([]byte(data)); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
}

func TestAReloadResolvesTheAlertsOfSeriesThatWentAway(t *testing.T) {
	ev, _, _ := burning(t)
	// The reloaded config drops the availability SLO.
	reloaded := strings.Replace(testConfig, `      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
`, "", 1)
	tr2 := slo.NewTracker(loadConfig(t, reloaded))
	ev.SetTracker(tr2)
	got := timeline(ev.Tick(tickAt(10)))
	if !slices.Equal(got, []string{"11m resolved page-1h"}) {
		t.Errorf("tick after reload = %q, want page-1h resolved", got)
	}
	if rules := ev.Rules("booking/availability"); rules != nil {
		t.Errorf("rules of a removed SLO: %+v", rules)
	}
	if rules := ev.Rules("booking/latency"); len(rules) != 5 {
		t.Errorf("latency rules = %+v", rules)
	}
}

func TestAReloadKeepsTheStateOfSeriesThatRemain(t *testing.T) {
	ev, _, _ := burning(t)
	tr2 := slo.NewTracker(loadConfig(t, testConfig))
	s2 := series(t, tr2, "booking/availability")
	prefill(s2, 100)
	ev.SetTracker(tr2)
	// The new tracker counts the same outage (its counters restored).
	got := simulate(ev, s2, 12, outage(0, 60, 1))
	if slices.Contains(got, "1m firing page-1h") || slices.Contains(got, "11m resolved page-1h") {
		t.Errorf("reload re-notified or resolved a held alert: %q", got)
	}
}

func TestResolvedAlertsAreListedForTheRetentionOnly(t *testing.T) {
	now := start
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{Now: func() time.Time { return now }, ResolvedRetention: 10 * time.Minute})
	simulate(ev, s, 40, outage(0, 30, 1)) // page-1h resolves at 35m
	now = tickAt(40)
	var resolved []burnrate.Alert
	for _, a := range ev.Alerts() {
		if a.State == burnrate.StateResolved {
			resolved = append(resolved, a)
		}
	}
	if len(resolved) != 1 || resolved[0].Rule != "page-1h" {
		t.Fatalf("resolved alerts = %+v, want page-1h", resolved)
	}
	now = tickAt(46)
	for _, a := range ev.Alerts() {
		if a.Rule == "page-1h" {
			t.Errorf("page-1h still listed 11 minutes after it resolved")
		}
	}
}

func TestAlertsAndRulesAreSafeWhileTicking(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{})
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		simulate(ev, s, 60, outage(0, 30, 1))
		close(done)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, a := range ev.Alerts() {
				a.Route[0] = "mutated" // copies: never reaches the evaluator
				a.Traces = nil
			}
			ev.Rules("booking/availability")
			if _, err := ev.State(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	for _, a := range ev.Alerts() {
		if a.Route[0] == "mutated" {
			t.Errorf("Alerts shares its slices with the evaluator")
		}
	}
}

func TestRunTicksOnTheClockUntilCancelled(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	prefill(series(t, tr, "booking/availability"), 100)
	ev := burnrate.New(tr, burnrate.Options{Now: func() time.Time { return start }})
	ctx, cancel := context.WithCancel(context.Background())
	ticks := 0
	err := ev.Run(ctx, time.Millisecond, func([]burnrate.Event) {
		if ticks++; ticks == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || ticks != 3 {
		t.Errorf("Run returned %v after %d ticks", err, ticks)
	}
	// At start the 1h window is 59 whole minutes of history and the empty minute of start.
	if rules := ev.Rules("booking/availability"); len(rules) == 0 || rules[0].LongEvents != 5900 {
		t.Errorf("Run did not evaluate at the injected clock: %+v", rules)
	}
}

func TestGroupByAlertsNameTheirSeries(t *testing.T) {
	yaml := strings.Replace(testConfig, "availability: {http_status: 2xx}",
		"availability: {http_status: 2xx}\n        group_by: [app.customer]\n        max_series: 10", 1)
	tr := slo.NewTracker(loadConfig(t, yaml))
	for m := 0; m < 10; m++ {
		end := start.Add(time.Duration(m) * time.Minute)
		for i := 0; i < 30; i++ {
			tr.Observe(slotest.Server("booking-api", 200, end, time.Nanosecond).WithString("app.customer", "acme").WithTrace(traceID(m)), 1, end)
		}
	}
	ss := tr.SLO("booking/availability").Series()
	if len(ss) != 1 {
		t.Fatalf("%d series", len(ss))
	}
	// Make acme fail: 30 bad events in the last minute.
	ss[0].Add(start.Add(10*time.Minute).UnixNano(), false, 300, traceID(99))
	events := burnrate.New(tr, burnrate.Options{}).Tick(start.Add(10 * time.Minute))
	var a *burnrate.Alert
	for _, e := range events {
		if e.Alert != nil && e.Alert.Rule == "page-1h" {
			a = e.Alert
		}
	}
	if a == nil {
		t.Fatalf("no page-1h in %d events", len(events))
	}
	if a.SeriesID != `booking/availability{app.customer="acme"}` || a.Labels["app.customer"] != "acme" ||
		a.Key != a.SeriesID+"/page-1h" {
		t.Errorf("alert = key %q series %q labels %v", a.Key, a.SeriesID, a.Labels)
	}
}
