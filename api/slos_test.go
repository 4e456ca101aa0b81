package api

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

func tier(v string) map[string]slo.Value {
	return map[string]slo.Value{"app.tier": slo.StringValue(v)}
}

type listAnswer struct {
	SLOs []summary `json:"slos"`
}

func TestListShowsEverySeriesLeastBudgetFirst(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("booking-api", "/v1/bookings", 9995, 5, nil) // 0.05 % bad of a 0.1 % budget: half left
	e.feed("search-api", "/", 1000, 0, tier("gold"))
	e.feed("search-api", "/", 990, 10, tier("free")) // 1 % bad of a 0.5 % budget: overspent
	e.alerts.alerts = []burnrate.Alert{
		{Key: "booking/availability/page-1h", SLOID: "booking/availability", SeriesID: "booking/availability", Rule: "page-1h", State: burnrate.StateFiring, FiredAt: start},
		{Key: "booking/availability/ticket-1d", SLOID: "booking/availability", SeriesID: "booking/availability", Rule: "ticket-1d", State: burnrate.StateResolved, FiredAt: start.Add(-time.Hour)},
	}

	var got listAnswer
	e.getJSON("/api/v1/slos", http.StatusOK, &got)

	var order []string
	for _, s := range got.SLOs {
		order = append(order, s.ID+" "+s.Series)
	}
	want := []string{
		`search/availability search/availability{app.tier="free"}`,
		"booking/availability ",
		`search/availability search/availability{app.tier="gold"}`,
	}
	if !slices.Equal(order, want) {
		t.Fatalf("order:\n got %q\nwant %q", order, want)
	}
	free, booking, gold := got.SLOs[0], got.SLOs[1], got.SLOs[2]
	if booking.Objective != 99.9 || booking.Window != "30d" || booking.Journey != "booking" {
		t.Errorf("booking header: %+v", booking)
	}
	if booking.Good != 9995 || booking.Total != 10000 || !slotest.Approx(booking.SLI, 0.9995) {
		t.Errorf("booking counts: good %v total %v sli %v", booking.Good, booking.Total, booking.SLI)
	}
	if !slotest.Approx(booking.BudgetRemaining, 0.5) || booking.Zone != slo.ZoneCaution {
		t.Errorf("booking budget %v zone %s, want 0.5 caution", booking.BudgetRemaining, booking.Zone)
	}
	var windows []string
	for w := range booking.BurnRates {
		windows = append(windows, w)
	}
	slices.Sort(windows)
	if want := []string{"1d", "1h", "2h", "30m", "3d", "5m", "6h"}; !slices.Equal(windows, want) {
		t.Errorf("burn-rate windows %v, want %v", windows, want)
	}
	if !slotest.Approx(booking.BurnRates["1h"], 0.5) {
		t.Errorf("booking 1h burn %v, want 0.5", booking.BurnRates["1h"])
	}
	// Half the budget left at half the sustainable pace lasts a whole 30d.
	if booking.TimeToExhaustionSeconds == nil || math.Abs(*booking.TimeToExhaustionSeconds-30*86400) > 1e-3 {
		t.Errorf("booking time to exhaustion %v, want 30d", *booking.TimeToExhaustionSeconds)
	}
	if len(booking.Alerts) != 1 || booking.Alerts[0].Rule != "page-1h" {
		t.Errorf("booking alerts %+v, want only the firing page-1h", booking.Alerts)
	}
	if booking.DashboardURL != "http://dash.example.com/#/slo/booking%2Favailability" {
		t.Errorf("dashboard url %q", booking.DashboardURL)
	}
	if gold.TimeToExhaustionSeconds != nil || gold.BudgetRemaining != 1 || gold.Labels["app.tier"] != "gold" {
		t.Errorf("gold series: %+v", gold)
	}
	if !slotest.Approx(free.BudgetRemaining, -1) || free.Zone != slo.ZoneFreeze || free.TimeToExhaustionSeconds == nil || *free.TimeToExhaustionSeconds != 0 {
		t.Errorf("free series: budget %v zone %s tte %v", free.BudgetRemaining, free.Zone, free.TimeToExhaustionSeconds)
	}
}

