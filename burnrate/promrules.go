package burnrate

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/spanslo/spanslo/slo"
)

// EventsMetric is the counter /metrics exposes: cumulative weighted events
// per SLO series, split by result="good"|"bad".
const EventsMetric = "spanslo_events_total"

// Names of the exported recording rules and alerts.
const (
	AlertBurnRate        = "SpansloBurnRate"
	AlertBudgetExhausted = "SpansloBudgetExhausted"
)

// ErrorRatioRecord names the recording rule of an SLO's error ratio over w.
func ErrorRatioRecord(w time.Duration) string {
	return "spanslo:error_ratio:increase" + model.Duration(w).String()
}

// EventsRecord names the recording rule of an SLO's event count over w.
func EventsRecord(w time.Duration) string {
	return "spanslo:events:increase" + model.Duration(w).String()
}

// RuleFile is a Prometheus rule file, as promtool check rules reads it.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of a rule file: one per SLO.
type RuleGroup struct {
	Name  string     `yaml:"name"`
	Rules []PromRule `yaml:"rules"`
}

// PromRule is a recording or alerting rule.
type PromRule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// PrometheusRules builds, for every SLO of cfg, recording rules of the error
// ratio and event count over each window its rules use, and alerting rules
// with the same multi-window logic as the Evaluator: both windows' burn
// rates above the factor and at least min_events in the long window to
// fire; a firing alert holds while both burn, whatever the count. The
// sums run by SLO labels, so N spanslo replicas each counting part of the
// spans still yield one SLO. Every expression is built as a PromQL syntax
// tree and parsed back as a check.
//
// Tier suppression is Alertmanager's job here (an inhibit rule from
// severity="page" to the other alerts of the same slo); budget exhaustion
// is exported for rolling windows only, as PromQL has no calendar ranges.
func PrometheusRules(cfg *slo.Config) (*RuleFile, error) {
	f := &RuleFile{}
	for _, s := range cfg.SLOs {
		g, err := sloGroup(cfg, s)
		if err != nil {
			return nil, fmt.Errorf("prometheus rules of %s: %w", s.ID, err)
		}
		f.Groups = append(f.Groups, g)
	}
	return f, nil
}

// Marshal renders the rule file as YAML with a header comment.
func (f *RuleFile) Marshal(header string) ([]byte, error) {
	var b bytes.Buffer
	for _, line := range splitLines(header) {
		b.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("marshal prometheus rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal prometheus rules: %w", err)
	}
	return b.Bytes(), nil
}

func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := bytes.IndexByte([]byte(s), '\n')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
	return out
}

func sloGroup(cfg *slo.Config, s *slo.SLO) (RuleGroup, error) {
	b := &exprBuilder{slo: s}
	g := RuleGroup{Name: "spanslo/" + s.ID}
	for _, w := range ruleWindows(s) {
		g.Rules = append(g.Rules, PromRule{Record: ErrorRatioRecord(w), Expr: b.errorRatio(w)})
		if longWindow(s, w) {
			g.Rules = append(g.Rules, PromRule{Record: EventsRecord(w), Expr: b.events(w)})
		}
	}
	for i := range s.Rules {
		r := &s.Rules[i]
		g.Rules = append(g.Rules, PromRule{
			Alert: AlertBurnRate, Expr: b.burnAlert(r),
			Labels:      map[string]string{"severity": r.Severity, "rule": r.Name},
			Annotations: annotations(cfg, s, r),
		})
	}
	if s.Window.Calendar == "" {
		g.Rules = append(g.Rules, PromRule{
			Alert: AlertBudgetExhausted, Expr: b.budgetAlert(),
			Labels: map[string]string{"severity": slo.SeverityTicket, "rule": BudgetExhausted},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("{{ $labels.slo }} has spent its error budget over %s (%s remaining)", s.Window, `{{ $value | humanizePercentage }}`),
				"runbook_url": s.Runbook, "dashboard_url": cfg.SLOLink(s.ID),
			},
		})
	}
	for i := range g.Rules {
		dropEmpty(g.Rules[i].Annotations)
		if err := checkExpr(g.Rules[i].Expr); err != nil {
			return g, fmt.Errorf("rule %d: %w", i, err)
		}
	}
	return g, b.err
}

// longWindow reports whether a rule gates on the event count of w.
func longWindow(s *slo.SLO, w time.Duration) bool {
	for _, r := range s.Rules {
		if r.Long == w && r.MinEvents > 0 {
			return true
		}
	}
	return false
}

// checkExpr parses an expression back and requires it to print the same,
// so what the syntax tree meant is what Prometheus will read.
func checkExpr(expr string) error {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("parse %q: %w", expr, err)
	}
	if e.String() != expr {
		return fmt.Errorf("%q parses back as %q", expr, e.String())
	}
	return nil
}

