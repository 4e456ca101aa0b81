package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// pagerDuty is a fake Events v2 endpoint that keeps every event.
type pagerDuty struct {
	mu     sync.Mutex
	events []map[string]any
}

func (p *pagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v2/enqueue" || json.Unmarshal(body, &ev) != nil {
		http.Error(w, `{"status":"invalid event"}`, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"status":"success","message":"Event processed","dedup_key":%q}`, ev["dedup_key"])
}

func (p *pagerDuty) triggers(component string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, ev := range p.events {
		if ev["event_action"] == "trigger" && strings.Contains(fmt.Sprint(ev["dedup_key"]), component) {
			out = append(out, ev)
		}
	}
	return out
}

// e2eConfig writes the bundled slos.yaml with the PagerDuty notifier
// pointed at a local server.
func e2eConfig(t *testing.T, pdURL string) string {
	t.Helper()
	data, err := os.ReadFile("../../slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "    source: spanslo\n", "    source: spanslo\n    url: "+pdURL+"\n", 1)
	if cfg == string(data) {
		t.Fatal("the bundled slos.yaml no longer has the PagerDuty notifier this test points elsewhere")
	}
	path := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

type sloList struct {
	SLOs []struct {
		ID              string  `json:"id"`
		Good            float64 `json:"good"`
		Total           float64 `json:"total"`
		BudgetRemaining float64 `json:"budget_remaining"`
		Zone            string  `json:"zone"`
	} `json:"slos"`
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Spans of a failing payment journey page PagerDuty once through the whole
// pipeline; after a graceful restart the API shows the same budgets and the
// restored alert does not page again.
func TestFailingPaymentsPageOnceAcrossARestart(t *testing.T) {
	pd := &pagerDuty{}
	pdSrv := httptest.NewServer(pd)
	defer pdSrv.Close()
	t.Setenv("SPANSLO_PAGERDUTY_ROUTING_KEY", "R0123456789abcdef0123456789abcdef")
	config, data := e2eConfig(t, pdSrv.URL), t.TempDir()
	mutate := func(c *serveConfig) {
		c.ConfigPath, c.DataDir, c.EvalInterval = config, data, 50*time.Millisecond
	}
	s := startServeUntil(t, mutate)

	g, err := loadgen.New(loadgen.Options{Seed: 7, Incidents: []loadgen.Incident{{Journey: "payment", ErrorRate: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	send := &loadgen.HTTPSender{URL: "http://" + s.ingest.HTTPAddr().String() + "/v1/traces", Client: http.DefaultClient}
	if _, err := send.Send(context.Background(), g.Traces(time.Now(), 400)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the payment page", func() bool { return len(pd.triggers("payment/availability/page-1h")) > 0 })
	ev := pd.triggers("payment/availability/page-1h")[0]
	payload, _ := ev["payload"].(map[string]any)
	if ev["routing_key"] != "R0123456789abcdef0123456789abcdef" || payload["severity"] != "critical" ||
		!strings.Contains(fmt.Sprint(payload["summary"]), "payment") {
		t.Errorf("trigger = %v", ev)
	}
	api := "http://" + s.apiAddr.String()
	var before sloList
	getJSON(t, api+"/api/v1/slos", &before)
	s.shutdownNow(t)

	s2 := startServeUntil(t, mutate)
	var after sloList
	getJSON(t, "http://"+s2.apiAddr.String()+"/api/v1/slos", &after)
	if len(after.SLOs) != len(before.SLOs) {
		t.Fatalf("%d SLOs after restart, %d before", len(after.SLOs), len(before.SLOs))
	}
	for i, b := range before.SLOs {
		a := after.SLOs[i]
		if a.ID != b.ID || a.Good != b.Good || a.Total != b.Total || a.BudgetRemaining != b.BudgetRemaining || a.Zone != b.Zone {
			t.Errorf("after restart %+v, before %+v", a, b)
		}
	}
	time.Sleep(300 * time.Millisecond) // several evaluation ticks
	if n := len(pd.triggers("payment/availability/page-1h")); n != 1 {
		t.Errorf("%d triggers for the same alert across a restart, want 1", n)
	}
}

// A reload with a valid file takes effect; an invalid one is refused with
// its file:line problems and the running config stays.
func TestReloadOverHTTP(t *testing.T) {
	t.Setenv("SPANSLO_TEST_ADMIN", "s3cret-admin")
	path := filepath.Join(t.TempDir(), "slos.yaml")
	orig, _ := os.ReadFile("../../slos.yaml")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServeUntil(t, func(c *serveConfig) { c.ConfigPath, c.AdminTokenEnv = path, "SPANSLO_TEST_ADMIN" })
	api := "http://" + s.apiAddr.String()
	reload := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, api+"/-/reload", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := reload("wrong"); code != http.StatusForbidden {
		t.Errorf("wrong token: %d", code)
	}
	edited := bytes.Replace(orig, []byte("objective: 99.9\n"), []byte("objective: 99.95\n"), 1)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := reload("s3cret-admin"); code != http.StatusOK {
		t.Fatalf("valid reload: %d %s", code, body)
	}
	if got := s.tracker().SLO("search/availability").SLO.Objective; got < 0.99949 || got > 0.99951 {
		t.Errorf("objective after reload = %v, want 0.9995", got)
	}
	if err := os.WriteFile(path, append(edited, []byte("bogus: true\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := reload("s3cret-admin")
	if code != http.StatusBadRequest || !strings.Contains(body, `unknown key \"bogus\"`) {
		t.Errorf("invalid reload: %d %s", code, body)
	}
	if got := s.tracker().SLO("search/availability"); got == nil || got.SLO.Objective < 0.99949 {
		t.Errorf("the previous config must keep running after a failed reload")
	}
}

// startServeUntil starts serve and returns once it is ready.
func startServeUntil(t *testing.T, mutate func(*serveConfig)) *server {
	t.Helper()
	s := startServe(t, mutate)
	waitFor(t, "ready", s.ready.Load)
	return s
}

// shutdownNow stops a server started by startServe before the test ends.
func (s *server) shutdownNow(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Reloads while spans flow lose none of them: every search request sent is
// in the search SLO's counters afterwards.
func TestReloadDuringIngestLosesNoSpans(t *testing.T) {
	s := startServeUntil(t, nil)
	g, err := loadgen.New(loadgen.Options{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	send := &loadgen.HTTPSender{URL: "http://" + s.ingest.HTTPAddr().String() + "/v1/traces", Client: http.DefaultClient}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 60; i++ {
			if _, err := send.Send(context.Background(), g.Traces(time.Now(), 50)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 20; i++ {
		if err := s.reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := float64(g.Emitted["search"].Requests)
	got := s.tracker().SLO("search/availability").Series()[0].Cumulative().Total
	if want == 0 || got != want {
		t.Errorf("search requests counted after reloads = %v, sent %v", got, want)
	}
}
