// Package notify routes burn-rate alerts and zone changes to the notifiers
// slos.yaml configures (notify/pagerduty, notify/slack) and delivers them:
// a per-notifier queue keeping the latest state per alert, a retry stage
// with backoff, repeats of still-firing alerts, resolves, and a
// notification log in the data directory that survives restarts.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// DataDir holds the notification log; "" keeps it in memory only.
	DataDir string
	Now     func() time.Time
	// Sleep waits d or until ctx ends (backoff, rate limits). Tests pass
	// one that advances a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) that spreads backoffs.
	Jitter func() float64
	// RepeatInterval re-notifies a still-firing alert (default 4h).
	RepeatInterval time.Duration
	// DisableResolved stops resolve notifications (sent by default).
	DisableResolved bool
	// RetryDeadline bounds one delivery's retries (default 2m); after it
	// the messages wait RetryInterval (default 1m) and are tried again.
	RetryDeadline time.Duration
	RetryInterval time.Duration
	// BackoffInitial and BackoffMax shape the exponential backoff
	// (default 1s doubling up to 30s), halved at random by Jitter.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// AttemptTimeout bounds one HTTP request (default 10s).
	AttemptTimeout time.Duration
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	HTTPClient     *http.Client
	// Getenv reads secrets named by routing_key_env / webhook_url_env.
	Getenv func(string) string
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RepeatInterval, 4*time.Hour)
	def(&o.RetryDeadline, 2*time.Minute)
	def(&o.RetryInterval, time.Minute)
	def(&o.BackoffInitial, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.AttemptTimeout, 10*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultClient
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dispatcher routes events to notifiers and delivers them.
type Dispatcher struct {
	opts    Options
	log     *nlog
	metrics *metrics

	mu       sync.Mutex
	cfg      *slo.Config
	ints     map[string]*integration
	states   map[string]*state
	version  uint64
	reloaded chan struct{}
	// resolved holds the alert keys whose latest event was a resolve: a
	// log entry still firing for one of them (its resolve was refused) is
	// not repeated.
	resolved map[string]bool
}

// NewDispatcher builds the notifiers of cfg and reads the notification
// log from opts.DataDir. A notifier whose secret is missing is built
// unhealthy rather than failing the start.
func NewDispatcher(cfg *slo.Config, opts Options) (*Dispatcher, error) {
	opts.defaults()
	l, err := openLog(opts.DataDir, opts.Logger)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("notification metrics: %w", err)
	}
	d := &Dispatcher{opts: opts, log: l, metrics: m, states: map[string]*state{}, reloaded: make(chan struct{}, 1),
		resolved: map[string]bool{}}
	if err := d.Reload(cfg); err != nil {
		return nil, err
	}
	d.forgetRemoved(cfg)
	return d, nil
}

// forgetRemoved drops the log entries of notifiers the config no longer
// has. Their secrets are gone, so the resolves they are owed cannot be
// sent; kept, the entries would repeat stale triggers should a notifier of
// that name come back.
func (d *Dispatcher) forgetRemoved(cfg *slo.Config) {
	dropped, err := d.log.forget(func(name string) bool { return cfg.Notifiers[name] != nil })
	d.logErr(err)
	byNotifier := map[string][]string{}
	for _, e := range dropped {
		byNotifier[e.Notifier] = append(byNotifier[e.Notifier], e.Key)
	}
	for name, keys := range byNotifier {
		d.opts.Logger.Error("notifier removed from the config while alerts it paged were firing; resolve them by hand",
			"notifier", name, "alerts", keys)
	}
}

