package slo

import (
	"math"
	"sync"
	"time"
)

// Counts are weighted good and total events.
type Counts struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
}

// Bad is Total - Good.
func (c Counts) Bad() float64 { return c.Total - c.Good }

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts { return Counts{c.Good + o.Good, c.Total + o.Total} }

// SLI is good/total; with no events it is 1 (nothing went wrong).
func (c Counts) SLI() float64 {
	if c.Total <= 0 {
		return 1
	}
	return c.Good / c.Total
}

// BurnRate is how fast the counts consume an error budget: the bad ratio
// over the budget (1 - objective). 1 consumes the budget exactly over the
// window; 0 with no events.
func (c Counts) BurnRate(objective float64) float64 {
	if c.Total <= 0 {
		return 0
	}
	return (c.Bad() / c.Total) / (1 - objective)
}

// BudgetRemaining is 1 - (1 - SLI) / (1 - objective): 1 untouched, 0 spent,
// negative overspent.
func (c Counts) BudgetRemaining(objective float64) float64 {
	return 1 - (1-c.SLI())/(1-objective)
}

// ring is a circular array of buckets indexed by absolute bucket number
// (unix time / resolution). It holds the buckets (head-len, head]; adding
// beyond head advances it and clears what it passes. Slots are found from
// head's slot by offset, so the hot path does no division.
//
// It also keeps the sum of each block of blockLen consecutive buckets
// (block b: buckets [b*blockLen, (b+1)*blockLen)), so a long sum reads
// whole blocks and at most 2*blockLen buckets at its ends: a 30-day sum of
// hour buckets touches ~75 values instead of 720.
type ring struct {
	buckets  []Counts
	head     int64 // newest bucket index
	headSlot int64 // its slot

	blocks        []Counts // by block number, like buckets
	headBlockSlot int64    // slot of block head>>blockShift
}

const (
	blockShift = 4
	blockLen   = 1 << blockShift
)

func newRing(n int) ring {
	// Every block with a bucket in the ring's range, plus one.
	return ring{buckets: make([]Counts, n), blocks: make([]Counts, n>>blockShift+2)}
}

// slot returns where bucket idx lives; idx must be in (head-len, head].
func (r *ring) slot(idx int64) int64 {
	s := r.headSlot - (r.head - idx)
	if s < 0 {
		s += int64(len(r.buckets))
	}
	return s
}

// blockSlot returns where block b lives; b must be within len(blocks) of
// head's block.
func (r *ring) blockSlot(b int64) int64 {
	s := r.headBlockSlot - (r.head>>blockShift - b)
	if s < 0 {
		s += int64(len(r.blocks))
	}
	return s
}

// reset empties the ring and sets its head.
func (r *ring) reset(head int64) {
	clear(r.buckets)
	clear(r.blocks)
	r.head, r.headSlot, r.headBlockSlot = head, 0, 0
}

func (r *ring) add(idx int64, good, total float64) bool {
	n := int64(len(r.buckets))
	switch {
	case idx > r.head:
		if idx-r.head >= n {
			r.reset(idx)
			break
		}
		s := r.headSlot
		for i := r.head; i < idx; i++ {
			if s++; s == n {
				s = 0
			}
			r.buckets[s] = Counts{}
		}
		r.headSlot = s
		// The blocks entered are new: their buckets were just cleared.
		nb := int64(len(r.blocks))
		bs := r.headBlockSlot
		for b := r.head >> blockShift; b < idx>>blockShift; b++ {
			if bs++; bs == nb {
				bs = 0
			}
			r.blocks[bs] = Counts{}
		}
		r.headBlockSlot = bs
		r.head = idx
	case idx <= r.head-n:
		return false
	}
	b := &r.buckets[r.slot(idx)]
	b.Good += good
	b.Total += total
	k := &r.blocks[r.blockSlot(idx>>blockShift)]
	k.Good += good
	k.Total += total
	return true
}

// oldest is the oldest bucket index the ring can still hold, given head.
func (r *ring) oldest() int64 { return r.head - int64(len(r.buckets)) + 1 }

// sum adds the buckets in [from, to], skipping those the ring no longer (or
// not yet) holds, which are empty by definition. Blocks wholly inside
// [from, to] are read as their sums; a block whose first bucket is at or
// after oldest() is wholly held, so its sum counts no evicted bucket.
func (r *ring) sum(from, to int64) Counts {
	from = max(from, r.oldest())
	to = min(to, r.head)
	if from > to {
		return Counts{}
	}
	first := (from + blockLen - 1) >> blockShift // first block starting at or after from
	last := (to+1)>>blockShift - 1               // last block ending at or before to
	if last-first < 1 {
		return r.sumBuckets(from, to)
	}
	c := r.sumBuckets(from, first<<blockShift-1)
	c = c.Add(sumWrapped(r.blocks, r.blockSlot(first), last-first+1))
	return c.Add(r.sumBuckets((last+1)<<blockShift, to))
}

