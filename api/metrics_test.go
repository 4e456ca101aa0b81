package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo/slotest"
)

func TestMetricsExposeEveryStateSeries(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("booking-api", "/v1/bookings", 9991, 9, nil)
	e.feed("search-api", "/", 100, 0, tier("gold"))
	e.alerts.rules = map[string][]burnrate.RuleStatus{
		"booking/availability": {{Rule: "page-1h", Severity: "page", State: "firing"}},
	}

	want := `
# HELP spanslo_events_total Weighted SLO events counted since start, by result (good or bad).
# TYPE spanslo_events_total counter
spanslo_events_total{journey="booking",result="bad",slo="booking/availability"} 9
spanslo_events_total{journey="booking",result="good",slo="booking/availability"} 9991
spanslo_events_total{app_tier="gold",journey="search",result="bad",slo="search/availability"} 0
spanslo_events_total{app_tier="gold",journey="search",result="good",slo="search/availability"} 100
# HELP spanslo_objective_ratio SLO objective as a ratio (0.999 for 99.9 %).
# TYPE spanslo_objective_ratio gauge
spanslo_objective_ratio{journey="booking",slo="booking/availability"} 0.999
spanslo_objective_ratio{journey="search",slo="search/availability"} 0.995
# HELP spanslo_zone Budget policy zone: 1 for the current zone, 0 for the others.
# TYPE spanslo_zone gauge
spanslo_zone{journey="booking",slo="booking/availability",zone="caution"} 0
spanslo_zone{journey="booking",slo="booking/availability",zone="freeze"} 1
spanslo_zone{journey="booking",slo="booking/availability",zone="normal"} 0
spanslo_zone{app_tier="gold",journey="search",slo="search/availability",zone="caution"} 0
spanslo_zone{app_tier="gold",journey="search",slo="search/availability",zone="freeze"} 0
spanslo_zone{app_tier="gold",journey="search",slo="search/availability",zone="normal"} 1
# HELP spanslo_alert_state Alert rule state per series: 1 for the current state, 0 for the others.
# TYPE spanslo_alert_state gauge
spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="firing"} 1
spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="low_traffic"} 0
spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="ok"} 0
spanslo_alert_state{journey="booking",rule="page-1h",severity="page",slo="booking/availability",state="suppressed"} 0
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want),
		"spanslo_events_total", "spanslo_objective_ratio", "spanslo_zone", "spanslo_alert_state"); err != nil {
		t.Error(err)
	}

	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "window" || l.GetName() == "app_tier" {
					key += " " + l.GetName() + "=" + l.GetValue()
				}
			}
			if m.GetGauge() != nil {
				values[key] = m.GetGauge().GetValue()
			}
		}
	}
	checks := map[string]float64{
		"spanslo_budget_remaining_ratio":               0.1,
		"spanslo_sli_ratio":                            0.9991,
		"spanslo_burn_rate window=1h":                  0.9,
		"spanslo_burn_rate window=3d":                  0.9,
		"spanslo_burn_rate app_tier=gold window=5m":    0,
		"spanslo_budget_remaining_ratio app_tier=gold": 1,
	}
	for k, want := range checks {
		if got, ok := values[k]; !ok || !slotest.Approx(got, want) {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	for _, n := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s missing: runtime and process collectors not registered", n)
		}
	}
	if n := testutil.CollectAndCount(newCollector(e.tracker.Load, nil, e.clock), "spanslo_burn_rate"); n != 14 {
		t.Errorf("%d burn-rate series, want 7 windows × 2 series", n)
	}
}

func TestMetricsEndpointServesTheRegistry(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("booking-api", "/v1/bookings", 10, 0, nil)
	status, body := e.do(http.MethodGet, "/metrics", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `spanslo_events_total{journey="booking",result="good",slo="booking/availability"} 10`) {
		t.Errorf("GET /metrics: %d\n%s", status, body)
	}
}