// Reload switches to a new config: notifiers are rebuilt (secrets read
// again); queues and health of notifiers that keep their name survive. A
// notifier removed while alerts it paged are firing stays, with its old
// secret, to send their resolves (and nothing else), then goes.
func (d *Dispatcher) Reload(cfg *slo.Config) error {
	ints := make(map[string]*integration, len(cfg.Notifiers))
	for name, n := range cfg.Notifiers {
		in, err := newIntegration(n, &d.opts)
		if err != nil {
			return err
		}
		ints[name] = in
	}
	d.mu.Lock()
	for name, st := range d.states {
		in, ok := ints[name]
		if ok && in.typ == st.health.Type {
			continue
		}
		if old := d.ints[name]; !ok && old != nil {
			if firing := d.log.firing(name); len(firing) > 0 {
				r := *old // a new integration: Run restarts its worker
				r.retiring = true
				ints[name] = &r
				if !old.retiring {
					d.opts.Logger.Warn("notifier removed from the config; it stays until the alerts it paged are resolved",
						"notifier", name, "type", old.typ, "alerts", entryKeys(firing))
				}
				continue
			}
		}
		d.metrics.remove(name, st.health.Type)
		delete(d.states, name)
	}
	for name, in := range ints {
		if in.retiring {
			continue
		}
		st, ok := d.states[name]
		if !ok {
			st = newState(name, in.typ)
			d.states[name] = st
			d.metrics.add(name, in.typ)
		}
		st.mu.Lock()
		switch {
		case in.setupErr != "":
			d.opts.Logger.Warn("notifier cannot send", "notifier", name, "type", in.typ, "error", in.setupErr)
			st.health.Healthy, st.health.LastError, st.health.LastErrorAt = false, in.setupErr, d.opts.Now()
			st.setupFailed = true
		case st.setupFailed:
			// The secret is there now: healthy until a delivery fails.
			st.health.Healthy, st.setupFailed = true, false
		}
		d.metrics.healthy.WithLabelValues(name, in.typ).Set(boolGauge(st.health.Healthy))
		st.mu.Unlock()
	}
	d.cfg, d.ints = cfg, ints
	d.mu.Unlock()
	d.wakeRun()
	return nil
}

// retire removes a removed notifier once every alert it paged is resolved.
func (d *Dispatcher) retire(in *integration) {
	if len(d.log.firing(in.name)) > 0 {
		return
	}
	d.mu.Lock()
	if d.ints[in.name] != in {
		d.mu.Unlock()
		return
	}
	delete(d.ints, in.name)
	delete(d.states, in.name)
	d.metrics.remove(in.name, in.typ)
	d.mu.Unlock()
	d.opts.Logger.Info("removed notifier has resolved every alert it paged and is gone", "notifier", in.name, "type", in.typ)
	d.wakeRun()
}

// wakeRun tells Run the set of integrations changed.
func (d *Dispatcher) wakeRun() {
	select {
	case d.reloaded <- struct{}{}:
	default:
	}
}

func entryKeys(es []logEntry) []string {
	keys := make([]string, len(es))
	for i := range es {
		keys[i] = es[i].Key
	}
	return keys
}

