package notify_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
)

func TestPagerDutyRateLimitedThreeTimesOpensExactlyOneIncident(t *testing.T) {
	e := newEnv(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 3 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`)
			return
		}
		accepted(n, w, r)
	}, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.pd.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	first := checkEventsV2(t, reqs[0])
	golden(t, "pagerduty-trigger.json", reqs[0].Body)
	for i, r := range reqs {
		checkEventsV2(t, r)
		if !bytes.Equal(r.Body, reqs[0].Body) {
			t.Errorf("body %d differs from the first:\n%s\n%s", i, r.Body, reqs[0].Body)
		}
	}
	if first.Action != "trigger" || first.DedupKey != "spanslo/booking/availability/page-1h" {
		t.Errorf("action %q dedup_key %q", first.Action, first.DedupKey)
	}
	// Jitter 0 halves the backoff: 0.5s, 1s, 2s.
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
		if gap := reqs[i+1].At.Sub(reqs[i].At); gap < want {
			t.Errorf("gap %d = %v, want ≥ %v", i, gap, want)
		}
	}
	if got := e.metric("spanslo_notifications_retries_total", map[string]string{"notifier": "oncall"}); got != 3 {
		t.Errorf("retries = %v, want 3", got)
	}
	if got := e.metric("spanslo_notifications_sent_total", map[string]string{"notifier": "oncall"}); got != 1 {
		t.Errorf("sent = %v, want 1", got)
	}
	// A re-evaluation of the same firing alert opens nothing new.
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	e.clock.Advance(time.Minute)
	e.flush()
	if n := len(e.pd.requests()); n != 4 {
		t.Errorf("%d requests after re-evaluation, want 4", n)
	}
	if h := e.health("oncall"); !h.Healthy || h.LastSuccess.IsZero() {
		t.Errorf("health %+v", h)
	}
}

func TestPagerDutyBadRequestIsSentOnceAndSurfacesItsMessage(t *testing.T) {
	e := newEnv(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is invalid"]}`)
	}, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	err := e.flush()
	if err == nil || !strings.Contains(err.Error(), "Event object is invalid") || !strings.Contains(err.Error(), "'payload.severity' is invalid") {
		t.Fatalf("error %v, want PagerDuty's message", err)
	}
	if n := len(e.pd.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	h := e.health("oncall")
	if h.Healthy || !strings.Contains(h.LastError, "Event object is invalid") || h.Pending != 0 {
		t.Errorf("health %+v", h)
	}
	if got := e.metric("spanslo_notifications_failed_total", map[string]string{"notifier": "oncall", "reason": "bad_request"}); got != 1 {
		t.Errorf("failed{bad_request} = %v", got)
	}
	if got := e.metric("spanslo_notifications_healthy", map[string]string{"notifier": "oncall"}); got != 0 {
		t.Errorf("healthy gauge = %v", got)
	}
	e.clock.Advance(time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests after an hour, want 1 (a 400 is never retried)", n)
	}
}

func TestRetryableFailuresAreRetriedUntilTheDeadlineThenKeptForLater(t *testing.T) {
	cases := []struct {
		name    string
		respond func(int, http.ResponseWriter, *http.Request)
		reason  string
	}{
		{"a 503 is retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, "server_error"},
		{"a connection reset is retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "network"},
		{"a timeout is retried", func(_ int, w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.respond, slackOK)
			if tc.reason == "timeout" {
				e.opts.AttemptTimeout = 100 * time.Millisecond
				e.start()
			}
			e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
			start := e.clock.Now()
			if err := e.flush(); err == nil {
				t.Fatal("flush succeeded against a failing service")
			}
			reqs := e.pd.requests()
			if len(reqs) < 5 {
				t.Fatalf("%d attempts, want retries until the deadline", len(reqs))
			}
			if last := reqs[len(reqs)-1].At; last.After(start.Add(2 * time.Minute)) {
				t.Errorf("attempt at %v, after the 2m deadline", last.Sub(start))
			}
			for _, r := range reqs {
				if !bytes.Equal(r.Body, reqs[0].Body) {
					t.Fatal("a retry sent a different body")
				}
			}
			h := e.health("oncall")
			if h.Healthy || h.Pending != 1 {
				t.Errorf("health %+v, want unhealthy with the alert kept", h)
			}
			if got := e.metric("spanslo_notifications_failed_total", map[string]string{"notifier": "oncall", "reason": tc.reason}); got != 1 {
				t.Errorf("failed{%s} = %v", tc.reason, got)
			}
			// Before the retry interval nothing is sent; after it, delivery.
			n := len(reqs)
			e.pd.setRespond(accepted)
			e.flush()
			if got := len(e.pd.requests()); got != n {
				t.Errorf("sent again before the retry interval")
			}
			e.clock.Advance(time.Minute)
			if err := e.flush(); err != nil {
				t.Fatal(err)
			}
			reqs = e.pd.requests()
			if len(reqs) != n+1 || !bytes.Equal(reqs[n].Body, reqs[0].Body) {
				t.Errorf("%d requests, want the kept alert delivered once more", len(reqs))
			}
			if h := e.health("oncall"); !h.Healthy || h.Pending != 0 {
				t.Errorf("health after recovery %+v", h)
			}
		})
	}
}

func TestSlackRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, accepted, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "rate_limited")
			return
		}
		slackOK(n, w, r)
	})
	e.d.Enqueue(fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.slack.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 2*time.Second {
		t.Errorf("retried after %v, want ≥ 2s", gap)
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
		t.Error("retry body differs")
	}
	checkSlack(t, reqs[1])
	golden(t, "slack-ticket.json", reqs[1].Body)
}

