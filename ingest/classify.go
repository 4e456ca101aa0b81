package ingest

import (
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
				switch obs.Observe(&v, Weight(v.span), now) {
				case slo.Counted:
					res.Counted++
				case slo.Unmatched:
					res.Unmatched++
				case slo.TooOld:
					res.TooOld++
				case slo.TooNew:
					res.TooNew++
				}
			}
		}
	}
	return res
}
