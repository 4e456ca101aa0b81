package loadgen

import (
	"testing"
	"time"
)

func TestBatchHoldsRealisticTraces(t *testing.T) {
	g, err := New(Options{Seed: 1, ErrorRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	td := g.Batch(now, 1000)
	if n := td.SpanCount(); n < 1000 || n > 1008 {
		t.Fatalf("batch has %d spans, want 1000 to 1008", n)
	}
	perTrace := map[[16]byte]int{}
	services := map[string]bool{}
	for _, rs := range td.ResourceSpans().All() {
		name, _ := rs.Resource().Attributes().Get("service.name")
		services[name.Str()] = true
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				perTrace[sp.TraceID()]++
				if sp.EndTimestamp().AsTime().After(now) || sp.StartTimestamp() > sp.EndTimestamp() {
					t.Fatalf("span %q runs %v..%v, after now or backwards", sp.Name(), sp.StartTimestamp(), sp.EndTimestamp())
				}
			}
		}
	}
	for id, n := range perTrace {
		if n < 6 || n > 9 {
			t.Fatalf("trace %x has %d spans, want 6 to 9", id, n)
		}
	}
	if len(services) < 4 {
		t.Errorf("batch spans %d services, want several: %v", len(services), services)
	}
}

func TestSampledTracesCarryTheirThreshold(t *testing.T) {
	g, err := New(Options{Seed: 2, SampleRatio: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	td := g.Traces(time.Now(), 50)
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				if got := sp.TraceState().AsRaw(); got != "ot=th:c" {
					t.Fatalf("tracestate = %q, want ot=th:c", got)
				}
				r := sp.TraceID()
				if r[9] < 0xc0 {
					t.Fatalf("trace %x kept below the threshold", r)
				}
			}
		}
	}
}

func TestThresholdEncodesTheRejectedFraction(t *testing.T) {
	for _, tc := range []struct {
		ratio float64
		want  string
	}{
		{1, "ot=th:0"},
		{0.5, "ot=th:8"},
		{0.25, "ot=th:c"},
		{0.1, "ot=th:e6666666666666"},
		{0.001, "ot=th:ffbe76c8b43958"},
	} {
		if _, got := Threshold(tc.ratio); got != tc.want {
			t.Errorf("Threshold(%g) = %q, want %q", tc.ratio, got, tc.want)
		}
	}
}

func TestRecurringIncidentIsActiveOnlyInItsStretch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := Incident{Journey: "payment", Start: t0, End: t0.Add(5 * time.Minute), Every: 20 * time.Minute}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{-time.Second, false}, {0, true}, {4 * time.Minute, true}, {5 * time.Minute, false}, {21 * time.Minute, true}, {26 * time.Minute, false}} {
		if got := in.Active(t0.Add(tc.at)); got != tc.want {
			t.Errorf("Active(start+%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestUnknownIncidentJourneyIsRefused(t *testing.T) {
	if _, err := New(Options{Incidents: []Incident{{Journey: "checkout"}}}); err == nil {
		t.Fatal("New accepted an incident on an unknown journey")
	}
}

func TestJourneysRestrictTheMix(t *testing.T) {
	g, err := New(Options{Seed: 5, Journeys: []string{"payment", "cancellation"}})
	if err != nil {
		t.Fatal(err)
	}
	g.Traces(time.Now(), 200)
	for name, tl := range g.Emitted {
		if (name == "payment" || name == "cancellation") != (tl.Requests > 0) {
			t.Errorf("%s got %d requests", name, tl.Requests)
		}
	}
}
