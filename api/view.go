package api

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// summary is one SLO series in GET /api/v1/slos. Objective is a percent (the
// way slos.yaml writes it); SLI and budget are fractions.
type summary struct {
	ID          string            `json:"id"`
	Series      string            `json:"series,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Journey     string            `json:"journey"`
	Name        string            `json:"name"`
	Kind        slo.Kind          `json:"kind"`
	Description string            `json:"description,omitempty"`
	Objective   float64           `json:"objective"`
	Window      string            `json:"window"`
	Good        float64           `json:"good"`
	Total       float64           `json:"total"`
	SLI         float64           `json:"sli"`
	// BudgetRemaining: 1 untouched, 0 spent, negative overspent.
	BudgetRemaining float64 `json:"budget_remaining"`
	// BurnRates over each distinct window of the SLO's rules, keyed "5m", "1h"…
	BurnRates map[string]float64 `json:"burn_rates"`
	Zone      slo.Zone           `json:"zone"`
	// TimeToExhaustionSeconds at the last hour's burn rate; null when the
	// budget is not burning, 0 when it is spent.
	TimeToExhaustionSeconds *float64         `json:"time_to_exhaustion_seconds"`
	Alerts                  []burnrate.Alert `json:"alerts"`
	Runbook                 string           `json:"runbook,omitempty"`
	DashboardURL            string           `json:"dashboard_url,omitempty"`
}

// view reads one tracker at one instant. It holds no state of its own, so
// each request builds its own.
type view struct {
	cfg    *slo.Config
	alerts []burnrate.Alert
	source AlertSource
	now    time.Time
}

func newView(tr *slo.Tracker, src AlertSource, now time.Time) *view {
	v := &view{cfg: tr.Config(), source: src, now: now}
	if src != nil {
		v.alerts = src.Alerts()
	}
	return v
}

// seriesOf returns an SLO's series; a group-by SLO without traffic yet has
// none, and is shown as one untouched series so it is never invisible.
func seriesOf(ss *slo.SLOSeries) []*slo.Series {
	list := ss.Series()
	if len(list) == 0 {
		list = []*slo.Series{slo.NewSeries(ss.SLO, ss.SLO.ID, nil)}
	}
	return list
}

func (v *view) summary(s *slo.Series) summary {
	o := s.SLO
	st := s.Status(v.now)
	out := summary{
		ID: o.ID, Journey: o.Journey.Name, Name: o.Name, Kind: o.Kind,
		Description:     o.Description,
		Objective:       percent(o.Objective),
		Window:          o.Window.String(),
		Good:            st.Window.Good,
		Total:           st.Window.Total,
		SLI:             st.SLI,
		BudgetRemaining: st.BudgetRemaining,
		BurnRates:       map[string]float64{},
		Zone:            st.Zone,
		Alerts:          []burnrate.Alert{},
		Runbook:         o.Runbook,
		DashboardURL:    v.cfg.SLOLink(o.ID),
	}
	if len(s.Labels) > 0 {
		out.Series = s.ID
		out.Labels = labelMap(o, s.Labels)
	}
	for _, d := range burnWindows(o) {
		out.BurnRates[slo.FormatDuration(d)] = s.Rolling(v.now, d).BurnRate(o.Objective)
	}
	if st.TimeToExhaustion != slo.NoExhaustion {
		secs := st.TimeToExhaustion.Seconds()
		out.TimeToExhaustionSeconds = &secs
	}
	for _, a := range v.alerts {
		if a.SeriesID == s.ID && a.State != burnrate.StateResolved {
			out.Alerts = append(out.Alerts, a)
		}
	}
	return out
}

// percent turns 0.999 into 99.9 without the float noise 0.999*100 has.
func percent(f float64) float64 { return math.Round(f*1e8) / 1e6 }

func labelMap(o *slo.SLO, values []string) map[string]string {
	m := make(map[string]string, len(values))
	for i, k := range o.GroupBy {
		if i < len(values) {
			m[k] = values[i]
		}
	}
	return m
}

// burnWindows are the distinct long and short windows of an SLO's rules,
// shortest first.
func burnWindows(o *slo.SLO) []time.Duration {
	var ds []time.Duration
	for _, r := range o.Rules {
		ds = append(ds, r.Short, r.Long)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// summaries lists every series of every SLO, least budget left first.
func (v *view) summaries(tr *slo.Tracker) []summary {
	out := []summary{}
	for _, ss := range tr.SLOs() {
		for _, s := range seriesOf(ss) {
			out = append(out, v.summary(s))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.BudgetRemaining != b.BudgetRemaining {
			return a.BudgetRemaining < b.BudgetRemaining
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Series < b.Series
	})
	return out
}

// find resolves a path id: an SLO id, or one series id of a group-by SLO.
// It returns the SLO's series set and, for a series id, just that series.
func find(tr *slo.Tracker, id string) (*slo.SLOSeries, []*slo.Series) {
	if ss := tr.SLO(id); ss != nil {
		return ss, seriesOf(ss)
	}
	sloID, _, ok := strings.Cut(id, "{")
	if !ok {
		return nil, nil
	}
	ss := tr.SLO(sloID)
	if ss == nil {
		return nil, nil
	}
	for _, s := range ss.Series() {
		if s.ID == id {
			return ss, []*slo.Series{s}
		}
	}
	return nil, nil
}

// worst is the series with the least budget left, which decides an SLO's
// zone for the deploy gate.
func (v *view) worst(series []*slo.Series) (*slo.Series, slo.Status) {
	var w *slo.Series
	var ws slo.Status
	for _, s := range series {
		st := s.Status(v.now)
		if w == nil || st.BudgetRemaining < ws.BudgetRemaining {
			w, ws = s, st
		}
	}
	return w, ws
}
