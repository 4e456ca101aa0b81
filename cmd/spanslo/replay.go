package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/ingest"
	"github.com/spanslo/spanslo/slo"
)

// replayUsage is the replay synopsis: the flags come first.
const replayUsage = `--config slos.yaml [--tick 15s] FILE...

FILEs hold OTLP JSON, one ExportTraceServiceRequest per line (the Collector
file exporter's format), plain or gzip. Spans are classified and evaluated on
event time: the clock is the latest span end time read so far, but a span
ending more than 5m past its line's median end does not move it (a broken host
clock) and, as live, a span ending more than 5m past the clock is too new. The
evaluator ticks at every --tick boundary the clock crosses, before counting
the batch that crossed it, as a live server would have. Prints the alert
timeline, then one budget summary line per SLO series, as JSON lines.`

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", replayUsage, stdout)
	config := fs.String("config", "slos.yaml", "SLO config `file`")
	tick := fs.Duration("tick", 15*time.Second, "evaluation interval, in event time (serve ticks every 15s)")
	quiet := fs.Bool("q", false, "no progress notes on stderr (bad lines and the final tally still are)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return &exitError{2, errors.New("replay: no span file given")}
	}
	if *tick < time.Second {
		return &exitError{2, fmt.Errorf("replay: --tick %s is shorter than 1s", *tick)}
	}
	cfg, err := loadConfig(*config, stderr)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	r := newReplayer(cfg, *tick, out, stderr)
	r.quiet = *quiet
	for _, path := range fs.Args() {
		if err := r.replayFile(ctx, path); err != nil {
			out.Flush()
			return fmt.Errorf("replay: %w", err)
		}
	}
	r.finish()
	if err := out.Flush(); err != nil {
		return fmt.Errorf("replay: write: %w", err)
	}
	r.report()
	return nil
}

// replayer drives the same tracker, classifier and evaluator as serve, on
// a clock made of span end times.
type replayer struct {
	tr     *slo.Tracker
	ev     *burnrate.Evaluator
	tick   time.Duration
	out    *json.Encoder
	stderr io.Writer
	quiet  bool

	idle     time.Duration // after this long without spans every window is empty
	clock    time.Time     // latest span end read
	next     time.Time     // next tick boundary; zero before the first span
	lines    int
	badLines int
	res      ingest.Result
	fired    map[string]int // alerts fired per series
	lastNote time.Time      // wall time of the last progress note
	ends     []int64        // span end times of the batch, reused
}

func newReplayer(cfg *slo.Config, tick time.Duration, out io.Writer, stderr io.Writer) *replayer {
	tr := slo.NewTracker(cfg)
	idle := tick
	for _, s := range cfg.SLOs {
		idle = max(idle, s.Window.MaxLength()+tick, s.FineSpan()+tick)
	}
	return &replayer{
		tr: tr, ev: burnrate.New(tr, burnrate.Options{}), tick: tick, idle: idle,
		out: json.NewEncoder(out), stderr: stderr, fired: map[string]int{},
		lastNote: time.Now(),
	}
}

// replayFile reads one file line by line; a bad line is reported as
// file:line: message and skipped.
func (r *replayer) replayFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	in, err := decompressed(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	br := bufio.NewReaderSize(in, 1<<20)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			r.line(path, n, line)
			r.progress(path, f, size)
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
}

// line replays one line: one OTLP JSON trace export.
func (r *replayer) line(path string, n int, line []byte) {
	r.lines++
	var um ptrace.JSONUnmarshaler
	td, err := um.UnmarshalTraces(line)
	if err != nil {
		r.badLines++
		fmt.Fprintf(r.stderr, "%s:%d: not an OTLP JSON trace export: %s\n", path, n, oneLine(err))
		return
	}
	r.batch(td)
}

// decompressed reads gzip when the file starts with its magic number.
func decompressed(f *os.File) (io.Reader, error) {
	br := bufio.NewReader(f)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	return gzip.NewReader(br)
}

