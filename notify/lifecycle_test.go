package notify_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify"
	"github.com/spanslo/spanslo/slo"
)

// config is the env's config with each old string replaced by its new one.
func (e *env) config(oldNew ...string) *slo.Config {
	e.t.Helper()
	text := strings.NewReplacer(oldNew...).Replace(strings.Replace(configYAML, "PDURL", e.pd.URL, 1))
	cfg, err := slo.Load([]byte(text), "slos.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

// actions lists the event_action of every PagerDuty request since from.
func (e *env) actions(t *testing.T, from int) []string {
	t.Helper()
	var out []string
	for _, r := range e.pd.requests()[from:] {
		out = append(out, checkEventsV2(t, r).Action)
	}
	return out
}

func badRequest(_ int, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid"}`)
}

// The evaluator restored after a restart says the alert resolved, but the
// resolve never reached PagerDuty: told so (serve enqueues the restored
// alerts and reconciles), the dispatcher sends the resolve once and never
// repeats the trigger.
func TestAResolveOwedAtARestartIsSentOnceAndTheTriggerIsNotRepeated(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-1h", "page", burnrate.StateFiring)
	e.d.Enqueue(fire(a))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	e.pd.setRespond(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	e.d.Enqueue(resolved(a))
	if err := e.flush(); err == nil {
		t.Fatal("the resolve was delivered while PagerDuty was down")
	}
	e.pd.setRespond(accepted)
	failed := len(e.pd.requests()) - 1
	e.start()
	e.d.Enqueue(resolved(a))
	e.d.Reconcile(e.clock.Now(), nil)
	for range 3 {
		if err := e.flush(); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(4 * time.Hour)
	}
	if failed < 1 {
		t.Fatalf("%d failed attempts", failed)
	}
	if got := e.actions(t, 1+failed); strings.Join(got, " ") != "resolve" {
		t.Errorf("after the restart PagerDuty got %v, want one resolve", got)
	}
}

// PagerDuty refusing a resolve leaves the log saying firing; the alert is
// resolved all the same, so it is not repeated as a trigger.
func TestARefusedResolveIsNotRepeatedAsATrigger(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-1h", "page", burnrate.StateFiring)
	e.d.Enqueue(fire(a))
	e.flush()
	e.pd.setRespond(badRequest)
	e.d.Enqueue(resolved(a))
	e.flush()
	e.pd.setRespond(accepted)
	for range 3 {
		e.clock.Advance(4 * time.Hour)
		e.flush()
	}
	if got := e.actions(t, 0); strings.Join(got, " ") != "trigger resolve" {
		t.Errorf("PagerDuty got %v, want the trigger and the refused resolve only", got)
	}
	// The alert firing again is a new trigger, and repeats again.
	e.d.Enqueue(fire(a))
	e.flush()
	e.clock.Advance(4 * time.Hour)
	e.flush()
	if got := e.actions(t, 2); strings.Join(got, " ") != "trigger trigger" {
		t.Errorf("after firing again PagerDuty got %v, want a trigger and its repeat", got)
	}
}

// Renaming a notifier in a reload must not strand the incidents it opened:
// the old one stays, with its old secret, to send their resolves and
// nothing else, then goes.
func TestANotifierRemovedByAReloadStillResolvesWhatItPagedThenGoes(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-1h", "page", burnrate.StateFiring)
	e.d.Enqueue(fire(a))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	renamed := e.config("name: oncall\n", "name: oncall-v2\n", "page: [oncall]", "page: [oncall-v2]")
	if err := e.d.Reload(renamed); err != nil {
		t.Fatal(err)
	}
	if h := e.health("oncall"); h.Type != "pagerduty" {
		t.Fatalf("the removed notifier is gone before resolving: %+v", h)
	}
	// Still routed to the old name: no new trigger, no repeat there.
	other := alert("page-6h", "page", burnrate.StateFiring)
	other.Route = []string{"oncall"}
	e.d.Enqueue(fire(other))
	e.clock.Advance(5 * time.Hour)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	if got := e.actions(t, 0); len(got) != 1 {
		t.Fatalf("PagerDuty got %v, want only the first trigger", got)
	}
	e.d.Enqueue(resolved(a)) // routed by the new config to oncall-v2 only
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.pd.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want the trigger and its resolve", len(reqs))
	}
	first, last := checkEventsV2(t, reqs[0]), checkEventsV2(t, reqs[1])
	if last.Action != "resolve" || last.DedupKey != first.DedupKey || last.RoutingKey != pdKey {
		t.Errorf("last event %+v, want the resolve of %q with the old routing key", last, first.DedupKey)
	}
	for _, h := range e.d.Health() {
		if h.Name == "oncall" {
			t.Errorf("the removed notifier is still there after resolving everything: %+v", h)
		}
	}
	e.clock.Advance(5 * time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 2 {
		t.Errorf("%d requests after it went, want 2", n)
	}
}

// A notifier gone from the config at start cannot resolve anything (its
// secret is gone too): the log says which alerts were left open and
// forgets them, so they never repeat should the name come back.
func TestANotifierRemovedAcrossARestartIsReportedAndForgotten(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	e.flush()
	orig := e.cfg
	e.cfg = e.config("name: oncall\n", "name: oncall-v2\n", "page: [oncall]", "page: [oncall-v2]")
	e.start()
	logs := e.logs.String()
	if !strings.Contains(logs, "notifier removed from the config while alerts it paged were firing") ||
		!strings.Contains(logs, "booking/availability/page-1h") {
		t.Errorf("no error naming the alert left open:\n%s", logs)
	}
	e.cfg = orig
	e.start()
	e.clock.Advance(5 * time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests, want no repeat of a forgotten alert", n)
	}
}

// A crash between writing and renaming the log's temporary file leaves it
// behind; the next start removes it.
func TestTemporaryLogFilesACrashLeftAreRemovedAtStart(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	stale := filepath.Join(e.opts.DataDir, notify.LogFile+".tmp123456")
	if err := os.WriteFile(stale, []byte(`{"entries": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(e.opts.DataDir, "alerts.json.tmp1")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not the notification log's was touched: %v", err)
	}
}

// A reload rebuilds every integration; a Slack post under way when it
// happens finishes and is not posted again by the next worker.
func TestAReloadDuringARequestDoesNotSendItTwice(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, accepted, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		slackOK(n, w, r)
	})
	e.opts.Now, e.opts.Sleep = nil, nil // real time
	e.start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.d.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	e.d.Enqueue(fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
	waitUntil(t, "the post to start", func() bool { return len(e.slack.requests()) == 1 })
	if err := e.d.Reload(e.cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the old worker is cancelled
	close(release)
	waitUntil(t, "the post to be logged", func() bool { return e.health("chat").Pending == 0 && !e.health("chat").LastSuccess.IsZero() })
	time.Sleep(1200 * time.Millisecond) // past Slack's one message a second
	if n := len(e.slack.requests()); n != 1 {
		t.Errorf("%d Slack posts, want 1", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
