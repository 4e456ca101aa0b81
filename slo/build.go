package slo

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Fine is the resolution of every alert window; Coarse that of SLO windows
// longer than the longest alert window.
const (
	Fine   = time.Minute
	Coarse = time.Hour
)

// MaxGroupSeries bounds max_series so a typo cannot allocate gigabytes.
const MaxGroupSeries = 10000

func (b *builder) build(f *fileYAML) *Config {
	cfg := &Config{File: b.file, Notifiers: map[string]*Notifier{}, Routes: map[string][]string{}}
	cfg.DashboardURL = strings.TrimRight(b.url(f.DashboardURL, "dashboard_url"), "/")
	cfg.TraceURL = b.url(f.TraceURL, "trace_url")
	if f.TraceURL.Set && cfg.TraceURL != "" && !strings.Contains(cfg.TraceURL, "{trace_id}") {
		b.add(f.TraceURL.Line, "trace_url %q has no {trace_id} placeholder", cfg.TraceURL)
	}
	b.buildNotifiers(cfg, f.Notifiers)
	b.buildRoutes(cfg, f.Routes)
	def := b.defaults(&f.Defaults)
	if len(f.Journeys) == 0 {
		b.add(0, "no journeys defined")
	}
	seen := map[string]int{}
	for i := range f.Journeys {
		jy := &f.Journeys[i]
		j := b.journey(cfg, jy, def)
		if j == nil {
			continue
		}
		if prev, dup := seen[j.Name]; dup {
			b.add(lineOr(jy.Name.Line, jy.line), "journey %q: duplicate journey name (first defined at line %d)", j.Name, prev)
			continue
		}
		seen[j.Name] = lineOr(jy.Name.Line, jy.line)
		cfg.Journeys = append(cfg.Journeys, j)
		cfg.SLOs = append(cfg.SLOs, j.SLOs...)
	}
	return cfg
}

func (b *builder) url(p pos[string], key string) string {
	if !p.Set || p.V == "" {
		return ""
	}
	u, err := url.Parse(p.V)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		b.add(p.Line, "%s %q is not an http(s) URL", key, p.V)
		return ""
	}
	return p.V
}

// defaultsSpec is the resolved defaults block.
type defaultsSpec struct {
	window    pos[string]
	timeZone  pos[string]
	win       Window
	minEvents float64
	zones     Zones
	rules     []ruleYAML
}

func (b *builder) defaults(d *defaultsYAML) defaultsSpec {
	spec := defaultsSpec{window: d.Window, timeZone: d.TimeZone, zones: DefaultZones, rules: d.Alerts}
	if !spec.window.Set {
		spec.window = pos[string]{V: "30d"}
	}
	spec.win = b.parseWindow(spec.window, spec.timeZone, "defaults: ")
	if d.MinEvents.Set {
		if d.MinEvents.V < 0 {
			b.add(d.MinEvents.Line, "defaults: min_events %v is negative", d.MinEvents.V)
		}
		spec.minEvents = d.MinEvents.V
	}
	spec.zones = b.zones(d.Zones, spec.zones, "defaults: ")
	return spec
}

func (b *builder) zones(z *zonesYAML, base Zones, prefix string) Zones {
	if z == nil {
		return base
	}
	out := base
	for _, p := range []struct {
		v    pos[float64]
		dst  *float64
		name string
	}{{z.Caution, &out.Caution, "caution"}, {z.Freeze, &out.Freeze, "freeze"}} {
		if !p.v.Set {
			continue
		}
		if p.v.V < 0 || p.v.V > 100 {
			b.add(p.v.Line, "%szones: %s %v is not a percentage in [0, 100]", prefix, p.name, p.v.V)
			continue
		}
		*p.dst = p.v.V / 100
	}
	if out.Freeze > out.Caution && base.Freeze <= base.Caution {
		b.add(lineOr(z.Freeze.Line, z.Caution.Line), "%szones: freeze (%v %%) must not be above caution (%v %%)", prefix, out.Freeze*100, out.Caution*100)
	}
	return out
}