// batch ticks at every boundary up to the batch's latest span end, then
// counts the batch: spans ending before a boundary but read after it are
// late, like spans that reach a live server after a tick.
func (r *replayer) batch(td ptrace.Traces) {
	end, ok := r.batchClock(td)
	if !ok {
		return
	}
	if r.next.IsZero() {
		r.next = end.Truncate(r.tick).Add(r.tick)
	}
	for !r.next.After(end) {
		r.emit(r.ev.Tick(r.next))
		r.next = r.next.Add(r.tick)
		// Once every window has emptied since the last span, all ticks
		// read the same zeros: skip to the batch.
		if !r.clock.IsZero() && r.next.Sub(r.clock) > r.idle && end.Sub(r.next) > r.tick {
			r.next = end.Truncate(r.tick)
		}
	}
	if end.After(r.clock) {
		r.clock = end
	}
	res := ingest.Classify(td, r.tr, r.clock)
	r.res.Spans += res.Spans
	r.res.Counted += res.Counted
	r.res.Unmatched += res.Unmatched
	r.res.TooOld += res.TooOld
	r.res.TooNew += res.TooNew
}

// batchClock is the clock after a batch: the latest span end that is at
// most slo.MaxFuture past the batch's median end. One span from a broken
// host clock cannot move event time, not even in the first batch; it is
// left to ingest.Classify, which rejects it as too new as a live server
// would. A batch that is wholly later (a gap in the recording) moves the
// clock, as its median does.
func (r *replayer) batchClock(td ptrace.Traces) (time.Time, bool) {
	ends := r.ends[:0]
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				ends = append(ends, int64(spans.At(k).EndTimestamp()))
			}
		}
	}
	r.ends = ends
	if len(ends) == 0 {
		return time.Time{}, false
	}
	slices.Sort(ends)
	// The lower median: of two spans, one broken, the sound one.
	median := ends[(len(ends)-1)/2]
	limit := median + int64(slo.MaxFuture)
	if limit < median { // overflowed: end times near the end of int64
		limit = math.MaxInt64
	}
	n := sort.Search(len(ends), func(i int) bool { return ends[i] > limit }) // ends[:n] are at most limit, the median among them
	return time.Unix(0, ends[n-1]).UTC(), true
}

// finish evaluates the last partial tick and prints the summaries.
func (r *replayer) finish() {
	if r.next.IsZero() {
		return
	}
	r.emit(r.ev.Tick(r.next))
	for _, ss := range r.tr.SLOs() {
		for _, s := range ss.Series() {
			r.encode(r.summary(s, r.next))
		}
	}
}

func (r *replayer) progress(path string, f *os.File, size int64) {
	if r.quiet || time.Since(r.lastNote) < 2*time.Second {
		return
	}
	r.lastNote = time.Now()
	pos, _ := f.Seek(0, io.SeekCurrent)
	pct := 0.0
	if size > 0 {
		pct = 100 * float64(pos) / float64(size)
	}
	fmt.Fprintf(r.stderr, "replay: %s: %.0f%%, %d lines, %d spans, event time %s\n",
		path, pct, r.lines, r.res.Spans, r.clock.Format(time.RFC3339))
}

func (r *replayer) report() {
	fmt.Fprintf(r.stderr, "replay: %d lines (%d bad), %d spans: %d counted, %d unmatched, %d too old, %d too new\n",
		r.lines, r.badLines, r.res.Spans, r.res.Counted, r.res.Unmatched, r.res.TooOld, r.res.TooNew)
}

// oneLine shortens a decoder error to one line without its context dump.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), ", bigger context")
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
}

func (r *replayer) encode(v any) {
	// Encoding these plain structs cannot fail; a write error shows at Flush.
	_ = r.out.Encode(v)
}

// timelineLine is one alert transition.
type timelineLine struct {
	Time             time.Time `json:"time"`
	SLO              string    `json:"slo"`
	Series           string    `json:"series,omitempty"` // when the SLO has group_by
	Rule             string    `json:"rule"`
	Severity         string    `json:"severity"`
	State            string    `json:"state"`
	BurnLong         float64   `json:"burn_long"`
	BurnShort        float64   `json:"burn_short"`
	Factor           float64   `json:"factor"`
	LongWindow       string    `json:"long_window"`
	ShortWindow      string    `json:"short_window"`
	BudgetRemaining  float64   `json:"budget_remaining"`
	TimeToExhaustion string    `json:"time_to_exhaustion,omitempty"`
	Duration         string    `json:"duration,omitempty"` // on resolve
	Traces           []string  `json:"traces,omitempty"`   // example bad traces, on fire
}

