package slo_test

import (
	"time"

	"github.com/spanslo/spanslo/slo"
)

// fakeSpan is a span built field by field for tests.
type fakeSpan struct {
	name       string
	kind       slo.SpanKind
	status     slo.StatusCode
	parent     slo.Parent
	start, end int64
	trace      slo.TraceID
	attrs, res map[string]slo.Value
}

func (s *fakeSpan) Name() string           { return s.name }
func (s *fakeSpan) Kind() slo.SpanKind     { return s.kind }
func (s *fakeSpan) Status() slo.StatusCode { return s.status }
func (s *fakeSpan) Parent() slo.Parent     { return s.parent }
func (s *fakeSpan) StartUnixNano() int64   { return s.start }
func (s *fakeSpan) EndUnixNano() int64     { return s.end }
func (s *fakeSpan) TraceID() slo.TraceID   { return s.trace }
func (s *fakeSpan) Attr(k string) (slo.Value, bool) {
	v, ok := s.attrs[k]
	return v, ok
}
func (s *fakeSpan) ResourceAttr(k string) (slo.Value, bool) {
	v, ok := s.res[k]
	return v, ok
}

// span is a booking-api SERVER span with an HTTP status (0: none) and a
// duration, ending at the unix epoch + 1e9 s.
func span(status int, d time.Duration) *fakeSpan {
	end := int64(1e18)
	s := &fakeSpan{name: "POST /v1/bookings", kind: slo.KindServer, parent: slo.ParentRemote,
		start: end - int64(d), end: end, trace: slo.TraceID{1},
		attrs: map[string]slo.Value{}, res: map[string]slo.Value{"service.name": slo.StringValue("booking-api")}}
	if status != 0 {
		s.attrs["http.response.status_code"] = slo.IntValue(int64(status))
	}
	return s
}

func withStatus(s *fakeSpan, c slo.StatusCode) *fakeSpan { s.status = c; return s }

func withAttr(s *fakeSpan, k string, v slo.Value) *fakeSpan { s.attrs[k] = v; return s }
