// Package ingest receives OTLP spans and turns them into SLO events.
package ingest

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/slo"
)

// spanView adapts a pdata span to slo.Span without copying it. One view is
// reused for every span of a batch, so classifying allocates nothing per span.
type spanView struct {
	span ptrace.Span
	res  pcommon.Map
	// service.name is what nearly every journey matches on; it is read once
	// per resource rather than once per span and journey.
	service   slo.Value
	serviceOK bool

	// The span attributes the classifier reads on nearly every span it
	// counts (route, method, status code, SampleRate) are found in one pass
	// over the span's attributes, when the first of them is asked for:
	// scanned is the span they were read from, found a bit per key present.
	scanned ptrace.Span
	found   uint8
	known   [numKnown]pcommon.Value
}

// Known span attributes, indexes into spanView.known.
const (
	knownRoute = iota
	knownMethod
	knownMethodOld
	knownStatus
	knownStatusOld
	knownSampleRate
	numKnown
)

func knownAttr(key string) int {
	switch key {
	case "http.route":
		return knownRoute
	case "http.request.method":
		return knownMethod
	case "http.method":
		return knownMethodOld
	case "http.response.status_code":
		return knownStatus
	case "http.status_code":
		return knownStatusOld
	case "SampleRate":
		return knownSampleRate
	}
	return -1
}

// knownValue returns a known attribute of the current span.
func (v *spanView) knownValue(i int) (pcommon.Value, bool) {
	if v.scanned != v.span {
		v.scanned, v.found = v.span, 0
		for k, val := range v.span.Attributes().All() {
			// The first of duplicate keys wins, as in pcommon.Map.Get.
			if j := knownAttr(k); j >= 0 && v.found&(1<<j) == 0 {
				v.found |= 1 << j
				v.known[j] = val
			}
		}
	}
	return v.known[i], v.found&(1<<i) != 0
}

const serviceName = "service.name"

// setResource points the view at the spans of one resource.
func (v *spanView) setResource(res pcommon.Map) {
	v.res = res
	v.service, v.serviceOK = lookup(res, serviceName)
}

var _ slo.WeightedSpan = (*spanView)(nil)

func (v *spanView) Name() string           { return v.span.Name() }
func (v *spanView) Kind() slo.SpanKind     { return slo.SpanKind(v.span.Kind()) }
func (v *spanView) Status() slo.StatusCode { return slo.StatusCode(v.span.Status().Code()) }
func (v *spanView) StartUnixNano() int64   { return int64(v.span.StartTimestamp()) }
func (v *spanView) EndUnixNano() int64     { return int64(v.span.EndTimestamp()) }
func (v *spanView) TraceID() slo.TraceID   { return slo.TraceID(v.span.TraceID()) }

// OTLP span flags: bit 8 says whether bit 9 (parent is remote) is known.
const (
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200
)

// entry is slo.IsEntry read straight from the span.
func (v *spanView) entry() bool {
	switch v.span.Kind() {
	case ptrace.SpanKindServer, ptrace.SpanKindConsumer:
		return true
	}
	return v.span.ParentSpanID().IsEmpty() || v.span.Flags()&(flagHasIsRemote|flagIsRemote) == flagHasIsRemote|flagIsRemote
}

func (v *spanView) Parent() slo.Parent {
	if v.span.ParentSpanID().IsEmpty() {
		return slo.ParentNone
	}
	f := v.span.Flags()
	switch {
	case f&flagHasIsRemote == 0:
		return slo.ParentUnknown
	case f&flagIsRemote != 0:
		return slo.ParentRemote
	default:
		return slo.ParentLocal
	}
}

// Weight is the span's sampling weight; see Weight.
func (v *spanView) Weight() float64 {
	rate, ok := v.knownValue(knownSampleRate)
	return weight(v.span.TraceState().AsRaw(), rate, ok)
}

func (v *spanView) Attr(key string) (slo.Value, bool) {
	var val pcommon.Value
	var ok bool
	if i := knownAttr(key); i >= 0 {
		val, ok = v.knownValue(i)
	} else {
		val, ok = v.span.Attributes().Get(key)
	}
	if !ok {
		return slo.Value{}, false
	}
	// The common types inline: through toValue the value is built out of
	// line and copied back.
	switch val.Type() {
	case pcommon.ValueTypeStr:
		return slo.Value{Type: slo.ValueString, Str: val.Str()}, true
	case pcommon.ValueTypeInt:
		return slo.Value{Type: slo.ValueInt, Int: val.Int()}, true
	}
	return toValue(val), true
}

func (v *spanView) ResourceAttr(key string) (slo.Value, bool) {
	if key == serviceName {
		return v.service, v.serviceOK
	}
	return lookup(v.res, key)
}

func lookup(m pcommon.Map, key string) (slo.Value, bool) {
	val, ok := m.Get(key)
	if !ok {
		return slo.Value{}, false
	}
	return value(val), true
}

// value is toValue with the common string case inline: through toValue it
// costs several times the lookup.
func value(val pcommon.Value) slo.Value {
	if val.Type() == pcommon.ValueTypeStr {
		return slo.Value{Type: slo.ValueString, Str: val.Str()}
	}
	return toValue(val)
}

func toValue(val pcommon.Value) slo.Value {
	switch val.Type() {
	case pcommon.ValueTypeStr:
		return slo.StringValue(val.Str())
	case pcommon.ValueTypeInt:
		return slo.IntValue(val.Int())
	case pcommon.ValueTypeDouble:
		return slo.DoubleValue(val.Double())
	case pcommon.ValueTypeBool:
		return slo.BoolValue(val.Bool())
	case pcommon.ValueTypeEmpty:
		return slo.Value{}
	}
	return slo.Value{Type: slo.ValueOther}
}
