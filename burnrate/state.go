package burnrate

import (
	"encoding/json"
	"fmt"

	"github.com/spanslo/spanslo/slo"
)

// stateVersion numbers the State format.
const stateVersion = 1

// savedState is what survives a restart: every alert (so a firing one is
// not notified again, and a resolve is still owed) and every series' zone
// (so a zone is not reported twice).
type savedState struct {
	Version int                 `json:"version"`
	Zones   map[string]slo.Zone `json:"zones"`
	Alerts  []Alert             `json:"alerts"`
}

// State exports the alert state, for Restore after a restart.
func (e *Evaluator) State() ([]byte, error) {
	e.mu.RLock()
	s := savedState{Version: stateVersion, Zones: map[string]slo.Zone{}}
	for id, st := range e.series {
		if st.zone != "" {
			s.Zones[id] = st.zone
		}
		for _, a := range st.alerts {
			s.Alerts = append(s.Alerts, *copyAlert(a))
		}
	}
	for i := range e.resolved {
		s.Alerts = append(s.Alerts, *copyAlert(&e.resolved[i]))
	}
	e.mu.RUnlock()
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("export alert state: %w", err)
	}
	return b, nil
}

// Restore replaces the alert state with one State exported. Alerts of
// series the tracker no longer has resolve on the next Tick.
func (e *Evaluator) Restore(data []byte) error {
	var s savedState
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("restore alert state: %w", err)
	}
	if s.Version != stateVersion {
		return fmt.Errorf("restore alert state: version %d, want %d", s.Version, stateVersion)
	}
	series := map[string]*seriesState{}
	get := func(id string) *seriesState {
		st := series[id]
		if st == nil {
			st = &seriesState{alerts: map[string]*Alert{}}
			series[id] = st
		}
		return st
	}
	var resolved []Alert
	for i := range s.Alerts {
		a := s.Alerts[i]
		switch a.State {
		case StateFiring, StateSuppressed:
			if a.SeriesID == "" || a.Rule == "" {
				return fmt.Errorf("restore alert state: alert %q has no series or rule", a.Key)
			}
			get(a.SeriesID).alerts[a.Rule] = &a
		case StateResolved:
			resolved = append(resolved, a)
		default:
			return fmt.Errorf("restore alert state: alert %q: unknown state %q", a.Key, a.State)
		}
	}
	for id, z := range s.Zones {
		switch z {
		case slo.ZoneNormal, slo.ZoneCaution, slo.ZoneFreeze:
			get(id).zone = z
		default:
			return fmt.Errorf("restore alert state: series %q: unknown zone %q", id, z)
		}
	}
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.mu.Lock()
	e.series, e.resolved = series, resolved
	e.mu.Unlock()
	return nil
}
