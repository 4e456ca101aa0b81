package ingest

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/slo"
)

// Observer counts classified spans; *slo.Tracker is one. Receivers and
// replay take an Observer so a reload can swap the tracker underneath.
type Observer interface {
	Observe(span slo.Span, weight float64, now time.Time) slo.Outcome
}

// Result tallies what happened to the spans of one batch.
type Result struct {
	Spans     int
	Counted   int
	Unmatched int
	TooOld    int
	TooNew    int
}

// Rejected is how many spans the batch rejected (OTLP partial success).
func (r Result) Rejected() int { return r.TooOld + r.TooNew }

// Classify feeds every span of a batch to the observer. It is the one path
// from decoded spans to SLO events, used by live ingest and replay alike.
func Classify(td ptrace.Traces, obs Observer, now time.Time) Result {
	for {
		s, ok := obs.(*SwappableObserver)
		if !ok {
			break
		}
		var release func()
		obs, release = s.hold() // one tracker for the whole batch
		defer release()
	}
	if tr, ok := obs.(*slo.Tracker); ok {
		return classifyScoped(td, tr, now)
	}
	var res Result
	var v spanView
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		v.setResource(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				v.span = spans.At(k)
				res.Spans++
				res.tally(obs.Observe(&v, Weight(v.span), now))
			}
		}
	}
	return res
}

func (r *Result) tally(o slo.Outcome) {
	switch o {
	case slo.Counted:
		r.Counted++
	case slo.Unmatched:
		r.Unmatched++
	case slo.TooOld:
		r.TooOld++
	case slo.TooNew:
		r.TooNew++
	}
}

var viewPool = sync.Pool{New: func() any { return new(spanView) }}

// classifyScoped is Classify for a Tracker: the journeys a resource's spans
// can match are picked once per resource from its service.name, the spans
// of a resource no journey names are skipped unread, and the sampling
// weight is worked out only for spans that are counted.
func classifyScoped(td ptrace.Traces, tr *slo.Tracker, now time.Time) Result {
	var res Result
	v := viewPool.Get().(*spanView)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		v.setResource(rs.Resource().Attributes())
		sc := tr.Scope(v.service, v.serviceOK)
		sss := rs.ScopeSpans()
		if !sc.Possible() {
			for j := 0; j < sss.Len(); j++ {
				n := sss.At(j).Spans().Len()
				res.Spans += n
				res.Unmatched += n
			}
			continue
		}
		entryOnly := sc.EntryOnly()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				v.span = spans.At(k)
				res.Spans++
				if entryOnly && !v.entry() {
					res.Unmatched++
					continue
				}
				res.tally(sc.Observe(v, now))
			}
		}
	}
	*v = spanView{} // hold no batch in the pool
	viewPool.Put(v)
	tr.AddOutcomes(slo.Counted, res.Counted)
	tr.AddOutcomes(slo.Unmatched, res.Unmatched)
	tr.AddOutcomes(slo.TooOld, res.TooOld)
	tr.AddOutcomes(slo.TooNew, res.TooNew)
	return res
}
