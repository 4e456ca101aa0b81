package slo_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// Adding one event: the per-span cost of counting (target < 50 ns, 0 allocs).
func BenchmarkSeriesAdd(b *testing.B) {
	cfg := mustLoad(b, rolling30d)
	ser := slo.NewSeries(cfg.SLOs[0], cfg.SLOs[0].ID, nil)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		ser.Add(now+i*int64(time.Millisecond), i%100 != 0, 1, slo.TraceID{1})
	}
}

// Classifying and counting one span through the tracker: matchers of five
// journeys, two SLOs each.
func BenchmarkTrackerObserve(b *testing.B) {
	cfg, err := slo.LoadFile("../slos.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tr := slo.NewTracker(cfg)
	s := span(200, 120*time.Millisecond)
	s.Resource["service.name"] = slo.StringValue("booking-api")
	s.Attrs["http.route"] = slo.StringValue("/v1/bookings/{id}")
	s.Attrs["http.request.method"] = slo.StringValue("GET")
	now := s.End
	b.ReportAllocs()
	for b.Loop() {
		if tr.Observe(s, 1, now) != slo.Counted {
			b.Fatal("not counted")
		}
	}
}

// The same span through the scope of its resource, as ingest's Classify
// runs it: only the booking-api journeys are tried, and the weight is asked
// for once the span counts.
func BenchmarkScopeObserve(b *testing.B) {
	cfg, err := slo.LoadFile("../slos.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tr := slo.NewTracker(cfg)
	s := span(200, 120*time.Millisecond)
	s.Attrs["http.route"] = slo.StringValue("/v1/bookings/{id}")
	s.Attrs["http.request.method"] = slo.StringValue("GET")
	asked := 0
	var ws slo.WeightedSpan = weighedSpan{s, 1, &asked} // boxed once
	sc := tr.Scope(slo.StringValue("booking-api"), true)
	now := s.End
	b.ReportAllocs()
	for b.Loop() {
		if sc.Observe(ws, now) != slo.Counted {
			b.Fatal("not counted")
		}
	}
}

// Every window the default rules need, plus the SLO window and status, for
// 1 000 series holding a full month (target < 10 ms).
func BenchmarkAllWindows1000Series(b *testing.B) {
	cfg := mustLoad(b, rolling30d)
	s := cfg.SLOs[0]
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	series := make([]*slo.Series, 1000)
	for i := range series {
		series[i] = slo.NewSeries(s, fmt.Sprint(i), nil)
		for m := 0; m < 30*24*60; m += 7 {
			series[i].Add(start.Add(time.Duration(m)*time.Minute).UnixNano(), m%50 != 0, 1, slo.TraceID{})
		}
	}
	now := start.Add(30*24*time.Hour - 17*time.Minute)
	windows := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		for _, ser := range series {
			for _, d := range windows {
				_ = ser.Rolling(now, d)
			}
			_ = ser.Status(now)
		}
	}
}

// Memory of one series with a 30-day window and the default rules (target
// ≤ 128 KiB), reported as B/series.
func BenchmarkSeriesMemory(b *testing.B) {
	for _, window := range []string{"30d", "month", "quarter"} {
		b.Run(window, func(b *testing.B) {
			cfg := mustLoad(b, `
journeys:
  - name: j
    match: {service: s}
    slos:
      - name: a
        objective: 99.9
        window: `+window+`
        availability: {}
`)
			const n = 200
			keep := make([]*slo.Series, n)
			var before, after runtime.MemStats
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range keep {
					keep[i] = slo.NewSeries(cfg.SLOs[0], "x", nil)
				}
				runtime.ReadMemStats(&after)
			}
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/series")
			runtime.KeepAlive(keep)
		})
	}
}
