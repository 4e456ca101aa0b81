package notify

import (
	"context"
	"errors"
	"time"

	"github.com/spanslo/spanslo/notify/delivery"
)

// deliver is the retry stage: it sends a batch, and while the error is
// retryable waits an exponential backoff with jitter (never less than the
// server's Retry-After nor the notifier's minimum interval) until
// RetryDeadline. ctx bounds the waits, send the requests. It returns the
// last *delivery.Error.
func (d *Dispatcher) deliver(ctx, send context.Context, in *integration, st *state, batch []item) error {
	msgs := make([]delivery.Message, len(batch))
	for i := range batch {
		msgs[i] = batch[i].msg
	}
	if in.setupErr != "" {
		// Nothing to try until a reload brings the secret; keep the
		// messages for then.
		return &delivery.Error{Reason: "no_secret", Retryable: true, Msg: in.setupErr}
	}
	deadline := d.opts.Now().Add(d.opts.RetryDeadline)
	backoff := d.opts.BackoffInitial
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			d.metrics.retries.WithLabelValues(in.name, in.typ).Inc()
		}
		err := d.attempt(send, in, st, msgs)
		if err == nil {
			return nil
		}
		if !err.Retryable || ctx.Err() != nil || send.Err() != nil {
			return err
		}
		wait := backoff/2 + time.Duration(d.opts.Jitter()*float64(backoff/2))
		wait = max(wait, err.RetryAfter, in.minInterval)
		if d.opts.Now().Add(wait).After(deadline) {
			return err
		}
		d.opts.Logger.Warn("notification retry", "notifier", in.name, "type", in.typ, "attempt", attempt+1,
			"reason", err.Reason, "wait", wait, "error", err.Msg)
		if d.opts.Sleep(ctx, wait) != nil {
			return err
		}
		backoff = min(backoff*2, d.opts.BackoffMax)
	}
}

// attempt is one request, bounded by AttemptTimeout.
func (d *Dispatcher) attempt(ctx context.Context, in *integration, st *state, msgs []delivery.Message) *delivery.Error {
	st.mu.Lock()
	st.lastSend = d.opts.Now()
	st.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, d.opts.AttemptTimeout)
	defer cancel()
	start := time.Now()
	err := in.notifier.Notify(actx, msgs)
	d.metrics.latency.WithLabelValues(in.name, in.typ).Observe(time.Since(start).Seconds())
	if err == nil {
		return nil
	}
	var de *delivery.Error
	if errors.As(err, &de) {
		return de
	}
	return &delivery.Error{Reason: "client_error", Msg: in.redact.Error(err)}
}

// waitTurn keeps the notifier's minimum interval between requests.
func (d *Dispatcher) waitTurn(ctx context.Context, in *integration, st *state) error {
	if in.minInterval <= 0 {
		return nil
	}
	st.mu.Lock()
	next := st.lastSend.Add(in.minInterval)
	st.mu.Unlock()
	if wait := next.Sub(d.opts.Now()); wait > 0 {
		return d.opts.Sleep(ctx, wait)
	}
	return nil
}
