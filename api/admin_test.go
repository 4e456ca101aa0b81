package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

const adminToken = "s3cret-admin-token"

func TestReload(t *testing.T) {
	invalid := slo.Problems{
		{File: "slos.yaml", Line: 12, Msg: `journey "booking": slo "availability": objective 120 is not in (0, 100)`},
		{File: "slos.yaml", Line: 30, Msg: `unknown notifier "pager"`},
	}
	tests := []struct {
		name       string
		token      string // configured
		header     string // Authorization sent
		result     error
		wantStatus int
		wantCalled bool
		wantBody   string
	}{
		{"without credentials it asks for them", adminToken, "", nil, http.StatusUnauthorized, false, "admin token required"},
		{"a basic-auth header is not a bearer token", adminToken, "Basic YWRtaW46eA==", nil, http.StatusUnauthorized, false, "admin token required"},
		{"a wrong token is forbidden", adminToken, "Bearer nope", nil, http.StatusForbidden, false, "wrong admin token"},
		{"a prefix of the token is forbidden", adminToken, "Bearer s3cret", nil, http.StatusForbidden, false, "wrong admin token"},
		{"without a configured token reload is disabled", "", "Bearer anything", nil, http.StatusForbidden, false, "disabled"},
		{"a valid file reloads", adminToken, "Bearer " + adminToken, nil, http.StatusOK, true, `"status":"reloaded"`},
		{"the scheme is case-insensitive", adminToken, "bearer " + adminToken, nil, http.StatusOK, true, `"status":"reloaded"`},
		{"an invalid file answers its file:line problems", adminToken, "Bearer " + adminToken, invalid, http.StatusBadRequest, true,
			`"problems":["slos.yaml:12: journey \"booking\": slo \"availability\": objective 120 is not in (0, 100)","slos.yaml:30: unknown notifier \"pager\""]`},
		{"another failure hides its text", adminToken, "Bearer " + adminToken, errors.New("open /etc/spanslo/slos.yaml: permission denied"),
			http.StatusInternalServerError, true, "reload failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var called atomic.Bool
			e := newEnv(t, testConfig, func(o *Options) {
				o.AdminToken = tt.token
				o.Reload = func(ctx context.Context) error {
					called.Store(true)
					return tt.result
				}
			})
			status, body := e.do(http.MethodPost, "/-/reload", nil, map[string]string{"Authorization": tt.header})
			if status != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got %d %s, want %d containing %s", status, body, tt.wantStatus, tt.wantBody)
			}
			if called.Load() != tt.wantCalled {
				t.Errorf("reload called %v, want %v", called.Load(), tt.wantCalled)
			}
			if strings.Contains(string(body), "permission denied") || strings.Contains(string(body), "/etc/") {
				t.Errorf("internal error text leaked: %s", body)
			}
			if strings.Contains(e.logs.String(), adminToken) || strings.Contains(string(body), adminToken) {
				t.Errorf("admin token leaked; logs:\n%s", e.logs.String())
			}
		})
	}
}

func TestReloadSwapsTheTrackerTheAPIReads(t *testing.T) {
	var e *env
	e = newEnv(t, testConfig, func(o *Options) {
		o.AdminToken = adminToken
		o.Reload = func(ctx context.Context) error {
			cfg, err := slo.Load([]byte(strings.Replace(testConfig, "name: booking\n", "name: checkout\n", 1)), "slos.yaml")
			if err != nil {
				return err
			}
			e.tracker.Store(slo.NewTracker(cfg))
			return nil
		}
	})
	status, body := e.do(http.MethodPost, "/-/reload", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	if status != http.StatusOK || !strings.Contains(string(body), `"slos":2`) {
		t.Fatalf("reload: %d %s", status, body)
	}
	var got listAnswer
	e.getJSON("/api/v1/slos", http.StatusOK, &got)
	var ids []string
	for _, s := range got.SLOs {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"checkout/availability", "search/availability"}) {
		t.Errorf("after reload: %v", ids)
	}
}

func TestAlertsListFiringThenSuppressedThenResolved(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	e.alerts.alerts = []burnrate.Alert{
		{Key: "a/ticket-1d", Rule: "ticket-1d", State: burnrate.StateResolved, FiredAt: start.Add(-5 * time.Hour), ResolvedAt: start.Add(-time.Hour)},
		{Key: "a/page-6h", Rule: "page-6h", State: burnrate.StateSuppressed, FiredAt: start.Add(-2 * time.Hour)},
		{Key: "b/page-1h", Rule: "page-1h", State: burnrate.StateFiring, FiredAt: start.Add(-3 * time.Hour)},
		{Key: "a/page-1h", Rule: "page-1h", State: burnrate.StateFiring, FiredAt: start.Add(-time.Hour)},
	}
	var got struct {
		Alerts []burnrate.Alert `json:"alerts"`
		Counts alertCounts      `json:"counts"`
	}
	e.getJSON("/api/v1/alerts", http.StatusOK, &got)
	var keys []string
	for _, a := range got.Alerts {
		keys = append(keys, a.Key)
	}
	if want := []string{"a/page-1h", "b/page-1h", "a/page-6h", "a/ticket-1d"}; !slices.Equal(keys, want) {
		t.Errorf("order %v, want %v", keys, want)
	}
	if got.Counts != (alertCounts{Firing: 2, Suppressed: 1, Resolved: 1}) {
		t.Errorf("counts %+v", got.Counts)
	}
	if !got.Alerts[3].ResolvedAt.Equal(start.Add(-time.Hour)) {
		t.Errorf("resolved_at lost: %+v", got.Alerts[3])
	}
}

