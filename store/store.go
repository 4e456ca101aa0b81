// Package store keeps spanslo's counters durable in the data directory.
//
// Two files hold them, written at every flush:
//
//   - DATA/tsdb: an embedded Prometheus TSDB (with its WAL) of the cumulative
//     counters spanslo_events_total{slo,journey,result,<group-by labels>} at
//     the flush time. It is the history Grafana, the Prometheus query API and
//     the exported rules read.
//   - DATA/state/counters.snap: an exact copy of every series' event-time
//     buckets. Events are bucketed by when their span ended, so late spans
//     change old buckets; counter samples taken at flush time cannot rebuild
//     those exactly, the snapshot can.
//
// A flush writes the snapshot first, then appends the same counts to the
// TSDB. The snapshot is therefore never older than the TSDB, and on start it
// wins: it restores the windows exactly, with the cumulative counters the
// TSDB last saw or newer, so the counters never go back (which Prometheus
// would read as a reset and count twice). Only when the snapshot is missing
// or corrupt are hourly buckets rebuilt from the TSDB's samples. Either way
// a kill -9 loses at most the events of one flush interval.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/spanslo/spanslo/slo"
)

// MetricName is the counter every series' good and bad events are kept in.
const MetricName = "spanslo_events_total"

// Defaults for Options.
const (
	DefaultFlushInterval = 10 * time.Second
	DefaultRetention     = 32 * 24 * time.Hour
	// RetentionMargin is kept beyond the longest SLO window, so the oldest
	// sample of a window always has one before it to diff against.
	RetentionMargin = 2 * 24 * time.Hour
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Retention     time.Duration // see RetentionFor
	FlushInterval time.Duration
}

// RetentionFor is the history a config needs: its longest SLO window plus
// RetentionMargin.
func RetentionFor(cfg *slo.Config) time.Duration {
	longest := time.Duration(0)
	for _, s := range cfg.SLOs {
		longest = max(longest, s.Window.MaxLength())
	}
	return longest + RetentionMargin
}

// Info is what opening the data directory found.
type Info struct {
	// WALCorruptions is how many corruptions the TSDB found in its
	// write-ahead log (a torn tail after a crash) and repaired by dropping
	// the damaged records.
	WALCorruptions int
	// WALRepair describes the repair, as the TSDB reported it ("" if none).
	WALRepair string
}

// Store is the durable history of one data directory.
type Store struct {
	dir, stateDir string
	opts          Options
	log           *slog.Logger
	db            *tsdb.DB
	engine        *promql.Engine
	querySlots    chan struct{} // one per query that may evaluate at once
	info          Info
	metrics       *metrics

	mu       sync.Mutex // serialises flushes
	lastTS   int64      // last flush timestamp appended, ms
	closeErr error
	closed   bool
}

// Open opens (or creates) the data directory dir: DATA/tsdb for the TSDB and
// DATA/state for the snapshot and blobs. A torn WAL tail is repaired by the
// TSDB while opening; Info and the log say what was repaired.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	s := &Store{dir: dir, stateDir: filepath.Join(dir, "state"), opts: opts, log: opts.Logger}
	if err := os.MkdirAll(s.stateDir, 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// A crash mid-write leaves a temporary file behind; the real one is
	// intact (the rename never happened).
	if stale, err := filepath.Glob(filepath.Join(s.stateDir, ".*.tmp-*")); err == nil {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.metrics = m
	if err := s.openTSDB(); err != nil {
		return nil, err
	}
	s.engine = newEngine(opts.Logger)
	s.querySlots = make(chan struct{}, maxConcurrent)
	return s, nil
}

func (s *Store) openTSDB() error {
	topts := tsdb.DefaultOptions()
	topts.RetentionDuration = s.opts.Retention.Milliseconds()
	// The TSDB's own metrics stay private (they would clutter /metrics); the
	// WAL corruption counter is read from them to report repairs.
	reg := prometheus.NewRegistry()
	watch := &repairWatch{}
	logger := slog.New(&repairHandler{inner: s.log.Handler(), watch: watch}).With("component", "tsdb")
	db, err := tsdb.Open(filepath.Join(s.dir, "tsdb"), logger, reg, topts, nil)
	if err != nil {
		return fmt.Errorf("open store: tsdb: %w", err)
	}
	s.db = db
	s.lastTS = db.Head().MaxTime()
	for _, b := range db.Blocks() {
		s.lastTS = max(s.lastTS, b.Meta().MaxTime-1) // block MaxTime is exclusive
	}
	// The repair text names segment files; keep it relative to the data
	// directory so it can be shown without revealing the host's layout.
	repair := strings.ReplaceAll(watch.get(), s.dir+string(filepath.Separator), "")
	s.info = Info{WALCorruptions: walCorruptions(reg), WALRepair: repair}
	if s.info.WALCorruptions > 0 {
		s.metrics.walRepairs.Add(float64(s.info.WALCorruptions))
		s.log.Warn("store: repaired a corrupt write-ahead log tail on open; samples after the damage are lost",
			"corruptions", s.info.WALCorruptions, "repair", s.info.WALRepair)
	}
	return nil
}

func walCorruptions(reg *prometheus.Registry) int {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "prometheus_tsdb_wal_corruptions_total" && len(mf.GetMetric()) > 0 {
			return int(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return 0
}

// Info reports what opening the data directory found.
func (s *Store) Info() Info { return s.info }

// Close closes the TSDB. Flush before closing to keep the last interval.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		s.closeErr = fmt.Errorf("close store: %w", err)
	}
	return s.closeErr
}

func (s *Store) snapPath() string { return filepath.Join(s.stateDir, "counters.snap") }

// Flush persists every series of tr at now: first the exact snapshot, then
// the cumulative counters to the TSDB (see the package comment for why in
// this order).
func (s *Store) Flush(tr *slo.Tracker) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("flush: store is closed")
	}
	start := time.Now()
	err := s.flushLocked(tr)
	s.metrics.flushDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.flushes.WithLabelValues("error").Inc()
		return err
	}
	s.metrics.flushes.WithLabelValues("ok").Inc()
	return nil
}

