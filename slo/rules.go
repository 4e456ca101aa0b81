package slo

import (
	"sort"
	"time"
)

// rules resolves an SLO's alert rules: the workbook defaults scaled to the
// SLO's period, then the defaults block, then the SLO's own list, merged by
// rule name (a rule with a new name is added; disabled: true removes one).
func (b *builder) rules(cfg *Config, s *SLO, defaults, own []ruleYAML, minEvents float64, prefix string, windowLine int) []Rule {
	period := s.Window.Period()
	rules := DefaultRules(period)
	for i := range rules {
		rules[i].MinEvents = minEvents
	}
	for _, layer := range [][]ruleYAML{defaults, own} {
		for i := range layer {
			rules = b.mergeRule(cfg, rules, &layer[i], minEvents, period, prefix)
		}
	}
	// A calendar window is at its shortest right after it starts; judge
	// rules against its nominal length.
	length := s.Window.Rolling
	if s.Window.Calendar != "" {
		length = s.Window.Period()
	}
	for _, r := range rules {
		if length > 0 && r.Long > length {
			b.add(windowLine, "%salert rule %q: long window %s is longer than the SLO window %s", prefix, r.Name, FormatDuration(r.Long), s.Window)
		}
	}
	return rules
}

func (b *builder) mergeRule(cfg *Config, rules []Rule, ry *ruleYAML, minEvents float64, period time.Duration, prefix string) []Rule {
	if !ry.Name.Set || !nameRE.MatchString(ry.Name.V) {
		b.add(lineOr(ry.Name.Line, ry.line), "%salert rule: name %q must be letters, digits, '.', '_' or '-'", prefix, ry.Name.V)
		return rules
	}
	idx := -1
	for i := range rules {
		if rules[i].Name == ry.Name.V {
			idx = i
		}
	}
	if ry.Disabled {
		if idx >= 0 {
			rules = append(rules[:idx:idx], rules[idx+1:]...)
		}
		return rules
	}
	r := Rule{Name: ry.Name.V, MinEvents: minEvents}
	if idx >= 0 {
		r = rules[idx]
	}
	rp := prefix + "alert rule \"" + r.Name + "\": "
	if ry.Severity.Set {
		if ry.Severity.V != SeverityPage && ry.Severity.V != SeverityTicket {
			b.add(ry.Severity.Line, "%sseverity %q is not page or ticket", rp, ry.Severity.V)
		}
		r.Severity = ry.Severity.V
	}
	windowsChanged := false
	for _, w := range []struct {
		d   durationYAML
		dst *time.Duration
		key string
	}{{ry.Long, &r.Long, "long"}, {ry.Short, &r.Short, "short"}} {
		if !w.d.Set || w.d.Bad {
			continue
		}
		windowsChanged = true
		if w.d.D < Fine || w.d.D%Fine != 0 {
			b.add(w.d.Line, "%s%s window %s must be a whole number of minutes, at least 1m", rp, w.key, FormatDuration(w.d.D))
		}
		*w.dst = w.d.D
	}
	switch {
	case ry.Factor.Set && ry.Budget.Set:
		b.add(ry.Budget.Line, "%sset factor or budget_percent, not both", rp)
	case ry.Factor.Set:
		if ry.Factor.V <= 0 {
			b.add(ry.Factor.Line, "%sfactor %v must be positive", rp, ry.Factor.V)
		}
		r.Factor, r.BudgetShare = ry.Factor.V, ry.Factor.V*float64(r.Long)/float64(period)
	case ry.Budget.Set:
		if ry.Budget.V <= 0 || ry.Budget.V > 100 {
			b.add(ry.Budget.Line, "%sbudget_percent %v is not in (0, 100]", rp, ry.Budget.V)
		}
		r.BudgetShare = ry.Budget.V / 100
		r.Factor = FactorFor(r.BudgetShare, period, r.Long)
	case windowsChanged && r.BudgetShare > 0:
		r.Factor = FactorFor(r.BudgetShare, period, r.Long)
	}
	if ry.MinEvents.Set {
		if ry.MinEvents.V < 0 {
			b.add(ry.MinEvents.Line, "%smin_events %v is negative", rp, ry.MinEvents.V)
		}
		r.MinEvents = ry.MinEvents.V
	}
	if ry.Route.Set {
		r.Route = b.notifierNames(cfg, ry.Route, rp+"route: ")
		if r.Route == nil {
			r.Route = []string{}
		}
	}
	if u := b.url(ry.Runbook, rp+"runbook"); u != "" {
		r.Runbook = u
	}
	line := lineOr(ry.Name.Line, ry.line)
	switch {
	case r.Severity == "":
		b.add(line, "%sseverity is required (page or ticket)", rp)
	case r.Long == 0 || r.Short == 0:
		b.add(line, "%slong and short windows are required", rp)
	case r.Short >= r.Long:
		b.add(lineOr(ry.Short.Line, line), "%sshort window %s must be shorter than long window %s", rp, FormatDuration(r.Short), FormatDuration(r.Long))
	case r.Factor <= 0:
		b.add(line, "%sfactor or budget_percent is required", rp)
	}
	if idx >= 0 {
		rules[idx] = r
	} else {
		rules = append(rules, r)
	}
	return rules
}

func sortStrings(s []string) { sort.Strings(s) }
