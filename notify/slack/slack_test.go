package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/notify/slack"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

var t0 = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

func alert() *burnrate.Alert {
	return &burnrate.Alert{
		Key: "booking/availability/ticket-1d", SLOID: "booking/availability", SeriesID: "booking/availability",
		Journey: "booking", Rule: "ticket-1d", Severity: "ticket", State: burnrate.StateFiring,
		Objective: 0.999, Factor: 3, LongWindow: 24 * time.Hour, ShortWindow: 2 * time.Hour,
		BurnLong: 3.4, BurnShort: 4.1, BudgetRemaining: 0.48, TimeToExhaustion: 80 * time.Hour,
		RunbookURL: "https://runbooks.example.com/booking", DashboardURL: "http://dash.example/#/slo/booking%2Favailability",
		Traces:  []burnrate.TraceLink{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", URL: "http://jaeger.example/trace/4bf92f3577b34da6a3ce929d0e0e4736"}},
		FiredAt: t0,
	}
}

func TestMessagesMatchTheGoldenBodies(t *testing.T) {
	res := alert()
	res.State, res.ResolvedAt = burnrate.StateResolved, t0.Add(42*time.Minute)
	page := alert()
	page.Severity, page.Rule, page.Key = "page", "page-1h", "booking/availability/page-1h"
	zone := &burnrate.ZoneChange{SLOID: "booking/availability", SeriesID: "booking/availability", Journey: "booking",
		From: "normal", To: "caution", BudgetRemaining: 0.48, At: t0, RunbookURL: "https://runbooks.example.com/booking"}
	conf := slack.Config{Name: "chat", WebhookURL: "https://hooks.example/services/SECRET", Channel: "#reliability", Username: "spanslo"}
	cases := []struct {
		name string
		msgs []delivery.Message
	}{
		{"ticket.json", []delivery.Message{{Alert: alert(), CurrentZone: "caution"}}},
		{"resolved.json", []delivery.Message{{Alert: res}}},
		{"zone.json", []delivery.Message{{Zone: zone}}},
		{"grouped.json", []delivery.Message{{Alert: page, CurrentZone: "caution"}, {Alert: alert()}, {Zone: zone}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := json.MarshalIndent(slack.Build(conf, tc.msgs), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			body = append(body, '\n')
			path := filepath.Join("testdata", tc.name)
			if *update {
				os.WriteFile(path, body, 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != string(body) {
				t.Errorf("%s differs (go test -update rewrites it)\ngot:\n%s", tc.name, body)
			}
		})
	}
}

func TestResponsesAreClassifiedForTheRetryStage(t *testing.T) {
	cases := []struct {
		name       string
		code       int
		header     string
		reason     string
		retryable  bool
		retryAfter time.Duration
	}{
		{"200 ok is delivered", 200, "", "", false, 0},
		{"429 waits its Retry-After", 429, "2", "rate_limited", true, 2 * time.Second},
		{"429 with an HTTP date waits until then", 429, t0.Add(5 * time.Second).Format(http.TimeFormat), "rate_limited", true, 5 * time.Second},
		{"500 is retried", 500, "", "server_error", true, 0},
		{"400 is not retried", 400, "", "bad_request", false, 0},
		{"403 is not retried", 403, "", "rejected", false, 0},
		{"404 is not retried", 404, "", "rejected", false, 0},
		{"410 is not retried", 410, "", "rejected", false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.code)
				io.WriteString(w, "ok")
			}))
			defer srv.Close()
			n := slack.New(slack.Config{Name: "chat", WebhookURL: srv.URL + "/services/x"}, srv.Client(), func() time.Time { return t0 })
			err := n.Notify(context.Background(), []delivery.Message{{Alert: alert()}})
			if tc.code == 200 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a delivery error", err)
			}
			if de.Reason != tc.reason || de.Retryable != tc.retryable || de.RetryAfter != tc.retryAfter || de.StatusCode != tc.code {
				t.Errorf("got %+v", de)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	conf := slack.Config{Name: "chat", WebhookURL: "https://hooks.example/services/SECRET"}
	for _, n := range []int{1, slack.MaxGroup} {
		msgs := make([]delivery.Message, n)
		for i := range msgs {
			msgs[i] = delivery.Message{Alert: alert()}
		}
		b.Run(map[int]string{1: "one alert", slack.MaxGroup: "grouped burst"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(slack.Build(conf, msgs)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
