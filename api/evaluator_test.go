package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/spanslo/spanslo/burnrate"
)

var _ AlertSource = (*burnrate.Evaluator)(nil)

// TestWithTheRealEvaluator wires the burn-rate evaluator the way spanslo
// serve does: a fast burn fires page-1h, which suppresses the slower tiers,
// and the API, the dashboard data and /metrics all agree.
func TestWithTheRealEvaluator(t *testing.T) {
	var ev *burnrate.Evaluator
	e := newEnv(t, testConfig, func(o *Options) {
		ev = burnrate.New(o.Tracker(), burnrate.Options{Now: o.Now})
		o.Alerts = ev
	})
	e.feed("booking-api", "/v1/bookings", 1000, 100, nil) // 9 % bad: 90× a 0.1 % budget
	ev.Tick(e.clock())

	var list listAnswer
	e.getJSON("/api/v1/slos", http.StatusOK, &list)
	booking := list.SLOs[0]
	var firing []string
	for _, a := range booking.Alerts {
		firing = append(firing, a.Rule+" "+string(a.State))
	}
	got := strings.Join(firing, ", ")
	for _, want := range []string{"page-1h firing", "page-6h suppressed", "budget-exhausted firing"} {
		if !strings.Contains(got, want) {
			t.Errorf("booking alerts %q lack %q", got, want)
		}
	}

	var d detailAnswer
	e.getJSON("/api/v1/slos/booking/availability", http.StatusOK, &d)
	states := map[string]string{}
	for _, r := range d.Series[0].Rules {
		states[r.Rule] = r.State
	}
	if states["page-1h"] != "firing" || states["page-6h"] != "suppressed" || states[burnrate.BudgetExhausted] != "firing" {
		t.Errorf("rule states %v", states)
	}
	if len(d.Series[0].Timeline) < 2 {
		t.Errorf("alert timeline %+v", d.Series[0].Timeline)
	}

	status, body := e.do(http.MethodGet, "/metrics", nil, nil)
	for _, line := range []string{
		`spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="firing"} 1`,
		`spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="ok"} 0`,
		`spanslo_alert_state{journey="booking",rule="page-6h",severity="page",slo="booking/availability",state="suppressed"} 1`,
		`spanslo_alert_state{journey="booking",rule="budget-exhausted",severity="ticket",slo="booking/availability",state="firing"} 1`,
	} {
		if status != http.StatusOK || !strings.Contains(string(body), line+"\n") {
			t.Errorf("/metrics (%d) lacks %s", status, line)
		}
	}
}
