package api

import (
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// detail is GET /api/v1/slos/{id}: the SLO's definition, its worst series'
// budget at the top (what a quick `jq .budget_remaining` wants), and every
// series with history, rule readings, alerts and example failing traces.
type detail struct {
	ID              string         `json:"id"`
	Journey         string         `json:"journey"`
	Name            string         `json:"name"`
	Kind            slo.Kind       `json:"kind"`
	Description     string         `json:"description,omitempty"`
	Objective       float64        `json:"objective"` // percent
	Window          string         `json:"window"`
	Runbook         string         `json:"runbook,omitempty"`
	DashboardURL    string         `json:"dashboard_url,omitempty"`
	Zones           zonesJSON      `json:"zones"`
	Rules           []ruleJSON     `json:"rules"`
	SLI             float64        `json:"sli"`
	BudgetRemaining float64        `json:"budget_remaining"`
	Zone            slo.Zone       `json:"zone"`
	Series          []seriesDetail `json:"series"`
}

// zonesJSON are the policy thresholds as budget-remaining fractions.
type zonesJSON struct {
	Caution float64 `json:"caution"`
	Freeze  float64 `json:"freeze"`
}

// ruleJSON is a rule as configured.
type ruleJSON struct {
	Name        string   `json:"name"`
	Severity    string   `json:"severity"`
	Factor      float64  `json:"factor"`
	LongWindow  string   `json:"long_window"`
	ShortWindow string   `json:"short_window"`
	MinEvents   float64  `json:"min_events"`
	Runbook     string   `json:"runbook,omitempty"`
	Route       []string `json:"route"`
}

type seriesDetail struct {
	summary
	History  history          `json:"history"`
	Rules    []ruleReading    `json:"rules"`
	Timeline []burnrate.Alert `json:"alert_timeline"`
	Examples []example        `json:"examples"`
}

// history is hourly, oldest first, from the window's start: BudgetRemaining
// is the budget left counting from the window start up to the end of each
// hour (the burn-down), SLI the hour's own SLI (null without events).
type history struct {
	Start           time.Time  `json:"start"`
	StepSeconds     int        `json:"step_seconds"`
	BudgetRemaining []float64  `json:"budget_remaining"`
	SLI             []*float64 `json:"sli"`
	Total           []float64  `json:"total"`
	Bad             []float64  `json:"bad"`
}

// ruleReading is one rule's current burn rates and state. State comes from
// the alert evaluator ("ok", "firing", "suppressed", "low_traffic"); it is
// empty when no evaluator is wired.
type ruleReading struct {
	Rule        string  `json:"rule"`
	Severity    string  `json:"severity"`
	Factor      float64 `json:"factor"`
	LongWindow  string  `json:"long_window"`
	ShortWindow string  `json:"short_window"`
	BurnLong    float64 `json:"burn_long"`
	BurnShort   float64 `json:"burn_short"`
	LongEvents  float64 `json:"long_events"`
	MinEvents   float64 `json:"min_events"`
	State       string  `json:"state,omitempty"`
}

type example struct {
	TraceID string    `json:"trace_id"`
	URL     string    `json:"url,omitempty"`
	Time    time.Time `json:"time"`
}

const maxExamples = 5

func (v *view) detail(ss *slo.SLOSeries, series []*slo.Series) detail {
	o := ss.SLO
	d := detail{
		ID: o.ID, Journey: o.Journey.Name, Name: o.Name, Kind: o.Kind,
		Description:  o.Description,
		Objective:    percent(o.Objective),
		Window:       o.Window.String(),
		Runbook:      o.Runbook,
		DashboardURL: v.cfg.SLOLink(o.ID),
		Zones:        zonesJSON{Caution: o.Zones.Caution, Freeze: o.Zones.Freeze},
		Rules:        []ruleJSON{},
		Series:       []seriesDetail{},
	}
	for _, r := range o.Rules {
		route := v.cfg.RouteFor(&r)
		if route == nil {
			route = []string{}
		}
		d.Rules = append(d.Rules, ruleJSON{
			Name: r.Name, Severity: r.Severity, Factor: r.Factor,
			LongWindow: slo.FormatDuration(r.Long), ShortWindow: slo.FormatDuration(r.Short),
			MinEvents: r.MinEvents, Runbook: r.Runbook, Route: route,
		})
	}
	_, ws := v.worst(series)
	d.SLI, d.BudgetRemaining, d.Zone = ws.SLI, ws.BudgetRemaining, ws.Zone
	for _, s := range series {
		d.Series = append(d.Series, seriesDetail{
			summary:  v.summary(s),
			History:  v.history(s),
			Rules:    v.readings(s),
			Timeline: v.timeline(s),
			Examples: v.examples(s),
		})
	}
	return d
}

func (v *view) history(s *slo.Series) history {
	o := s.SLO
	from := o.Window.Start(v.now)
	hours := s.Hourly(from, v.now)
	h := history{
		Start:           hourStart(from, o.Window.Location),
		StepSeconds:     3600,
		BudgetRemaining: make([]float64, len(hours)),
		SLI:             make([]*float64, len(hours)),
		Total:           make([]float64, len(hours)),
		Bad:             make([]float64, len(hours)),
	}
	var cum slo.Counts
	for i, c := range hours {
		cum = cum.Add(c)
		h.BudgetRemaining[i] = cum.BudgetRemaining(o.Objective)
		h.Total[i], h.Bad[i] = c.Total, c.Bad()
		if c.Total > 0 {
			sli := c.SLI()
			h.SLI[i] = &sli
		}
	}
	return h
}

// hourStart is the start of the hour bucket holding t. Buckets follow the
// window's time zone offset, so in UTC+5:30 they start at half past.
func hourStart(t time.Time, loc *time.Location) time.Time {
	align := 0
	if loc != nil {
		_, off := t.In(loc).Zone()
		align = ((off/60)%60 + 60) % 60
	}
	shifted := t.Add(time.Duration(align) * time.Minute).Truncate(time.Hour)
	return shifted.Add(-time.Duration(align) * time.Minute).UTC()
}

// readings prefer the evaluator's view (it knows the states); without one
// the burn rates are read from the series and the state is left empty.
func (v *view) readings(s *slo.Series) []ruleReading {
	out := []ruleReading{}
	if v.source != nil {
		for _, rs := range v.source.Rules(s.ID) {
			out = append(out, ruleReading{
				Rule: rs.Rule, Severity: rs.Severity, Factor: rs.Factor,
				LongWindow: slo.FormatDuration(rs.LongWindow), ShortWindow: slo.FormatDuration(rs.ShortWindow),
				BurnLong: rs.BurnLong, BurnShort: rs.BurnShort,
				LongEvents: rs.LongEvents, MinEvents: rs.MinEvents, State: rs.State,
			})
		}
		if len(out) > 0 {
			return out
		}
	}
	o := s.SLO
	for _, r := range o.Rules {
		long := s.Rolling(v.now, r.Long)
		out = append(out, ruleReading{
			Rule: r.Name, Severity: r.Severity, Factor: r.Factor,
			LongWindow: slo.FormatDuration(r.Long), ShortWindow: slo.FormatDuration(r.Short),
			BurnLong:   long.BurnRate(o.Objective),
			BurnShort:  s.Rolling(v.now, r.Short).BurnRate(o.Objective),
			LongEvents: long.Total, MinEvents: r.MinEvents,
		})
	}
	return out
}

// timeline is every alert of the series the evaluator still knows,
// resolved ones included, newest first.
func (v *view) timeline(s *slo.Series) []burnrate.Alert {
	out := []burnrate.Alert{}
	for _, a := range v.alerts {
		if a.SeriesID == s.ID {
			out = append(out, a)
		}
	}
	sortAlerts(out)
	return out
}

func (v *view) examples(s *slo.Series) []example {
	out := []example{}
	for _, e := range s.Examples(maxExamples) {
		out = append(out, example{
			TraceID: e.TraceID.String(),
			URL:     v.cfg.TraceLink(e.TraceID),
			Time:    time.Unix(0, e.EndUnix).UTC(),
		})
	}
	return out
}