func (b *builder) buildNotifiers(cfg *Config, ns []notifierYAML) {
	for i := range ns {
		ny := &ns[i]
		name := ny.Name.V
		if !ny.Name.Set || !nameRE.MatchString(name) {
			b.add(lineOr(ny.Name.Line, ny.line), "notifier: name %q must be letters, digits, '.', '_' or '-'", name)
			continue
		}
		if _, dup := cfg.Notifiers[name]; dup {
			b.add(lineOr(ny.Name.Line, ny.line), "notifier %q: duplicate notifier name", name)
			continue
		}
		n := &Notifier{Name: name, Type: ny.Type.V, Options: map[string]string{}}
		prefix := fmt.Sprintf("notifier %q: ", name)
		var secretEnv, secretFile, inline pos[string]
		var secretKey string
		switch n.Type {
		case "pagerduty":
			secretEnv, secretFile, inline, secretKey = ny.RoutingKeyEnv, ny.RoutingKeyFile, ny.RoutingKey, "routing_key"
			for k, v := range map[string]pos[string]{"source": ny.Source, "component": ny.Component, "group": ny.Group} {
				if v.Set {
					n.Options[k] = v.V
				}
			}
			if u := b.url(ny.URL, prefix+"url"); u != "" {
				n.Options["url"] = u
			}
			b.notFor(ny.WebhookURLEnv, ny.WebhookURLFile, ny.Channel, ny.Username, prefix, "pagerduty")
		case "slack":
			secretEnv, secretFile, inline, secretKey = ny.WebhookURLEnv, ny.WebhookURLFile, ny.WebhookURL, "webhook_url"
			for k, v := range map[string]pos[string]{"channel": ny.Channel, "username": ny.Username} {
				if v.Set {
					n.Options[k] = v.V
				}
			}
			b.notFor(ny.RoutingKeyEnv, ny.RoutingKeyFile, ny.Source, ny.Component, prefix, "slack")
		default:
			b.add(lineOr(ny.Type.Line, lineOr(ny.Name.Line, ny.line)), "%stype %q is not supported (use pagerduty or slack)", prefix, n.Type)
			continue
		}
		if inline.Set {
			// Never echo the value: it is a secret that should not be in git.
			b.add(inline.Line, "%s%s is a secret and must not be written in slos.yaml; use %s_env (an environment variable) or %s_file", prefix, secretKey, secretKey, secretKey)
		}
		switch {
		case secretEnv.Set && secretFile.Set:
			b.add(secretFile.Line, "%sset %s_env or %s_file, not both", prefix, secretKey, secretKey)
		case secretEnv.Set:
			n.SecretEnv = secretEnv.V
		case secretFile.Set:
			n.SecretFile = secretFile.V
		case !inline.Set:
			b.add(lineOr(ny.Name.Line, ny.line), "%sneeds %s_env or %s_file", prefix, secretKey, secretKey)
		}
		cfg.Notifiers[name] = n
	}
}

// notFor reports options of the other notifier type.
func (b *builder) notFor(a, c, d, e pos[string], prefix, typ string) {
	for _, p := range []pos[string]{a, c, d, e} {
		if p.Set {
			b.add(p.Line, "%sthis option does not apply to a %s notifier", prefix, typ)
		}
	}
}

func lineOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

func (b *builder) buildRoutes(cfg *Config, r routesYAML) {
	for key, p := range map[string]pos[stringList]{SeverityPage: r.Page, SeverityTicket: r.Ticket, "zone": r.Zone} {
		if !p.Set {
			continue
		}
		if names := b.notifierNames(cfg, p, "routes: "+key+": "); names != nil {
			cfg.Routes[key] = names
		}
	}
}

func (b *builder) notifierNames(cfg *Config, p pos[stringList], prefix string) []string {
	var out []string
	for _, n := range p.V {
		if _, ok := cfg.Notifiers[n]; !ok {
			b.add(p.Line, "%sunknown notifier %q%s", prefix, n, known(cfg))
			continue
		}
		out = append(out, n)
	}
	return out
}

func known(cfg *Config) string {
	if len(cfg.Notifiers) == 0 {
		return " (no notifiers are defined)"
	}
	var names []string
	for n := range cfg.Notifiers {
		names = append(names, n)
	}
	sortStrings(names)
	return " (defined: " + strings.Join(names, ", ") + ")"
}

