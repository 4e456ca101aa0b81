package pagerduty_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/notify/pagerduty"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

var t0 = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

func alert() *burnrate.Alert {
	return &burnrate.Alert{
		Key: "booking/availability/page-1h", SLOID: "booking/availability", SeriesID: "booking/availability",
		Journey: "booking", Rule: "page-1h", Severity: "page", State: burnrate.StateFiring,
		Objective: 0.999, Factor: 14.4, LongWindow: time.Hour, ShortWindow: 5 * time.Minute,
		BurnLong: 16.2, BurnShort: 20.1, BudgetRemaining: 0.62, TimeToExhaustion: 30 * time.Hour,
		RunbookURL: "https://runbooks.example.com/booking", DashboardURL: "http://dash.example/#/slo/booking%2Favailability",
		Traces:  []burnrate.TraceLink{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", URL: "http://jaeger.example/trace/4bf92f3577b34da6a3ce929d0e0e4736"}},
		FiredAt: t0,
	}
}

var conf = pagerduty.Config{Name: "oncall", RoutingKey: "R0UT1NGKEYs3cr3tR0UT1NGKEYs3cr3t", Source: "spanslo"}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestEventsMatchTheGoldenBodies(t *testing.T) {
	resolvedAlert := alert()
	resolvedAlert.State, resolvedAlert.ResolvedAt = burnrate.StateResolved, t0.Add(42*time.Minute)
	cases := []struct {
		name string
		msg  delivery.Message
	}{
		{"trigger.json", delivery.Message{Alert: alert(), CurrentZone: "caution"}},
		{"resolve.json", delivery.Message{Alert: resolvedAlert}},
		{"repeat.json", delivery.Message{Alert: alert(), Repeat: true}},
		{"zone-freeze.json", delivery.Message{Zone: &burnrate.ZoneChange{SLOID: "booking/availability", SeriesID: "booking/availability",
			Journey: "booking", From: "caution", To: "freeze", BudgetRemaining: 0.2, At: t0}}},
		{"test.json", delivery.Message{Alert: alert(), Test: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := pagerduty.Build(conf, &tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			body, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, append(body, '\n'))
		})
	}
}

func TestSummaryIsReadableAndTheSeverityFollowsTheRule(t *testing.T) {
	for _, tc := range []struct {
		severity, want string
	}{{"page", "critical"}, {"ticket", "warning"}} {
		a := alert()
		a.Severity = tc.severity
		ev, err := pagerduty.Build(conf, &delivery.Message{Alert: a})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Payload.Severity != tc.want {
			t.Errorf("severity %q for %s, want %q", ev.Payload.Severity, tc.severity, tc.want)
		}
		for _, want := range []string{"booking journey", "booking/availability", "16.2x over 1h", "62.0% budget left", "exhausted in 1d6h"} {
			if !strings.Contains(ev.Payload.Summary, want) {
				t.Errorf("summary %q lacks %q", ev.Payload.Summary, want)
			}
		}
	}
}

func TestOversizedEventsAreTrimmedUnderTheLimits(t *testing.T) {
	a := alert()
	long := strings.Repeat("ü", 400) // two bytes each: cuts must respect characters
	a.SeriesID = "booking/availability{customer=\"" + long + "\"}"
	a.Key = a.SeriesID + "/page-1h"
	a.Labels = map[string]string{}
	for i := range 60 {
		a.Labels[strings.Repeat("k", 10)+string(rune('a'+i%26))+string(rune('a'+i/26))] = strings.Repeat("v", 10000)
	}
	ev, err := pagerduty.Build(conf, &delivery.Message{Alert: a})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(ev)
	if len(body) > pagerduty.MaxBody {
		t.Errorf("body of %d bytes", len(body))
	}
	if ev.Payload.Details != nil {
		t.Error("details kept in an oversized event")
	}
	if len(ev.Links) == 0 {
		t.Error("links dropped although dropping details was enough")
	}
	if n := utf8.RuneCountInString(ev.Payload.Summary); n > pagerduty.MaxSummary || !utf8.ValidString(ev.Payload.Summary) {
		t.Errorf("summary of %d characters, valid UTF-8 %v", n, utf8.ValidString(ev.Payload.Summary))
	}
	if len(ev.DedupKey) > pagerduty.MaxDedupKey || !utf8.ValidString(ev.DedupKey) {
		t.Errorf("dedup_key of %d bytes", len(ev.DedupKey))
	}
}

func TestDedupKeysAreStableShortAndDistinct(t *testing.T) {
	short := pagerduty.DedupKey("booking/availability/page-1h")
	if short != "spanslo/booking/availability/page-1h" {
		t.Errorf("short key %q", short)
	}
	a := pagerduty.DedupKey(strings.Repeat("x", 300) + "/page-1h")
	b := pagerduty.DedupKey(strings.Repeat("x", 300) + "/page-6h")
	if len(a) > 255 || a == b || a != pagerduty.DedupKey(strings.Repeat("x", 300)+"/page-1h") {
		t.Errorf("long keys %q %q", a, b)
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  delivery.Message
	}{{"trigger", delivery.Message{Alert: alert()}}, {"resolve", delivery.Message{Alert: func() *burnrate.Alert {
		a := alert()
		a.State = burnrate.StateResolved
		return a
	}()}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pagerduty.Build(conf, &bc.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
