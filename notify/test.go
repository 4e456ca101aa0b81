package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/slo"
)

// TestResult is one notifier's answer to a test alert.
type TestResult struct {
	Notifier string
	Type     string
	// Err is nil when the test was delivered; its message is redacted.
	Err error
}

// SendTest sends a clearly-labelled test alert through a route ("page",
// "ticket" or "zone"), or to one notifier when only is set, so a team can
// check its keys before relying on them. It uses the retry stage (bounded
// by opts.RetryDeadline) and leaves the notification log alone; a
// PagerDuty test incident is resolved right after it opens.
func SendTest(ctx context.Context, cfg *slo.Config, route, only string, opts Options) ([]TestResult, error) {
	opts.defaults()
	if route != "page" && route != "ticket" && route != "zone" {
		return nil, fmt.Errorf("route %q: want page, ticket or zone", route)
	}
	names := cfg.Routes[route]
	if only != "" {
		if cfg.Notifiers[only] == nil {
			return nil, fmt.Errorf("notifier %q is not defined in %s", only, cfg.File)
		}
		names = []string{only}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("route %q has no notifiers in %s", route, cfg.File)
	}
	// A test is not traffic: its metrics are not registered.
	m, err := newMetrics(nil)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{opts: opts, metrics: m}
	var results []TestResult
	for _, name := range names {
		in, err := newIntegration(cfg.Notifiers[name], &d.opts)
		if err != nil {
			return nil, err
		}
		res := TestResult{Notifier: name, Type: in.typ}
		msgs := testMessages(cfg, route, name, opts.Now())
		if in.typ != "pagerduty" {
			msgs = msgs[:1] // a resolve would only add noise to a channel
		}
		st := newState(name, in.typ)
		for _, msg := range msgs {
			if err := d.waitTurn(ctx, in, st); err != nil {
				res.Err = err
				break
			}
			if err := d.deliver(ctx, ctx, in, st, []item{{key: "test", msg: msg}}); err != nil {
				res.Err = err
				break
			}
		}
		results = append(results, res)
	}
	return results, nil
}

// testMessages is the test alert (or zone change) and its resolve.
func testMessages(cfg *slo.Config, route, notifier string, now time.Time) []delivery.Message {
	sloID, journey, runbook := "spanslo/test", "spanslo", ""
	if len(cfg.SLOs) > 0 {
		s := cfg.SLOs[0]
		sloID, journey, runbook = s.ID, s.Journey.Name, s.Runbook
	}
	if route == "zone" {
		z := &burnrate.ZoneChange{SLOID: sloID, SeriesID: sloID, Journey: journey, From: slo.ZoneNormal, To: slo.ZoneCaution,
			BudgetRemaining: 0.42, At: now, RunbookURL: runbook, DashboardURL: cfg.SLOLink(sloID)}
		back := *z
		back.From, back.To = slo.ZoneCaution, slo.ZoneNormal
		return []delivery.Message{{Zone: z, Test: true, At: now}, {Zone: &back, Test: true, At: now}}
	}
	severity := slo.SeverityPage
	if route == slo.SeverityTicket {
		severity = slo.SeverityTicket
	}
	a := &burnrate.Alert{
		// A fresh key per run: each test opens its own incident.
		Key:   fmt.Sprintf("test/%s/%d", notifier, now.Unix()),
		SLOID: sloID, SeriesID: sloID, Journey: journey, Rule: "test", Severity: severity, State: burnrate.StateFiring,
		Objective: 0.999, Factor: 14.4, LongWindow: time.Hour, ShortWindow: 5 * time.Minute, BurnLong: 15, BurnShort: 15,
		BudgetRemaining: 0.62, TimeToExhaustion: 30 * time.Hour, RunbookURL: runbook, DashboardURL: cfg.SLOLink(sloID),
		FiredAt: now,
	}
	r := *a
	r.State, r.ResolvedAt = burnrate.StateResolved, now
	return []delivery.Message{{Alert: a, Test: true, At: now}, {Alert: &r, Test: true, At: now}}
}
