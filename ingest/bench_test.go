package ingest

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/spanslo/spanslo/loadgen"
	"github.com/spanslo/spanslo/slo"
)

const benchBatches = 8

// benchData is realistic 1 000-span batches (several services, 6–9 spans
// per trace, semconv attributes, 2 % errors), pre-encoded as protobuf.
func benchData(b *testing.B) (encoded [][]byte, spans int) {
	g, err := loadgen.New(loadgen.Options{Seed: 99, ErrorRate: 0.02})
	if err != nil {
		b.Fatal(err)
	}
	for range benchBatches {
		td := g.Batch(testNow, 1000)
		spans += td.SpanCount()
		encoded = append(encoded, encode(b, td, ctProtobuf))
	}
	return encoded, spans / benchBatches
}

func perSpan(b *testing.B, spans int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(spans), "ns/span")
}

// BenchmarkIngest compares decoding alone with decoding plus classifying
// and counting, on the same batches: the cost spanslo adds to the decode.
func BenchmarkIngest(b *testing.B) {
	encoded, spans := benchData(b)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(encoded[i%benchBatches]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		perSpan(b, spans)
	})
	b.Run("decode+classify+count", func(b *testing.B) {
		tr := bundledTracker(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(encoded[i%benchBatches]); err != nil {
				b.Fatal(err)
			}
			Classify(req.Traces(), tr, testNow)
			i++
		}
		perSpan(b, spans)
	})
}

// BenchmarkClassify measures classify + count alone on decoded batches;
// allocs/op is per batch of ~1 000 spans and must stay 0.
func BenchmarkClassify(b *testing.B) {
	encoded, spans := benchData(b)
	decoded := make([]ptrace.Traces, len(encoded))
	for i, e := range encoded {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(e); err != nil {
			b.Fatal(err)
		}
		decoded[i] = req.Traces()
	}
	tr := bundledTracker(b)
	for _, td := range decoded { // create the series outside the loop
		Classify(td, tr, testNow)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Classify(decoded[i%benchBatches], tr, testNow)
		i++
	}
	perSpan(b, spans)
}

// BenchmarkObserve isolates the Tracker: one matching entry span.
func BenchmarkObserve(b *testing.B) {
	g, _ := loadgen.New(loadgen.Options{Seed: 5, Journeys: []string{"booking"}})
	td := g.Traces(testNow, 1)
	var v spanView
	for _, ss := range td.ResourceSpans().All() {
		if name, _ := ss.Resource().Attributes().Get("service.name"); name.Str() == "booking-api" {
			v.setResource(ss.Resource().Attributes())
			v.span = ss.ScopeSpans().At(0).Spans().At(0)
		}
	}
	tr := bundledTracker(b)
	if tr.Observe(&v, 1, testNow) != slo.Counted {
		b.Fatal("the booking entry span is not counted")
	}
	now := testNow
	b.ReportAllocs()
	for b.Loop() {
		tr.Observe(&v, 1, now)
	}
}

func TestClassifyAllocatesNothingPerSpan(t *testing.T) {
	g, _ := loadgen.New(loadgen.Options{Seed: 98, ErrorRate: 0.02})
	td := g.Batch(testNow, 1000)
	tr := bundledTracker(t)
	Classify(td, tr, testNow)
	allocs := testing.AllocsPerRun(20, func() { Classify(td, tr, testNow) })
	// One allocation per batch at most (the reused span view), none per span.
	if allocs > 1 {
		t.Fatalf("Classify of %d spans allocates %g times", td.SpanCount(), allocs)
	}
}
