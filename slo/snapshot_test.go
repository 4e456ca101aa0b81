package slo_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

const snapYAML = `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        window: WINDOW
        availability: {http_status: 2xx}
      - name: latency
        objective: 99
        window: 7d
        latency: {threshold: 800ms}
        group_by: [GROUPBY]
        max_series: 2
  - name: search
    match: {service: search-api}
    slos:
      - name: availability
        objective: 99.5
        window: month
        time_zone: Asia/Kolkata
        availability: {http_status: 2xx}
`

func snapConfig(t testing.TB, window, groupBy string) *slo.Config {
	t.Helper()
	y := strings.NewReplacer("WINDOW", window, "GROUPBY", groupBy).Replace(snapYAML)
	cfg, err := slo.Load([]byte(y), "slos.yaml")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

var snapStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// snapIngest feeds four days of traffic, every third span bad and every
// tenth one ending well before it arrives, and returns the end time.
func snapIngest(t testing.TB, tr *slo.Tracker, tiers []string) time.Time {
	t.Helper()
	now := snapStart
	for i := 0; now.Before(snapStart.Add(96 * time.Hour)); i++ {
		now = now.Add(7*time.Minute + 13*time.Second)
		code, dur := 200, 100*time.Millisecond
		if i%3 == 0 {
			code, dur = 503, 2*time.Second
		}
		end := now
		if i%10 == 0 {
			end = now.Add(-90 * time.Minute)
		}
		var trace slo.TraceID
		trace[0], trace[1] = byte(i), byte(i>>8)
		for _, svc := range []string{"booking-api", "search-api"} {
			sp := slotest.Server(svc, code, end, dur).WithString("app.tier", tiers[i%len(tiers)]).WithTrace(trace)
			if o := tr.Observe(sp, 1+float64(i%4), now); o != slo.Counted {
				t.Fatalf("span %d: %v", i, o)
			}
		}
	}
	return now
}

type seriesView struct {
	ID                         string
	Status                     slo.Status
	Window, R5m, R1h, R6h, R3d slo.Counts
	Cumulative                 slo.Counts
	Hourly                     []slo.Counts
	Examples                   []slo.Example
}

func snapView(tr *slo.Tracker, now time.Time) []seriesView {
	var out []seriesView
	for _, ss := range tr.SLOs() {
		for _, s := range ss.Series() {
			out = append(out, seriesView{
				ID: s.ID, Status: s.Status(now), Window: s.Window(now),
				R5m: s.Rolling(now, 5*time.Minute), R1h: s.Rolling(now, time.Hour),
				R6h: s.Rolling(now, 6*time.Hour), R3d: s.Rolling(now, 72*time.Hour),
				Cumulative: s.Cumulative(), Hourly: s.Hourly(now.Add(-5*24*time.Hour), now),
				Examples: s.Examples(8),
			})
		}
	}
	return out
}

func TestARestoredTrackerReportsExactlyWhatTheSnapshotHeld(t *testing.T) {
	cfg := snapConfig(t, "30d", "app.tier")
	tr := slo.NewTracker(cfg)
	now := snapIngest(t, tr, []string{"gold", "silver", "bronze"})

	fresh := slo.NewTracker(cfg)
	restored, skipped := fresh.Restore(tr.Snapshot())
	// booking/availability, latency gold+silver+overflow, search/availability
	if restored != 5 || skipped != 0 {
		t.Fatalf("restored %d, skipped %d; want 5, 0", restored, skipped)
	}
	want, got := snapView(tr, now), snapView(fresh, now)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored tracker differs:\n got %+v\nwant %+v", got, want)
	}
	if want[0].Window.Total == 0 || len(want[0].Examples) == 0 {
		t.Fatalf("the test ingested nothing: %+v", want[0])
	}
	// The restored tracker keeps counting on top of what it restored.
	sp := slotest.Server("booking-api", 500, now, 0)
	fresh.Observe(sp, 1, now)
	s := fresh.SLO("booking/availability").Series()[0]
	if got, want := s.Cumulative().Total, want[0].Cumulative.Total+1; got != want {
		t.Fatalf("cumulative after one more event: %v, want %v", got, want)
	}
}

func TestRestoreKeepsTheNewestBucketsWhenTheWindowShrinks(t *testing.T) {
	old := slo.NewTracker(snapConfig(t, "30d", "app.tier"))
	now := snapIngest(t, old, []string{"gold"})
	shorter := slo.NewTracker(snapConfig(t, "3d", "app.tier"))
	if r, s := shorter.Restore(old.Snapshot()); r != 3 || s != 0 {
		t.Fatalf("restored %d, skipped %d; want 3, 0", r, s)
	}
	before := old.SLO("booking/availability").Series()[0]
	after := shorter.SLO("booking/availability").Series()[0]
	if got, want := after.Window(now), before.Rolling(now, 72*time.Hour); got != want || got == before.Window(now) {
		t.Fatalf("3d window after shrinking: %+v, want the old series' last 3 days %+v", got, want)
	}
	if got, want := after.Rolling(now, 5*time.Minute), before.Rolling(now, 5*time.Minute); got != want {
		t.Fatalf("5m window: %+v, want %+v", got, want)
	}
}

