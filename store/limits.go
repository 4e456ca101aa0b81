package store

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// Limits checked before a query is evaluated. The engine allocates a
// subquery's every step while evaluating it, and MaxSamples only stops it
// after fifty million of them, so one request such as
// count_over_time(vector(1)[100y:1s]) could exhaust the process' memory.
const (
	// maxConcurrent queries evaluate at once (Prometheus' default); more
	// wait up to queueWait for a slot, then are refused with 503.
	maxConcurrent = 4
	// defaultSubqueryStep is the step of a subquery that names none,
	// Prometheus' default evaluation interval.
	defaultSubqueryStep = time.Minute
	// maxSubquerySteps bounds the steps a subquery evaluates in all,
	// counting the ranges of the query and of the subqueries around it.
	maxSubquerySteps = 1_000_000
	// retentionSlack is how far beyond the retention a range or an offset
	// may reach: nothing is stored there, so anything further is a mistake.
	retentionSlack = 24 * time.Hour
)

// queueWait is how long a query waits for a free slot.
var queueWait = time.Second

// checkQuery parses expr and refuses it if a subquery steps more than a
// range query may (maxPoints per series), if all its subqueries together
// would evaluate more than maxSubquerySteps steps for one series, or if a
// range or offset reaches more than a day beyond the store's retention.
// span is the range query's end minus start (0 for an instant query).
func (s *Store) checkQuery(expr string, span time.Duration) error {
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return badData("%s", err)
	}
	limit := s.opts.Retention + retentionSlack
	var bad error
	parser.Inspect(e, func(node parser.Node, path []parser.Node) error {
		if bad != nil {
			return bad
		}
		switch n := node.(type) {
		case *parser.SubqueryExpr:
			step := n.Step
			if step <= 0 {
				step = defaultSubqueryStep
			}
			if n.Range/step > maxPoints {
				bad = badData("subquery [%s:%s] exceeds the maximum of %d points per series; use a longer step or a shorter range",
					model.Duration(n.Range), model.Duration(step), maxPoints)
				break
			}
			// The subquery is evaluated over the query's span widened by
			// its own range and the range of every subquery around it.
			total := span + n.Range
			for _, p := range path {
				if outer, ok := p.(*parser.SubqueryExpr); ok {
					total += outer.Range
				}
			}
			if total/step > maxSubquerySteps {
				bad = badData("subquery [%s:%s] would evaluate %d steps per series, more than the maximum of %d; use a longer step or a shorter range",
					model.Duration(n.Range), model.Duration(step), total/step, maxSubquerySteps)
				break
			}
			bad = beyondRetention("subquery range", n.Range, limit)
			if bad == nil {
				bad = beyondRetention("offset", n.OriginalOffset, limit)
			}
		case *parser.MatrixSelector:
			bad = beyondRetention("range", n.Range, limit)
		case *parser.VectorSelector:
			bad = beyondRetention("offset", n.OriginalOffset, limit)
		}
		return bad
	})
	return bad
}

// beyondRetention refuses a range or offset d (either sign) longer than
// limit.
func beyondRetention(what string, d, limit time.Duration) error {
	if d < 0 {
		d = -d
	}
	if d >= 0 && d <= limit { // -MinInt64 stays negative: refused
		return nil
	}
	return badData("%s %s reaches beyond the %s of history spanslo keeps",
		what, model.Duration(d), model.Duration(limit-retentionSlack))
}

// acquireQuerySlot waits until fewer than maxConcurrent queries evaluate,
// at most queueWait or until ctx ends, and returns the slot's release.
func (s *Store) acquireQuerySlot(ctx context.Context) (func(), error) {
	select {
	case s.querySlots <- struct{}{}:
		return func() { <-s.querySlots }, nil
	default:
	}
	t := time.NewTimer(queueWait)
	defer t.Stop()
	select {
	case s.querySlots <- struct{}{}:
		return func() { <-s.querySlots }, nil
	case <-ctx.Done():
		return nil, execError(ctx.Err())
	case <-t.C:
		return nil, &apiError{http.StatusServiceUnavailable, "unavailable",
			"too many queries at once; try again shortly"}
	}
}
