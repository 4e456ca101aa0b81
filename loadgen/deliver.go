package loadgen

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// deliver sends one batch, retrying while the receiver pushes back.
func deliver(ctx context.Context, send Sender, td ptrace.Traces, stats *Stats) {
	for {
		r, err := send.Send(ctx, td)
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
			if ctx.Err() == nil {
				stats.Failed.Add(1)
				stats.lastErr.Store(&err)
			}
			return
		}
	}
}
