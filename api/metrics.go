package api

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// collector reads the current tracker at scrape time. Its label sets depend
// on each SLO's group_by, which a reload may change, so it is an unchecked
// collector (Describe sends nothing) and builds descriptors per scrape.
type collector struct {
	tracker func() *slo.Tracker
	alerts  AlertSource
	now     func() time.Time
	descs   sync.Map // name + label names → *prometheus.Desc, built once
}

func newCollector(tracker func() *slo.Tracker, alerts AlertSource, now func() time.Time) *collector {
	return &collector{tracker: tracker, alerts: alerts, now: now}
}

// Describe sends no descriptors: the collector is unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

const (
	helpEvents    = "Weighted SLO events counted since start, by result (good or bad)."
	helpObjective = "SLO objective as a ratio (0.999 for 99.9 %)."
	helpBudget    = "Error budget remaining over the SLO window: 1 untouched, 0 spent, negative overspent."
	helpSLI       = "SLI (good/total) over the SLO window; 1 without events."
	helpBurn      = "Burn rate over each window the SLO's alert rules use."
	helpZone      = "Budget policy zone: 1 for the current zone, 0 for the others."
	helpAlert     = "Alert rule state per series: 1 for the current state, 0 for the others."
)

var (
	zones       = []slo.Zone{slo.ZoneNormal, slo.ZoneCaution, slo.ZoneFreeze}
	alertStates = []string{burnrate.RuleOK, burnrate.RuleLowTraffic, burnrate.RuleSuppressed, burnrate.RuleFiring}
)

// Collect emits the metrics of every series. The event counters follow the
// naming contract shared with the history store and the exported rules:
// spanslo_events_total{slo, journey, result, <group-by labels>}.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	tr := c.tracker()
	if tr == nil {
		return
	}
	now := c.now()
	for _, ss := range tr.SLOs() {
		o := ss.SLO
		base := []string{"slo", "journey"}
		baseValues := []string{o.ID, o.Journey.Name}
		ch <- c.gauge("spanslo_objective_ratio", helpObjective, base, baseValues, ratio(o.Objective))
		names := append(append([]string(nil), base...), groupLabelNames(o.GroupBy)...)
		for _, s := range ss.Series() {
			c.collectSeries(ch, s, names, append(append([]string(nil), baseValues...), s.Labels...), now)
		}
	}
}

func (c *collector) collectSeries(ch chan<- prometheus.Metric, s *slo.Series, names, values []string, now time.Time) {
	o := s.SLO
	cum := s.Cumulative()
	events := withLabel(names, "result")
	ch <- c.counter("spanslo_events_total", helpEvents, events, withLabel(values, "good"), cum.Good)
	ch <- c.counter("spanslo_events_total", helpEvents, events, withLabel(values, "bad"), cum.Bad())

	st := s.Status(now)
	ch <- c.gauge("spanslo_budget_remaining_ratio", helpBudget, names, values, st.BudgetRemaining)
	ch <- c.gauge("spanslo_sli_ratio", helpSLI, names, values, st.SLI)
	for _, d := range burnWindows(o) {
		br := s.Rolling(now, d).BurnRate(o.Objective)
		ch <- c.gauge("spanslo_burn_rate", helpBurn, withLabel(names, "window"), withLabel(values, slo.FormatDuration(d)), br)
	}
	for _, z := range zones {
		ch <- c.gauge("spanslo_zone", helpZone, withLabel(names, "zone"), withLabel(values, string(z)), boolValue(st.Zone == z))
	}
	if c.alerts == nil {
		return
	}
	alertNames := append(append(append([]string(nil), names...), "rule", "severity"), "state")
	for _, rs := range c.alerts.Rules(s.ID) {
		for _, state := range alertStates {
			v := append(append(append([]string(nil), values...), rs.Rule, rs.Severity), state)
			ch <- c.gauge("spanslo_alert_state", helpAlert, alertNames, v, boolValue(rs.State == state))
		}
	}
}

// withLabel copies names and adds one, so the shared slice is never
// appended to in place.
func withLabel(names []string, name string) []string {
	return append(append(make([]string, 0, len(names)+1), names...), name)
}

func (c *collector) gauge(name, help string, labels, values []string, v float64) prometheus.Metric {
	return c.constMetric(name, help, prometheus.GaugeValue, labels, values, v)
}

func (c *collector) counter(name, help string, labels, values []string, v float64) prometheus.Metric {
	return c.constMetric(name, help, prometheus.CounterValue, labels, values, v)
}

// constMetric never panics inside a scrape: a bad label value (invalid
// UTF-8 from a span attribute) becomes a scrape error for that metric.
func (c *collector) constMetric(name, help string, t prometheus.ValueType, labels, values []string, v float64) prometheus.Metric {
	desc := c.desc(name, help, labels)
	m, err := prometheus.NewConstMetric(desc, t, v, values...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// ratio drops the float noise of percent/100 (99.9/100 is 0.9990000000000001).
func ratio(f float64) float64 { return math.Round(f*1e12) / 1e12 }

// desc reuses descriptors across scrapes: building one validates and
// hashes every label name, the bulk of a scrape's cost otherwise. The cache
// grows only with distinct label-name sets, which the config bounds.
func (c *collector) desc(name, help string, labels []string) *prometheus.Desc {
	key := name + "\x00" + strings.Join(labels, "\x00")
	if d, ok := c.descs.Load(key); ok {
		return d.(*prometheus.Desc)
	}
	d, _ := c.descs.LoadOrStore(key, prometheus.NewDesc(name, help, labels, nil))
	return d.(*prometheus.Desc)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// groupLabelNames maps group-by attributes to label names; validation made
// sure they clash neither with spanslo's own labels nor with each other.
func groupLabelNames(groupBy []string) []string {
	out := make([]string, len(groupBy))
	for i, attr := range groupBy {
		out[i] = slo.LabelName(attr)
	}
	return out
}
