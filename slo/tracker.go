package slo

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is what happened to one span.
type Outcome uint8

// Span outcomes.
const (
	// Unmatched: no journey's matcher holds.
	Unmatched Outcome = iota
	// Counted: counted in at least one SLO.
	Counted
	// TooOld: matched, but older than every window keeps.
	TooOld
	// TooNew: matched, but ends further in the future than MaxFuture.
	TooNew
)

var outcomeNames = [...]string{"unmatched", "counted", "too_old", "too_far_in_future"}

func (o Outcome) String() string { return outcomeNames[o] }

// MaxFuture is how far past now a span may end and still be counted (clock
// skew between hosts); later ones are rejected.
const MaxFuture = 5 * time.Minute

// OverflowValue labels the series that takes group-by values beyond
// max_series.
const OverflowValue = "__overflow__"

// Tracker classifies spans into SLO events and holds every series' counters.
// It is safe for concurrent use; Observe does not allocate once a series
// exists.
type Tracker struct {
	cfg      *Config
	journeys []trackedJourney
	// entryOnly: every journey counts entry spans only, so any other span
	// is unmatched without reading it further.
	entryOnly bool
	slos      []*SLOSeries
	outcomes  [len(outcomeNames)]atomic.Uint64
}

type trackedJourney struct {
	j    *Journey
	slos []*SLOSeries
}

// SLOSeries is the set of series of one SLO: one, or one per group-by value.
type SLOSeries struct {
	SLO *SLO
	// keep is how old (from now) a span may be and still count: the
	// longer of the SLO window and the longest alert window.
	keep int64

	single *Series                            // when the SLO has no group_by
	index  atomic.Pointer[map[string]*Series] // copy-on-write: lock-free reads
	mu     sync.Mutex                         // serialises series creation
	order  []*Series
}

// NewTracker builds the counters for cfg.
func NewTracker(cfg *Config) *Tracker {
	t := &Tracker{cfg: cfg, entryOnly: true}
	for _, j := range cfg.Journeys {
		tj := trackedJourney{j: j}
		t.entryOnly = t.entryOnly && j.Match.EntryOnly
		for _, s := range j.SLOs {
			ss := &SLOSeries{SLO: s, keep: int64(max(s.Window.MaxLength(), s.FineSpan()))}
			if len(s.GroupBy) == 0 {
				ss.single = NewSeries(s, s.ID, nil)
				ss.order = []*Series{ss.single}
			} else {
				m := map[string]*Series{}
				ss.index.Store(&m)
			}
			tj.slos = append(tj.slos, ss)
			t.slos = append(t.slos, ss)
		}
		t.journeys = append(t.journeys, tj)
	}
	return t
}

// Config is the config the tracker counts for.
func (t *Tracker) Config() *Config { return t.cfg }

// SLOs returns every SLO's series set, in config order.
func (t *Tracker) SLOs() []*SLOSeries { return t.slos }

// SLO returns the series set of an SLO id, or nil.
func (t *Tracker) SLO(id string) *SLOSeries {
	for _, s := range t.slos {
		if s.SLO.ID == id {
			return s
		}
	}
	return nil
}

// Outcomes returns how many spans had each outcome since the tracker started.
func (t *Tracker) Outcomes() map[Outcome]uint64 {
	out := map[Outcome]uint64{}
	for i := range t.outcomes {
		out[Outcome(i)] = t.outcomes[i].Load()
	}
	return out
}

// Observe classifies a span, with its sampling weight, and counts it in
// every SLO of every journey it matches. now bounds how far in the future
// the span may end.
func (t *Tracker) Observe(span Span, weight float64, now time.Time) Outcome {
	o := t.observe(span, weight, now)
	t.outcomes[o].Add(1)
	return o
}

func (t *Tracker) observe(span Span, weight float64, now time.Time) Outcome {
	entry := IsEntry(span)
	if !entry && t.entryOnly {
		return Unmatched
	}
	end := span.EndUnixNano()
	out := Unmatched
	svc, svcOK := span.ResourceAttr("service.name")
	for i := range t.journeys {
		tj := &t.journeys[i]
		if !tj.j.Match.match(span, entry, svc, svcOK) {
			continue
		}
		if end > now.UnixNano()+int64(MaxFuture) {
			return TooNew
		}
		if out == Unmatched {
			out = TooOld
		}
		for _, ss := range tj.slos {
			if end < now.UnixNano()-ss.keep {
				continue // judged against now, not the series' newest bucket: a fresh series must not take month-old spans
			}
			ser := ss.seriesFor(span)
			if ser.Add(end, ss.SLO.Good(span), weight, span.TraceID()) {
				out = Counted
			}
		}
	}
	return out
}

// Series returns the series, in creation order.
func (ss *SLOSeries) Series() []*Series {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]*Series(nil), ss.order...)
}

// seriesFor finds (or creates) the series a span counts in.
func (ss *SLOSeries) seriesFor(span Span) *Series {
	if ss.single != nil {
		return ss.single
	}
	var buf [128]byte
	key := buf[:0]
	for i, k := range ss.SLO.GroupBy {
		if i > 0 {
			key = append(key, 0)
		}
		key = appendGroupValue(key, span, k)
	}
	if s := (*ss.index.Load())[string(key)]; s != nil {
		return s
	}
	return ss.create(string(key))
}

func appendGroupValue(b []byte, span Span, key string) []byte {
	v, ok := span.Attr(key)
	if !ok {
		v, ok = span.ResourceAttr(key)
	}
	if !ok {
		return b
	}
	switch v.Type {
	case ValueString:
		return append(b, v.Str...)
	case ValueInt:
		return strconv.AppendInt(b, v.Int, 10)
	case ValueDouble:
		return strconv.AppendFloat(b, v.Double, 'g', -1, 64)
	case ValueBool:
		return strconv.AppendBool(b, v.Bool)
	}
	return b
}

func (ss *SLOSeries) create(key string) *Series {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	old := *ss.index.Load()
	if s := old[key]; s != nil {
		return s
	}
	labels := splitKey(key, len(ss.SLO.GroupBy))
	if len(ss.order) >= ss.SLO.MaxSeries {
		// The cap is reached: this value and every later new one share the
		// overflow series.
		key = overflowKey(len(labels))
		if s := old[key]; s != nil {
			return s
		}
		labels = splitKey(key, len(labels))
	}
	s := NewSeries(ss.SLO, SeriesID(ss.SLO.ID, ss.SLO.GroupBy, labels), labels)
	m := make(map[string]*Series, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[key] = s
	ss.index.Store(&m)
	ss.order = append(ss.order, s)
	return s
}

func overflowKey(n int) string {
	key := OverflowValue
	for i := 1; i < n; i++ {
		key += "\x00" + OverflowValue
	}
	return key
}

func splitKey(key string, n int) []string {
	out := make([]string, 0, n)
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] == 0 {
			out = append(out, key[start:i])
			start = i + 1
		}
	}
	return append(out, key[start:])
}
