package ingest

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/loadgen"
	"github.com/spanslo/spanslo/slo"
)

func bundledTracker(t testing.TB) *slo.Tracker {
	t.Helper()
	cfg, err := slo.LoadFile("../slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return slo.NewTracker(cfg)
}

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestClassifyCountsEveryEntrySpanOfTheBundledJourneys(t *testing.T) {
	tr := bundledTracker(t)
	g, err := loadgen.New(loadgen.Options{Seed: 7, ErrorRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	td := g.Batch(testNow, 5000)
	res := Classify(td, tr, testNow)

	requests := 0
	for _, tl := range g.Emitted {
		requests += tl.Requests
	}
	if res.Spans != td.SpanCount() || res.Counted != requests || res.Unmatched != res.Spans-requests || res.Rejected() != 0 {
		t.Fatalf("result %+v, want %d spans, %d counted, the rest unmatched", res, td.SpanCount(), requests)
	}
	for _, j := range loadgen.Journeys {
		want := g.Emitted[j.Name]
		avail := tr.SLO(j.Name + "/availability").Series()[0].Cumulative()
		lat := tr.SLO(j.Name + "/latency").Series()[0].Cumulative()
		if avail.Total != float64(want.Requests) || avail.Bad() != float64(want.Errors) {
			t.Errorf("%s availability = %+v, want total %d bad %d", j.Name, avail, want.Requests, want.Errors)
		}
		if lat.Total != float64(want.Requests) || lat.Bad() != float64(want.Slow) {
			t.Errorf("%s latency = %+v, want total %d bad %d", j.Name, lat, want.Requests, want.Slow)
		}
	}
}

func TestClassifyWeighsSampledSpansByTheirThreshold(t *testing.T) {
	tr := bundledTracker(t)
	g, err := loadgen.New(loadgen.Options{Seed: 3, SampleRatio: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	Classify(g.Traces(testNow, 200), tr, testNow)
	var total float64
	for _, ss := range tr.SLOs() {
		if ss.SLO.Name == "availability" {
			total += ss.Series()[0].Cumulative().Total
		}
	}
	if total != 800 {
		t.Fatalf("weighted total = %g, want 200 sampled requests × 4 = 800", total)
	}
}

func TestClassifyRejectsSpansOutsideTheWindows(t *testing.T) {
	tr := bundledTracker(t)
	g, err := loadgen.New(loadgen.Options{Seed: 4, Journeys: []string{"search"}})
	if err != nil {
		t.Fatal(err)
	}
	// The current spans come first: the tracker judges age against the
	// newest bucket a series holds.
	td := ptrace.NewTraces()
	g.Traces(testNow, 5).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	g.Traces(testNow.Add(-40*24*time.Hour), 3).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	g.Traces(testNow.Add(time.Hour), 2).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	res := Classify(td, tr, testNow)
	if res.TooOld != 3 || res.TooNew != 2 || res.Counted != 5 {
		t.Fatalf("result %+v, want 3 too old, 2 too new, 5 counted", res)
	}
}
