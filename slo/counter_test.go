package slo_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

type event struct {
	end    int64 // unix nanoseconds
	good   bool
	weight float64
}

// traffic makes a month of events: traffic that varies 10x between night
// and day, incident bursts, sampled spans with fractional weights, and spans
// that arrive late (out of order), the way a Collector's batches do.
func traffic(start time.Time, days int, seed uint64) []event {
	r := rand.New(rand.NewPCG(seed, 1))
	var evs []event
	for m := 0; m < days*24*60; m++ {
		t := start.Add(time.Duration(m) * time.Minute)
		hour := float64(t.Hour()) + float64(t.Minute())/60
		rate := 1 + 9*(0.5-0.5*math.Cos((hour-4)/24*2*math.Pi)) // 1/min at 4am, 10/min at 4pm
		errRate := 0.001
		switch day := m / 1440; {
		case day == 9 && t.Hour() >= 14 && t.Hour() < 16:
			errRate = 0.5 // a two-hour outage
		case day == 20:
			errRate = 0.02 // a slow burn all day
		}
		n := int(rate) + r.IntN(2)
		for i := 0; i < n; i++ {
			w := 1.0
			switch r.IntN(10) {
			case 0:
				w = 4 // sampled 1 in 4
			case 1:
				w = 4.0 / 3 // ot=th:4 — 2^56 / (2^56 - 2^54)
			}
			end := t.Add(time.Duration(r.Int64N(int64(time.Minute))))
			evs = append(evs, event{end: end.UnixNano(), good: r.Float64() >= errRate, weight: w})
		}
	}
	// Late arrivals: shuffle within a few minutes, and send 1 % hours late.
	for i := range evs {
		j := i + r.IntN(min(50, len(evs)-i))
		evs[i], evs[j] = evs[j], evs[i]
	}
	for k := 0; k < len(evs)/100; k++ {
		i := r.IntN(len(evs) - 600)
		j := i + 300 + r.IntN(300)
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// bruteForce recounts the events in [from, to] bucket indexes at a
// resolution, the definition the counters must meet exactly.
func bruteForce(evs []event, res time.Duration, alignMin int64, from, to int64) slo.Counts {
	var c slo.Counts
	for _, e := range evs {
		idx := (floorDiv(e.end, int64(time.Minute)) + alignMin)
		idx = floorDiv(idx*int64(time.Minute), int64(res))
		if idx >= from && idx <= to {
			c.Total += e.weight
			if e.good {
				c.Good += e.weight
			}
		}
	}
	return c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func checkCounts(t *testing.T, what string, got, want slo.Counts) {
	t.Helper()
	if !closeTo(got.Good, want.Good) || !closeTo(got.Total, want.Total) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

const rolling30d = `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
`

// A month of varied traffic through one series: at every checkpoint every
// window sum, SLI, budget and burn rate equals a brute-force recount of the
// events the series was given, to 1e-9.
func TestWindowsEqualABruteForceRecountOver31Days(t *testing.T) {
	cfg := mustLoad(t, rolling30d)
	s := cfg.SLOs[0]
	ser := slo.NewSeries(s, s.ID, nil)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := traffic(start, 31, 42)
	windows := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}

	var fed []event
	var newest int64
	next := start.Add(5 * time.Hour)
	for i, e := range evs {
		newest = max(newest, e.end)
		// The clock follows the traffic: the newest end time seen so far.
		if !ser.Add(e.end, e.good, e.weight, slo.TraceID{1}) {
			t.Fatalf("event %d rejected", i)
		}
		fed = append(fed, e)
		if newest < next.UnixNano() || i%97 != 0 {
			continue
		}
		now := time.Unix(0, newest)
		next = now.Add(5*time.Hour + 17*time.Minute)
		m := floorDiv(now.UnixNano(), int64(time.Minute))
		for _, d := range windows {
			want := bruteForce(fed, time.Minute, 0, m-int64(d/time.Minute)+1, m)
			got := ser.Rolling(now, d)
			checkCounts(t, now.Format(time.RFC3339)+" "+slo.FormatDuration(d), got, want)
			if !closeTo(got.BurnRate(s.Objective), want.BurnRate(s.Objective)) {
				t.Errorf("burn rate %v: got %v want %v", d, got.BurnRate(s.Objective), want.BurnRate(s.Objective))
			}
		}
		h := floorDiv(now.UnixNano(), int64(time.Hour))
		want := bruteForce(fed, time.Hour, 0, h-720+1, h)
		st := ser.Status(now)
		checkCounts(t, now.Format(time.RFC3339)+" 30d", st.Window, want)
		if !closeTo(st.SLI, want.Good/want.Total) {
			t.Errorf("SLI = %v, want %v", st.SLI, want.Good/want.Total)
		}
		wantBudget := 1 - (1-want.Good/want.Total)/(1-s.Objective)
		if !closeTo(st.BudgetRemaining, wantBudget) {
			t.Errorf("budget remaining = %v, want %v", st.BudgetRemaining, wantBudget)
		}
		if st.Zone != s.Zones.Of(wantBudget) {
			t.Errorf("zone = %v for budget %v", st.Zone, wantBudget)
		}
	}
	if len(fed) < 100000 {
		t.Fatalf("only %d events: the test is too small to mean anything", len(fed))
	}
	// The outage on day 10 burned budget, so the month ends in a lower zone.
	if got := ser.Status(time.Unix(0, evs[len(evs)-1].end)).BudgetRemaining; got > 0.5 {
		t.Errorf("budget remaining after the outage = %v, want < 0.5", got)
	}
}

func TestEventsTooOldOrTooNewAreRejectedAndCounted(t *testing.T) {
	cfg := mustLoad(t, rolling30d)
	tr := slo.NewTracker(cfg)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *slotest.Span {
		s := span(200, time.Millisecond)
		s.End = now.Add(d)
		s.Start = s.End.Add(-time.Millisecond)
		return s
	}
	if got := tr.Observe(at(0), 1, now); got != slo.Counted {
		t.Errorf("a span ending now: %v", got)
	}
	if got := tr.Observe(at(-29*24*time.Hour), 1, now); got != slo.Counted {
		t.Errorf("a span 29 days old: %v, want counted", got)
	}
	// Advance the series a month, then offer a span from before the window.
	if got := tr.Observe(at(31*24*time.Hour), 1, now.Add(31*24*time.Hour)); got != slo.Counted {
		t.Fatalf("a span a month later: %v", got)
	}
	if got := tr.Observe(at(-2*24*time.Hour), 1, now.Add(31*24*time.Hour)); got != slo.TooOld {
		t.Errorf("a span 33 days old: %v, want too_old", got)
	}
	fresh := slo.NewTracker(cfg)
	if got := fresh.Observe(at(-31*24*time.Hour), 1, now); got != slo.TooOld {
		t.Errorf("a span 31 days old offered to a fresh tracker: %v, want too_old", got)
	}
	if got := tr.Observe(at(6*time.Minute), 1, now); got != slo.TooNew {
		t.Errorf("a span 6 minutes in the future: %v, want too_far_in_future", got)
	}
	s := span(200, time.Millisecond)
	s.Resource["service.name"] = slo.StringValue("other")
	if got := tr.Observe(s, 1, now); got != slo.Unmatched {
		t.Errorf("a span of another service: %v", got)
	}
	o := tr.Outcomes()
	if o[slo.Counted] != 3 || o[slo.TooOld] != 1 || o[slo.TooNew] != 1 || o[slo.Unmatched] != 1 {
		t.Errorf("outcomes = %v", o)
	}
}

// A calendar month in a named zone starts at local midnight on the 1st,
// across a DST change, and in a zone with a half-hour offset.
func TestCalendarWindowsFollowTheLocalMonthAcrossDST(t *testing.T) {
	tests := []struct {
		zone      string
		now       time.Time
		wantStart time.Time
	}{
		{"Europe/Paris", time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)},
		{"Europe/Paris", time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)},
		{"Australia/Adelaide", time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 13, 30, 0, 0, time.UTC)},
		{"Asia/Kolkata", time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 18, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.now.Format("Jan 2"), func(t *testing.T) {
			cfg := mustLoad(t, `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        window: month
        time_zone: `+tt.zone+`
        availability: {http_status: 2xx}
`)
			s := cfg.SLOs[0]
			if got := s.Window.Start(tt.now); !got.Equal(tt.wantStart) {
				t.Fatalf("Start = %v, want %v", got.UTC(), tt.wantStart)
			}
			ser := slo.NewSeries(s, s.ID, nil)
			// One event a minute for the 12 days before now: 1 bad in 10.
			var inWindow slo.Counts
			for m := 12 * 24 * 60; m > 0; m-- {
				end := tt.now.Add(-time.Duration(m) * time.Minute)
				good := m%10 != 0
				ser.Add(end.UnixNano(), good, 1, slo.TraceID{})
				if !end.Before(tt.wantStart) {
					inWindow.Total++
					if good {
						inWindow.Good++
					}
				}
			}
			checkCounts(t, "month window", ser.Window(tt.now), inWindow)
		})
	}
}