// zoneLine is a budget policy zone change.
type zoneLine struct {
	Time            time.Time `json:"time"`
	SLO             string    `json:"slo"`
	Series          string    `json:"series,omitempty"`
	State           string    `json:"state"` // "zone"
	From            slo.Zone  `json:"from"`
	To              slo.Zone  `json:"to"`
	BudgetRemaining float64   `json:"budget_remaining"`
}

// summaryLine is a series' budget at the end of the replay.
type summaryLine struct {
	Summary         bool     `json:"summary"`
	SLO             string   `json:"slo"`
	Series          string   `json:"series,omitempty"`
	Objective       float64  `json:"objective"`
	Window          string   `json:"window"`
	At              string   `json:"at"`
	Good            float64  `json:"good"`
	Total           float64  `json:"total"`
	SLI             float64  `json:"sli"`
	BudgetRemaining float64  `json:"budget_remaining"`
	Zone            slo.Zone `json:"zone"`
	AlertsFired     int      `json:"alerts_fired"`
	Firing          []string `json:"firing,omitempty"` // rules still firing at the end
}

func (r *replayer) emit(events []burnrate.Event) {
	for _, e := range events {
		switch {
		case e.Alert != nil:
			a := e.Alert
			if a.State == burnrate.StateFiring {
				r.fired[a.SeriesID]++
			}
			r.encode(alertLine(e.Time, a))
		case e.Zone != nil:
			z := e.Zone
			r.encode(zoneLine{Time: e.Time, SLO: z.SLOID, Series: seriesName(z.SLOID, z.SeriesID),
				State: "zone", From: z.From, To: z.To, BudgetRemaining: round4(z.BudgetRemaining)})
		}
	}
}

func alertLine(t time.Time, a *burnrate.Alert) timelineLine {
	l := timelineLine{
		Time: t, SLO: a.SLOID, Series: seriesName(a.SLOID, a.SeriesID), Rule: a.Rule, Severity: a.Severity,
		State: string(a.State), BurnLong: round4(a.BurnLong), BurnShort: round4(a.BurnShort),
		Factor: round4(a.Factor), LongWindow: slo.FormatDuration(a.LongWindow), ShortWindow: slo.FormatDuration(a.ShortWindow),
		BudgetRemaining: round4(a.BudgetRemaining),
	}
	if a.TimeToExhaustion != slo.NoExhaustion {
		l.TimeToExhaustion = a.TimeToExhaustion.Round(time.Minute).String()
	}
	if a.State == burnrate.StateResolved {
		l.Duration = a.Duration(t).String()
	} else {
		for _, tl := range a.Traces {
			l.Traces = append(l.Traces, tl.TraceID)
		}
	}
	return l
}

func (r *replayer) summary(s *slo.Series, now time.Time) summaryLine {
	st := s.Status(now)
	l := summaryLine{
		Summary: true, SLO: s.SLO.ID, Series: seriesName(s.SLO.ID, s.ID),
		Objective: round6(s.SLO.Objective), Window: s.SLO.Window.String(), At: now.Format(time.RFC3339),
		Good: round4(st.Window.Good), Total: round4(st.Window.Total), SLI: round6(st.SLI),
		BudgetRemaining: round4(st.BudgetRemaining), Zone: st.Zone, AlertsFired: r.fired[s.ID],
	}
	for _, rs := range r.ev.Rules(s.ID) {
		if rs.State == burnrate.RuleFiring {
			l.Firing = append(l.Firing, rs.Rule)
		}
	}
	return l
}

// seriesName is the series id when it differs from the SLO id.
func seriesName(sloID, seriesID string) string {
	if sloID == seriesID {
		return ""
	}
	return seriesID
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