func (b *builder) journey(cfg *Config, jy *journeyYAML, def defaultsSpec) *Journey {
	if !jy.Name.Set || !nameRE.MatchString(jy.Name.V) {
		b.add(lineOr(jy.Name.Line, jy.line), "journey: name %q must be letters, digits, '.', '_' or '-'", jy.Name.V)
		return nil
	}
	j := &Journey{Name: jy.Name.V, Description: jy.Description}
	prefix := fmt.Sprintf("journey %q: ", j.Name)
	j.Match = b.matcher(&jy.Match, prefix, lineOr(jy.Name.Line, jy.line))
	runbook := b.url(jy.Runbook, prefix+"runbook")
	if len(jy.SLOs) == 0 {
		b.add(lineOr(jy.Name.Line, jy.line), "%sno slos defined", prefix)
	}
	seen := map[string]int{}
	for i := range jy.SLOs {
		sy := &jy.SLOs[i]
		s := b.slo(cfg, j, sy, def, runbook)
		if s == nil {
			continue
		}
		if prev, dup := seen[s.Name]; dup {
			b.add(lineOr(sy.Name.Line, sy.line), "slo %q: duplicate id (first defined at line %d)", s.ID, prev)
			continue
		}
		seen[s.Name] = lineOr(sy.Name.Line, sy.line)
		j.SLOs = append(j.SLOs, s)
	}
	return j
}

func (b *builder) matcher(my *matchYAML, prefix string, line int) *Matcher {
	m := &Matcher{EntryOnly: true}
	if my.EntryOnly != nil {
		m.EntryOnly = *my.EntryOnly
	}
	for _, k := range my.Kind.V {
		kind, ok := parseKind(k)
		if !ok {
			b.add(my.Kind.Line, "%smatch: unknown span kind %q (use server, client, producer, consumer or internal)", prefix, k)
			continue
		}
		m.kinds |= 1 << uint(kind)
	}
	add := func(key string, resource bool, c *condYAML) {
		if c == nil {
			return
		}
		cond, err := compileCond(*c)
		if err != nil {
			b.add(c.Line, "%smatch: %s: %v", prefix, key, err)
			return
		}
		m.conds = append(m.conds, attrCond{key: key, resource: resource, cond: cond})
	}
	if my.Service != nil {
		if c, err := compileCond(*my.Service); err != nil {
			b.add(my.Service.Line, "%smatch: service: %v", prefix, err)
		} else {
			m.service = &c
		}
	}
	add("http.route", false, my.HTTPRoute)
	add("http.request.method", false, my.HTTPMethod)
	for _, k := range sortedKeys(my.ResourceAttributes) {
		c := my.ResourceAttributes[k]
		add(k, true, &c)
	}
	for _, k := range sortedKeys(my.Attributes) {
		c := my.Attributes[k]
		add(k, false, &c)
	}
	if my.SpanName != nil {
		c, err := compileCond(*my.SpanName)
		if err != nil {
			b.add(my.SpanName.Line, "%smatch: span_name: %v", prefix, err)
		} else {
			m.spanName = &c
		}
	}
	if len(m.conds) == 0 && m.spanName == nil && m.kinds == 0 && m.service == nil {
		b.add(line, "%smatch: no conditions; a journey needs at least one (service, span_name, http_route…)", prefix)
	}
	return m
}

func (b *builder) slo(cfg *Config, j *Journey, sy *sloYAML, def defaultsSpec, runbook string) *SLO {
	if !sy.Name.Set || !nameRE.MatchString(sy.Name.V) {
		b.add(lineOr(sy.Name.Line, sy.line), "journey %q: slo name %q must be letters, digits, '.', '_' or '-'", j.Name, sy.Name.V)
		return nil
	}
	s := &SLO{ID: j.Name + "/" + sy.Name.V, Journey: j, Name: sy.Name.V, Description: sy.Description, Line: lineOr(sy.Name.Line, sy.line)}
	prefix := fmt.Sprintf("slo %q: ", s.ID)
	switch o := sy.Objective; {
	case !o.Set:
		b.add(lineOr(sy.Name.Line, sy.line), "%sobjective is required (a percentage such as 99.9)", prefix)
	case !(o.V > 0 && o.V < 100) || math.IsNaN(o.V):
		b.add(o.Line, "%sobjective %v is not in (0, 100)", prefix, o.V)
	default:
		s.Objective = o.V / 100
	}
	s.Window = b.window(sy, def, prefix)
	b.sli(s, sy, prefix)
	s.Zones = b.zones(sy.Zones, def.zones, prefix)
	s.Runbook = runbook
	if r := b.url(sy.Runbook, prefix+"runbook"); r != "" {
		s.Runbook = r
	}
	minEvents := def.minEvents
	if sy.MinEvents.Set {
		if sy.MinEvents.V < 0 {
			b.add(sy.MinEvents.Line, "%smin_events %v is negative", prefix, sy.MinEvents.V)
		}
		minEvents = sy.MinEvents.V
	}
	s.Rules = b.rules(cfg, s, def.rules, sy.Alerts, minEvents, prefix, lineOr(sy.Window.Line, lineOr(sy.Name.Line, sy.line)))
	b.groupBy(s, sy, prefix)
	return s
}

