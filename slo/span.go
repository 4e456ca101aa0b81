package slo

// SpanKind is the OpenTelemetry span kind, numbered as in OTLP.
type SpanKind int8

// Span kinds, with the OTLP numbering so adapters can convert by value.
const (
	KindUnspecified SpanKind = iota
	KindInternal
	KindServer
	KindClient
	KindProducer
	KindConsumer
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

func (k SpanKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// StatusCode is the span status, numbered as in OTLP.
type StatusCode int8

// Span status codes.
const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

// Parent says where a span's parent lives, which decides whether the span is
// the entry point of a request into its service.
type Parent int8

const (
	// ParentNone: a root span.
	ParentNone Parent = iota
	// ParentLocal: the parent is in the same process.
	ParentLocal
	// ParentRemote: the parent is in another process (propagated context).
	ParentRemote
	// ParentUnknown: there is a parent, and the exporter did not say where.
	ParentUnknown
)

// TraceID is a W3C trace id.
type TraceID [16]byte

// IsZero reports whether the id is all zeros (invalid in W3C terms).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// String renders the id as 32 lowercase hex digits.
func (t TraceID) String() string {
	const hex = "0123456789abcdef"
	var b [32]byte
	for i, c := range t {
		b[2*i] = hex[c>>4]
		b[2*i+1] = hex[c&0xf]
	}
	return string(b[:])
}

// ValueType is the type of an attribute value.
type ValueType uint8

// Attribute value types; lists and maps are reported as ValueOther.
const (
	ValueEmpty ValueType = iota
	ValueString
	ValueInt
	ValueDouble
	ValueBool
	ValueOther
)

// Value is an attribute value, passed by value so reading it never allocates.
type Value struct {
	Type   ValueType
	Str    string
	Int    int64
	Double float64
	Bool   bool
}

// StringValue, IntValue, DoubleValue and BoolValue build Values.
func StringValue(s string) Value  { return Value{Type: ValueString, Str: s} }
func IntValue(n int64) Value      { return Value{Type: ValueInt, Int: n} }
func DoubleValue(f float64) Value { return Value{Type: ValueDouble, Double: f} }
func BoolValue(b bool) Value      { return Value{Type: ValueBool, Bool: b} }

// Span is the small view of a span that matchers and SLIs read. Adapters at
// the edge (ingest, for pdata) implement it without copying the span, so a
// faster decoder can feed the classifier later without touching it.
type Span interface {
	Name() string
	Kind() SpanKind
	Status() StatusCode
	Parent() Parent
	StartUnixNano() int64
	EndUnixNano() int64
	TraceID() TraceID
	// Attr returns a span attribute.
	Attr(key string) (Value, bool)
	// ResourceAttr returns an attribute of the span's resource.
	ResourceAttr(key string) (Value, bool)
}

// IsEntry reports whether a span is where a request enters a service: a
// SERVER or CONSUMER span, or one whose parent is absent or remote. Counting
// entry spans only counts each request once per service.
func IsEntry(s Span) bool {
	switch s.Kind() {
	case KindServer, KindConsumer:
		return true
	}
	p := s.Parent()
	return p == ParentNone || p == ParentRemote
}
