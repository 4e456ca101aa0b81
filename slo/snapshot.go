package slo

import (
	"fmt"
	"slices"
	"time"
)

// SeriesState is a copy of one series' counters: what a restart or a reload
// needs to carry the exact event-time buckets over. It is plain data, so the
// store can encode it however it likes.
type SeriesState struct {
	SLO     string   // SLO id, "journey/name"
	GroupBy []string // the SLO's group_by attributes when the state was taken
	Labels  []string // group-by values, in GroupBy order
	// AlignMinutes is the hour-bucket alignment (the window's time zone
	// offset modulo one hour) the coarse ring was filled with.
	AlignMinutes int64
	Fine         RingState // minute buckets
	Coarse       RingState // hour buckets
	Cumulative   Counts
	// Examples are recent bad events, oldest first.
	Examples []Example
}

// RingState is the non-empty buckets of a ring, oldest first, and the
// ring's head: the newest bucket index it had reached. Indices are absolute
// (minutes, or aligned hours, since the Unix epoch), so a ring of another
// size can take them.
type RingState struct {
	Head    int64
	Buckets []Bucket
}

// Bucket is one non-empty bucket.
type Bucket struct {
	Index int64
	Counts
}

func (r *ring) state() RingState {
	n := 0
	for _, b := range r.buckets {
		if b != (Counts{}) {
			n++
		}
	}
	out := RingState{Head: r.head, Buckets: make([]Bucket, 0, n)}
	for i := r.oldest(); i <= r.head; i++ {
		if b := r.get(i); b != (Counts{}) {
			out.Buckets = append(out.Buckets, Bucket{Index: i, Counts: b})
		}
	}
	return out
}

// load copies the buckets of st that fit the ring, newest first, adding them
// to what the ring holds when merge is set and replacing it otherwise.
func (r *ring) load(st RingState, merge bool) {
	if !merge {
		r.reset(st.Head)
	}
	for i := len(st.Buckets) - 1; i >= 0; i-- {
		b := st.Buckets[i]
		if b.Index > st.Head {
			continue // not a bucket the ring could have held
		}
		if !r.add(b.Index, b.Good, b.Total) {
			break // older buckets do not fit either
		}
	}
}

// Snapshot copies the series' counters.
func (s *Series) Snapshot() SeriesState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SeriesState{
		SLO:          s.SLO.ID,
		GroupBy:      slices.Clone(s.SLO.GroupBy),
		Labels:       slices.Clone(s.Labels),
		AlignMinutes: s.alignMin,
		Fine:         s.fine.state(),
		Coarse:       s.coarse.state(),
		Cumulative:   s.cum,
	}
	n := min(s.badN, maxExamples)
	for i := n - 1; i >= 0; i-- {
		st.Examples = append(st.Examples, s.bad[(s.badN-1-i)%maxExamples])
	}
	return st
}

// RestoreState replaces the series' counters with st. The rings may differ
// in size from the ones st was taken from (the SLO's window or rules changed
// between runs): the newest buckets that still fit are kept. A changed time
// zone offset shifts hour buckets by less than an hour, which is kept as the
// closest history there is.
func (s *Series) RestoreState(st SeriesState) error {
	if st.SLO != s.SLO.ID {
		return fmt.Errorf("restore series %s: state is for slo %q", s.ID, st.SLO)
	}
	if !slices.Equal(st.Labels, s.Labels) {
		return fmt.Errorf("restore series %s: state has group-by values %q", s.ID, st.Labels)
	}
	s.load(st, false)
	return nil
}

func (s *Series) load(st SeriesState, merge bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fine.load(st.Fine, merge)
	s.coarse.load(st.Coarse, merge)
	if merge {
		s.cum = s.cum.Add(st.Cumulative)
	} else {
		s.cum = st.Cumulative
		s.bad = [maxExamples]Example{}
		s.badN = 0
	}
	for _, e := range st.Examples {
		s.bad[s.badN%maxExamples] = e
		s.badN++
	}
}

// Increment is what a cumulative counter gained by At: the form history
// kept as counter samples can be replayed in.
type Increment struct {
	At     time.Time
	Counts Counts
}

// RestoreIncrements replaces the series' counters with increments placed in
// the buckets of their time, and sets the cumulative counters to cum. It is
// the fallback when no exact snapshot exists: history kept as counter
// samples knows when counts arrived, not when their events ended, so the
// buckets are exact only to within a sample interval.
func (s *Series) RestoreIncrements(incs []Increment, cum Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.fine.buckets)
	clear(s.coarse.buckets)
	s.fine.head, s.coarse.head = 0, 0
	s.bad = [maxExamples]Example{}
	s.badN = 0
	for _, inc := range incs {
		m := s.minuteOf(inc.At.UnixNano())
		s.fine.add(m, inc.Counts.Good, inc.Counts.Total)
		s.coarse.add(s.hourOfMinute(m), inc.Counts.Good, inc.Counts.Total)
	}
	s.cum = cum
}

// Snapshot copies the counters of every series, in config order.
func (t *Tracker) Snapshot() []SeriesState {
	var out []SeriesState
	for _, ss := range t.slos {
		for _, s := range ss.Series() {
			out = append(out, s.Snapshot())
		}
	}
	return out
}

// Restore loads states into the tracker's series, matched by SLO id and
// group-by values; series of group-by SLOs are created as needed, within
// max_series (states beyond the cap are added to the overflow series, as
// their events would have been). States of SLOs the config no longer has,
// or whose group_by changed, are skipped.
func (t *Tracker) Restore(states []SeriesState) (restored, skipped int) {
	// Overflow states go last so they never take a slot a named series
	// would have had.
	overflow := func(st SeriesState) bool { return len(st.Labels) > 0 && st.Labels[0] == OverflowValue }
	ordered := make([]SeriesState, 0, len(states))
	for _, st := range states {
		if !overflow(st) {
			ordered = append(ordered, st)
		}
	}
	for _, st := range states {
		if overflow(st) {
			ordered = append(ordered, st)
		}
	}
	for _, st := range ordered {
		ss := t.SLO(st.SLO)
		if ss == nil || !slices.Equal(st.GroupBy, ss.SLO.GroupBy) || len(st.Labels) != len(st.GroupBy) {
			skipped++
			continue
		}
		s := ss.SeriesFor(st.Labels)
		// Several states can land in the overflow series: they add up.
		s.load(st, overflow(st) || !slices.Equal(s.Labels, st.Labels))
		restored++
	}
	return restored, skipped
}

// SeriesFor returns the series of a set of group-by values, creating it (or
// choosing the overflow series beyond max_series) like a span with those
// values would.
func (ss *SLOSeries) SeriesFor(labels []string) *Series {
	if ss.single != nil {
		return ss.single
	}
	var b []byte
	for i, l := range labels {
		if i > 0 {
			b = append(b, 0)
		}
		b = appendLabelValue(b, l)
	}
	if s := (*ss.index.Load())[string(b)]; s != nil {
		return s
	}
	return ss.create(string(b))
}

// Migrate carries the counters of every SLO whose id is in both trackers
// from one to the other: a reloaded config keeps the history of the SLOs it
// did not rename. Events counted on from after Migrate returns are not
// carried, so swap the trackers right after.
func Migrate(from, to *Tracker) (restored, skipped int) {
	return to.Restore(from.Snapshot())
}