func TestSlackBurstOfFiftyAlertsIsGroupedAtOneMessageASecond(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	var events []burnrate.Event
	for i := range 50 {
		a := alert("ticket-1d", "ticket", burnrate.StateFiring)
		a.SeriesID = "booking/availability{tier=\"t" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "\"}"
		a.Key = a.SeriesID + "/ticket-1d"
		events = append(events, fire(a))
	}
	e.d.Enqueue(events...)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.slack.requests()
	if len(reqs) < 2 || len(reqs) > 10 {
		t.Fatalf("%d messages for 50 alerts, want them grouped", len(reqs))
	}
	seen := map[string]int{}
	for i, r := range reqs {
		m := checkSlack(t, r)
		if i > 0 && r.At.Sub(reqs[i-1].At) < time.Second {
			t.Errorf("message %d only %v after the previous one", i, r.At.Sub(reqs[i-1].At))
		}
		for _, b := range m.Blocks {
			if b.Type == "section" {
				for _, ev := range events {
					if strings.Contains(b.Text.Text, strings.ReplaceAll(ev.Alert.SeriesID, `"`, `"`)) {
						seen[ev.Alert.Key]++
					}
				}
			}
		}
	}
	if len(seen) != 50 {
		t.Errorf("%d of 50 alerts delivered", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}

func TestSlackBrokenHookIsNotRetriedAndMarkedUnhealthy(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		body string
	}{
		{"404 channel_not_found", http.StatusNotFound, "channel_not_found"},
		{"410 channel_is_archived", http.StatusGone, "channel_is_archived"},
		{"403 action_prohibited", http.StatusForbidden, "action_prohibited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, accepted, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.code)
				io.WriteString(w, tc.body)
			})
			e.d.Enqueue(fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
			if err := e.flush(); err == nil || !strings.Contains(err.Error(), tc.body) {
				t.Fatalf("error %v", err)
			}
			if n := len(e.slack.requests()); n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
			if h := e.health("chat"); h.Healthy || !strings.Contains(h.LastError, tc.body) {
				t.Errorf("health %+v", h)
			}
			if got := e.metric("spanslo_notifications_healthy", map[string]string{"notifier": "chat"}); got != 0 {
				t.Errorf("healthy gauge = %v", got)
			}
			if got := e.metric("spanslo_notifications_failed_total", map[string]string{"notifier": "chat", "reason": "rejected"}); got != 1 {
				t.Errorf("failed{rejected} = %v", got)
			}
		})
	}
}

func TestRestartBetweenTriggerAndResolveNeitherPagesAgainNorForgetsTheResolve(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-1h", "page", burnrate.StateFiring)
	e.d.Enqueue(fire(a))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	e.start() // restart: a new dispatcher on the same data directory
	e.clock.Advance(10 * time.Minute)
	// The new evaluator sees the burn again and reports the alert firing.
	refired := *a
	refired.FiredAt = e.clock.Now()
	e.d.Enqueue(fire(&refired))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(e.pd.requests()); n != 1 {
		t.Fatalf("%d requests after restart, want the single trigger", n)
	}
	e.d.Enqueue(resolved(&refired))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.pd.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want trigger and resolve", len(reqs))
	}
	trigger, resolve := checkEventsV2(t, reqs[0]), checkEventsV2(t, reqs[1])
	if resolve.Action != "resolve" || resolve.DedupKey != trigger.DedupKey {
		t.Errorf("resolve %+v, want the trigger's dedup_key %q", resolve, trigger.DedupKey)
	}
	want := `{"routing_key":"` + pdKey + `","event_action":"resolve","dedup_key":"spanslo/booking/availability/page-1h","client":"spanslo"}`
	if string(reqs[1].Body) != want {
		t.Errorf("resolve body\n%s\nwant\n%s", reqs[1].Body, want)
	}
}

