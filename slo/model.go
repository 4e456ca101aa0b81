package slo

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is a loaded, validated slos.yaml: the domain model every other
// package reads. It is immutable once loaded; a reload builds a new one.
type Config struct {
	// File is the name the config was loaded from, for messages.
	File string
	// DashboardURL is the base URL of the spanslo dashboard, for links in
	// notifications ("" when not set).
	DashboardURL string
	// TraceURL is a link template with {trace_id}, e.g. a Tempo or Jaeger URL.
	TraceURL  string
	Journeys  []*Journey
	SLOs      []*SLO // every SLO of every journey, in file order
	Notifiers map[string]*Notifier
	// Routes maps a severity ("page", "ticket") or "zone" to notifier names.
	Routes map[string][]string
}

// SLO returns the SLO with the given id, or nil.
func (c *Config) SLO(id string) *SLO {
	for _, s := range c.SLOs {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Journey is a user journey: which spans belong to it and its SLOs.
type Journey struct {
	Name        string
	Description string
	Match       *Matcher
	SLOs        []*SLO
}

// Kind is what an SLO's SLI measures.
type Kind string

// SLI kinds.
const (
	// Availability: good when the span did not fail, its HTTP status is in
	// the good classes and (optionally) it finished within a bound.
	Availability Kind = "availability"
	// Latency: good when the span finished within the threshold.
	Latency Kind = "latency"
)

// SLO is one objective of a journey. Its ID, "journey/name", is stable across
// edits so history survives them.
type SLO struct {
	ID          string
	Journey     *Journey
	Name        string
	Description string
	Kind        Kind
	// Objective is a fraction in (0, 1): 99.9 % is 0.999.
	Objective float64
	Window    Window
	// GoodStatus is the set of HTTP status codes counted good (availability).
	GoodStatus StatusSet
	// MaxDuration: availability also requires duration < MaxDuration when > 0.
	MaxDuration time.Duration
	// Threshold: latency requires duration < Threshold.
	Threshold time.Duration
	Rules     []Rule
	Zones     Zones
	Runbook   string
	// GroupBy names attributes (span first, then resource) whose values split
	// the SLO into one series each, at most MaxSeries plus one overflow series.
	GroupBy   []string
	MaxSeries int
	// Line is where the SLO is defined, for messages.
	Line int
}

// Budget is the error budget as a fraction: 1 - objective.
func (s *SLO) Budget() float64 { return 1 - s.Objective }

// Good reports whether a span is a good event for this SLO.
func (s *SLO) Good(span Span) bool {
	d := time.Duration(span.EndUnixNano() - span.StartUnixNano())
	switch s.Kind {
	case Latency:
		return d < s.Threshold
	default:
		if span.Status() == StatusError {
			return false
		}
		if code, ok := HTTPStatus(span); ok && !s.GoodStatus.Has(code) {
			return false
		}
		return s.MaxDuration <= 0 || d < s.MaxDuration
	}
}

// HTTPStatus reads a span's HTTP response status code, from the current
// semantic convention or the older one.
func HTTPStatus(span Span) (int, bool) {
	v, ok := span.Attr("http.response.status_code")
	if !ok {
		v, ok = span.Attr("http.status_code")
	}
	if !ok {
		return 0, false
	}
	switch v.Type {
	case ValueInt:
		return int(v.Int), true
	case ValueDouble:
		return int(v.Double), true
	case ValueString:
		n := 0
		for i := 0; i < len(v.Str); i++ {
			c := v.Str[i]
			if c < '0' || c > '9' || i > 3 {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(v.Str) > 0
	}
	return 0, false
}

// Rule is one multi-window burn-rate alert rule.
type Rule struct {
	Name     string
	Severity string // "page" or "ticket"
	// Factor is the burn rate both windows must exceed.
	Factor float64
	// BudgetShare is the share of the budget a burn at Factor consumes over
	// Long (informational: Factor = BudgetShare × period / Long).
	BudgetShare float64
	Long, Short time.Duration
	// MinEvents is the weighted event count the long window needs before
	// the rule may fire (low-traffic gate).
	MinEvents float64
	// Route names the notifiers; empty means the config's route for Severity.
	Route   []string
	Runbook string
}

// Severities the rules may use, from most to least urgent.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// Window is an SLO's compliance window: rolling or calendar-aligned.
type Window struct {
	// Rolling is the length of a rolling window; 0 for calendar windows.
	Rolling time.Duration
	// Calendar is "week" (ISO, from Monday), "month" or "quarter".
	Calendar string
	Location *time.Location
}

// String renders the window as written in slos.yaml.
func (w Window) String() string {
	if w.Calendar != "" {
		return w.Calendar
	}
	return FormatDuration(w.Rolling)
}

// Period is the nominal length used to scale burn factors and estimate time
// to exhaustion: the rolling length, or 7d, 30d, 90d for calendar windows.
func (w Window) Period() time.Duration {
	switch w.Calendar {
	case "week":
		return 7 * 24 * time.Hour
	case "month":
		return 30 * 24 * time.Hour
	case "quarter":
		return 90 * 24 * time.Hour
	}
	return w.Rolling
}

// MaxLength is the longest the window can be: rolling length, or the longest
// week, month or quarter with a DST hour to spare.
func (w Window) MaxLength() time.Duration {
	switch w.Calendar {
	case "week":
		return 7*24*time.Hour + time.Hour
	case "month":
		return 31*24*time.Hour + time.Hour
	case "quarter":
		return 92*24*time.Hour + time.Hour
	}
	return w.Rolling
}

// Start is when the window that contains now began. For rolling windows it
// is now - Rolling; for calendar windows the local start of the week, month
// or quarter in the window's time zone.
func (w Window) Start(now time.Time) time.Time {
	if w.Calendar == "" {
		return now.Add(-w.Rolling)
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	y, m, d := t.Date()
	switch w.Calendar {
	case "week":
		off := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-off, 0, 0, 0, 0, loc)
	case "quarter":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
}

// Zone is the error-budget policy zone.
type Zone string

// Policy zones.
const (
	ZoneNormal  Zone = "normal"
	ZoneCaution Zone = "caution"
	ZoneFreeze  Zone = "freeze"
)

// Zones holds the thresholds, as budget-remaining fractions: remaining above
// Caution is normal, from Freeze to Caution is caution, below Freeze freeze.
type Zones struct {
	Caution float64
	Freeze  float64
}

// DefaultZones are the seed team's policy: 50 % and 25 %.
var DefaultZones = Zones{Caution: 0.5, Freeze: 0.25}

// Of returns the zone for a remaining-budget fraction.
func (z Zones) Of(remaining float64) Zone {
	switch {
	case remaining > z.Caution:
		return ZoneNormal
	case remaining >= z.Freeze:
		return ZoneCaution
	default:
		return ZoneFreeze
	}
}

// Notifier is a configured notification target. Its secret is referenced,
// never held in the config: SecretEnv names an environment variable and
// SecretFile a file.
type Notifier struct {
	Name       string
	Type       string // "pagerduty" or "slack"
	SecretEnv  string
	SecretFile string
	// Options are non-secret settings (PagerDuty "source", Slack "channel"…).
	Options map[string]string
}

// DefaultRules are the SRE workbook's multi-window multi-burn-rate rules,
// expressed as budget shares so other windows scale like Sloth does.
func DefaultRules(period time.Duration) []Rule {
	rule := func(name, sev string, share float64, long, short time.Duration) Rule {
		return Rule{Name: name, Severity: sev, BudgetShare: share, Long: long, Short: short,
			Factor: FactorFor(share, period, long)}
	}
	return []Rule{
		rule("page-1h", SeverityPage, 0.02, time.Hour, 5*time.Minute),
		rule("page-6h", SeverityPage, 0.05, 6*time.Hour, 30*time.Minute),
		rule("ticket-1d", SeverityTicket, 0.10, 24*time.Hour, 2*time.Hour),
		rule("ticket-3d", SeverityTicket, 0.10, 72*time.Hour, 6*time.Hour),
	}
}

// FactorFor is the burn rate that consumes share of the budget of a period
// within long: share × period / long (14.4 for 2 % of 30d in 1h).
func FactorFor(share float64, period, long time.Duration) float64 {
	if long <= 0 {
		return 0
	}
	return share * float64(period) / float64(long)
}

// SeriesID renders a series id: the SLO id plus its group-by values.
func SeriesID(sloID string, groupBy, values []string) string {
	if len(groupBy) == 0 {
		return sloID
	}
	s := sloID + "{"
	for i, k := range groupBy {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%s=%q", k, values[i])
	}
	return s + "}"
}

// RouteFor names the notifiers of a rule's alerts: the rule's own route, or
// the config's route for its severity.
func (c *Config) RouteFor(r *Rule) []string {
	if r.Route != nil {
		return r.Route
	}
	return c.Routes[r.Severity]
}

// TraceLink renders the trace link template for a trace id ("" without one).
func (c *Config) TraceLink(id TraceID) string {
	if c.TraceURL == "" {
		return ""
	}
	return strings.ReplaceAll(c.TraceURL, "{trace_id}", id.String())
}

// SLOLink is the dashboard URL of an SLO ("" without dashboard_url).
func (c *Config) SLOLink(id string) string {
	if c.DashboardURL == "" {
		return ""
	}
	return c.DashboardURL + "/#/slo/" + url.PathEscape(id)
}

// ReservedLabels are the label names spanslo's own metrics use; a group-by
// attribute may not map onto one of them.
var ReservedLabels = map[string]bool{
	"slo": true, "journey": true, "result": true, "window": true, "zone": true,
	"rule": true, "severity": true, "state": true, "instance": true, "job": true,
}

// LabelName turns a group-by attribute name into a Prometheus label name:
// "app.customer.tier" becomes "app_customer_tier".
func LabelName(attr string) string {
	b := []byte(attr)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
