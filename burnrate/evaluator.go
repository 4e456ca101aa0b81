// Package burnrate evaluates multi-window multi-burn-rate alert rules over
// the exact counters of the slo package, keeps the alert state machine
// (firing, suppressed, resolved), reports budget policy zone changes, and
// exports the same rules as a Prometheus rule file.
package burnrate

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// BudgetExhausted is the rule name of the alert that fires while a series'
// error budget is spent (remaining ≤ 0).
const BudgetExhausted = "budget-exhausted"

// DefaultResolvedRetention is how long resolved alerts stay listed.
const DefaultResolvedRetention = time.Hour

// maxTraces is how many example bad traces an alert carries.
const maxTraces = 5

// Rule states reported by RuleStatus.State.
const (
	RuleOK         = "ok"
	RuleLowTraffic = "low_traffic"
	RuleFiring     = string(StateFiring)
	RuleSuppressed = string(StateSuppressed)
)

// Options tune an Evaluator.
type Options struct {
	// Now is the clock Alerts uses to age out resolved alerts; time.Now
	// when nil. Tick takes its instant explicitly.
	Now func() time.Time
	// ResolvedRetention is how long a resolved alert stays in Alerts;
	// DefaultResolvedRetention when zero.
	ResolvedRetention time.Duration
	// Logger receives transitions at debug level; slog.Default when nil.
	Logger *slog.Logger
}

// Evaluator runs the alert rules of every series of a tracker. Tick is
// meant to be called from one goroutine; Alerts and Rules are safe to call
// concurrently with it. It only reads series through their own short locks,
// so it never blocks ingest.
type Evaluator struct {
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger

	tickMu sync.Mutex // serialises Tick, SetTracker and Restore

	mu       sync.RWMutex // guards what follows
	tr       *slo.Tracker
	series   map[string]*seriesState
	resolved []Alert
}

// seriesState is what the evaluator remembers of one series.
type seriesState struct {
	zone   slo.Zone          // "" until first evaluated
	alerts map[string]*Alert // firing or suppressed, by rule name
	rules  []RuleStatus      // last reading, rules in config order then budget-exhausted
}

