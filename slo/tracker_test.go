package slo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

const groupedByTenant = `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
        group_by: [tenant]
        max_series: 2
`

// A NUL inside a group-by value must not forge another tenant's series id:
// the evaluator keys alerts by it, and two series with one id flap alerts.
func TestGroupValuesWithANULKeepTheirOwnSeries(t *testing.T) {
	tr := slo.NewTracker(mustLoad(t, groupedByTenant))
	now := time.Unix(0, 1e18)
	for _, tenant := range []string{"x", "x\x00evil"} {
		tr.Observe(span(200, time.Millisecond).WithString("tenant", tenant), 1, now)
	}
	ids := map[string]int{}
	for _, ser := range tr.SLOs()[0].Series() {
		ids[ser.ID]++
		if len(ser.Labels) != 1 {
			t.Errorf("series %s has labels %q, want one per group_by attribute", ser.ID, ser.Labels)
		}
	}
	want := []string{`booking/availability{tenant="x"}`, "booking/availability{tenant=\"x\uFFFDevil\"}"}
	for _, id := range want {
		if ids[id] != 1 {
			t.Errorf("series ids = %v, want each of %q once", ids, want)
		}
	}
}

// Past max_series, every new value goes to the overflow series without a
// lock or an allocation per span.
func TestNewValuesPastTheCapCostNoAllocation(t *testing.T) {
	tr := slo.NewTracker(mustLoad(t, groupedByTenant))
	now := time.Unix(0, 1e18)
	spans := make([]*slotest.Span, 200)
	for i := range spans {
		spans[i] = span(200, time.Millisecond).WithString("tenant", fmt.Sprint("t", i))
	}
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		tr.Observe(spans[i%len(spans)], 1, now)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per span past the cap, want 0", allocs)
	}
	if n := len(tr.SLOs()[0].Series()); n != 3 {
		t.Errorf("%d series, want 2 plus overflow", n)
	}
}

// A span older than every window an SLO reads is rejected, not counted
// where no window will ever see it: for a calendar month, that is before the
// month began and before the longest alert window.
func TestCalendarSLOsRejectSpansBeforeTheirWindows(t *testing.T) {
	cfg := mustLoad(t, `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        window: month
        availability: {http_status: 2xx}
`)
	tr := slo.NewTracker(cfg)
	now := time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)
	ending := func(at time.Time) *slotest.Span {
		return slotest.Server("booking-api", 200, at, time.Millisecond)
	}
	tests := []struct {
		name string
		end  time.Time
		want slo.Outcome
	}{
		{"in the month", time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC), slo.Counted},
		{"last month but inside the 3-day alert window", now.Add(-70 * time.Hour), slo.Counted},
		{"ten days old: in no window", now.Add(-10 * 24 * time.Hour), slo.TooOld},
	}
	for _, tt := range tests {
		if got := tr.Observe(ending(tt.end), 1, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
