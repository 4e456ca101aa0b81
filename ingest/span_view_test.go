package ingest

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/slo"
)

func TestSpanViewReadsEachSpansOwnAttributes(t *testing.T) {
	spans := ptrace.NewSpanSlice()
	a := spans.AppendEmpty()
	a.Attributes().PutStr("http.route", "/v1/bookings")
	a.Attributes().PutStr("http.request.method", "POST")
	a.Attributes().PutInt("http.response.status_code", 503)
	a.Attributes().PutStr("SampleRate", "4")
	a.Attributes().PutBool("app.flag", true)
	b := spans.AppendEmpty()
	b.Attributes().PutStr("http.method", "GET")
	b.Attributes().PutStr("http.status_code", "404")
	b.Attributes().PutDouble("SampleRate", 2.5)
	b.TraceState().FromRaw("ot=th:8")
	spans.AppendEmpty() // no attributes at all
	d := spans.AppendEmpty()
	d.Attributes().PutInt("SampleRate", -3) // not a weight
	d.Attributes().PutEmptySlice("http.route")

	keys := []string{"http.route", "http.request.method", "http.method", "http.response.status_code",
		"http.status_code", "SampleRate", "app.flag", "url.path"}
	want := map[int]map[string]slo.Value{
		0: {"http.route": slo.StringValue("/v1/bookings"), "http.request.method": slo.StringValue("POST"),
			"http.response.status_code": slo.IntValue(503), "SampleRate": slo.StringValue("4"), "app.flag": slo.BoolValue(true)},
		1: {"http.method": slo.StringValue("GET"), "http.status_code": slo.StringValue("404"), "SampleRate": slo.DoubleValue(2.5)},
		2: {},
		3: {"SampleRate": slo.IntValue(-3), "http.route": {Type: slo.ValueOther}},
	}
	wantWeight := []float64{4, 2, 1, 1}
	var v spanView
	// Twice round, each span asked in a different order, to catch values
	// left over from the span before.
	for round := range 2 {
		for i := range spans.Len() {
			v.span = spans.At(i)
			for k := range keys {
				key := keys[(k+i+round)%len(keys)]
				got, ok := v.Attr(key)
				w, wok := want[i][key]
				if ok != wok || got != w {
					t.Errorf("span %d %s = %+v, %v; want %+v, %v", i, key, got, ok, w, wok)
				}
			}
			if got := v.Weight(); got != wantWeight[i] || got != Weight(v.span) {
				t.Errorf("span %d weight %g, Weight %g, want %g", i, got, Weight(v.span), wantWeight[i])
			}
		}
	}
}
