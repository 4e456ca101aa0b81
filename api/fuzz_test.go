package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/slo"
)

// FuzzSLOPath feeds arbitrary ids to the SLO routes: every answer is JSON,
// 200 for a known SLO or series and 404 otherwise, and nothing panics.
func FuzzSLOPath(f *testing.F) {
	for _, seed := range []string{
		"booking/availability", "booking/availability/policy", "booking%2Favailability",
		`search/availability{app.tier="gold"}`, `search/availability{app.tier="gold"}/policy`,
		"", "/", "//", "policy", "booking/", "../../metrics", "booking/availability/policy/policy",
		"search/availability{", "\x00", "ü/ö", "booking/availability?strict=1",
	} {
		f.Add(seed)
	}
	cfg, err := slo.Load([]byte(testConfig), "slos.yaml")
	if err != nil {
		f.Fatal(err)
	}
	tr := slo.NewTracker(cfg)
	tr.Observe(routeSpan("search-api", "/", start, tier("gold")), 1, start)
	h := New(Options{
		Tracker: func() *slo.Tracker { return tr }, Registry: prometheus.NewRegistry(),
		Now: func() time.Time { return start }, Logger: slog.New(slog.DiscardHandler),
	})
	f.Fuzz(func(t *testing.T, id string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = slosPrefix + id
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
			t.Fatalf("id %q: status %d %s", id, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("id %q: not JSON: %s", id, rec.Body)
		}
	})
}

// benchHandler is the API over the bundled slos.yaml with a day of traffic
// per SLO and, to show the cost of group_by, an extra SLO with 50 series.
func benchHandler(b *testing.B) (http.Handler, *prometheus.Registry) {
	b.Helper()
	bundled, err := os.ReadFile(filepath.Join("..", "slos.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := slo.Load(append(bundled, tenantJourney...), "slos.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tr := slo.NewTracker(cfg)
	now := time.Now()
	for h := 24; h >= 0; h-- {
		at := now.Add(-time.Duration(h) * time.Hour)
		attrs := map[string]slo.Value{"http.request.method": slo.StringValue("POST")}
		tr.Observe(routeSpan("booking-api", "/v1/bookings", at, attrs), 1000, now)
		tr.Observe(routeSpan("booking-api", "/v1/bookings", at, attrs).WithStatus(slo.StatusError), 2, now)
		for i := range 50 {
			tenant := map[string]slo.Value{"tenant": slo.StringValue(fmt.Sprint("t", i))}
			tr.Observe(routeSpan("tenant-api", "/", at, tenant), 100, now)
		}
	}
	reg := prometheus.NewRegistry()
	return New(Options{Tracker: func() *slo.Tracker { return tr }, Registry: reg, Logger: slog.New(slog.DiscardHandler)}), reg
}

// tenantJourney extends the bundled journeys with a group-by SLO.
const tenantJourney = `
  - name: tenants
    match:
      service: tenant-api
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
        group_by: [tenant]
        max_series: 100
`

func BenchmarkAPI(b *testing.B) {
	h, _ := benchHandler(b)
	for _, path := range []string{
		"/api/v1/slos",
		"/api/v1/slos/booking/availability",
		"/api/v1/slos/booking/availability/policy",
		"/metrics",
	} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatal(fmt.Sprint(rec.Code, rec.Body))
				}
			}
		})
	}
}
