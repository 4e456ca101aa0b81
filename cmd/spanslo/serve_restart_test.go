package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanslo/spanslo/loadgen"
)

// flakyPagerDuty is a fake Events v2 endpoint that can be down: while its
// status is not 202 it counts the attempts and keeps nothing.
type flakyPagerDuty struct {
	mu       sync.Mutex
	status   int
	attempts int
	events   []map[string]any
}

func (p *flakyPagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &ev) != nil {
		http.Error(w, `{"status":"invalid event"}`, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	status := p.status
	p.attempts++
	if status == http.StatusAccepted {
		p.events = append(p.events, ev)
	}
	p.mu.Unlock()
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":"x","message":"m","dedup_key":%q}`, ev["dedup_key"])
}

func (p *flakyPagerDuty) set(status int) {
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
}

func (p *flakyPagerDuty) tried() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

// delivered lists the event_action of each accepted event for the alert.
func (p *flakyPagerDuty) delivered(alert string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ev := range p.events {
		if ev["dedup_key"] == "spanslo/"+alert {
			out = append(out, fmt.Sprint(ev["event_action"]))
		}
	}
	return out
}

const paymentPage = "payment/availability/page-1h"

// restartEnv is serve pointed at a fake PagerDuty, restartable on the
// same data directory, logging to a buffer.
type restartEnv struct {
	t      *testing.T
	pd     *flakyPagerDuty
	config string
	data   string
	logs   *syncBuffer
}

func newRestartEnv(t *testing.T, status int) *restartEnv {
	pd := &flakyPagerDuty{status: status}
	srv := httptest.NewServer(pd)
	t.Cleanup(srv.Close)
	t.Setenv("SPANSLO_PAGERDUTY_ROUTING_KEY", "R0123456789abcdef0123456789abcdef")
	return &restartEnv{t: t, pd: pd, config: e2eConfig(t, srv.URL), data: t.TempDir(), logs: &syncBuffer{}}
}

// start runs serve until the test ends or stop is called.
func (e *restartEnv) start() *server {
	e.t.Helper()
	c := defaultServeConfig(e.t)
	c.ConfigPath, c.DataDir, c.EvalInterval, c.ShutdownTimeout = e.config, e.data, 50*time.Millisecond, time.Second
	s, err := newServer(c, slog.New(slog.NewTextHandler(e.logs, nil)), time.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := s.start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = s.shutdown(context.Background()) })
	waitFor(e.t, "ready", s.ready.Load)
	return s
}

// stop shuts serve down as SIGTERM does: with the shutdown timeout.
func (e *restartEnv) stop(s *server) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	return s.shutdown(ctx)
}

