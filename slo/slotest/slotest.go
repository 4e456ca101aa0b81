// Package slotest holds test support for the packages that read spans: a
// fake slo.Span built field by field, and a float comparison. It is for
// tests only; production code must not import it.
package slotest

import (
	"time"

	"github.com/spanslo/spanslo/slo"
)

// Span is a fake slo.Span whose every answer is a field. A nil map answers
// "absent" for every key.
type Span struct {
	SpanName   string
	SpanKind   slo.SpanKind
	Code       slo.StatusCode
	ParentOf   slo.Parent
	Start, End time.Time
	Trace      slo.TraceID
	// Attrs are the span's attributes, Resource its resource's.
	Attrs, Resource map[string]slo.Value
}

var _ slo.Span = (*Span)(nil)

func (s *Span) Name() string           { return s.SpanName }
func (s *Span) Kind() slo.SpanKind     { return s.SpanKind }
func (s *Span) Status() slo.StatusCode { return s.Code }
func (s *Span) Parent() slo.Parent     { return s.ParentOf }
func (s *Span) StartUnixNano() int64   { return s.Start.UnixNano() }
func (s *Span) EndUnixNano() int64     { return s.End.UnixNano() }
func (s *Span) TraceID() slo.TraceID   { return s.Trace }

func (s *Span) Attr(k string) (slo.Value, bool) {
	v, ok := s.Attrs[k]
	return v, ok
}

func (s *Span) ResourceAttr(k string) (slo.Value, bool) {
	v, ok := s.Resource[k]
	return v, ok
}

// Server is a root SERVER span named "POST /v1/bookings" of the given
// service (resource attribute service.name), lasting d and ending at end,
// with status unset, a zero trace id and, unless httpStatus is 0, the
// attribute http.response.status_code.
func Server(service string, httpStatus int, end time.Time, d time.Duration) *Span {
	s := &Span{
		SpanName: "POST /v1/bookings",
		SpanKind: slo.KindServer,
		ParentOf: slo.ParentNone,
		Start:    end.Add(-d),
		End:      end,
		Attrs:    map[string]slo.Value{},
		Resource: map[string]slo.Value{"service.name": slo.StringValue(service)},
	}
	if httpStatus != 0 {
		s.Attrs["http.response.status_code"] = slo.IntValue(int64(httpStatus))
	}
	return s
}

// With sets a span attribute and returns s.
func (s *Span) With(k string, v slo.Value) *Span {
	if s.Attrs == nil {
		s.Attrs = map[string]slo.Value{}
	}
	s.Attrs[k] = v
	return s
}

// WithString sets a string span attribute and returns s; an empty v leaves
// the attribute as it was, so an optional attribute can be passed through.
func (s *Span) WithString(k, v string) *Span {
	if v == "" {
		return s
	}
	return s.With(k, slo.StringValue(v))
}

// WithResource sets a resource attribute and returns s.
func (s *Span) WithResource(k string, v slo.Value) *Span {
	if s.Resource == nil {
		s.Resource = map[string]slo.Value{}
	}
	s.Resource[k] = v
	return s
}

// WithStatus sets the span status and returns s.
func (s *Span) WithStatus(c slo.StatusCode) *Span { s.Code = c; return s }

// WithTrace sets the trace id and returns s.
func (s *Span) WithTrace(t slo.TraceID) *Span { s.Trace = t; return s }

// Approx reports whether a and b differ by less than 1e-9, absolutely.
func Approx(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}
