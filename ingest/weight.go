package ingest

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/slo"
)

// Weight is how many spans a sampled span stands for: its OpenTelemetry
// adjusted count from the tracestate threshold (ot=th:T, weight 2^56 /
// (2^56 - T)), else its SampleRate attribute, else 1.
func Weight(span ptrace.Span) float64 {
	ts := span.TraceState().AsRaw()
	if ts != "" {
		if w, ok := thresholdWeight(ts); ok {
			return w
		}
	}
	rate, ok := span.Attributes().Get("SampleRate")
	return weight(ts, rate, ok)
}

// weight is Weight from the span's tracestate and SampleRate attribute.
func weight(tracestate string, sampleRate pcommon.Value, ok bool) float64 {
	if w, ok := thresholdWeight(tracestate); ok {
		return w
	}
	if ok {
		if w := positive(toValue(sampleRate)); w > 0 {
			return w
		}
	}
	return 1
}

// positive reads a SampleRate value; 0 when it is not a positive number.
func positive(v slo.Value) float64 {
	var f float64
	switch v.Type {
	case slo.ValueInt:
		f = float64(v.Int)
	case slo.ValueDouble:
		f = v.Double
	case slo.ValueString:
		f, _ = strconv.ParseFloat(v.Str, 64)
	}
	if f > 0 && !math.IsInf(f, 0) {
		return f
	}
	return 0
}

// thresholdWeight reads the OpenTelemetry sampling threshold from a W3C
// tracestate: the "ot" entry's "th" sub-key, 1 to 14 hex digits, padded on
// the right to 56 bits.
func thresholdWeight(ts string) (float64, bool) {
	for ts != "" {
		var entry string
		entry, ts, _ = strings.Cut(ts, ",")
		entry = strings.TrimSpace(entry)
		val, ok := strings.CutPrefix(entry, "ot=")
		if !ok {
			continue
		}
		for val != "" {
			var kv string
			kv, val, _ = strings.Cut(val, ";")
			th, ok := strings.CutPrefix(kv, "th:")
			if !ok {
				continue
			}
			if len(th) == 0 || len(th) > 14 {
				return 0, false
			}
			t, err := strconv.ParseUint(th, 16, 64)
			if err != nil {
				return 0, false
			}
			t <<= 4 * uint(14-len(th))
			const max = 1 << 56
			return float64(max) / float64(max-t), true
		}
		return 0, false
	}
	return 0, false
}