// failPayments sends spans of a payment journey failing outright.
func failPayments(t *testing.T, s *server) {
	t.Helper()
	g, err := loadgen.New(loadgen.Options{Seed: 7, Incidents: []loadgen.Incident{{Journey: "payment", ErrorRate: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	send := &loadgen.HTTPSender{URL: "http://" + s.ingest.HTTPAddr().String() + "/v1/traces", Client: http.DefaultClient}
	if _, err := send.Send(context.Background(), g.Traces(time.Now(), 400)); err != nil {
		t.Fatal(err)
	}
}

// withoutPayment is the config with the payment journey removed.
func (e *restartEnv) withoutPayment() {
	e.t.Helper()
	data, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := string(data)
	i, j := strings.Index(cfg, "  - name: payment\n"), strings.Index(cfg, "  - name: cancellation\n")
	if i < 0 || j < i {
		e.t.Fatal("the bundled slos.yaml no longer has the payment journey before cancellation")
	}
	if err := os.WriteFile(e.config, []byte(cfg[:i]+cfg[j:]), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// firingInLog reports whether the notification log still says the alert
// is open at PagerDuty.
func (e *restartEnv) firingInLog(alert string) bool {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.data, "notifications.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var log struct {
		Entries []struct {
			Key    string `json:"key"`
			Firing bool   `json:"firing"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		e.t.Fatal(err)
	}
	for _, en := range log.Entries {
		if en.Key == alert && en.Firing {
			return true
		}
	}
	return false
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An alert that fired while PagerDuty was down was still queued when serve
// stopped: the stop succeeds all the same (PagerDuty being down is not
// serve failing), and the page goes out after the restart, once.
func TestAPageQueuedWhilePagerDutyWasDownIsSentAfterARestart(t *testing.T) {
	e := newRestartEnv(t, http.StatusServiceUnavailable)
	s := e.start()
	failPayments(t, s)
	waitFor(t, "an attempt to page", func() bool { return e.pd.tried() > 0 })
	if err := e.stop(s); err != nil {
		t.Fatalf("stopping with PagerDuty down: %v, want a clean stop", err)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "notifications not delivered before stopping") {
		t.Errorf("the undelivered page is not logged:\n%s", logs)
	}
	e.pd.set(http.StatusAccepted)
	e.start()
	waitFor(t, "the page after the restart", func() bool { return len(e.pd.delivered(paymentPage)) > 0 })
	time.Sleep(300 * time.Millisecond) // several evaluation ticks
	if got := e.pd.delivered(paymentPage); strings.Join(got, " ") != "trigger" {
		t.Errorf("PagerDuty got %v, want one trigger", got)
	}
}

// The payment SLO is removed (its alert resolves) while PagerDuty is
// down, and serve stops before the resolve is delivered: after the restart
// the resolve goes out, and the log no longer holds the alert open (it
// would repeat the trigger every repeat interval).
func TestAResolveOwedWhenServeStopsIsSentAfterTheRestart(t *testing.T) {
	e := newRestartEnv(t, http.StatusAccepted)
	s := e.start()
	failPayments(t, s)
	waitFor(t, "the page", func() bool { return len(e.pd.delivered(paymentPage)) > 0 })
	e.pd.set(http.StatusServiceUnavailable)
	before := e.pd.tried()
	e.withoutPayment()
	if err := s.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an attempt to resolve", func() bool { return e.pd.tried() > before })
	if err := e.stop(s); err != nil {
		t.Fatalf("stopping with PagerDuty down: %v, want a clean stop", err)
	}
	if !e.firingInLog(paymentPage) {
		t.Fatal("the resolve was delivered before the stop; the test shows nothing")
	}
	e.pd.set(http.StatusAccepted)
	e.start()
	waitFor(t, "the resolve after the restart", func() bool { return len(e.pd.delivered(paymentPage)) > 1 })
	time.Sleep(300 * time.Millisecond)
	if got := e.pd.delivered(paymentPage); strings.Join(got, " ") != "trigger resolve" {
		t.Errorf("PagerDuty got %v, want the trigger and one resolve", got)
	}
	if e.firingInLog(paymentPage) {
		t.Error("the notification log still holds the resolved alert open")
	}
}

// Without the alert state of the last run (lost, or unreadable) serve does
// not know which alerts are over: the incidents it opened stay open
// rather than being resolved while the burn goes on.
func TestWithoutTheAlertStateOpenIncidentsAreNotResolved(t *testing.T) {
	e := newRestartEnv(t, http.StatusAccepted)
	s := e.start()
	failPayments(t, s)
	waitFor(t, "the page", func() bool { return len(e.pd.delivered(paymentPage)) > 0 })
	if err := e.stop(s); err != nil {
		t.Fatal(err)
	}
	var blobs []string
	filepath.WalkDir(e.data, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == alertStateBlob+".blob" {
			blobs = append(blobs, path)
		}
		return nil
	})
	if len(blobs) != 1 {
		t.Fatalf("alert state files %v, want one", blobs)
	}
	if err := os.WriteFile(blobs[0], []byte("not an alert state"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	time.Sleep(300 * time.Millisecond) // several evaluation ticks
	if got := e.pd.delivered(paymentPage); strings.Join(got, " ") != "trigger" {
		t.Errorf("PagerDuty got %v, want the one trigger and no resolve", got)
	}
	if !e.firingInLog(paymentPage) {
		t.Error("the notification log forgot the open incident")
	}
}

// A notifier that never answers does not hold up the stop past the
// shutdown timeout, and the stop is still a clean one.
func TestServeStopsCleanlyWithinTheTimeoutWhenPagerDutyHangs(t *testing.T) {
	var mu sync.Mutex
	open := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a client gone only after the body
		mu.Lock()
		open++
		mu.Unlock()
		<-r.Context().Done()
		mu.Lock()
		open--
		mu.Unlock()
	}))
	defer srv.Close()
	e := newRestartEnv(t, http.StatusAccepted)
	e.config = e2eConfig(t, srv.URL)
	s := e.start()
	failPayments(t, s)
	waitFor(t, "the page to be attempted", func() bool {
		for _, h := range s.dispatcher.Health() {
			if h.Name == "oncall" && h.Pending > 0 {
				return true
			}
		}
		return false
	})
	start := time.Now()
	if err := e.stop(s); err != nil {
		t.Fatalf("stop: %v, want a clean stop", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stop took %v with a 1s shutdown timeout", d)
	}
	waitFor(t, "the requests to be abandoned", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return open == 0
	})
}
