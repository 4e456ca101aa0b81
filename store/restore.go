package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/spanslo/spanslo/slo"
)

// Where restored counters came from.
const (
	SourceSnapshot = "snapshot" // the exact bucket snapshot
	SourceTSDB     = "tsdb"     // rebuilt from the TSDB's counter samples
	SourceEmpty    = "empty"    // nothing stored yet: a first start
)

// RestoreReport says what Restore found.
type RestoreReport struct {
	Source string
	// Taken is when the restored state was written: the snapshot's flush, or
	// the TSDB's last sample.
	Taken time.Time
	// Restored and Skipped count series; skipped ones belong to SLOs the
	// config no longer has or whose group_by changed.
	Restored, Skipped int
	// SnapshotProblem says why a snapshot that exists was not used.
	SnapshotProblem string
	// Info is what opening the data directory found (WAL repairs).
	Info Info
}

// Restore loads the stored counters into tr, which must not have counted
// anything yet. The snapshot is used when it is readable; otherwise hourly
// buckets are rebuilt from the TSDB (see RestoreIncrements for how exact
// that is). The report says which happened.
func (s *Store) Restore(tr *slo.Tracker) (RestoreReport, error) {
	rep := RestoreReport{Info: s.info}
	snap, err := s.loadSnapshot()
	if err == nil {
		rep.Source, rep.Taken = SourceSnapshot, snap.Taken
		rep.Restored, rep.Skipped = tr.Restore(snap.States)
		s.log.Info("store: restored counters from the snapshot",
			"taken", snap.Taken, "series", rep.Restored, "skipped", rep.Skipped)
		return rep, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		rep.SnapshotProblem = err.Error()
		s.log.Warn("store: snapshot unusable, rebuilding hourly buckets from the TSDB", "err", err)
	}
	if err := s.rebuild(tr, &rep); err != nil {
		return rep, fmt.Errorf("restore: %w", err)
	}
	if rep.Source == SourceTSDB {
		s.log.Info("store: rebuilt counters from the TSDB", "last_sample", rep.Taken, "series", rep.Restored)
	}
	return rep, nil
}

// history accumulates the increments of one tracker series.
type history struct {
	values []string
	incs   map[int64]slo.Counts
	cum    slo.Counts
}

func (s *Store) rebuild(tr *slo.Tracker, rep *RestoreReport) error {
	now := s.opts.Now()
	q, err := s.db.Querier(now.Add(-s.opts.Retention).UnixMilli(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("tsdb querier: %w", err)
	}
	defer q.Close()
	rep.Source = SourceEmpty
	last := int64(0)
	for _, ss := range tr.SLOs() {
		hs, lastTS, err := s.histories(q, ss.SLO)
		if err != nil {
			return err
		}
		last = max(last, lastTS)
		// Histories beyond max_series share the overflow series: add them
		// up before replacing its counters.
		var order []*slo.Series
		merged := map[*slo.Series]*history{}
		for _, h := range hs {
			ser := ss.SeriesFor(h.values)
			if m := merged[ser]; m != nil {
				m.merge(h)
				continue
			}
			merged[ser] = h
			order = append(order, ser)
		}
		for _, ser := range order {
			ser.RestoreIncrements(merged[ser].increments(), merged[ser].cum)
			rep.Restored++
		}
	}
	if rep.Restored > 0 {
		rep.Source, rep.Taken = SourceTSDB, time.UnixMilli(last)
	}
	return nil
}

// histories reads every counter series of one SLO, keyed by group-by values.
func (s *Store) histories(q storage.Querier, sloCfg *slo.SLO) ([]*history, int64, error) {
	set := q.Select(context.Background(), false, nil,
		labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, MetricName),
		labels.MustNewMatcher(labels.MatchEqual, "slo", sloCfg.ID))
	byKey := map[string]*history{}
	var order []string
	last := int64(0)
	for set.Next() {
		ls := set.At().Labels()
		values := make([]string, len(sloCfg.GroupBy))
		for i, attr := range sloCfg.GroupBy {
			values[i] = ls.Get(slo.LabelName(attr))
		}
		key := strings.Join(values, "\x00")
		h := byKey[key]
		if h == nil {
			h = &history{values: values, incs: map[int64]slo.Counts{}}
			byKey[key] = h
			order = append(order, key)
		}
		good := ls.Get("result") == "good"
		prev := 0.0
		it := set.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			// A drop is a counter reset: everything after it is new.
			inc := v - prev
			if inc < 0 {
				inc = v
			}
			prev = v
			c := h.incs[t]
			c.Total += inc
			if good {
				c.Good += inc
			}
			h.incs[t] = c
			last = max(last, t)
		}
		if err := it.Err(); err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", sloCfg.ID, err)
		}
		h.cum.Total += prev
		if good {
			h.cum.Good += prev
		}
	}
	if err := set.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", sloCfg.ID, err)
	}
	out := make([]*history, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out, last, nil
}

func (h *history) merge(o *history) {
	for t, c := range o.incs {
		h.incs[t] = h.incs[t].Add(c)
	}
	h.cum = h.cum.Add(o.cum)
}

func (h *history) increments() []slo.Increment {
	ts := make([]int64, 0, len(h.incs))
	for t := range h.incs {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	out := make([]slo.Increment, 0, len(ts))
	for _, t := range ts {
		out = append(out, slo.Increment{At: time.UnixMilli(t), Counts: h.incs[t]})
	}
	return out
}