func (b *builder) window(sy *sloYAML, def defaultsSpec, prefix string) Window {
	if !sy.Window.Set && !sy.TimeZone.Set {
		return def.win // already checked, and reported once, with the defaults
	}
	w := sy.Window
	if !w.Set {
		w = def.window
	}
	win := b.parseWindow(w, sy.TimeZone, prefix)
	if !sy.TimeZone.Set {
		win.Location = def.win.Location
	}
	return win
}

func (b *builder) parseWindow(w, tz pos[string], prefix string) Window {
	win := Window{Location: time.UTC}
	if tz.Set {
		loc, err := time.LoadLocation(tz.V)
		if err != nil || tz.V == "" {
			b.add(tz.Line, "%stime_zone %q is not a known IANA time zone", prefix, tz.V)
		} else {
			win.Location = loc
		}
	}
	switch w.V {
	case "week", "month", "quarter":
		win.Calendar = w.V
		return win
	}
	d, err := ParseDuration(w.V)
	switch {
	case err != nil:
		b.add(w.Line, "%swindow: %v; use a duration such as 30d, or week, month, quarter", prefix, err)
	case d < time.Hour || d%Coarse != 0:
		b.add(w.Line, "%swindow %s must be a whole number of hours, at least 1h", prefix, w.V)
	case d > 400*24*time.Hour:
		b.add(w.Line, "%swindow %s is longer than 400d", prefix, w.V)
	default:
		win.Rolling = d
		return win
	}
	win.Rolling = 30 * 24 * time.Hour // keep checking the rest against the default
	return win
}

func (b *builder) sli(s *SLO, sy *sloYAML, prefix string) {
	switch {
	case sy.Availability != nil && sy.Latency != nil:
		b.add(lineOr(sy.Name.Line, sy.line), "%sset either availability or latency, not both", prefix)
	case sy.Availability != nil:
		s.Kind = Availability
		a := sy.Availability
		specs := a.HTTPStatus.V
		if !a.HTTPStatus.Set {
			specs = []string{"< 500"}
		}
		set, err := ParseStatusSet(specs)
		if err != nil {
			b.add(a.HTTPStatus.Line, "%savailability: %v", prefix, err)
		}
		s.GoodStatus = set
		if a.MaxDuration.Set && !a.MaxDuration.Bad {
			if a.MaxDuration.D <= 0 {
				b.add(a.MaxDuration.Line, "%savailability: max_duration must be positive", prefix)
			}
			s.MaxDuration = a.MaxDuration.D
		}
	case sy.Latency != nil:
		s.Kind = Latency
		t := sy.Latency.Threshold
		if !t.Bad && (!t.Set || t.D <= 0) {
			b.add(lineOr(t.Line, lineOr(sy.Name.Line, sy.line)), "%slatency: threshold is required and must be positive (e.g. 800ms)", prefix)
		}
		s.Threshold = t.D
	default:
		b.add(lineOr(sy.Name.Line, sy.line), "%sneeds an SLI: availability or latency", prefix)
	}
}

func (b *builder) groupBy(s *SLO, sy *sloYAML, prefix string) {
	if sy.GroupBy.Set && len(sy.GroupBy.V) > 0 {
		s.GroupBy = sy.GroupBy.V
		labels := map[string]string{}
		for _, attr := range s.GroupBy {
			l := LabelName(attr)
			switch {
			case ReservedLabels[l] || strings.HasPrefix(l, "__"):
				b.add(sy.GroupBy.Line, "%sgroup_by %q would be the metric label %q, which spanslo uses itself", prefix, attr, l)
			case labels[l] != "":
				b.add(sy.GroupBy.Line, "%sgroup_by %q and %q would both be the metric label %q", prefix, labels[l], attr, l)
			}
			labels[l] = attr
		}
		if !sy.MaxSeries.Set {
			b.add(sy.GroupBy.Line, "%sgroup_by needs max_series, to bound the number of series (values beyond it go to an overflow series)", prefix)
		}
	}
	if sy.MaxSeries.Set {
		switch {
		case len(s.GroupBy) == 0:
			b.add(sy.MaxSeries.Line, "%smax_series without group_by", prefix)
		case sy.MaxSeries.V < 1 || sy.MaxSeries.V > MaxGroupSeries:
			b.add(sy.MaxSeries.Line, "%smax_series %d is not in [1, %d]", prefix, sy.MaxSeries.V, MaxGroupSeries)
		default:
			s.MaxSeries = sy.MaxSeries.V
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