// New makes an evaluator of tr's series.
func New(tr *slo.Tracker, opts Options) *Evaluator {
	e := &Evaluator{
		now: opts.Now, retention: opts.ResolvedRetention, log: opts.Logger,
		tr: tr, series: map[string]*seriesState{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.retention <= 0 {
		e.retention = DefaultResolvedRetention
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e
}

// SetTracker switches to the tracker of a reloaded config. Alerts of series
// (or rules) the new tracker no longer has resolve on the next Tick; the
// others keep their state.
func (e *Evaluator) SetTracker(tr *slo.Tracker) {
	e.mu.Lock()
	e.tr = tr
	e.mu.Unlock()
}

// Tick evaluates every rule of every series at now and returns the
// transitions: alerts that fired or resolved, and zone changes.
func (e *Evaluator) Tick(now time.Time) []Event {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.mu.RLock()
	tr := e.tr
	e.mu.RUnlock()

	// Read every series first, without holding the state lock, so Alerts
	// and Rules never wait for the counters.
	var readings []reading
	for _, ss := range tr.SLOs() {
		for _, s := range ss.Series() {
			readings = append(readings, read(s, now))
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	var events []Event
	seen := make(map[string]bool, len(readings))
	for i := range readings {
		r := &readings[i]
		seen[r.series.ID] = true
		events = e.apply(tr.Config(), r, now, events)
	}
	for id, st := range e.series {
		if !seen[id] {
			events = e.resolveAll(st, nil, now, events)
			delete(e.series, id)
		}
	}
	e.pruneResolved(now)
	return events
}

// apply moves one series' state to its new reading.
func (e *Evaluator) apply(cfg *slo.Config, r *reading, now time.Time, events []Event) []Event {
	s := r.series
	st := e.series[s.ID]
	if st == nil {
		st = &seriesState{alerts: map[string]*Alert{}}
		e.series[s.ID] = st
	}
	settle(s.SLO.Rules, r.rules[:len(s.SLO.Rules)], st.alerts)
	st.rules = r.rules
	for i := range r.rules {
		rs := &r.rules[i]
		rule := ruleAt(s.SLO, i)
		events = e.step(cfg, st, s, &rule, rs, r.status, now, events)
	}
	events = e.resolveAll(st, r.rules, now, events)
	return e.zone(cfg, st, s, r.status, now, events)
}

// ruleAt is the i-th rule of an SLO, the budget-exhausted rule last.
func ruleAt(s *slo.SLO, i int) slo.Rule {
	if i < len(s.Rules) {
		return s.Rules[i]
	}
	return slo.Rule{Name: BudgetExhausted, Severity: slo.SeverityTicket, Long: s.Window.Period(), Short: time.Hour}
}

// step runs one rule's state machine.
func (e *Evaluator) step(cfg *slo.Config, st *seriesState, s *slo.Series, rule *slo.Rule, rs *RuleStatus, status slo.Status, now time.Time, events []Event) []Event {
	a := st.alerts[rule.Name]
	switch rs.State {
	case RuleFiring:
		if a == nil {
			a = newAlert(cfg, s, rule, now)
			st.alerts[rule.Name] = a
		}
		a.State = StateFiring
		update(a, rs, status)
		if a.NotifiedAt.IsZero() {
			a.FiredAt, a.NotifiedAt = now, now
			a.Traces = traces(cfg, s)
			e.log.Debug("alert firing", "key", a.Key, "burn_long", a.BurnLong, "burn_short", a.BurnShort)
			events = append(events, Event{Time: now, Alert: copyAlert(a)})
		}
	case RuleSuppressed:
		if a == nil {
			a = newAlert(cfg, s, rule, now)
			st.alerts[rule.Name] = a
		}
		a.State = StateSuppressed
		update(a, rs, status)
	default:
		if a != nil {
			update(a, rs, status)
			events = e.resolve(st, a, now, events)
		}
	}
	return events
}

// resolveAll resolves the alerts of st whose rule is not in rules (all of
// them when rules is nil): the rule or the series went away in a reload.
func (e *Evaluator) resolveAll(st *seriesState, rules []RuleStatus, now time.Time, events []Event) []Event {
	names := make([]string, 0, len(st.alerts))
	for name := range st.alerts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		kept := false
		for i := range rules {
			kept = kept || rules[i].Rule == name
		}
		if !kept {
			events = e.resolve(st, st.alerts[name], now, events)
		}
	}
	return events
}

// resolve ends an alert. One that was never notified (only suppressed)
// disappears quietly; the others owe their notifiers a resolve.
func (e *Evaluator) resolve(st *seriesState, a *Alert, now time.Time, events []Event) []Event {
	delete(st.alerts, a.Rule)
	if a.NotifiedAt.IsZero() {
		return events
	}
	a.State, a.ResolvedAt = StateResolved, now
	e.log.Debug("alert resolved", "key", a.Key, "duration", a.Duration(now))
	e.resolved = append(e.resolved, *copyAlert(a))
	return append(events, Event{Time: now, Alert: copyAlert(a)})
}

// zone reports a move between budget policy zones. The first reading of a
// series is silent when normal; a series that starts out in caution or
// freeze is reported as leaving normal.
func (e *Evaluator) zone(cfg *slo.Config, st *seriesState, s *slo.Series, status slo.Status, now time.Time, events []Event) []Event {
	from := st.zone
	st.zone = status.Zone
	if from == "" {
		from = slo.ZoneNormal
	}
	if from == status.Zone {
		return events
	}
	runbook := s.SLO.Runbook
	zc := &ZoneChange{
		SLOID: s.SLO.ID, SeriesID: s.ID, Journey: journeyName(s.SLO),
		From: from, To: status.Zone, BudgetRemaining: status.BudgetRemaining, At: now,
		RunbookURL: runbook, DashboardURL: cfg.SLOLink(s.SLO.ID),
		Route: append([]string(nil), cfg.Routes["zone"]...),
	}
	e.log.Debug("zone change", "series", s.ID, "from", from, "to", status.Zone)
	return append(events, Event{Time: now, Zone: zc})
}

func (e *Evaluator) pruneResolved(now time.Time) {
	keep := e.resolved[:0]
	for _, a := range e.resolved {
		if now.Sub(a.ResolvedAt) < e.retention {
			keep = append(keep, a)
		}
	}
	clear(e.resolved[len(keep):])
	e.resolved = keep
}

// Alerts returns copies of the firing and suppressed alerts, sorted by key,
// then the alerts resolved within the retention, newest first.
func (e *Evaluator) Alerts() []Alert {
	now := e.now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []Alert
	for _, st := range e.series {
		for _, a := range st.alerts {
			out = append(out, *copyAlert(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	for i := len(e.resolved) - 1; i >= 0; i-- {
		if now.Sub(e.resolved[i].ResolvedAt) < e.retention {
			out = append(out, *copyAlert(&e.resolved[i]))
		}
	}
	return out
}

// Rules returns the last reading of every rule of a series (the
// budget-exhausted rule last), or nil for a series not evaluated yet.
func (e *Evaluator) Rules(seriesID string) []RuleStatus {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := e.series[seriesID]
	if st == nil {
		return nil
	}
	return append([]RuleStatus(nil), st.rules...)
}

// Run ticks every interval until ctx ends, passing each tick's events (even
// none) to handle. It returns ctx's error.
func (e *Evaluator) Run(ctx context.Context, every time.Duration, handle func([]Event)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if ctx.Err() != nil { // both were ready: stop, as promised
				return ctx.Err()
			}
			handle(e.Tick(e.now()))
		}
	}
}

func newAlert(cfg *slo.Config, s *slo.Series, rule *slo.Rule, now time.Time) *Alert {
	runbook := rule.Runbook
	if runbook == "" {
		runbook = s.SLO.Runbook
	}
	var labels map[string]string
	if len(s.Labels) > 0 {
		labels = make(map[string]string, len(s.Labels))
		for i, k := range s.SLO.GroupBy {
			labels[k] = s.Labels[i]
		}
	}
	return &Alert{
		Key: s.ID + "/" + rule.Name, SLOID: s.SLO.ID, SeriesID: s.ID, Labels: labels,
		Journey: journeyName(s.SLO), Rule: rule.Name, Severity: rule.Severity,
		Objective: s.SLO.Objective, Factor: rule.Factor, LongWindow: rule.Long, ShortWindow: rule.Short,
		RunbookURL: runbook, DashboardURL: cfg.SLOLink(s.SLO.ID),
		FiredAt: now, Route: append([]string(nil), cfg.RouteFor(rule)...),
	}
}

// update copies the current reading into an alert.
func update(a *Alert, rs *RuleStatus, status slo.Status) {
	a.BurnLong, a.BurnShort = rs.BurnLong, rs.BurnShort
	a.BudgetRemaining, a.TimeToExhaustion = status.BudgetRemaining, status.TimeToExhaustion
}

// traces links up to maxTraces distinct recent bad traces: a trace with
// several bad spans is shown once.
func traces(cfg *slo.Config, s *slo.Series) []TraceLink {
	var out []TraceLink
	seen := map[slo.TraceID]bool{}
	for _, x := range s.Examples(2 * maxTraces) {
		if len(out) == maxTraces || seen[x.TraceID] {
			continue
		}
		seen[x.TraceID] = true
		out = append(out, TraceLink{TraceID: x.TraceID.String(), URL: cfg.TraceLink(x.TraceID)})
	}
	return out
}

// copyAlert is a deep copy, so callers never share slices with the state.
func copyAlert(a *Alert) *Alert {
	c := *a
	c.Traces = append([]TraceLink(nil), a.Traces...)
	c.Route = append([]string(nil), a.Route...)
	if a.Labels != nil {
		c.Labels = make(map[string]string, len(a.Labels))
		for k, v := range a.Labels {
			c.Labels[k] = v
		}
	}
	return &c
}

func journeyName(s *slo.SLO) string {
	if s.Journey == nil {
		return ""
	}
	return s.Journey.Name
}
