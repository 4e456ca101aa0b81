package burnrate_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// outage is steady traffic of 100 events a minute with a share of them bad
// during minutes [from, to).
func outage(from, to int, share float64) traffic {
	return func(m int) (float64, float64) {
		if m >= from && m < to {
			return 100 * (1 - share), 100 * share
		}
		return 100, 0
	}
}

// Each case's times come from the SRE workbook: an error share e burns at
// e / (1 - objective); a rule fires at the first tick after
// factor / burn × long window (detectMinute) and resolves once its short
// window no longer holds enough errors, about one short window after the
// errors stop. A slower tier held back by a firing page fires when that
// page resolves, if it still holds. The budget (0.1 % of 30 days of 100
// events a minute ≈ 4314 bad events) sets the zone and exhaustion times.
func TestAlertsFireAndResolveWhenTheWorkbookSays(t *testing.T) {
	const budget = 1 - 0.999
	tests := []struct {
		name     string
		perMin   float64 // history before start, events a minute
		minutes  int
		traffic  traffic
		timeline []string
	}{
		{
			name:   "a total outage pages within a minute and slower tiers take over as it ages out",
			perMin: 100, minutes: 400, traffic: outage(0, 30, 1),
			timeline: []string{
				at(detectMinute(14.4, 1/budget, time.Hour), "firing page-1h"), // 14.4/1000 × 60m = 0.9m
				"22m zone normal->caution",                                    // 2200 of ≈4316 budget events spent
				at(30+resetMinutes(14.4, 1/budget, 5*time.Minute), "resolved page-1h"),
				"35m firing page-6h", // held back until the 1h page resolved
				at(30+resetMinutes(6, 1/budget, 30*time.Minute), "resolved page-6h"),
				"60m firing ticket-1d", "60m firing ticket-3d",
				at(30+120, "resolved ticket-1d"), // the 2h short window empties
				at(30+360, "resolved ticket-3d"), // the 6h short window empties
			},
		},
		{
			name:   "a 2.5% error rate pages after 35 minutes, then the 6h tier holds until its 30m window clears",
			perMin: 100, minutes: 240, traffic: outage(0, 180, 0.025),
			timeline: []string{
				at(detectMinute(14.4, 0.025/budget, time.Hour), "firing page-1h"), // 14.4/25 × 60m = 34.6m
				at(180+resetMinutes(14.4, 0.025/budget, 5*time.Minute), "resolved page-1h"),
				"183m firing page-6h", // 6/25 × 6h = 86m: held since, suppressed
				at(180+resetMinutes(6, 0.025/budget, 30*time.Minute), "resolved page-6h"),
				// 3/25 × 24h = 1/25 × 72h = 173m: both tickets held since, suppressed.
				"203m firing ticket-1d", "203m firing ticket-3d",
			},
		},
		{
			name:   "a 5 minute spike of 10% errors burns the short window only and pages nobody",
			perMin: 100, minutes: 400, traffic: outage(0, 5, 0.10), // 1h burn 100 × 5/60 = 8.3 < 14.4
			timeline: nil,
		},
		{
			name:   "half a minute of total outage stays under the 1h page",
			perMin: 100, minutes: 120, traffic: outage(0, 1, 0.5), // 1h burn 1000 × 0.5/60 = 8.3
			timeline: nil,
		},
		{
			name: "below min_events the 1h tier stays quiet and the 6h tier pages instead",
			// 0.2 events a minute: 12 in an hour (< 20), 72 in six.
			perMin: 0.2, minutes: 61,
			traffic: func(m int) (float64, float64) {
				if m < 30 {
					return 0, 0.2
				}
				return 0.2, 0
			},
			timeline: []string{
				at(detectMinute(6, 1/budget, 6*time.Hour), "firing page-6h"), // 6/1000 × 6h = 2.2m
				"22m zone normal->caution",
				at(30+resetMinutes(6, 1/budget, 30*time.Minute), "resolved page-6h"),
				"60m firing ticket-1d", "60m firing ticket-3d",
			},
		},
		{
			name:   "an hour of total outage spends the budget: caution, freeze, then budget exhausted",
			perMin: 100, minutes: 70, traffic: outage(0, 60, 1),
			timeline: []string{
				"1m firing page-1h",
				"22m zone normal->caution",    // remaining < 50 %: 2160 bad
				"33m zone caution->freeze",    // remaining < 25 %: 3240 bad
				"44m firing budget-exhausted", // remaining ≤ 0: 4320 bad
				at(60+resetMinutes(14.4, 1/budget, 5*time.Minute), "resolved page-1h"),
				"65m firing page-6h",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := slo.NewTracker(loadConfig(t, testConfig))
			s := series(t, tr, "booking/availability")
			prefill(s, tc.perMin)
			ev := burnrate.New(tr, burnrate.Options{})
			if got := timeline(ev.Tick(start)); len(got) != 0 {
				t.Fatalf("first tick on a healthy history reported %v", got)
			}
			got := simulate(ev, s, tc.minutes, tc.traffic)
			if !slices.Equal(got, tc.timeline) {
				t.Errorf("timeline:\n got %q\nwant %q", got, tc.timeline)
			}
		})
	}
}

