package slo

import (
	"slices"
	"strconv"
	"strings"
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
	slos     []*SLOSeries
	outcomes [len(outcomeNames)]atomic.Uint64

	// all tries every journey, checking every condition: Observe's scope.
	all Scope
	// byService holds, per service name some journey's service condition
	// names, the journeys a resource with that service.name can match.
	byService map[string]*Scope
	// others is the scope of any other (or no) service.name: the journeys
	// whose service condition is not a plain name or list.
	others Scope
}

type trackedJourney struct {
	m    journeyMatcher
	slos []*SLOSeries
}

// Scope is the journeys the spans of one resource can match, picked once
// from the resource's service.name (Tracker.Scope) so that each span is
// tried against those only. It belongs to its tracker and is read-only.
type Scope struct {
	t        *Tracker
	journeys []scopedJourney
	// entryOnly: every journey of the scope counts entry spans only.
	entryOnly bool
	// needService: some journey still tests service.name per span.
	needService bool
}

type scopedJourney struct {
	tj *trackedJourney
	// checkService: the service condition was not settled when the scope
	// was picked.
	checkService bool
}

func (sc *Scope) add(tj *trackedJourney, checkService bool) {
	checkService = checkService && tj.m.service != nil
	sc.journeys = append(sc.journeys, scopedJourney{tj: tj, checkService: checkService})
	sc.entryOnly = sc.entryOnly && tj.m.EntryOnly
	sc.needService = sc.needService || checkService
}

// WeightedSpan is a span that works out its own sampling weight (how many
// spans it stands for). The tracker asks for it only when it counts the
// span, so unmatched spans never pay for it.
type WeightedSpan interface {
	Span
	Weight() float64
}

// SLOSeries is the set of series of one SLO: one, or one per group-by value.
type SLOSeries struct {
	SLO *SLO

	fineMinutes int64 // the longest alert window, in minutes
	alignMin    int64 // hour-bucket alignment, as in Series
	calendar    atomic.Pointer[windowStart]

	single   *Series                            // when the SLO has no group_by
	index    atomic.Pointer[map[string]*Series] // copy-on-write: lock-free reads
	full     atomic.Bool                        // max_series reached: new values go to overflow
	overflow atomic.Pointer[Series]
	mu       sync.Mutex // serialises series creation
	order    []*Series
}

// windowStart caches a calendar window's start for one minute of now.
type windowStart struct{ minute, start int64 }

// oldest is the earliest end time (unix ns) a span may have at now and
// still fall in a window the SLO reads: the oldest minute of its longest
// alert window, or the oldest hour bucket of its compliance window.
func (ss *SLOSeries) oldest(nowN int64) int64 {
	m := floorDiv(nowN, int64(Fine))
	fine := (m - ss.fineMinutes + 1) * int64(Fine)
	w := ss.SLO.Window
	if w.Calendar == "" {
		h := hourOfMinute(m, ss.alignMin) - int64(w.Rolling/Coarse) + 1
		return min(fine, firstMinute(h, ss.alignMin)*int64(Fine))
	}
	c := ss.calendar.Load()
	if c == nil || c.minute != m {
		c = &windowStart{minute: m, start: w.Start(time.Unix(0, nowN)).UnixNano()}
		ss.calendar.Store(c) // once a minute per SLO, never per span
	}
	return min(fine, c.start)
}