// sumBuckets adds the buckets in [from, to], which the ring must hold (or
// from > to: none).
func (r *ring) sumBuckets(from, to int64) Counts {
	if from > to {
		return Counts{}
	}
	return sumWrapped(r.buckets, r.slot(from), to-from+1)
}

// sumWrapped adds n consecutive entries of a circular array from slot s.
func sumWrapped(xs []Counts, s, n int64) Counts {
	var c Counts
	size := int64(len(xs))
	for ; n > 0; n-- {
		b := &xs[s]
		c.Good += b.Good
		c.Total += b.Total
		if s++; s == size {
			s = 0
		}
	}
	return c
}

func (r *ring) get(idx int64) Counts {
	if idx < r.oldest() || idx > r.head {
		return Counts{}
	}
	return r.buckets[r.slot(idx)]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Series counts one SLO series (one SLO, one set of group-by values) in two
// rings of event-time buckets: 1-minute buckets that cover the longest alert
// window, and 1-hour buckets that cover the SLO window. Every event goes to
// both. Rolling windows up to the fine span are exact at minute resolution
// (their full hours read from the hourly ring, the partial hours at either
// end from the minute ring); longer and calendar windows are exact at hour
// resolution. Hour buckets are aligned to the SLO time zone's offset, so
// calendar boundaries fall on bucket boundaries.
type Series struct {
	SLO    *SLO
	ID     string
	Labels []string // group-by values, in SLO.GroupBy order

	alignMin int64 // minutes added before dividing into hours

	mu     sync.Mutex
	fine   ring
	coarse ring
	cum    Counts // every event ever counted: the spanslo_events_total counters
	bad    [maxExamples]Example
	badN   int
}

// Example is a recent bad event, for alerts and the dashboard.
type Example struct {
	TraceID TraceID
	EndUnix int64 // nanoseconds
}

const maxExamples = 8

// futureSlots leaves room in the rings for events slightly in the future.
const futureSlots = 16

// NewSeries makes the counters of one series of s.
func NewSeries(s *SLO, id string, labels []string) *Series {
	fineSpan := s.FineSpan()
	coarseSpan := max(s.Window.MaxLength(), fineSpan)
	return &Series{
		SLO: s, ID: id, Labels: labels,
		alignMin: alignMinutes(s.Window.Location),
		fine:     newRing(int(fineSpan/Fine) + futureSlots),
		coarse:   newRing(int(coarseSpan/Coarse) + 2 + futureSlots/4),
	}
}

// FineSpan is how far back minute buckets reach: the longest alert window
// (at least one hour).
func (s *SLO) FineSpan() time.Duration {
	span := time.Hour
	for _, r := range s.Rules {
		span = max(span, r.Long)
	}
	return span
}

// alignMinutes is the zone's offset from UTC modulo one hour, so hour
// buckets start on local hour boundaries even in UTC+5:30.
func alignMinutes(loc *time.Location) int64 {
	if loc == nil {
		return 0
	}
	_, off := time.Now().In(loc).Zone()
	return int64(((off/60)%60 + 60) % 60)
}

func (s *Series) minuteOf(unixNano int64) int64 { return floorDiv(unixNano, int64(Fine)) }
func (s *Series) hourOfMinute(m int64) int64    { return hourOfMinute(m, s.alignMin) }
func (s *Series) firstMinute(h int64) int64     { return firstMinute(h, s.alignMin) }

// hourOfMinute is the hour bucket holding minute m, with buckets shifted by
// alignMin minutes; firstMinute is the first minute of hour bucket h.
func hourOfMinute(m, alignMin int64) int64 { return floorDiv(m+alignMin, 60) }
func firstMinute(h, alignMin int64) int64  { return h*60 - alignMin }

// Add counts one event ending at endUnixNano. It reports false when the event
// is older than both rings hold.
func (s *Series) Add(endUnixNano int64, good bool, weight float64, trace TraceID) bool {
	m := s.minuteOf(endUnixNano)
	g := 0.0
	if good {
		g = weight
	}
	s.mu.Lock()
	okFine := s.fine.add(m, g, weight)
	okCoarse := s.coarse.add(s.hourOfMinute(m), g, weight)
	if okFine || okCoarse {
		s.cum.Good += g
		s.cum.Total += weight
	}
	if !good && (okFine || okCoarse) && !trace.IsZero() {
		s.bad[s.badN%maxExamples] = Example{TraceID: trace, EndUnix: endUnixNano}
		s.badN++
	}
	s.mu.Unlock()
	return okFine || okCoarse
}

// Cumulative returns every event counted since the series was made: the
// monotonic counters /metrics and the history store expose.
func (s *Series) Cumulative() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cum
}