func TestListShowsAGroupBySLOWithoutTrafficAsUntouched(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	var got listAnswer
	e.getJSON("/api/v1/slos", http.StatusOK, &got)
	if len(got.SLOs) != 2 {
		t.Fatalf("got %d entries, want both SLOs", len(got.SLOs))
	}
	for _, s := range got.SLOs {
		if s.Total != 0 || s.BudgetRemaining != 1 || s.Zone != slo.ZoneNormal || s.TimeToExhaustionSeconds != nil {
			t.Errorf("%s: %+v", s.ID, s)
		}
	}
}

type detailAnswer struct {
	ID              string         `json:"id"`
	Runbook         string         `json:"runbook"`
	Zone            slo.Zone       `json:"zone"`
	BudgetRemaining float64        `json:"budget_remaining"`
	Zones           zonesJSON      `json:"zones"`
	Rules           []ruleJSON     `json:"rules"`
	Series          []seriesDetail `json:"series"`
}

func TestDetailHasBudgetHistoryRulesAndTraces(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("booking-api", "/v1/bookings", 9998, 2, nil)
	e.setNow(start.Add(2 * time.Hour))
	e.feed("booking-api", "/v1/bookings", 9997, 3, nil)
	e.setNow(start.Add(2*time.Hour + 30*time.Minute))
	e.alerts.rules = map[string][]burnrate.RuleStatus{"booking/availability": {
		{Rule: "page-1h", Severity: "page", Factor: 14.4, LongWindow: time.Hour, ShortWindow: 5 * time.Minute, BurnLong: 0.3, BurnShort: 0, LongEvents: 10000, MinEvents: 20, State: "ok"},
	}}

	for _, path := range []string{"/api/v1/slos/booking/availability", "/api/v1/slos/booking%2Favailability"} {
		t.Run(path, func(t *testing.T) {
			var d detailAnswer
			e.getJSON(path, http.StatusOK, &d)
			if d.ID != "booking/availability" || d.Runbook != "https://runbooks.example.com/booking" {
				t.Fatalf("header: %+v", d)
			}
			if d.Zones != (zonesJSON{Caution: 0.5, Freeze: 0.25}) || len(d.Rules) != 4 || d.Rules[0].LongWindow != "1h" || d.Rules[0].ShortWindow != "5m" {
				t.Errorf("zones %+v rules %+v", d.Zones, d.Rules)
			}
			if len(d.Series) != 1 {
				t.Fatalf("series: %d", len(d.Series))
			}
			s := d.Series[0]
			checkHistory(t, s.History, d.BudgetRemaining)
			if len(s.Rules) != 1 || s.Rules[0].State != "ok" || s.Rules[0].LongWindow != "1h" || s.Rules[0].BurnLong != 0.3 {
				t.Errorf("rules from the evaluator: %+v", s.Rules)
			}
			if len(s.Examples) != 2 || s.Examples[0].TraceID != "abcd0000000000000000000000000003" ||
				s.Examples[0].URL != "https://tempo.example.com/trace/abcd0000000000000000000000000003" ||
				!s.Examples[0].Time.Equal(start.Add(2*time.Hour)) {
				t.Errorf("examples, newest first: %+v", s.Examples)
			}
		})
	}
}

// checkHistory: 30 days of hour buckets plus the current one, flat at 1
// before the first events, then the burn-down ending at today's budget.
func checkHistory(t *testing.T, h history, final float64) {
	t.Helper()
	if len(h.BudgetRemaining) != 721 || len(h.SLI) != 721 || h.StepSeconds != 3600 {
		t.Fatalf("history sizes: %d %d step %d", len(h.BudgetRemaining), len(h.SLI), h.StepSeconds)
	}
	if want := start.Add(2*time.Hour - 30*24*time.Hour); !h.Start.Equal(want) {
		t.Errorf("history start %v, want %v", h.Start, want)
	}
	first := 720 - 2 // the hour bucket of start
	if h.BudgetRemaining[first-1] != 1 || h.SLI[first-1] != nil {
		t.Errorf("before any event: budget %v sli %v", h.BudgetRemaining[first-1], h.SLI[first-1])
	}
	if !slotest.Approx(h.BudgetRemaining[first], 0.8) || h.SLI[first] == nil || !slotest.Approx(*h.SLI[first], 0.9998) {
		t.Errorf("after the first hour: budget %v", h.BudgetRemaining[first])
	}
	if h.SLI[first+1] != nil || !slotest.Approx(h.BudgetRemaining[first+1], 0.8) {
		t.Errorf("the quiet hour: budget %v sli %v", h.BudgetRemaining[first+1], h.SLI[first+1])
	}
	last := h.BudgetRemaining[720]
	if !slotest.Approx(last, 0.75) || !slotest.Approx(last, final) || h.Bad[720] != 3 || h.Total[720] != 10000 {
		t.Errorf("now: budget %v (status %v), bad %v total %v", last, final, h.Bad[720], h.Total[720])
	}
}