func TestRestartWhenTheEvaluatorForgotTheAlertStillResolvesIt(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.clock.Advance(time.Hour)
	e.d.Reconcile(e.clock.Now(), nil) // the first tick finds nothing firing
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.pd.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want trigger then resolve", len(reqs))
	}
	if ev := checkEventsV2(t, reqs[1]); ev.Action != "resolve" || ev.DedupKey != "spanslo/booking/availability/page-1h" {
		t.Errorf("second event %+v", ev)
	}
	e.clock.Advance(5 * time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 2 {
		t.Errorf("%d requests, want no repeat of a resolved alert", n)
	}
}

func TestStillFiringAlertsAreRepeatedAfterTheRepeatInterval(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	e.flush()
	e.clock.Advance(4*time.Hour - time.Second)
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Fatalf("%d requests before the repeat interval", n)
	}
	e.clock.Advance(time.Second)
	e.flush()
	reqs := e.pd.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want a repeat", len(reqs))
	}
	ev := checkEventsV2(t, reqs[1])
	if ev.Action != "trigger" || ev.DedupKey != "spanslo/booking/availability/page-1h" || !strings.HasPrefix(ev.Payload.Summary, "[still firing]") {
		t.Errorf("repeat %+v", ev)
	}
}

func TestResolvesAreNotSentWhenDisabled(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.opts.DisableResolved = true
	e.start()
	a := alert("page-1h", "page", burnrate.StateFiring)
	e.d.Enqueue(fire(a))
	e.flush()
	e.d.Enqueue(resolved(a))
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests, want only the trigger", n)
	}
	e.clock.Advance(5 * time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests, a resolved alert was repeated", n)
	}
}