// Rolling returns the counts of the rolling window of length d ending at now:
// exact at minute resolution when d fits in the minute buckets, at hour
// resolution otherwise. The current, partial bucket is included.
func (s *Series) Rolling(now time.Time, d time.Duration) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollingLocked(now, d)
}

func (s *Series) rollingLocked(now time.Time, d time.Duration) Counts {
	end := s.minuteOf(now.UnixNano())
	if int64(d/Fine) <= int64(len(s.fine.buckets)-futureSlots) {
		return s.minutesLocked(end-int64(d/Fine)+1, end)
	}
	h := s.hourOfMinute(end)
	return s.coarse.sum(h-int64(d/Coarse)+1, h)
}

// minutesLocked sums minutes [a, b], reading whole hours from the hourly ring.
func (s *Series) minutesLocked(a, b int64) Counts {
	ha, hb := s.hourOfMinute(a), s.hourOfMinute(b)
	if hb-ha < 2 {
		return s.fine.sum(a, b)
	}
	c := s.fine.sum(a, s.firstMinute(ha+1)-1)
	c = c.Add(s.coarse.sum(ha+1, hb-1))
	return c.Add(s.fine.sum(s.firstMinute(hb), b))
}

// Since returns the counts from the hour bucket holding start up to now, the
// sum calendar windows use.
func (s *Series) Since(start, now time.Time) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.coarse.sum(s.hourOfMinute(s.minuteOf(start.UnixNano())), s.hourOfMinute(s.minuteOf(now.UnixNano())))
}

// Window returns the counts of the SLO's compliance window at now.
func (s *Series) Window(now time.Time) Counts {
	w := s.SLO.Window
	if w.Calendar != "" {
		return s.Since(w.Start(now), now)
	}
	return s.Rolling(now, w.Rolling)
}

// Hourly returns the counts of each hour bucket from the one holding from to
// the one holding now, oldest first: the data of burn-down charts.
func (s *Series) Hourly(from, now time.Time) []Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.hourOfMinute(s.minuteOf(from.UnixNano()))
	b := s.hourOfMinute(s.minuteOf(now.UnixNano()))
	if b < a {
		return nil
	}
	out := make([]Counts, 0, b-a+1)
	for h := a; h <= b; h++ {
		out = append(out, s.coarse.get(h))
	}
	return out
}

// Examples returns up to n recent bad events, newest first.
func (s *Series) Examples(n int) []Example {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := min(n, s.badN, maxExamples)
	out := make([]Example, 0, k)
	for i := 0; i < k; i++ {
		out = append(out, s.bad[(s.badN-1-i)%maxExamples])
	}
	return out
}

// NoExhaustion is the time to exhaustion when the budget is not burning.
const NoExhaustion = time.Duration(math.MaxInt64)

// Status is an SLO series' state at an instant.
type Status struct {
	Window          Counts
	SLI             float64
	BudgetRemaining float64
	// BurnRate1h is the burn rate over the last hour, the pace used for
	// TimeToExhaustion.
	BurnRate1h float64
	// TimeToExhaustion at BurnRate1h: 0 when already spent, NoExhaustion
	// when nothing burns.
	TimeToExhaustion time.Duration
	Zone             Zone
}

// Status computes the series' budget at now.
func (s *Series) Status(now time.Time) Status {
	o := s.SLO.Objective
	w := s.Window(now)
	st := Status{Window: w, SLI: w.SLI(), BudgetRemaining: w.BudgetRemaining(o)}
	st.BurnRate1h = s.Rolling(now, time.Hour).BurnRate(o)
	st.TimeToExhaustion = TimeToExhaustion(st.BudgetRemaining, st.BurnRate1h, s.SLO.Window.Period())
	st.Zone = s.SLO.Zones.Of(st.BudgetRemaining)
	return st
}

// TimeToExhaustion is how long the remaining budget lasts at a burn rate: a
// burn rate of 1 spends the whole budget in one period.
func TimeToExhaustion(remaining, burnRate float64, period time.Duration) time.Duration {
	if remaining <= 0 {
		return 0
	}
	if burnRate <= 0 {
		return NoExhaustion
	}
	d := remaining / burnRate * float64(period)
	if d >= float64(NoExhaustion) {
		return NoExhaustion
	}
	return time.Duration(d)
}
