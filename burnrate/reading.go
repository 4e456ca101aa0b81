package burnrate

import (
	"time"

	"github.com/spanslo/spanslo/slo"
)

// reading is one series' rule statuses at an instant, before the state
// machine runs.
type reading struct {
	series *slo.Series
	status slo.Status
	rules  []RuleStatus // SLO rules in order, then budget-exhausted
}

// read computes every rule of a series at now: burn rates of both windows
// and the low-traffic gate. Holding alerts and tier suppression need the
// alert state, so apply settles them (see settle).
func read(s *slo.Series, now time.Time) reading {
	o := s.SLO.Objective
	status := s.Status(now)
	rules := make([]RuleStatus, len(s.SLO.Rules), len(s.SLO.Rules)+1)
	for i := range s.SLO.Rules {
		r := &s.SLO.Rules[i]
		long, short := s.Rolling(now, r.Long), s.Rolling(now, r.Short)
		rs := RuleStatus{
			Rule: r.Name, Severity: r.Severity, Factor: r.Factor,
			LongWindow: r.Long, ShortWindow: r.Short,
			BurnLong: long.BurnRate(o), BurnShort: short.BurnRate(o),
			LongEvents: long.Total, MinEvents: r.MinEvents, State: RuleOK,
		}
		switch {
		case long.Total < r.MinEvents || long.Total <= 0:
			rs.State = RuleLowTraffic
		case rs.BurnLong > r.Factor && rs.BurnShort > r.Factor:
			rs.State = RuleFiring
		}
		rules[i] = rs
	}
	rules = append(rules, budgetStatus(s.SLO, status))
	return reading{series: s, status: status, rules: rules}
}

// settle finishes the reading of a series' SLO rules (budget-exhausted
// excluded) against the alerts it already has, then suppresses tiers.
//
// min_events only gates firing: an alert that fired (or was suppressed)
// holds while both windows still burn above the factor, even when the long
// window has since dropped below min_events. Such a rule reads firing (or
// suppressed), like its alert; its long_events shows it is below the gate.
// Without this, traffic hovering around min_events makes a burning alert
// flap between firing and resolved.
func settle(rules []slo.Rule, rs []RuleStatus, alerts map[string]*Alert) {
	for i := range rs {
		r := &rs[i]
		if r.State == RuleLowTraffic && alerts[r.Rule] != nil && r.BurnLong > r.Factor && r.BurnShort > r.Factor {
			r.State = RuleFiring
		}
	}
	suppress(rules, rs)
}

// suppress marks the holding rules that a holding page tier outranks: page
// tiers with a longer long window and every ticket tier. Outranking is
// transitive and the fastest holding page tier is never outranked, so
// checking only the rules still firing is enough.
func suppress(rules []slo.Rule, rs []RuleStatus) {
	for i := range rs {
		if rs[i].State != RuleFiring {
			continue
		}
		for j := range rs {
			if i != j && rs[j].State == RuleFiring && outranks(&rules[j], &rules[i]) {
				rs[i].State = RuleSuppressed
				break
			}
		}
	}
}

// outranks reports whether a firing p silences r: p pages, and r is a
// ticket or a slower page tier.
func outranks(p, r *slo.Rule) bool {
	if p.Severity != slo.SeverityPage {
		return false
	}
	return r.Severity != slo.SeverityPage || r.Long > p.Long
}

// budgetStatus is the budget-exhausted rule's reading: it holds while the
// remaining budget is at or below zero.
func budgetStatus(s *slo.SLO, st slo.Status) RuleStatus {
	rs := RuleStatus{
		Rule: BudgetExhausted, Severity: slo.SeverityTicket,
		LongWindow: s.Window.Period(), ShortWindow: time.Hour, BurnLong: st.Window.BurnRate(s.Objective), BurnShort: st.BurnRate1h,
		LongEvents: st.Window.Total, State: RuleOK,
	}
	if st.Window.Total > 0 && st.BudgetRemaining <= 0 {
		rs.State = RuleFiring
	}
	return rs
}
