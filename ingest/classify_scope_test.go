package ingest

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/loadgen"
	"github.com/spanslo/spanslo/slo"
)

// plainObserver hides the Tracker from Classify, forcing the span-by-span
// path every Observer gets.
type plainObserver struct{ tr *slo.Tracker }

func (p plainObserver) Observe(span slo.Span, weight float64, now time.Time) slo.Outcome {
	return p.tr.Observe(span, weight, now)
}

func TestClassifyOfATrackerCountsWhatAnyObserverCounts(t *testing.T) {
	g, err := loadgen.New(loadgen.Options{Seed: 11, ErrorRate: 0.05, SampleRatio: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	g.Batch(testNow, 3000).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	g.Batch(testNow.Add(-40*24*time.Hour), 100).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	g.Batch(testNow.Add(time.Hour), 100).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	// A resource without service.name, and one whose spans carry the
	// older http.method and a SampleRate attribute.
	rs := td.ResourceSpans().AppendEmpty()
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetEndTimestamp(1)
	rs = td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "booking-api")
	sp = rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time.Minute)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(testNow.Add(-time.Minute + 5*time.Millisecond)))
	sp.Attributes().PutStr("http.method", "POST")
	sp.Attributes().PutStr("http.route", "/v1/bookings")
	sp.Attributes().PutInt("SampleRate", 10)

	plain, fast, swapped := bundledTracker(t), bundledTracker(t), bundledTracker(t)
	want := Classify(td, plainObserver{plain}, testNow)
	got := Classify(td, fast, testNow)
	viaSwap := Classify(td, NewSwappableObserver(swapped), testNow)
	if got != want || viaSwap != want {
		t.Fatalf("tracker result %+v, through a swappable observer %+v, span by span %+v", got, viaSwap, want)
	}
	if want.Counted == 0 || want.TooOld == 0 || want.TooNew == 0 || want.Unmatched == 0 {
		t.Fatalf("the batch does not exercise every outcome: %+v", want)
	}
	for o, n := range plain.Outcomes() {
		if fast.Outcomes()[o] != n || swapped.Outcomes()[o] != n {
			t.Errorf("outcome %v: %d and %d, span by span %d", o, fast.Outcomes()[o], swapped.Outcomes()[o], n)
		}
	}
	for i, ss := range plain.SLOs() {
		w := ss.Series()[0].Cumulative()
		if g := fast.SLOs()[i].Series()[0].Cumulative(); g != w {
			t.Errorf("%s: %+v, span by span %+v", ss.SLO.ID, g, w)
		}
		if g := swapped.SLOs()[i].Series()[0].Cumulative(); g != w {
			t.Errorf("%s through a swappable observer: %+v, span by span %+v", ss.SLO.ID, g, w)
		}
	}
	// The last span alone: its weight comes from SampleRate.
	one := ptrace.NewTraces()
	rs.CopyTo(one.ResourceSpans().AppendEmpty())
	tr := bundledTracker(t)
	if res := Classify(one, tr, testNow); res.Counted != 1 {
		t.Fatalf("the booking span with http.method is not counted: %+v", res)
	}
	if c := tr.SLO("booking/availability").Series()[0].Cumulative(); c.Total != 10 {
		t.Fatalf("booking availability %+v, want the SampleRate weight 10", c)
	}
}
