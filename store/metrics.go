package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	flushes        *prometheus.CounterVec
	flushDuration  prometheus.Histogram
	lastFlush      prometheus.Gauge
	skippedSamples prometheus.Counter
	walRepairs     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spanslo_store_flushes_total",
			Help: "Flushes of the counters to the data directory, by result.",
		}, []string{"result"}),
		flushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "spanslo_store_flush_duration_seconds",
			Help:    "Time a flush (snapshot and TSDB append) takes.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		lastFlush: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "spanslo_store_last_flush_timestamp_seconds",
			Help: "When the counters were last written to the snapshot.",
		}),
		skippedSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "spanslo_store_skipped_samples_total",
			Help: "Counter samples not appended to the TSDB because their time was not after the last flush.",
		}),
		walRepairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "spanslo_store_wal_repairs_total",
			Help: "Corrupt write-ahead log tails the TSDB found and repaired when the store opened.",
		}),
	}
	// A store reopened on the same registry (after a failed start, in
	// tests) carries on with the metrics already there.
	var err error
	if m.flushes, err = register(reg, m.flushes); err != nil {
		return nil, err
	}
	if m.flushDuration, err = register(reg, m.flushDuration); err != nil {
		return nil, err
	}
	if m.lastFlush, err = register(reg, m.lastFlush); err != nil {
		return nil, err
	}
	if m.skippedSamples, err = register(reg, m.skippedSamples); err != nil {
		return nil, err
	}
	if m.walRepairs, err = register(reg, m.walRepairs); err != nil {
		return nil, err
	}
	m.flushes.WithLabelValues("ok")
	m.flushes.WithLabelValues("error")
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// repairWatch remembers what the TSDB said about repairing its WAL.
type repairWatch struct {
	mu   sync.Mutex
	msgs []string
}

func (w *repairWatch) get() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.msgs, "; ")
}

// repairHandler passes the TSDB's log records on and notes the ones about a
// WAL repair, whatever the level the caller logs at.
type repairHandler struct {
	inner slog.Handler
	watch *repairWatch
}

func (h *repairHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

func (h *repairHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "attempting repair") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				msg += ": " + a.Value.String()
			}
			return true
		})
		h.watch.mu.Lock()
		h.watch.msgs = append(h.watch.msgs, msg)
		h.watch.mu.Unlock()
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *repairHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &repairHandler{inner: h.inner.WithAttrs(as), watch: h.watch}
}

func (h *repairHandler) WithGroup(name string) slog.Handler {
	return &repairHandler{inner: h.inner.WithGroup(name), watch: h.watch}
}