func TestDetailOfOneGroupBySeries(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("search-api", "/", 100, 0, tier("gold"))
	e.feed("search-api", "/", 90, 10, tier("free"))

	var all detailAnswer
	e.getJSON("/api/v1/slos/search/availability", http.StatusOK, &all)
	if len(all.Series) != 2 || all.Zone != slo.ZoneFreeze {
		t.Fatalf("whole SLO: %d series, zone %s", len(all.Series), all.Zone)
	}
	// Without an evaluator's readings, burn rates are read from the series.
	if r := all.Series[1].Rules; len(r) != 4 || !slotest.Approx(r[0].BurnLong, 20) || r[0].State != "" {
		t.Errorf("computed readings for free: %+v", r)
	}

	var one detailAnswer
	e.getJSON("/api/v1/slos/"+url.PathEscape(`search/availability{app.tier="gold"}`), http.StatusOK, &one)
	if len(one.Series) != 1 || one.Series[0].Labels["app.tier"] != "gold" || one.Zone != slo.ZoneNormal {
		t.Errorf("one series: %+v", one)
	}
}

func TestUnknownSLOIsJSON404(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	for _, path := range []string{
		"/api/v1/slos/nope/availability",
		"/api/v1/slos/booking",
		"/api/v1/slos/booking%2Fnope",
		"/api/v1/slos/nope/availability/policy",
		"/api/v1/slos/" + url.PathEscape(`search/availability{app.tier="never-seen"}`),
		"/api/v1/slos/",
	} {
		status, body := e.do(http.MethodGet, path, nil, nil)
		if status != http.StatusNotFound || !strings.HasPrefix(string(body), `{"error":"unknown SLO`) {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
}

func TestPolicyGateInEachZone(t *testing.T) {
	tests := []struct {
		name        string
		bad         float64 // of 10 000 events against a 0.1 % budget
		zone        slo.Zone
		allowed     bool
		strictCode  int
		wantInWords string
	}{
		{"80 % budget left is normal and may ship", 2, slo.ZoneNormal, true, http.StatusOK, "healthy"},
		{"40 % budget left is caution and may ship with review", 6, slo.ZoneCaution, true, http.StatusOK, "caution"},
		{"10 % budget left is freeze and may not ship", 9, slo.ZoneFreeze, false, http.StatusLocked, "freeze"},
		{"an overspent budget is freeze", 30, slo.ZoneFreeze, false, http.StatusLocked, "freeze"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testConfig, nil)
			e.feed("booking-api", "/v1/bookings", 10000-tt.bad, tt.bad, nil)
			var p policyAnswer
			e.getJSON("/api/v1/slos/booking/availability/policy", http.StatusOK, &p)
			if p.SLO != "booking/availability" || p.Zone != tt.zone || p.Allowed != tt.allowed ||
				!slotest.Approx(p.BudgetRemaining, 1-tt.bad/10) || !strings.Contains(p.Reason, tt.wantInWords) {
				t.Errorf("policy: %+v", p)
			}
			var strictP policyAnswer
			e.getJSON("/api/v1/slos/booking%2Favailability/policy?strict=1", tt.strictCode, &strictP)
			if strictP.Allowed != tt.allowed {
				t.Errorf("strict answer disagrees: %+v", strictP)
			}
		})
	}
}

func TestPolicyOfAGroupBySLOIsItsWorstSeries(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.feed("search-api", "/", 100, 0, tier("gold"))
	e.feed("search-api", "/", 90, 10, tier("free"))
	var p policyAnswer
	e.getJSON("/api/v1/slos/search/availability/policy?strict=true", http.StatusLocked, &p)
	if p.Zone != slo.ZoneFreeze || p.Allowed || p.Series != `search/availability{app.tier="free"}` {
		t.Errorf("policy: %+v", p)
	}
}