func TestRestoreSkipsStatesTheConfigCannotHold(t *testing.T) {
	old := slo.NewTracker(snapConfig(t, "30d", "app.tier"))
	now := snapIngest(t, old, []string{"gold", "silver"})
	tests := []struct {
		name          string
		states        func() []slo.SeriesState
		cfg           *slo.Config
		restored, skp int
	}{
		{"a changed group_by drops the grouped series", old.Snapshot, snapConfig(t, "30d", "app.region"), 2, 2},
		{"a removed SLO is skipped", func() []slo.SeriesState {
			st := old.Snapshot()
			st[0].SLO = "booking/gone"
			return st
		}, snapConfig(t, "30d", "app.tier"), 3, 1},
		{"labels that do not match group_by are skipped", func() []slo.SeriesState {
			st := old.Snapshot()
			st[1].Labels = append(st[1].Labels, "extra")
			return st
		}, snapConfig(t, "30d", "app.tier"), 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := slo.NewTracker(tt.cfg)
			r, s := tr.Restore(tt.states())
			if r != tt.restored || s != tt.skp {
				t.Fatalf("restored %d, skipped %d; want %d, %d", r, s, tt.restored, tt.skp)
			}
			if w := tr.SLO("search/availability").Series()[0].Window(now); w.Total == 0 {
				t.Fatal("the unchanged SLO lost its history")
			}
		})
	}
}

func TestStatesBeyondMaxSeriesAddUpInTheOverflowSeries(t *testing.T) {
	old := slo.NewTracker(snapConfig(t, "30d", "app.tier"))
	now := snapIngest(t, old, []string{"gold", "silver", "bronze", "iron"})
	states := old.Snapshot()
	// Restore into a config with a smaller cap, the grouped series in
	// reverse: the overflow state comes first yet must not take a slot, and
	// what no longer fits adds up in the overflow series.
	var grouped, other []slo.SeriesState
	for _, st := range states {
		if st.SLO == "booking/latency" {
			grouped = append([]slo.SeriesState{st}, grouped...)
		} else {
			other = append(other, st)
		}
	}
	y := strings.NewReplacer("WINDOW", "30d", "GROUPBY", "app.tier", "max_series: 2", "max_series: 1").Replace(snapYAML)
	cfg, err := slo.Load([]byte(y), "slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := slo.NewTracker(cfg)
	if r, s := tr.Restore(append(other, grouped...)); r != 5 || s != 0 {
		t.Fatalf("restored %d, skipped %d; want 5, 0", r, s)
	}
	var total, want slo.Counts
	for _, s := range old.SLO("booking/latency").Series() {
		want = want.Add(s.Window(now))
	}
	series := tr.SLO("booking/latency").Series()
	if len(series) != 2 || series[0].Labels[0] != "silver" || series[1].Labels[0] != slo.OverflowValue {
		t.Fatalf("series %v, want silver plus overflow", series)
	}
	for _, s := range series {
		total = total.Add(s.Window(now))
	}
	if total != want {
		t.Fatalf("grouped total %+v, want %+v", total, want)
	}
}

func TestMigrateKeepsTheHistoryOfSLOsWhoseIDDidNotChange(t *testing.T) {
	old := slo.NewTracker(snapConfig(t, "30d", "app.tier"))
	now := snapIngest(t, old, []string{"gold"})
	y := strings.Replace(snapYAML, "name: search", "name: lookup", 1)
	y = strings.NewReplacer("WINDOW", "30d", "GROUPBY", "app.tier").Replace(y)
	cfg, err := slo.Load([]byte(y), "slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	next := slo.NewTracker(cfg)
	restored, skipped := slo.Migrate(old, next)
	if restored != 2 || skipped != 1 {
		t.Fatalf("restored %d, skipped %d; want 2, 1", restored, skipped)
	}
	if got, want := next.SLO("booking/availability").Series()[0].Status(now),
		old.SLO("booking/availability").Series()[0].Status(now); got != want {
		t.Fatalf("status after reload %+v, want %+v", got, want)
	}
	if w := next.SLO("lookup/availability").Series()[0].Window(now); w.Total != 0 {
		t.Fatalf("a renamed SLO starts empty, got %+v", w)
	}
}

func TestRestoreIncrementsPlacesCountsInTheirBuckets(t *testing.T) {
	tr := slo.NewTracker(snapConfig(t, "30d", "app.tier"))
	s := tr.SLO("booking/availability").Series()[0]
	now := snapStart.Add(10 * 24 * time.Hour)
	var incs []slo.Increment
	for i := 0; i < 48; i++ {
		incs = append(incs, slo.Increment{At: now.Add(-time.Duration(47-i) * time.Hour),
			Counts: slo.Counts{Good: 9, Total: 10}})
	}
	s.RestoreIncrements(incs, slo.Counts{Good: 1000, Total: 1200})
	tests := []struct {
		d    time.Duration
		want slo.Counts
	}{
		{time.Minute, slo.Counts{Good: 9, Total: 10}},
		{24 * time.Hour, slo.Counts{Good: 216, Total: 240}},
		{30 * 24 * time.Hour, slo.Counts{Good: 432, Total: 480}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.d), func(t *testing.T) {
			if got := s.Rolling(now, tt.d); got != tt.want {
				t.Fatalf("rolling %v: %+v, want %+v", tt.d, got, tt.want)
			}
		})
	}
	if got := s.Cumulative(); got != (slo.Counts{Good: 1000, Total: 1200}) {
		t.Fatalf("cumulative %+v", got)
	}
}
