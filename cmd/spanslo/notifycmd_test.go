package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNotifyTestSendsALabelledAlertThroughTheRoute(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+string(b))
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/hooks/") {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "no_service")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success"}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := `notifiers:
  - name: oncall
    type: pagerduty
    routing_key_env: NOTIFYCMD_TEST_KEY
    url: ` + srv.URL + `
  - name: chat
    type: slack
    webhook_url_file: ` + filepath.Join(dir, "hook") + `
routes:
  page: [oncall]
  ticket: [chat]
journeys:
  - name: booking
    match: {service: booking-api}
    slos:
      - name: availability
        objective: 99.9
        availability: {http_status: 2xx}
`
	path := filepath.Join(dir, "slos.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "hook"), []byte(srv.URL+"/hooks/T0/B0/SeCrEtHoOk\n"), 0o600)
	t.Setenv("NOTIFYCMD_TEST_KEY", "R0UT1NGKEYs3cr3tR0UT1NGKEYs3cr3t")

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"notify", "test", "--config", path, "--route", "page"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "oncall (pagerduty): test alert delivered") {
		t.Errorf("stdout %q", stdout.String())
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"summary":"[TEST`) || !strings.Contains(bodies[1], `"event_action":"resolve"`) {
		t.Errorf("requests %q", bodies)
	}

	stdout.Reset()
	stderr.Reset()
	err := run(context.Background(), []string{"notify", "test", "--config", path, "--route", "ticket", "--timeout", "1s", "-v"}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 1 {
		t.Errorf("exit %d for a broken hook, want 1", code)
	}
	out := stdout.String() + stderr.String()
	if !strings.Contains(out, "chat (slack): FAILED") || !strings.Contains(out, "no_service") || strings.Contains(out, "SeCrEtHoOk") {
		t.Errorf("output %q", out)
	}
}

func TestNotifyHelpListsEveryFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"notify", "test", "--help"}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"-config", "-route", "-notifier", "-timeout", "-v"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help lacks %s:\n%s", flag, stdout.String())
		}
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"notify", "--help"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "notify test") {
		t.Errorf("notify --help: %v %q", err, stdout.String())
	}
	if code := exitCode(run(context.Background(), []string{"notify", "bogus"}, &stdout, &stderr), &stderr); code != 2 {
		t.Errorf("exit %d for an unknown subcommand, want 2", code)
	}
}
