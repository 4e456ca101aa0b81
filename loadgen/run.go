package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// RunOptions pace a run.
type RunOptions struct {
	// Rate is requests (traces) per second over all journeys; 0 sends
	// batches of BatchSpans as fast as the receiver accepts them.
	Rate float64
	// Duration ends the run; 0 runs until ctx ends.
	Duration time.Duration
	// BatchSpans is the batch size when Rate is 0 (default 1000).
	BatchSpans int
	// Workers send concurrently when Rate is 0 (default 1).
	Workers int
	// Tick is how often a paced run sends what it generated (default 200ms).
	Tick time.Duration
	// Reuse, when Rate is 0, makes each worker generate (and, over HTTP,
	// encode) this many batches once and send them in turn, so the run
	// measures the receiver rather than the generator.
	Reuse int
}

// Stats summarise a run.
type Stats struct {
	Batches  atomic.Int64
	Spans    atomic.Int64 // accepted by the receiver
	Rejected atomic.Int64 // partial success
	Refused  atomic.Int64 // backpressure answers, retried
	Failed   atomic.Int64 // batches given up on

	lastErr atomic.Pointer[error]
}

// LastError is the most recent send failure, nil when none.
func (s *Stats) LastError() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Run generates and sends traffic until the duration passes or ctx ends.
// Refused batches are retried after the receiver's Retry-After; other send
// errors are counted and the batch dropped, like an exporter would.
func Run(ctx context.Context, opts Options, send Sender, ro RunOptions, stats *Stats) error {
	if ro.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ro.Duration)
		defer cancel()
	}
	if ro.BatchSpans <= 0 {
		ro.BatchSpans = 1000
	}
	if ro.Tick <= 0 {
		ro.Tick = 200 * time.Millisecond
	}
	if ro.Rate > 0 {
		g, err := New(opts)
		if err != nil {
			return err
		}
		return paced(ctx, g, send, ro, stats)
	}
	workers := max(1, ro.Workers)
	var wg sync.WaitGroup
	for w := range workers {
		o := opts
		o.Seed += uint64(w) * 7919
		g, err := New(o)
		if err != nil {
			return err
		}
		wg.Go(func() { flood(ctx, g, send, ro, stats) })
	}
	wg.Wait()
	return nil
}

// encodedSender can send a batch encoded ahead of time.
type encodedSender interface {
	Encode(td ptrace.Traces) ([]byte, error)
	SendEncoded(ctx context.Context, body []byte) (Reply, error)
}

// flood sends batches back to back.
func flood(ctx context.Context, g *Generator, send Sender, ro RunOptions, stats *Stats) {
	if ro.Reuse <= 0 {
		for ctx.Err() == nil {
			deliver(ctx, send, g.Batch(time.Now(), ro.BatchSpans), stats)
		}
		return
	}
	batches := make([]Sender, ro.Reuse)
	tds := make([]ptrace.Traces, ro.Reuse)
	for i := range batches {
		tds[i] = g.Batch(time.Now(), ro.BatchSpans)
		batches[i] = send
		if es, ok := send.(encodedSender); ok {
			body, err := es.Encode(tds[i])
			if err != nil {
				stats.lastErr.Store(&err)
				return
			}
			batches[i] = preEncoded{es, body}
		}
	}
	for i := 0; ctx.Err() == nil; i++ {
		deliver(ctx, batches[i%ro.Reuse], tds[i%ro.Reuse], stats)
	}
}

// preEncoded sends one body encoded ahead of time, whatever td it is given.
type preEncoded struct {
	es   encodedSender
	body []byte
}

func (p preEncoded) Send(ctx context.Context, _ ptrace.Traces) (Reply, error) {
	return p.es.SendEncoded(ctx, p.body)
}

func paced(ctx context.Context, g *Generator, send Sender, ro RunOptions, stats *Stats) error {
	t := time.NewTicker(ro.Tick)
	defer t.Stop()
	last := time.Now()
	carry := 0.0
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			carry += ro.Rate * now.Sub(last).Seconds()
			last = now
			n := int(carry)
			carry -= float64(n)
			if n > 0 {
				deliver(ctx, send, g.Traces(now, n), stats)
			}
		}
	}
}