// Enqueue hands events to their notifiers' queues and returns at once.
// Each queue keeps only the latest event per alert (or series zone), so
// it is bounded by the number of alert keys, no event the notifier still
// needs is dropped, and a burst collapses to what is true now.
func (d *Dispatcher) Enqueue(events ...burnrate.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	woken := map[*state]bool{}
	for _, ev := range events {
		key, route, p := d.pendingFor(ev)
		if p == nil {
			continue
		}
		if p.alert != nil {
			if p.alert.State == burnrate.StateResolved {
				d.resolved[key] = true
				route = d.withPaged(key, route)
			} else {
				delete(d.resolved, key)
			}
		}
		for _, name := range route {
			st, ok := d.states[name]
			if !ok {
				continue
			}
			d.version++
			q := *p
			q.version = d.version
			st.mu.Lock()
			st.pending[key] = &q
			st.mu.Unlock()
			woken[st] = true
		}
	}
	for st := range woken {
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
}

// pendingFor copies an event into a queue entry, with its key and route.
func (d *Dispatcher) pendingFor(ev burnrate.Event) (string, []string, *pending) {
	switch {
	case ev.Alert != nil:
		a := *ev.Alert
		if a.State == burnrate.StateSuppressed {
			return "", nil, nil // shown in the API, not notified
		}
		a.Traces = append([]burnrate.TraceLink(nil), a.Traces...)
		route := a.Route
		if route == nil {
			route = d.cfg.Routes[a.Severity]
		}
		return a.Key, route, &pending{alert: &a, at: ev.Time}
	case ev.Zone != nil:
		z := *ev.Zone
		route := z.Route
		if route == nil {
			route = d.cfg.Routes["zone"]
		}
		return zoneKey(z.SeriesID), route, &pending{zone: &z, at: ev.Time}
	}
	return "", nil, nil
}

func zoneKey(series string) string { return "zone/" + series }

// withPaged adds to a resolve's route every notifier the log says was
// paged for key: a resolve goes where the trigger went, even after the
// route changed. d.mu is held.
func (d *Dispatcher) withPaged(key string, route []string) []string {
	for name := range d.states {
		if slices.Contains(route, name) {
			continue
		}
		if e, ok := d.log.get(name, key); ok && e.Firing {
			route = append(route[:len(route):len(route)], name) // never into the config's slice
		}
	}
	return route
}

// Reconcile resolves alerts the log says were delivered as firing but
// that are not in firing (alert keys) any more: after a restart the
// evaluator no longer knows them, so it never sends their resolve. A key
// with a resolve already queued keeps that one. Call it only with the
// evaluator's restored state: with an empty one it would resolve every
// incident still open.
func (d *Dispatcher) Reconcile(now time.Time, firing []string) {
	active := make(map[string]bool, len(firing))
	for _, k := range firing {
		active[k] = true
	}
	d.mu.Lock()
	names := make([]string, 0, len(d.states))
	for name := range d.states {
		names = append(names, name)
	}
	d.mu.Unlock()
	var events []burnrate.Event
	for _, name := range names {
		for _, e := range d.log.firing(name) {
			if active[e.Key] || d.resolveQueued(name, e.Key) {
				continue
			}
			a := *e.Alert
			a.State, a.ResolvedAt = burnrate.StateResolved, now
			a.Route = []string{name}
			events = append(events, burnrate.Event{Time: now, Alert: &a})
		}
	}
	d.Enqueue(events...)
}

// resolveQueued reports whether a resolve of key waits in a notifier's queue.
func (d *Dispatcher) resolveQueued(name, key string) bool {
	d.mu.Lock()
	st := d.states[name]
	d.mu.Unlock()
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.pending[key]
	return p != nil && p.alert != nil && p.alert.State == burnrate.StateResolved
}

// Health reports every notifier, sorted by name; errors are redacted.
func (d *Dispatcher) Health() []NotifierHealth {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]NotifierHealth, 0, len(d.states))
	for _, st := range d.states {
		st.mu.Lock()
		h := st.health
		h.Pending = len(st.pending)
		st.mu.Unlock()
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Run delivers until ctx ends: one worker per notifier, so a notifier that
// is down does not hold up the others.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	workers := map[*integration]context.CancelFunc{}
	defer func() {
		for _, cancel := range workers {
			cancel()
		}
		wg.Wait()
	}()
	for {
		d.mu.Lock()
		current := map[*integration]*state{}
		for name, in := range d.ints {
			current[in] = d.states[name]
		}
		d.mu.Unlock()
		for in, cancel := range workers {
			if current[in] == nil {
				cancel()
				delete(workers, in)
			}
		}
		for in, st := range current {
			if workers[in] == nil {
				wctx, cancel := context.WithCancel(ctx)
				workers[in] = cancel
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.work(wctx, ctx, in, st)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.reloaded:
		}
	}
}

// work delivers for one integration until ctx ends (a reload replaced the
// integration, or Run ends). A request under way when a reload ends ctx
// finishes under send, Run's context: aborted, it would be sent again by
// the next worker and Slack would show it twice.
func (d *Dispatcher) work(ctx, send context.Context, in *integration, st *state) {
	for {
		d.flushOne(ctx, send, in, st)
		wait := d.nextDue(in, st).Sub(d.opts.Now())
		wait = min(max(wait, 10*time.Millisecond), time.Minute)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-st.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush delivers everything due now to every notifier and waits: Run's
// work done once, for tests and for sending before exit.
func (d *Dispatcher) Flush(ctx context.Context) error {
	d.mu.Lock()
	type pair struct {
		in *integration
		st *state
	}
	var all []pair
	for name, in := range d.ints {
		all = append(all, pair{in, d.states[name]})
	}
	d.mu.Unlock()
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, p := range all {
		wg.Go(func() { errs[i] = d.flushOne(ctx, ctx, p.in, p.st) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
