package loadgen

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// batch groups spans by service: one ResourceSpans per service.
type batch struct {
	td       ptrace.Traces
	services map[string]ptrace.SpanSlice
}

func newBatch(td ptrace.Traces) *batch {
	return &batch{td: td, services: map[string]ptrace.SpanSlice{}}
}

func (b *batch) spans(service string) ptrace.SpanSlice {
	if ss, ok := b.services[service]; ok {
		return ss
	}
	rs := b.td.ResourceSpans().AppendEmpty()
	a := rs.Resource().Attributes()
	a.PutStr("service.name", service)
	a.PutStr("service.namespace", "booking-platform")
	a.PutStr("service.version", "2026.11.3")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("host.name", service+"-7d9f8c6b5-x2k4p")
	a.PutStr("telemetry.sdk.language", "go")
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	a.PutStr("telemetry.sdk.version", "1.47.0")
	sc := rs.ScopeSpans().AppendEmpty()
	sc.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	sc.Scope().SetVersion("0.71.0")
	ss := sc.Spans()
	b.services[service] = ss
	return ss
}

// OTLP span flags: the parent's remoteness is known (0x100) and remote (0x200).
const (
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200
)

// emit writes one trace of journey j: the entry SERVER span and its steps.
func (g *Generator) emit(b *batch, j *Journey, tid pcommon.TraceID, start, end time.Time, failed bool) int {
	ids := make([]pcommon.SpanID, 0, len(j.steps)+1)
	durs := make([]time.Duration, 0, len(j.steps)+1)
	starts := make([]time.Time, 0, len(j.steps)+1)

	entry := b.spans(j.Service).AppendEmpty()
	var sid pcommon.SpanID
	putRandom(g.rng, sid[:])
	ids, durs, starts = append(ids, sid), append(durs, end.Sub(start)), append(starts, start)
	g.fillSpan(entry, tid, sid, pcommon.SpanID{}, j.Method+" "+j.Route, ptrace.SpanKindServer, start, end)
	entry.SetFlags(flagHasIsRemote)
	a := entry.Attributes()
	a.PutStr("http.request.method", j.Method)
	a.PutStr("http.route", j.Route)
	a.PutStr("url.path", pathOf(j.Route))
	a.PutStr("url.scheme", "https")
	a.PutStr("server.address", "api.booking.example.com")
	a.PutInt("server.port", 443)
	a.PutStr("network.protocol.version", "1.1")
	a.PutStr("client.address", "10.42.3.17")
	a.PutStr("user_agent.original", "booking-web/4.2 (iOS 19.1)")
	a.PutInt("http.response.status_code", statusCode(failed))
	if failed {
		a.PutStr("error.type", "500")
		entry.Status().SetCode(ptrace.StatusCodeError)
	}
	n := 1
	for i := range j.steps {
		st := &j.steps[i]
		if st.optional && g.rng.IntN(2) == 0 {
			// A skipped leaf keeps its slot so parent indexes stay valid.
			ids, durs, starts = append(ids, pcommon.SpanID{}), append(durs, 0), append(starts, start)
			continue
		}
		pd, ps := durs[st.parent], starts[st.parent]
		d := time.Duration(float64(pd) * st.share)
		s0 := ps.Add(time.Duration(g.rng.Float64() * float64(pd-d)))
		putRandom(g.rng, sid[:])
		ids, durs, starts = append(ids, sid), append(durs, d), append(starts, s0)
		sp := b.spans(st.service).AppendEmpty()
		g.fillSpan(sp, tid, sid, ids[st.parent], st.name, st.kind, s0, s0.Add(d))
		if st.service != b.serviceOf(j, st.parent) {
			sp.SetFlags(flagHasIsRemote | flagIsRemote)
		} else {
			sp.SetFlags(flagHasIsRemote)
		}
		stepAttributes(sp, st, failed && st.fails)
		n++
	}
	return n
}

// serviceOf is the service of the trace's span at index i.
func (b *batch) serviceOf(j *Journey, i int) string {
	if i == 0 {
		return j.Service
	}
	return j.steps[i-1].service
}

func (g *Generator) fillSpan(sp ptrace.Span, tid pcommon.TraceID, sid, parent pcommon.SpanID, name string, kind ptrace.SpanKind, start, end time.Time) {
	sp.SetTraceID(tid)
	sp.SetSpanID(sid)
	sp.SetParentSpanID(parent)
	sp.SetName(name)
	sp.SetKind(kind)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	if g.traceState != "" {
		sp.TraceState().FromRaw(g.traceState)
	}
}

func stepAttributes(sp ptrace.Span, st *step, failed bool) {
	a := sp.Attributes()
	switch {
	case st.db != "":
		a.PutStr("db.system.name", st.db)
		a.PutStr("db.operation.name", st.op)
		if st.table != "" {
			a.PutStr("db.collection.name", st.table)
			a.PutStr("db.query.text", st.op+" ... "+st.table+" WHERE id = $1")
		}
		a.PutStr("server.address", st.peer)
	case st.kind == ptrace.SpanKindServer:
		a.PutStr("http.request.method", st.method)
		a.PutStr("http.route", st.route)
		a.PutStr("url.path", pathOf(st.route))
		a.PutStr("url.scheme", "http")
		a.PutInt("http.response.status_code", statusCode(failed))
	case st.kind == ptrace.SpanKindClient:
		a.PutStr("http.request.method", st.method)
		a.PutStr("server.address", st.peer)
		a.PutStr("url.full", "http://"+st.peer+"/v1/")
		a.PutInt("http.response.status_code", statusCode(failed))
	case st.kind == ptrace.SpanKindProducer:
		a.PutStr("messaging.system", "kafka")
		a.PutStr("messaging.operation.type", "send")
		a.PutStr("messaging.destination.name", "bookings")
	default:
		a.PutStr("code.function.name", st.name)
	}
	if failed {
		a.PutStr("error.type", "timeout")
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage("deadline exceeded")
	}
}

// pathOf fills a route template with a plausible id.
func pathOf(route string) string {
	const id = "{id}"
	for i := 0; i+len(id) <= len(route); i++ {
		if route[i:i+len(id)] == id {
			return route[:i] + "b7c1e9" + route[i+len(id):]
		}
	}
	return route
}
