package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Incident degrades one journey between Start and End: a fraction of its
// requests fail with HTTP 500, and every request takes Latency longer.
// With Every set it recurs: the same stretch again every Every after Start.
type Incident struct {
	Journey   string
	ErrorRate float64
	Latency   time.Duration
	Start     time.Time
	End       time.Time // zero: no end
	Every     time.Duration
}

// Active reports whether the incident is under way at t.
func (in Incident) Active(t time.Time) bool {
	if t.Before(in.Start) {
		return false
	}
	if in.End.IsZero() {
		return true
	}
	if in.Every > 0 {
		return t.Sub(in.Start)%in.Every < in.End.Sub(in.Start)
	}
	return t.Before(in.End)
}

// Options configure a Generator.
type Options struct {
	// Seed makes the traffic reproducible.
	Seed uint64
	// ErrorRate is the healthy fraction of failing requests of every journey.
	ErrorRate float64
	// SampleRatio below 1 head-samples traces: only that fraction is
	// emitted, each span carrying tracestate ot=th so a receiver weighs it
	// back up. 0 means 1.
	SampleRatio float64
	Incidents   []Incident
	// Journeys restricts the traffic to these journeys; empty means all.
	Journeys []string
}

// Generator builds batches of traces. It is not safe for concurrent use;
// give each sender goroutine its own (with its own seed).
type Generator struct {
	opts       Options
	rng        *rand.Rand
	cumShare   []float64
	threshold  uint64 // sampling threshold T over 56 bits; 0 keeps all
	traceState string
	// Emitted counts entry spans (requests) per journey and outcome, in
	// emitted (sampled) spans.
	Emitted map[string]*Tally
}

// Tally counts emitted requests of a journey.
type Tally struct {
	Requests, Errors, Slow int
}

// New makes a generator.
func New(opts Options) (*Generator, error) {
	if opts.SampleRatio == 0 {
		opts.SampleRatio = 1
	}
	if opts.SampleRatio < 0 || opts.SampleRatio > 1 {
		return nil, fmt.Errorf("sample ratio %g not in (0, 1]", opts.SampleRatio)
	}
	for _, in := range opts.Incidents {
		if _, ok := JourneyNamed(in.Journey); !ok {
			return nil, fmt.Errorf("incident: unknown journey %q (known: %s)", in.Journey, strings.Join(Names(), ", "))
		}
	}
	g := &Generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)), Emitted: map[string]*Tally{}}
	for _, name := range opts.Journeys {
		if _, ok := JourneyNamed(name); !ok {
			return nil, fmt.Errorf("unknown journey %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	sum := 0.0
	for _, j := range Journeys {
		if len(opts.Journeys) == 0 || slices.Contains(opts.Journeys, j.Name) {
			sum += j.Share
		}
		g.cumShare = append(g.cumShare, sum)
		g.Emitted[j.Name] = &Tally{}
	}
	if opts.SampleRatio < 1 {
		g.threshold, g.traceState = Threshold(opts.SampleRatio)
	}
	return g, nil
}

// Names lists the bundled journeys.
func Names() []string {
	out := make([]string, len(Journeys))
	for i, j := range Journeys {
		out[i] = j.Name
	}
	return out
}

// Threshold is the OpenTelemetry sampling threshold for a ratio: a trace is
// kept when the 56 random bits of its id are ≥ T = (1 - ratio) × 2^56, and
// its tracestate says ot=th:T (hex, trailing zeros dropped).
func Threshold(ratio float64) (uint64, string) {
	const max = 1 << 56
	t := uint64(max) - uint64(math.Round(ratio*max))
	if t == 0 {
		return 0, "ot=th:0"
	}
	h := fmt.Sprintf("%014x", t)
	return t, "ot=th:" + strings.TrimRight(h, "0")
}

// Batch returns traces holding at least spans spans, every trace ending
// by now (within the last second).
func (g *Generator) Batch(now time.Time, spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	b := newBatch(td)
	for n := 0; n < spans; {
		n += g.appendTrace(b, now.Add(-time.Duration(g.rng.Int64N(int64(time.Second)))))
	}
	return td
}

// Traces returns n sampled-in traces (requests) ending by now.
func (g *Generator) Traces(now time.Time, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	b := newBatch(td)
	for i := 0; i < n; i++ {
		g.appendTrace(b, now)
	}
	return td
}

// pick draws a journey by share.
func (g *Generator) pick() *Journey {
	x := g.rng.Float64() * g.cumShare[len(g.cumShare)-1]
	for i, c := range g.cumShare {
		if x < c {
			return &Journeys[i]
		}
	}
	return &Journeys[len(Journeys)-1]
}

// appendTrace adds one sampled-in trace ending at end; it returns its span
// count.
func (g *Generator) appendTrace(b *batch, end time.Time) int {
	j := g.pick()
	var tid pcommon.TraceID
	for {
		putRandom(g.rng, tid[:])
		// The low 56 bits are the W3C random part the threshold compares.
		r := uint64(tid[9])<<48 | uint64(tid[10])<<40 | uint64(tid[11])<<32 |
			uint64(tid[12])<<24 | uint64(tid[13])<<16 | uint64(tid[14])<<8 | uint64(tid[15])
		if r >= g.threshold {
			break
		}
	}
	errRate, extra := g.opts.ErrorRate, time.Duration(0)
	for _, in := range g.opts.Incidents {
		if in.Journey == j.Name && in.Active(end) {
			errRate = max(errRate, in.ErrorRate)
			extra += in.Latency
		}
	}
	failed := g.rng.Float64() < errRate
	// Log-normal around the journey's median latency.
	d := time.Duration(j.Latency*math.Exp(g.rng.NormFloat64()*0.45)*float64(time.Second)) + extra
	t := g.Emitted[j.Name]
	t.Requests++
	if failed {
		t.Errors++
	}
	if d >= 800*time.Millisecond {
		t.Slow++
	}
	return g.emit(b, j, tid, end.Add(-d), end, failed)
}

func putRandom(rng *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && i+k < len(b); k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
}

func statusCode(failed bool) int64 {
	if failed {
		return 500
	}
	return 200
}