func at(minute int, what string) string { return fmt.Sprintf("%dm %s", minute, what) }

func TestLowTrafficIsReportedPerRule(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 0.2)
	ev := burnrate.New(tr, burnrate.Options{})
	simulate(ev, s, 10, outage(0, 10, 1)) // traffic is ×100 but only in these 10 minutes
	rules := ev.Rules("booking/availability")
	if len(rules) != 5 {
		t.Fatalf("got %d rule statuses, want 4 rules and budget-exhausted", len(rules))
	}
	// 1h: 50 min × 0.2 + 10 × 100 = 1010 events, so the gate is open.
	if rules[0].State != burnrate.RuleFiring || rules[0].LongEvents < 1000 {
		t.Errorf("page-1h = %+v, want firing with ≈1010 events", rules[0])
	}

	tr2 := slo.NewTracker(loadConfig(t, testConfig))
	s2 := series(t, tr2, "booking/availability")
	prefill(s2, 0.2)
	ev2 := burnrate.New(tr2, burnrate.Options{})
	simulate(ev2, s2, 10, func(int) (float64, float64) { return 0, 0.2 })
	r := ev2.Rules("booking/availability")[0]
	if r.State != burnrate.RuleLowTraffic || r.LongEvents >= r.MinEvents || r.BurnLong < 14.4 {
		t.Errorf("page-1h = %+v, want low_traffic: burning, but 12 events < 20", r)
	}
}

func TestSuppressedTiersAreShownButNotNotified(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{Now: func() time.Time { return start.Add(10 * time.Minute) }})
	simulate(ev, s, 10, outage(0, 30, 1))
	states := map[string]burnrate.State{}
	for _, a := range ev.Alerts() {
		states[a.Rule] = a.State
	}
	want := map[string]burnrate.State{
		"page-1h": burnrate.StateFiring, "page-6h": burnrate.StateSuppressed,
		"ticket-1d": burnrate.StateSuppressed, "ticket-3d": burnrate.StateSuppressed,
	}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("alerts = %v, want %v", states, want)
	}
}

func TestAFiringTicketIsSuppressedByALaterPageWithoutANewNotification(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{})
	// Burn 3.7 (0.37 % errors) trips the tickets after 3/3.7 × 24h =
	// 1/3.7 × 72h ≈ 1168m but no page; ten minutes of total outage at
	// 1180m then page.
	tf := func(m int) (float64, float64) {
		switch {
		case m < 1180:
			return 99.63, 0.37
		case m < 1190:
			return 0, 100
		}
		return 100, 0
	}
	got := simulate(ev, s, 1185, tf)
	var suppressed *burnrate.Alert
	for _, a := range ev.Alerts() {
		if a.Rule == "ticket-1d" {
			suppressed = &a
		}
	}
	if suppressed == nil || suppressed.State != burnrate.StateSuppressed || suppressed.NotifiedAt.IsZero() {
		t.Fatalf("ticket-1d during the page = %+v, want suppressed and already notified", suppressed)
	}
	got = append(got, simulate2(ev, s, 1185, 1700, tf)...)
	count := map[string]int{}
	for _, line := range got {
		_, what, _ := strings.Cut(line, " ")
		count[what]++
	}
	want := map[string]int{
		"firing ticket-1d": 1, "resolved ticket-1d": 1, "firing ticket-3d": 1,
		"firing page-1h": 1, "resolved page-1h": 1, "firing page-6h": 1, "resolved page-6h": 1,
	}
	for what, n := range want {
		if count[what] != n {
			t.Errorf("%q reported %d times, want %d: %q", what, count[what], n, got)
		}
	}
	if got[0] != at(detectMinute(3, 3.7, 24*time.Hour), "firing ticket-1d") {
		t.Errorf("timeline starts %q, want ticket-1d at 3/3.7 × 24h", got[0])
	}
}

