package burnrate

import (
	"time"

	"github.com/spanslo/spanslo/slo"
)

// State is where an alert stands.
type State string

// Alert states.
const (
	// StateFiring: both windows burn faster than the rule's factor.
	StateFiring State = "firing"
	// StateSuppressed: the rule's conditions hold, but a faster page tier of
	// the same series is firing, so this one is shown, not notified.
	StateSuppressed State = "suppressed"
	// StateResolved: the alert fired and has stopped.
	StateResolved State = "resolved"
)

// TraceLink is an example bad trace, with its link when a trace_url is set.
type TraceLink struct {
	TraceID string `json:"trace_id"`
	URL     string `json:"url,omitempty"`
}

// Alert is one rule's alert for one SLO series: what notifiers send and
// the API shows.
type Alert struct {
	// Key identifies the alert across restarts: series id + "/" + rule.
	// Notifiers derive their dedup keys from it.
	Key      string            `json:"key"`
	SLOID    string            `json:"slo"`
	SeriesID string            `json:"series"`
	Labels   map[string]string `json:"labels,omitempty"` // group-by values
	Journey  string            `json:"journey"`
	Rule     string            `json:"rule"`
	Severity string            `json:"severity"`
	State    State             `json:"state"`

	Objective        float64       `json:"objective"` // fraction, 0.999
	Factor           float64       `json:"factor"`
	LongWindow       time.Duration `json:"long_window"`
	ShortWindow      time.Duration `json:"short_window"`
	BurnLong         float64       `json:"burn_long"`
	BurnShort        float64       `json:"burn_short"`
	BudgetRemaining  float64       `json:"budget_remaining"`
	TimeToExhaustion time.Duration `json:"time_to_exhaustion"` // slo.NoExhaustion when not burning

	RunbookURL   string      `json:"runbook_url,omitempty"`
	DashboardURL string      `json:"dashboard_url,omitempty"`
	Traces       []TraceLink `json:"traces,omitempty"` // up to 5 recent bad traces

	FiredAt    time.Time `json:"fired_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"` // zero while firing
	// NotifiedAt is when the evaluator last reported the alert as firing
	// (zero for an alert that has only ever been suppressed): a suppressed
	// alert that was notified before still owes its resolve.
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// Route names the notifiers this alert goes to.
	Route []string `json:"route,omitempty"`
}

// Duration is how long the alert fired (until now while still firing).
func (a *Alert) Duration(now time.Time) time.Duration {
	if !a.ResolvedAt.IsZero() {
		return a.ResolvedAt.Sub(a.FiredAt)
	}
	return now.Sub(a.FiredAt)
}

// ZoneChange is a series moving between budget policy zones.
type ZoneChange struct {
	SLOID           string    `json:"slo"`
	SeriesID        string    `json:"series"`
	Journey         string    `json:"journey"`
	From            slo.Zone  `json:"from"`
	To              slo.Zone  `json:"to"`
	BudgetRemaining float64   `json:"budget_remaining"`
	At              time.Time `json:"at"`
	RunbookURL      string    `json:"runbook_url,omitempty"`
	DashboardURL    string    `json:"dashboard_url,omitempty"`
	Route           []string  `json:"route,omitempty"`
}

// Event is one transition the evaluator reports: exactly one of Alert and
// Zone is set. Alert events carry the alert as of the transition (firing or
// resolved).
type Event struct {
	Time  time.Time   `json:"time"`
	Alert *Alert      `json:"alert,omitempty"`
	Zone  *ZoneChange `json:"zone,omitempty"`
}

// RuleStatus is one rule's current reading for one series, for the API.
type RuleStatus struct {
	Rule        string        `json:"rule"`
	Severity    string        `json:"severity"`
	Factor      float64       `json:"factor"`
	LongWindow  time.Duration `json:"long_window"`
	ShortWindow time.Duration `json:"short_window"`
	BurnLong    float64       `json:"burn_long"`
	BurnShort   float64       `json:"burn_short"`
	LongEvents  float64       `json:"long_events"`
	MinEvents   float64       `json:"min_events"`
	// State is "ok", "firing", "suppressed" or "low_traffic".
	State string `json:"state"`
}
