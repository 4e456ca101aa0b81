package slo_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestBundledConfigIsValid(t *testing.T) {
	cfg, err := slo.LoadFile("../slos.yaml")
	if err != nil {
		t.Fatalf("bundled slos.yaml: %v", err)
	}
	if got := len(cfg.Journeys); got != 5 {
		t.Errorf("journeys = %d, want the seed case's 5", got)
	}
	for _, s := range cfg.SLOs {
		if s.Window.Rolling != 30*24*time.Hour {
			t.Errorf("%s: window %v, want 30d", s.ID, s.Window)
		}
		want := map[slo.Kind]float64{slo.Availability: 0.999, slo.Latency: 0.995}[s.Kind]
		if diff := s.Objective - want; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("%s: objective %v, want %v", s.ID, s.Objective, want)
		}
		if s.Runbook == "" {
			t.Errorf("%s: no runbook", s.ID)
		}
		if len(s.Rules) != 4 {
			t.Errorf("%s: %d rules, want the 4 workbook rules", s.ID, len(s.Rules))
		}
	}
	if got := cfg.RouteFor(&cfg.SLOs[0].Rules[0]); len(got) != 1 || cfg.Notifiers[got[0]].Type != "pagerduty" {
		t.Errorf("fast burn route = %v, want the PagerDuty notifier", got)
	}
	if got := cfg.RouteFor(&cfg.SLOs[0].Rules[3]); len(got) != 1 || cfg.Notifiers[got[0]].Type != "slack" {
		t.Errorf("slow burn route = %v, want the Slack notifier", got)
	}
}

// Every broken file under testdata/invalid produces exactly the messages in
// its .golden file: the lines a user sees from `spanslo validate`.
func TestInvalidConfigsReportEveryProblemWithItsLine(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := slo.LoadFile(f)
			var ps slo.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("messages differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestSecretsNeverAppearInMessages(t *testing.T) {
	data, _ := os.ReadFile("testdata/invalid/notifiers.yaml")
	_, err := slo.Load(data, "slos.yaml")
	if err == nil || strings.Contains(err.Error(), "R0123456789ABCDEF") {
		t.Fatalf("the inline routing key must be reported without its value: %v", err)
	}
}

func TestFactorsScaleWithThePeriodLikeTheWorkbook(t *testing.T) {
	cfg := mustLoad(t, `
journeys:
  - name: j
    match: {service: s}
    slos:
      - name: weekly
        objective: 99
        window: 7d
        latency: {threshold: 1s}
      - name: tuned
        objective: 99
        latency: {threshold: 1s}
        alerts:
          - name: page-1h
            long: 2h
            short: 10m
          - name: ticket-3d
            disabled: true
          - name: chat
            severity: ticket
            long: 12h
            short: 1h
            budget_percent: 5
            min_events: 100
`)
	weekly := cfg.SLOs[0].Rules
	if got := weekly[0].Factor; !slotest.Approx(got, 0.02*7*24) {
		t.Errorf("7d page-1h factor = %v, want 2%% × 168h / 1h = 3.36", got)
	}
	tuned := cfg.SLOs[1].Rules
	if len(tuned) != 4 {
		t.Fatalf("rules = %+v, want 4 (one disabled, one added)", tuned)
	}
	if r := tuned[0]; r.Long != 2*time.Hour || r.Short != 10*time.Minute || !slotest.Approx(r.Factor, 7.2) {
		t.Errorf("overridden windows keep the budget share: %+v, want factor 7.2", r)
	}
	if r := tuned[3]; r.Name != "chat" || !slotest.Approx(r.Factor, 3) || r.MinEvents != 100 {
		t.Errorf("added rule = %+v, want factor 5%% × 30d / 12h = 3", r)
	}
}

func TestGoodEventsFollowTheSLIDefinition(t *testing.T) {
	cfg := mustLoad(t, `
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx, max_duration: 3s}
      - name: lenient
        objective: 99.9
        availability: {http_status: "< 500"}
      - name: latency
        objective: 99.5
        latency: {threshold: 800ms}
`)
	avail, lenient, lat := cfg.SLOs[0], cfg.SLOs[1], cfg.SLOs[2]
	tests := []struct {
		name                   string
		span                   *slotest.Span
		wantAvail, wantLenient bool
		wantLatency            bool
	}{
		{"a fast 200 is good for all", span(200, 100*time.Millisecond), true, true, true},
		{"a 404 fails 2xx but not < 500", span(404, 100*time.Millisecond), false, true, true},
		{"a 503 fails both availability SLIs", span(503, 100*time.Millisecond), false, false, true},
		{"a 200 in 3s is not 'in < 3 s'", span(200, 3*time.Second), false, true, false},
		{"800ms exactly is not below 800ms", span(200, 800*time.Millisecond), true, true, false},
		{"799ms is below 800ms", span(200, 799*time.Millisecond), true, true, true},
		{"an ERROR status fails availability", span(200, time.Millisecond).WithStatus(slo.StatusError), false, false, true},
		{"no HTTP status: the span status decides", span(0, time.Millisecond), true, true, true},
		{"a string status code is read", span(0, time.Millisecond).With("http.status_code", slo.StringValue("500")), false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := avail.Good(tt.span); got != tt.wantAvail {
				t.Errorf("availability good = %v, want %v", got, tt.wantAvail)
			}
			if got := lenient.Good(tt.span); got != tt.wantLenient {
				t.Errorf("< 500 good = %v, want %v", got, tt.wantLenient)
			}
			if got := lat.Good(tt.span); got != tt.wantLatency {
				t.Errorf("latency good = %v, want %v", got, tt.wantLatency)
			}
		})
	}
}

