package loadgen

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// sendTimeout bounds one request.
const sendTimeout = 30 * time.Second

// deliver sends one batch, retrying while the receiver pushes back. A
// request under way when ctx ends still completes, so the run's counts
// match what the receiver accepted.
func deliver(ctx context.Context, send Sender, td ptrace.Traces, stats *Stats) {
	for {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		r, err := send.Send(sctx, td)
		cancel()
		var bp *BackpressureError
		switch {
		case err == nil:
			stats.Batches.Add(1)
			stats.Spans.Add(int64(td.SpanCount()))
			stats.Rejected.Add(r.Rejected)
			return
		case errors.As(err, &bp):
			stats.Refused.Add(1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(bp.RetryAfter):
			}
		default:
			stats.Failed.Add(1)
			stats.lastErr.Store(&err)
			return
		}
	}
}