func (s *Store) flushLocked(tr *slo.Tracker) error {
	now := s.opts.Now()
	states := tr.Snapshot()
	if err := writeAtomic(s.snapPath(), encodeSnapshot(snapshot{Taken: now, States: states})); err != nil {
		return fmt.Errorf("flush: write snapshot: %w", err)
	}
	s.metrics.lastFlush.Set(float64(now.UnixNano()) / 1e9)
	ts := now.UnixMilli()
	if ts <= s.lastTS {
		// The clock went back (or two flushes share a millisecond): the
		// TSDB only takes newer samples; the snapshot above holds the counts.
		s.metrics.skippedSamples.Add(float64(2 * len(states)))
		return nil
	}
	app := s.db.Appender(context.Background())
	for _, st := range states {
		sloCfg := tr.Config().SLO(st.SLO)
		if sloCfg == nil {
			continue
		}
		good, bad := seriesLabels(sloCfg, st.Labels)
		for _, sample := range []struct {
			l labels.Labels
			v float64
		}{{good, st.Cumulative.Good}, {bad, st.Cumulative.Bad()}} {
			_, err := app.Append(0, sample.l, ts, sample.v)
			switch {
			case errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, storage.ErrOutOfOrderSample),
				errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
				// Older than what the TSDB holds: skip it, keep the rest.
				s.metrics.skippedSamples.Inc()
			case err != nil:
				_ = app.Rollback()
				return fmt.Errorf("flush: append %s: %w", st.SLO, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("flush: commit: %w", err)
	}
	s.lastTS = ts
	return nil
}

// seriesLabels are the good and bad counter label sets of one series.
func seriesLabels(s *slo.SLO, values []string) (good, bad labels.Labels) {
	b := labels.NewBuilder(labels.EmptyLabels())
	for i, attr := range s.GroupBy {
		if i < len(values) {
			b.Set(slo.LabelName(attr), values[i])
		}
	}
	// The fixed labels win should a group-by attribute map onto one.
	b.Set(labels.MetricName, MetricName)
	b.Set("slo", s.ID)
	b.Set("journey", s.Journey.Name)
	b.Set("result", "good")
	good = b.Labels()
	b.Set("result", "bad")
	return good, b.Labels()
}

// Run flushes tracker() every flush interval until ctx ends, then once more,
// and returns; Close the store only after Run has returned. tracker is
// called at each flush, so a hot reload that swaps the tracker is followed.
// Errors are logged and counted; the next flush tries again.
func (s *Store) Run(ctx context.Context, tracker func() *slo.Tracker) {
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	flush := func(what string) {
		tr := tracker()
		if tr == nil {
			return
		}
		if err := s.Flush(tr); err != nil {
			s.log.Error("store: "+what+" failed", "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			flush("final flush")
			return
		case <-t.C:
			flush("flush")
		}
	}
}

// loadSnapshot reads the snapshot file: fs.ErrNotExist when there is none.
func (s *Store) loadSnapshot() (snapshot, error) {
	data, err := os.ReadFile(s.snapPath())
	if err != nil {
		return snapshot{}, err
	}
	return decodeSnapshot(data)
}