func TestCalendarWeekAndQuarterStarts(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 11, 21, 15, 0, 0, 0, paris) // a Saturday
	week := slo.Window{Calendar: "week", Location: paris}
	if got, want := week.Start(now), time.Date(2026, 11, 16, 0, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("week start = %v, want Monday %v", got, want)
	}
	q := slo.Window{Calendar: "quarter", Location: paris}
	if got, want := q.Start(now), time.Date(2026, 10, 1, 0, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("quarter start = %v, want %v", got, want)
	}
}

func TestGroupBySplitsSeriesUpToMaxSeriesThenOverflows(t *testing.T) {
	cfg := mustLoad(t, `
journeys:
  - name: search
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
        group_by: [app.customer.tier]
        max_series: 2
`)
	tr := slo.NewTracker(cfg)
	now := time.Unix(0, 1e18)
	for _, tier := range []string{"gold", "silver", "gold", "bronze", "free"} {
		s := span(200, time.Millisecond)
		s.Attrs["app.customer.tier"] = slo.StringValue(tier)
		tr.Observe(s, 1, now)
	}
	got := map[string]float64{}
	for _, ser := range tr.SLOs()[0].Series() {
		got[ser.ID] = ser.Cumulative().Total
	}
	want := map[string]float64{
		`search/availability{app.customer.tier="gold"}`:         2,
		`search/availability{app.customer.tier="silver"}`:       1,
		`search/availability{app.customer.tier="__overflow__"}`: 2,
	}
	if len(got) != len(want) {
		t.Fatalf("series = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestTimeToExhaustion(t *testing.T) {
	period := 30 * 24 * time.Hour
	if got := slo.TimeToExhaustion(1, 14.4, period); got != 50*time.Hour {
		t.Errorf("a full budget at 14.4x lasts %v, want 50h (the workbook's 2 days)", got)
	}
	if got := slo.TimeToExhaustion(0.5, 0, period); got != slo.NoExhaustion {
		t.Errorf("nothing burning: %v", got)
	}
	if got := slo.TimeToExhaustion(-0.1, 3, period); got != 0 {
		t.Errorf("already spent: %v", got)
	}
}