func TestAlertsAndNotifiersAreEmptyListsWhenNotWired(t *testing.T) {
	e := newEnv(t, testConfig, func(o *Options) { o.Alerts = nil })
	for path, want := range map[string]string{
		"/api/v1/alerts":    `{"alerts":[],"counts":{"firing":0,"suppressed":0,"resolved":0}}`,
		"/api/v1/notifiers": `{"notifiers":[]}`,
	} {
		status, body := e.do(http.MethodGet, path, nil, nil)
		if status != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
}

func TestNotifiersAreListedByName(t *testing.T) {
	e := newEnv(t, testConfig, func(o *Options) {
		o.Notifiers = func() []NotifierStatus {
			return []NotifierStatus{
				{Name: "reliability", Type: "slack", Healthy: false, LastError: "slack answered 404: the webhook <secret> is gone"},
				{Name: "oncall", Type: "pagerduty", Healthy: true, LastSuccess: start},
			}
		}
	})
	var got struct {
		Notifiers []NotifierStatus `json:"notifiers"`
	}
	e.getJSON("/api/v1/notifiers", http.StatusOK, &got)
	want := []NotifierStatus{
		{Name: "oncall", Type: "pagerduty", Healthy: true, LastSuccess: start},
		{Name: "reliability", Type: "slack", Healthy: false, LastError: "slack answered 404: the webhook <secret> is gone"},
	}
	if len(got.Notifiers) != 2 || got.Notifiers[0].Name != want[0].Name || !got.Notifiers[0].LastSuccess.Equal(start) ||
		got.Notifiers[1] != want[1] {
		t.Errorf("got %+v", got.Notifiers)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var ready atomic.Bool
	e := newEnv(t, testConfig, func(o *Options) { o.Ready = ready.Load })
	if status, _ := e.do(http.MethodGet, "/healthz", nil, nil); status != http.StatusOK {
		t.Errorf("healthz %d", status)
	}
	if status, body := e.do(http.MethodGet, "/readyz", nil, nil); status != http.StatusServiceUnavailable {
		t.Errorf("readyz before ready: %d %s", status, body)
	}
	ready.Store(true)
	if status, body := e.do(http.MethodGet, "/readyz", nil, nil); status != http.StatusOK {
		t.Errorf("readyz when ready: %d %s", status, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := e.do(http.MethodHead, path, nil, nil); status != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s (load balancer probes): %d, %d body bytes", path, status, len(body))
		}
	}
}

func TestWithoutATrackerTheAPIIsUnavailable(t *testing.T) {
	e := newEnv(t, testConfig, func(o *Options) { o.Tracker = func() *slo.Tracker { return nil } })
	for _, path := range []string{"/api/v1/slos", "/api/v1/slos/booking/availability", "/readyz"} {
		if status, body := e.do(http.MethodGet, path, nil, nil); status != http.StatusServiceUnavailable {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if status, body := e.do(http.MethodGet, "/metrics", nil, nil); status != http.StatusOK || strings.Contains(string(body), "spanslo_") {
		t.Errorf("metrics without a tracker: %d", status)
	}
}

func TestErrorsAreJSONWithStatusCodes(t *testing.T) {
	e := newEnv(t, testConfig, func(o *Options) {
		o.AdminToken = adminToken
		o.MaxBodyBytes = 16
		o.Reload = func(context.Context) error { return nil }
	})
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
	}{
		{"an unknown path is 404", http.MethodGet, "/api/v1/nothing", "", http.StatusNotFound},
		{"a wrong method is 405", http.MethodDelete, "/api/v1/slos", "", http.StatusMethodNotAllowed},
		{"reload is POST only", http.MethodGet, "/-/reload", "", http.StatusMethodNotAllowed},
		{"a body over the limit is 413", http.MethodPost, "/-/reload", strings.Repeat("x", 17), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(tt.method, tt.path, strings.NewReader(tt.body), map[string]string{"Authorization": "Bearer " + adminToken})
			var eb errorBody
			if status != tt.status || json.Unmarshal(body, &eb) != nil || eb.Error == "" {
				t.Errorf("got %d %s, want %d with a JSON error", status, body, tt.status)
			}
		})
	}
}

func TestPrometheusAPIIsMountedWithoutItsPrefix(t *testing.T) {
	var seen atomic.Value
	e := newEnv(t, testConfig, func(o *Options) {
		o.PrometheusAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":[]}`))
		})
	})
	for _, tt := range []struct{ method, path, want string }{
		{http.MethodGet, "/prometheus/api/v1/query?query=up", "GET /query?query=up"},
		{http.MethodPost, "/prometheus/api/v1/label/slo/values", "POST /label/slo/values?"},
	} {
		status, body := e.do(tt.method, tt.path, nil, nil)
		if status != http.StatusOK || !strings.Contains(string(body), "success") || seen.Load() != tt.want {
			t.Errorf("%s %s: %d %s, handler saw %v", tt.method, tt.path, status, body, seen.Load())
		}
	}
}

func TestAPanickingHandlerAnswersAGeneric500(t *testing.T) {
	e := newEnv(t, testConfig, func(o *Options) {
		o.Notifiers = func() []NotifierStatus { panic("notifier table corrupted at 0xdeadbeef") }
	})
	status, body := e.do(http.MethodGet, "/api/v1/notifiers", nil, nil)
	if status != http.StatusInternalServerError || strings.Contains(string(body), "deadbeef") {
		t.Errorf("got %d %s", status, body)
	}
	if !strings.Contains(e.logs.String(), "deadbeef") {
		t.Errorf("panic not logged for operators")
	}
}