func TestMatchersSelectTheJourneysSpans(t *testing.T) {
	cfg := mustLoad(t, `
journeys:
  - name: booking
    match:
      service: booking-api
      http_route: /v1/bookings
      http_method: [POST, PUT]
      attributes:
        app.tier: {regex: "gold|silver"}
        app.beta: {exists: false}
      resource_attributes:
        deployment.environment: production
    slos:
      - name: latency
        objective: 99
        latency: {threshold: 1s}
  - name: internal
    match:
      entry_only: false
      kind: internal
      span_name: {regex: "charge.*"}
    slos:
      - name: latency
        objective: 99
        latency: {threshold: 1s}
`)
	booking, internal := cfg.Journeys[0].Match, cfg.Journeys[1].Match
	base := func() *slotest.Span {
		s := span(200, time.Millisecond)
		s.Attrs["http.route"] = slo.StringValue("/v1/bookings")
		s.Attrs["http.request.method"] = slo.StringValue("POST")
		s.Attrs["app.tier"] = slo.StringValue("gold")
		s.Resource["deployment.environment"] = slo.StringValue("production")
		return s
	}
	tests := []struct {
		name   string
		modify func(*slotest.Span)
		m      *slo.Matcher
		want   bool
	}{
		{"the journey's entry span matches", func(*slotest.Span) {}, booking, true},
		{"another service does not", func(s *slotest.Span) { s.Resource["service.name"] = slo.StringValue("search-api") }, booking, false},
		{"a method from the list matches", func(s *slotest.Span) { s.Attrs["http.request.method"] = slo.StringValue("PUT") }, booking, true},
		{"the old http.method attribute is read", func(s *slotest.Span) {
			delete(s.Attrs, "http.request.method")
			s.Attrs["http.method"] = slo.StringValue("POST")
		}, booking, true},
		{"the regex is anchored", func(s *slotest.Span) { s.Attrs["app.tier"] = slo.StringValue("golden") }, booking, false},
		{"exists: false rejects a present attribute", func(s *slotest.Span) { s.Attrs["app.beta"] = slo.BoolValue(true) }, booking, false},
		{"a CLIENT child with a local parent is not an entry span", func(s *slotest.Span) {
			s.SpanKind, s.ParentOf = slo.KindClient, slo.ParentLocal
		}, booking, false},
		{"an INTERNAL span with a remote parent is an entry span", func(s *slotest.Span) {
			s.SpanKind, s.ParentOf = slo.KindInternal, slo.ParentRemote
		}, booking, true},
		{"kind and span name select internal spans", func(s *slotest.Span) {
			s.SpanKind, s.ParentOf, s.SpanName = slo.KindInternal, slo.ParentLocal, "charge card"
		}, internal, true},
		{"a non-matching span name is rejected", func(s *slotest.Span) {
			s.SpanKind, s.ParentOf, s.SpanName = slo.KindInternal, slo.ParentLocal, "refund"
		}, internal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.modify(s)
			if got := tt.m.Match(s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDurationsReadDaysAndWeeks(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "1w": 168 * time.Hour, "1h30m": 90 * time.Minute, "800ms": 800 * time.Millisecond, "1.5d": 36 * time.Hour} {
		got, err := slo.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "5x", "-1h", "d", "1h-"} {
		if _, err := slo.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	for d, want := range map[time.Duration]string{720 * time.Hour: "30d", 5 * time.Minute: "5m", 168 * time.Hour: "1w", 90 * time.Minute: "1h30m", 800 * time.Millisecond: "800ms"} {
		if got := slo.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func mustLoad(t testing.TB, yaml string) *slo.Config {
	t.Helper()
	cfg, err := slo.Load([]byte(yaml), "slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
