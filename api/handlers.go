package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

const slosPrefix = "/api/v1/slos/"

// current returns the tracker, or answers 503 when none is loaded yet.
func (s *server) current(w http.ResponseWriter) (*slo.Tracker, bool) {
	tr := s.tracker()
	if tr == nil {
		writeError(w, http.StatusServiceUnavailable, "no SLO config loaded yet")
		return nil, false
	}
	return tr, true
}

func (s *server) listSLOs(w http.ResponseWriter, r *http.Request) {
	tr, ok := s.current(w)
	if !ok {
		return
	}
	v := newView(tr, s.opts.Alerts, s.now())
	writeJSON(w, http.StatusOK, map[string]any{"slos": v.summaries(tr)})
}

// sloOrPolicy serves /api/v1/slos/{id} and /api/v1/slos/{id}/policy. The id
// holds a slash, so it is read from the decoded path rather than a single
// route segment; an SLO id is tried whole first, so an SLO named "policy"
// still resolves.
func (s *server) sloOrPolicy(w http.ResponseWriter, r *http.Request) {
	tr, ok := s.current(w)
	if !ok {
		return
	}
	id := pathID(r, slosPrefix)
	v := newView(tr, s.opts.Alerts, s.now())
	if ss, series := find(tr, id); ss != nil {
		writeJSON(w, http.StatusOK, v.detail(ss, series))
		return
	}
	if base, found := strings.CutSuffix(id, "/policy"); found {
		if ss, series := find(tr, base); ss != nil {
			s.policy(w, r, v, ss, series)
			return
		}
		id = base
	}
	writeError(w, http.StatusNotFound, "unknown SLO "+quote(id))
}

// quote bounds and quotes a client-supplied id before echoing it.
func quote(id string) string {
	if len(id) > 200 {
		id = id[:200] + "…"
	}
	return `"` + strings.ReplaceAll(id, `"`, `\"`) + `"`
}

// policyAnswer is the deploy gate: may this SLO's service ship now?
type policyAnswer struct {
	SLO             string    `json:"slo"`
	Zone            slo.Zone  `json:"zone"`
	BudgetRemaining float64   `json:"budget_remaining"`
	Allowed         bool      `json:"allowed"`
	Reason          string    `json:"reason"`
	Zones           zonesJSON `json:"zones"`
	// Series is the worst series of a group-by SLO, which decides.
	Series string `json:"series,omitempty"`
}

// policy answers 200 whatever the zone, so dashboards and scripts can read
// it; with ?strict=1 a freeze answers 423 Locked, so `curl -f` alone fails
// a pipeline.
func (s *server) policy(w http.ResponseWriter, r *http.Request, v *view, ss *slo.SLOSeries, series []*slo.Series) {
	worst, st := v.worst(series)
	z := ss.SLO.Zones
	a := policyAnswer{
		SLO: ss.SLO.ID, Zone: st.Zone, BudgetRemaining: st.BudgetRemaining,
		Allowed: st.Zone != slo.ZoneFreeze,
		Zones:   zonesJSON{Caution: z.Caution, Freeze: z.Freeze},
	}
	if len(worst.Labels) > 0 {
		a.Series = worst.ID
	}
	switch st.Zone {
	case slo.ZoneFreeze:
		a.Reason = "error budget below the freeze threshold: only reliability fixes may ship"
	case slo.ZoneCaution:
		a.Reason = "error budget below the caution threshold: ship with extra review"
	default:
		a.Reason = "error budget healthy"
	}
	status := http.StatusOK
	if !a.Allowed && strict(r) {
		status = http.StatusLocked
	}
	writeJSON(w, status, a)
}

func strict(r *http.Request) bool {
	switch r.URL.Query().Get("strict") {
	case "1", "true", "yes":
		return true
	}
	return false
}

// alertCounts summarise GET /api/v1/alerts for a quick look.
type alertCounts struct {
	Firing     int `json:"firing"`
	Suppressed int `json:"suppressed"`
	Resolved   int `json:"resolved"`
}

func (s *server) listAlerts(w http.ResponseWriter, r *http.Request) {
	alerts := []burnrate.Alert{}
	if s.opts.Alerts != nil {
		alerts = append(alerts, s.opts.Alerts.Alerts()...)
	}
	sortAlerts(alerts)
	var c alertCounts
	for _, a := range alerts {
		switch a.State {
		case burnrate.StateFiring:
			c.Firing++
		case burnrate.StateSuppressed:
			c.Suppressed++
		case burnrate.StateResolved:
			c.Resolved++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts, "counts": c})
}

var stateOrder = map[burnrate.State]int{burnrate.StateFiring: 0, burnrate.StateSuppressed: 1, burnrate.StateResolved: 2}

// sortAlerts puts firing first, then suppressed, then resolved; newest
// first within each.
func sortAlerts(alerts []burnrate.Alert) {
	sort.SliceStable(alerts, func(i, j int) bool {
		a, b := alerts[i], alerts[j]
		if stateOrder[a.State] != stateOrder[b.State] {
			return stateOrder[a.State] < stateOrder[b.State]
		}
		if !a.FiredAt.Equal(b.FiredAt) {
			return a.FiredAt.After(b.FiredAt)
		}
		return a.Key < b.Key
	})
}

func (s *server) listNotifiers(w http.ResponseWriter, r *http.Request) {
	list := []NotifierStatus{}
	if s.opts.Notifiers != nil {
		list = append(list, s.opts.Notifiers()...)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"notifiers": list})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.tracker() == nil || (s.opts.Ready != nil && !s.opts.Ready()) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