func TestSuppressedAlertsAndUnknownRoutesAreNotNotified(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-6h", "page", burnrate.StateSuppressed)
	b := alert("page-1h", "page", burnrate.StateFiring)
	b.Route = []string{"nobody"}
	e.d.Enqueue(fire(a), fire(b))
	e.flush()
	if n := len(e.pd.requests()) + len(e.slack.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestZoneChangesGoToTheZoneRouteOnce(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	z := &burnrate.ZoneChange{SLOID: "booking/availability", SeriesID: "booking/availability", Journey: "booking",
		From: "normal", To: "caution", BudgetRemaining: 0.42, At: t0, RunbookURL: "https://runbooks.example.com/booking",
		DashboardURL: "http://dash.example/#/slo/booking%2Favailability"}
	e.d.Enqueue(burnrate.Event{Time: t0, Zone: z})
	e.flush()
	e.d.Enqueue(burnrate.Event{Time: t0, Zone: z}) // the same zone again
	e.flush()
	reqs := e.slack.requests()
	if len(reqs) != 1 || len(e.pd.requests()) != 0 {
		t.Fatalf("%d slack and %d pagerduty requests, want 1 and 0", len(reqs), len(e.pd.requests()))
	}
	m := checkSlack(t, reqs[0])
	if !strings.Contains(m.Blocks[0].Text.Text, "CAUTION zone · booking journey") || !strings.Contains(m.Text, "normal to caution") {
		t.Errorf("message %s", reqs[0].Body)
	}
	back := *z
	back.From, back.To, back.BudgetRemaining = "caution", "normal", 0.55
	e.d.Enqueue(burnrate.Event{Time: t0, Zone: &back})
	e.flush()
	if n := len(e.slack.requests()); n != 2 {
		t.Errorf("%d requests, want the way back to normal", n)
	}
}

func TestMissingSecretMakesTheNotifierUnhealthyWithoutFailingTheStart(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.setEnv("TEST_PD_KEY", "")
	e.start()
	h := e.health("oncall")
	if h.Healthy || !strings.Contains(h.LastError, "TEST_PD_KEY is not set") {
		t.Fatalf("health %+v", h)
	}
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	if err := e.flush(); err == nil {
		t.Fatal("sent without a routing key")
	}
	if len(e.pd.requests()) != 0 {
		t.Error("a request went out without a routing key")
	}
	if got := e.metric("spanslo_notifications_failed_total", map[string]string{"notifier": "oncall", "reason": "no_secret"}); got != 1 {
		t.Errorf("failed{no_secret} = %v", got)
	}
	// A reload that finds the secret makes it healthy and sends what waits.
	e.setEnv("TEST_PD_KEY", pdKey)
	if err := e.d.Reload(e.cfg); err != nil {
		t.Fatal(err)
	}
	if h := e.health("oncall"); !h.Healthy {
		t.Errorf("health after reload %+v", h)
	}
	e.clock.Advance(time.Minute)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests after the reload, want the waiting alert", n)
	}
}

func TestOversizedDetailsAreTrimmedAndStillDelivered(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	huge := strings.Repeat("ü", 300_000) // 600 KB of group-by value
	for _, rule := range []struct{ name, severity string }{{"page-1h", "page"}, {"ticket-1d", "ticket"}} {
		a := alert(rule.name, rule.severity, burnrate.StateFiring)
		a.Labels = map[string]string{"customer": huge}
		a.SeriesID = `booking/availability{customer="` + huge[:3000] + `"}`
		a.Key = a.SeriesID + "/" + rule.name
		e.d.Enqueue(fire(a))
	}
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	pd, sl := e.pd.requests(), e.slack.requests()
	if len(pd) != 1 || len(sl) != 1 {
		t.Fatalf("%d pagerduty and %d slack requests, want one each", len(pd), len(sl))
	}
	ev := checkEventsV2(t, pd[0])
	if ev.Payload.Details != nil || len(ev.Links) == 0 {
		t.Errorf("want details dropped and links kept; details %v, %d links", ev.Payload.Details != nil, len(ev.Links))
	}
	checkSlack(t, sl[0])
	if got := e.metric("spanslo_notifications_sent_total", map[string]string{"notifier": "oncall"}); got != 1 {
		t.Errorf("sent = %v", got)
	}
}

func TestRunDeliversEnqueuedEventsUntilCancelled(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.opts.Now, e.opts.Sleep = nil, nil // real time
	e.start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.d.Run(ctx) }()
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)), fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
	deadline := time.Now().Add(5 * time.Second)
	for len(e.pd.requests()) == 0 || len(e.slack.requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run delivered nothing within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A reload keeps running with the new notifiers.
	if err := e.d.Reload(e.cfg); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestARefusedRepeatWaitsForTheNextRepeatInterval(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	e.flush()
	e.pd.setRespond(func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid"}`)
	})
	e.clock.Advance(4 * time.Hour)
	e.flush()
	e.flush()
	e.clock.Advance(time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 2 {
		t.Fatalf("%d requests, want the trigger and one refused repeat", n)
	}
	e.clock.Advance(3 * time.Hour)
	e.flush()
	if n := len(e.pd.requests()); n != 3 {
		t.Errorf("%d requests, want the next repeat after 4h", n)
	}
	// The alert is still known as firing: its resolve still goes out.
	e.pd.setRespond(accepted)
	e.d.Enqueue(resolved(alert("page-1h", "page", burnrate.StateFiring)))
	e.flush()
	reqs := e.pd.requests()
	if ev := checkEventsV2(t, reqs[len(reqs)-1]); ev.Action != "resolve" {
		t.Errorf("last event %q, want resolve", ev.Action)
	}
}

func TestCancellingAFlushKeepsTheQueueAndTheHealth(t *testing.T) {
	e := newEnv(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}, slackOK)
	e.d.Enqueue(fire(alert("page-1h", "page", burnrate.StateFiring)))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	e.d.Flush(ctx)
	if h := e.health("oncall"); !h.Healthy || h.Pending != 1 {
		t.Errorf("health %+v, want healthy with the alert still queued", h)
	}
	e.pd.setRespond(accepted)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	if h := e.health("oncall"); h.Pending != 0 || h.LastSuccess.IsZero() {
		t.Errorf("health %+v", h)
	}
}

func TestALongRetryAfterIsHonouredAcrossTheRetryDeadline(t *testing.T) {
	e := newEnv(t, accepted, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		slackOK(n, w, r)
	})
	e.d.Enqueue(fire(alert("ticket-1d", "ticket", burnrate.StateFiring)))
	e.flush() // 600s is past the 2m deadline: kept for later
	e.clock.Advance(9 * time.Minute)
	e.flush()
	if n := len(e.slack.requests()); n != 1 {
		t.Fatalf("%d requests within the 10 minutes Slack asked for", n)
	}
	e.clock.Advance(time.Minute)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	reqs := e.slack.requests()
	if len(reqs) != 2 || reqs[1].At.Sub(reqs[0].At) < 10*time.Minute {
		t.Errorf("%d requests", len(reqs))
	}
}

func TestAnAlertWithoutTrafficReadingsIsStillDeliveredAndLogged(t *testing.T) {
	e := newEnv(t, accepted, slackOK)
	a := alert("page-1h", "page", burnrate.StateFiring)
	a.BurnShort, a.BudgetRemaining = math.NaN(), math.Inf(-1)
	e.d.Enqueue(fire(a))
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.logs.String(), "notification log not saved") {
		t.Errorf("log not saved:\n%s", e.logs.String())
	}
	e.start()
	e.d.Enqueue(fire(a))
	e.flush()
	if n := len(e.pd.requests()); n != 1 {
		t.Errorf("%d requests, want one trigger across the restart", n)
	}
}