func TestAlertsCarryEverythingANotificationNeeds(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	prefill(s, 100)
	ev := burnrate.New(tr, burnrate.Options{})
	var fired, resolved *burnrate.Alert
	for m := 0; m < 40; m++ {
		good, bad := outage(0, 30, 1)(m)
		s.Add(start.Add(time.Duration(m)*time.Minute).UnixNano(), true, good, slo.TraceID{})
		for i := 0; i < 7; i++ { // seven distinct bad traces a minute
			id := traceID(m*10 + i)
			s.Add(start.Add(time.Duration(m)*time.Minute+time.Duration(i)*time.Second).UnixNano(), false, bad/7, id)
		}
		for _, e := range ev.Tick(tickAt(m)) {
			if e.Alert != nil && e.Alert.Rule == "page-1h" && e.Alert.State == burnrate.StateFiring {
				fired = e.Alert
			}
			if e.Alert != nil && e.Alert.Rule == "page-1h" && e.Alert.State == burnrate.StateResolved {
				resolved = e.Alert
			}
		}
	}
	if fired == nil || resolved == nil {
		t.Fatalf("page-1h fired %v, resolved %v", fired != nil, resolved != nil)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"key is series/rule", fired.Key == "booking/availability/page-1h"},
		{"slo, series and journey", fired.SLOID == "booking/availability" && fired.SeriesID == fired.SLOID && fired.Journey == "booking"},
		{"severity page", fired.Severity == "page"},
		{"factor 14.4 and windows", fired.Factor > 14.39 && fired.Factor < 14.41 && fired.LongWindow == time.Hour && fired.ShortWindow == 5*time.Minute},
		{"burn rates of both windows", fired.BurnLong > 14.4 && fired.BurnShort > 190},
		{"budget remaining below 1", fired.BudgetRemaining < 1 && fired.BudgetRemaining > 0.9},
		{"time to exhaustion at the 1h burn", fired.TimeToExhaustion > 0 && fired.TimeToExhaustion < 48*time.Hour},
		{"the SLO's runbook", fired.RunbookURL == "https://runbooks.example/booking"},
		{"a dashboard link", fired.DashboardURL == "https://slo.example/#/slo/booking%2Favailability"},
		{"five example traces, linked", len(fired.Traces) == 5 && fired.Traces[0].URL == "https://tempo.example/trace/"+fired.Traces[0].TraceID},
		{"the page route", slices.Equal(fired.Route, []string{"oncall"})},
		{"fire time", fired.FiredAt.Equal(tickAt(0)) && fired.NotifiedAt.Equal(fired.FiredAt)},
		{"resolve time and duration", resolved.ResolvedAt.Equal(tickAt(34)) && resolved.Duration(time.Time{}) == 34*time.Minute},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: fired %+v resolved %+v", c.what, fired, resolved)
		}
	}
}

func TestASeriesThatStartsOutsideNormalReportsItsZone(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	// 0.06 % errors for 30 days: 60 % of the budget spent, caution.
	for m := -30 * 24 * 60; m < 0; m++ {
		at := start.Add(time.Duration(m) * time.Minute).UnixNano()
		s.Add(at, true, 99.94, slo.TraceID{})
		s.Add(at, false, 0.06, slo.TraceID{})
	}
	ev := burnrate.New(tr, burnrate.Options{})
	events := ev.Tick(start)
	if got := timeline(events); !slices.Equal(got, []string{"0m zone normal->caution"}) {
		t.Fatalf("first tick = %q, want the move to caution", got)
	}
	z := events[0].Zone
	if z.BudgetRemaining < 0.39 || z.BudgetRemaining > 0.41 || !slices.Equal(z.Route, []string{"chat"}) || z.Journey != "booking" {
		t.Errorf("zone change = %+v", z)
	}
	if got := timeline(ev.Tick(start.Add(time.Minute))); len(got) != 0 {
		t.Errorf("second tick repeated the zone: %q", got)
	}
}

// TestAFiringAlertHoldsWhileBurningEvenWhenTrafficDipsBelowMinEvents is the
// low-traffic flap: min_events gates firing only. One failing request
// about every 3 minutes keeps the 1h window at 19 or 20 events (min_events
// is 20) while both windows burn at 1000×; the page fires once and holds,
// and resolves only when its 5m window empties.
func TestAFiringAlertHoldsWhileBurningEvenWhenTrafficDipsBelowMinEvents(t *testing.T) {
	tr := slo.NewTracker(loadConfig(t, testConfig))
	s := series(t, tr, "booking/availability")
	ev := burnrate.New(tr, burnrate.Options{})
	gaps := []int{3, 3, 3, 3, 3, 3, 4} // 19.1 requests an hour on average
	failing := map[int]bool{}
	last := 0
	for m, i := 0, 0; m < 600; m, i = m+gaps[i%len(gaps)], i+1 {
		failing[m], last = true, m
	}
	var got []string
	dipped := 0
	for m := 0; m < last+20; m++ {
		if failing[m] {
			s.Add(start.Add(time.Duration(m)*time.Minute+30*time.Second).UnixNano(), false, 1, traceID(m))
		}
		for _, line := range timeline(ev.Tick(tickAt(m))) {
			if strings.HasSuffix(line, " page-1h") {
				got = append(got, line)
			}
		}
		r := ev.Rules(s.ID)[0]
		if m >= 60 && m <= last && r.LongEvents < r.MinEvents { // after it first fired
			dipped++
			if r.State != burnrate.RuleFiring || r.BurnLong < 999 || r.BurnShort < 999 {
				t.Fatalf("minute %d: page-1h = %+v, want firing: burning 1000× below min_events", m, r)
			}
		}
	}
	if dipped == 0 {
		t.Fatal("the 1h window never dipped below min_events while firing: the scenario does not exercise the gate")
	}
	// The gate opens at the tick ending minute 59; the last request leaves the
	// 5m window six ticks later, as in the workbook cases (resetMinutes).
	want := []string{"60m firing page-1h", at(last+1+resetMinutes(14.4, 1000, 5*time.Minute), "resolved page-1h")}
	if !slices.Equal(got, want) {
		t.Errorf("page-1h timeline:\n got %q\nwant %q (below min_events on %d ticks)", got, want, dipped)
	}
}