// NewTracker builds the counters for cfg.
func NewTracker(cfg *Config) *Tracker {
	t := &Tracker{cfg: cfg, byService: map[string]*Scope{}}
	var memoKeys []string
	t.journeys = make([]trackedJourney, 0, len(cfg.Journeys))
	for _, j := range cfg.Journeys {
		tj := trackedJourney{m: newJourneyMatcher(j.Match, &memoKeys)}
		for _, s := range j.SLOs {
			ss := &SLOSeries{SLO: s, fineMinutes: int64(s.FineSpan() / Fine), alignMin: alignMinutes(s.Window.Location)}
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
	t.buildScopes()
	return t
}

// buildScopes indexes the journeys by the service names their service
// conditions name. Scopes keep config order, so a span matching several
// journeys is handled as Observe handles it.
func (t *Tracker) buildScopes() {
	t.all = Scope{t: t, entryOnly: true}
	t.others = Scope{t: t, entryOnly: true}
	for i := range t.journeys {
		tj := &t.journeys[i]
		t.all.add(tj, true)
		if tj.m.service == nil {
			continue
		}
		keys, ok := tj.m.service.serviceKeys()
		if !ok {
			continue
		}
		for _, k := range keys {
			if t.byService[k] == nil {
				t.byService[k] = &Scope{t: t}
			}
		}
	}
	for name, sc := range t.byService {
		sc.entryOnly = true
		for i := range t.journeys {
			tj := &t.journeys[i]
			keys, indexed := []string(nil), false
			if tj.m.service != nil {
				keys, indexed = tj.m.service.serviceKeys()
			}
			switch {
			case !indexed:
				sc.add(tj, true)
			case slices.Contains(keys, name):
				sc.add(tj, false)
			}
		}
	}
	for i := range t.journeys {
		tj := &t.journeys[i]
		if tj.m.service != nil {
			if _, indexed := tj.m.service.serviceKeys(); indexed {
				continue // names only others: never this scope
			}
		}
		t.others.add(tj, true)
	}
}

// Scope returns the journeys spans of a resource with this service.name
// (ok false: none) can match. Resolve it once per resource and pass each of
// its spans to Scope.Observe.
func (t *Tracker) Scope(service Value, ok bool) *Scope {
	switch {
	case !ok:
		return &t.others
	case service.Type != ValueString:
		return &t.all // compared in text form by each condition
	}
	if sc := t.byService[service.Str]; sc != nil {
		return sc
	}
	return &t.others
}

// Possible reports whether any span of the scope's resource can match a
// journey. When it cannot, a caller may skip the resource's spans and
// report them as unmatched with Tracker.AddOutcomes.
func (sc *Scope) Possible() bool { return len(sc.journeys) > 0 }

// EntryOnly reports whether only entry spans (IsEntry) can match: a caller
// may then report every other span as unmatched without passing it in.
func (sc *Scope) EntryOnly() bool { return sc.entryOnly }

// AddOutcomes records n spans with outcome o in Outcomes: what a caller of
// Scope.Observe does once per batch.
func (t *Tracker) AddOutcomes(o Outcome, n int) {
	if n > 0 {
		t.outcomes[o].Add(uint64(n))
	}
}

// Observe is Tracker.Observe for a span of the scope's resource, asking the
// span for its weight only when it is counted. Unlike Tracker.Observe it
// leaves Outcomes alone, so that concurrent batches do not contend on
// them per span: the caller tallies the outcomes and reports them with
// Tracker.AddOutcomes.
func (sc *Scope) Observe(span WeightedSpan, now time.Time) Outcome {
	return sc.t.observe(sc, span, span, 0, now)
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
	o := t.observe(&t.all, span, nil, weight, now)
	t.outcomes[o].Add(1)
	return o
}

// observe matches span against the journeys of sc and counts it. The weight
// comes from weigher when there is one, asked at most once.
func (t *Tracker) observe(sc *Scope, span Span, weigher WeightedSpan, weight float64, now time.Time) Outcome {
	if len(sc.journeys) == 0 {
		return Unmatched
	}
	entry := IsEntry(span)
	if !entry && sc.entryOnly {
		return Unmatched
	}
	var svc Value
	var svcOK bool
	if sc.needService {
		svc, svcOK = span.ResourceAttr("service.name")
	}
	var memo attrMemo
	end := span.EndUnixNano()
	nowN := now.UnixNano()
	out := Unmatched
	for i := range sc.journeys {
		sj := &sc.journeys[i]
		tj := sj.tj
		if tj.m.EntryOnly && !entry {
			continue
		}
		if !tj.m.matchSpan(span, sj.checkService, &svc, svcOK, &memo) {
			continue
		}
		if end > nowN+int64(MaxFuture) {
			return TooNew
		}
		if out == Unmatched {
			out = TooOld
		}
		for _, ss := range tj.slos {
			if end < ss.oldest(nowN) {
				continue // judged against now, not the series' newest bucket: a fresh series must not take month-old spans
			}
			if weigher != nil {
				weight, weigher = weigher.Weight(), nil
			}
			ser := ss.seriesFor(span)
			good := ss.SLO.Good(span)
			var trace TraceID
			if !good {
				trace = span.TraceID() // only bad events keep it, as examples
			}
			if ser.Add(end, good, weight, trace) {
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
	if ss.full.Load() {
		return ss.overflow.Load() // no lock, no allocation for each new value past the cap
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
		return appendLabelValue(b, v.Str)
	case ValueInt:
		return strconv.AppendInt(b, v.Int, 10)
	case ValueDouble:
		return strconv.AppendFloat(b, v.Double, 'g', -1, 64)
	case ValueBool:
		return strconv.AppendBool(b, v.Bool)
	}
	return b
}

// appendLabelValue appends a group-by value. NUL separates values in a
// series key, so a NUL inside one becomes U+FFFD: "x\x00evil" must not make
// a second series named like "x".
func appendLabelValue(b []byte, v string) []byte {
	for {
		i := strings.IndexByte(v, 0)
		if i < 0 {
			return append(b, v...)
		}
		b = append(append(b, v[:i]...), "\uFFFD"...)
		v = v[i+1:]
	}
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
		ss.full.Store(true)
		if s := old[key]; s != nil {
			ss.overflow.Store(s)
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
	if ss.full.Load() {
		ss.overflow.Store(s)
	}
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