// ruleWindows is every distinct window the rules read, and the SLO window
// when it is rolling, shortest first.
func ruleWindows(s *slo.SLO) []time.Duration {
	seen := map[time.Duration]bool{}
	var ws []time.Duration
	add := func(d time.Duration) {
		if d > 0 && !seen[d] {
			seen[d] = true
			ws = append(ws, d)
		}
	}
	for _, r := range s.Rules {
		add(r.Long)
		add(r.Short)
	}
	if s.Window.Calendar == "" {
		add(s.Window.Rolling)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	return ws
}

func annotations(cfg *slo.Config, s *slo.SLO, r *slo.Rule) map[string]string {
	runbook := r.Runbook
	if runbook == "" {
		runbook = s.Runbook
	}
	return map[string]string{
		"summary": fmt.Sprintf("{{ $labels.slo }} burns its error budget at {{ $value | printf \"%%.1f\" }}x over %s (threshold %sx, %s window also above)",
			model.Duration(r.Long), formatNumber(r.Factor), model.Duration(r.Short)),
		"description": fmt.Sprintf("%s: objective %s%% over %s; %s consumes %s%% of the budget in %s.",
			s.ID, formatNumber(s.Objective*100), s.Window, r.Name, formatNumber(r.BudgetShare*100), model.Duration(r.Long)),
		"runbook_url":   runbook,
		"dashboard_url": cfg.SLOLink(s.ID),
	}
}

func dropEmpty(m map[string]string) {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
}

// formatNumber renders a float with at most 12 significant digits, so
// 1 - 0.999 reads 0.001.
func formatNumber(f float64) string {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// exprBuilder builds one SLO's PromQL expressions as syntax trees.
type exprBuilder struct {
	slo *slo.SLO
	err error
}

// by is the aggregation grouping: one output series per SLO series.
func (b *exprBuilder) by() []string {
	g := []string{"slo", "journey"}
	for _, attr := range b.slo.GroupBy {
		g = append(g, slo.LabelName(attr))
	}
	return g
}

func (b *exprBuilder) matcher(t labels.MatchType, name, value string) *labels.Matcher {
	m, err := labels.NewMatcher(t, name, value)
	if err != nil && b.err == nil {
		b.err = err
	}
	return m
}

func (b *exprBuilder) selector(metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	ms := []*labels.Matcher{
		b.matcher(labels.MatchEqual, labels.MetricName, metric),
		b.matcher(labels.MatchEqual, "slo", b.slo.ID),
	}
	return &parser.VectorSelector{Name: metric, LabelMatchers: append(ms, extra...)}
}

// increase is sum by (slo labels) (increase(spanslo_events_total{…}[w])).
func (b *exprBuilder) increase(w time.Duration, extra ...*labels.Matcher) parser.Expr {
	call := &parser.Call{
		Func: parser.Functions["increase"],
		Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: b.selector(EventsMetric, extra...), Range: w}},
	}
	return &parser.AggregateExpr{Op: parser.SUM, Expr: call, Grouping: b.by()}
}

func (b *exprBuilder) events(w time.Duration) string { return b.increase(w).String() }

func (b *exprBuilder) errorRatio(w time.Duration) string {
	bad := b.increase(w, b.matcher(labels.MatchEqual, "result", "bad"))
	return binary(parser.DIV, bad, b.increase(w)).String()
}

// burn is the recorded error ratio over w divided by the budget.
func (b *exprBuilder) burn(w time.Duration) parser.Expr {
	ratio := b.selector(ErrorRatioRecord(w))
	return binary(parser.DIV, ratio, &parser.NumberLiteral{Val: roundNumber(b.slo.Budget())})
}

func (b *exprBuilder) burnAlert(r *slo.Rule) string {
	factor := &parser.NumberLiteral{Val: roundNumber(r.Factor)}
	cond := binary(parser.LAND,
		paren(binary(parser.GTR, b.burn(r.Long), factor)),
		paren(binary(parser.GTR, b.burn(r.Short), factor)))
	if r.MinEvents > 0 {
		// min_events gates firing only: a firing alert holds while both
		// windows burn, even below min_events, like the Evaluator's. The
		// rule reads its own last result from ALERTS, which the rule
		// manager marks stale as soon as the alert resolves.
		enough := binary(parser.GTE, b.selector(EventsRecord(r.Long)), &parser.NumberLiteral{Val: r.MinEvents})
		firing := b.selector("ALERTS",
			b.matcher(labels.MatchEqual, "alertname", AlertBurnRate),
			b.matcher(labels.MatchEqual, "alertstate", "firing"),
			b.matcher(labels.MatchEqual, "rule", r.Name))
		cond = b.set(parser.LAND, cond, paren(b.set(parser.LOR, paren(enough), firing)))
	}
	return cond.String()
}

// set is lhs op on(slo labels) rhs, for and/or between an SLO's series
// and ALERTS, whose alertname, alertstate, rule and severity labels the
// SLO's series lack.
func (b *exprBuilder) set(op parser.ItemType, lhs, rhs parser.Expr) *parser.BinaryExpr {
	return &parser.BinaryExpr{Op: op, LHS: lhs, RHS: rhs, VectorMatching: &parser.VectorMatching{
		Card: parser.CardManyToMany, On: true, MatchingLabels: b.by(),
	}}
}

// budgetAlert holds while the remaining budget, 1 - burn over the SLO
// window, is at or below zero.
func (b *exprBuilder) budgetAlert() string {
	remaining := binary(parser.SUB, &parser.NumberLiteral{Val: 1}, b.burn(b.slo.Window.Rolling))
	return binary(parser.LTE, remaining, &parser.NumberLiteral{Val: 0}).String()
}

func binary(op parser.ItemType, lhs, rhs parser.Expr) *parser.BinaryExpr {
	e := &parser.BinaryExpr{Op: op, LHS: lhs, RHS: rhs}
	if lhs.Type() == parser.ValueTypeVector && rhs.Type() == parser.ValueTypeVector {
		card := parser.CardOneToOne
		if op == parser.LAND {
			card = parser.CardManyToMany
		}
		e.VectorMatching = &parser.VectorMatching{Card: card}
	}
	return e
}

func paren(e parser.Expr) parser.Expr { return &parser.ParenExpr{Expr: e} }

func roundNumber(f float64) float64 {
	v, _ := strconv.ParseFloat(formatNumber(f), 64)
	return v
}
