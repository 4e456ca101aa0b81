package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// chromiumPath finds Debian's chromium. Without it the browser tests skip,
// unless CI is set: CI installs chromium, so there it must be found.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found, and CI is set: install the Debian chromium package")
	}
	t.Skip("chromium not installed; set CI=1 to make this a failure")
	return ""
}

// headless runs chromium on url with extra flags and returns stdout and
// stderr.
func headless(t *testing.T, bin, url string, flags ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=10000", "--window-size=1920,1080",
	}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// consoleErrors picks the page's console errors out of chromium's log:
// uncaught exceptions, CSP refusals, and what the dashboard reports itself
// as "dashboard error" (failed resource loads, rejected promises).
func consoleErrors(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "CONSOLE") {
			continue
		}
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "Refused") ||
			strings.Contains(line, "dashboard error") || strings.Contains(line, ":ERROR:") {
			out = append(out, line)
		}
	}
	return out
}

// bundledDashboard serves the API over the bundled slos.yaml with traffic:
// booking/availability burning hard, the rest healthy.
func bundledDashboard(t *testing.T) (*httptest.Server, *slo.Tracker) {
	t.Helper()
	cfg, err := slo.LoadFile(filepath.Join("..", "slos.yaml"))
	if err != nil {
		t.Fatalf("bundled slos.yaml: %v", err)
	}
	tr := slo.NewTracker(cfg)
	now := time.Now()
	routes := map[string]struct{ service, route, method string }{
		"search":         {"search-api", "/v1/availability", "GET"},
		"booking":        {"booking-api", "/v1/bookings", "POST"},
		"payment":        {"payment-api", "/v1/payments", "POST"},
		"cancellation":   {"booking-api", "/v1/bookings/{id}", "DELETE"},
		"booking-lookup": {"booking-api", "/v1/bookings/{id}", "GET"},
	}
	for h := 30; h >= 0; h-- {
		at := now.Add(-time.Duration(h) * time.Hour)
		for name, r := range routes {
			attrs := map[string]slo.Value{"http.request.method": slo.StringValue(r.method)}
			good := routeSpan(r.service, r.route, at, attrs)
			tr.Observe(good, 1000, now)
			bad := 0.0
			switch {
			case name == "booking" && h < 6:
				bad = 40 // an incident: 4 % errors for six hours
			case name == "payment":
				bad = 0.3
			}
			if bad > 0 {
				tr.Observe(routeSpan(r.service, r.route, at, attrs).WithStatus(slo.StatusError).
					WithTrace(slo.TraceID{0x4b, 0xf9, 15: byte(h + 1)}), bad, now)
			}
		}
	}
	alerts := &fakeAlerts{alerts: []burnrate.Alert{{
		Key: "booking/availability/page-1h", SLOID: "booking/availability", SeriesID: "booking/availability",
		Journey: "booking", Rule: "page-1h", Severity: "page", State: burnrate.StateFiring,
		Factor: 14.4, LongWindow: time.Hour, ShortWindow: 5 * time.Minute, BurnLong: 40, BurnShort: 40,
		FiredAt: now.Add(-5 * time.Hour), RunbookURL: "https://runbooks.example.com/booking",
	}, {
		Key: "booking/availability/ticket-1d", SLOID: "booking/availability", SeriesID: "booking/availability",
		Journey: "booking", Rule: "ticket-1d", Severity: "ticket", State: burnrate.StateResolved,
		Factor: 3, LongWindow: 24 * time.Hour, ShortWindow: 2 * time.Hour,
		FiredAt: now.Add(-20 * time.Hour), ResolvedAt: now.Add(-17 * time.Hour),
	}}}
	h := New(Options{
		Tracker:  func() *slo.Tracker { return tr },
		Alerts:   alerts,
		Registry: prometheus.NewRegistry(),
		Logger:   slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, tr
}

func TestDashboardInHeadlessChromium(t *testing.T) {
	bin := chromiumPath(t)
	srv, tr := bundledDashboard(t)

	t.Run("the list shows every SLO of the bundled file with its zone and budget", func(t *testing.T) {
		dom, stderr := headless(t, bin, srv.URL+"/", "--dump-dom")
		if errs := consoleErrors(stderr); len(errs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		}
		for _, ss := range tr.SLOs() {
			if !strings.Contains(dom, `data-slo="`+ss.SLO.ID+`"`) {
				t.Errorf("SLO %s missing from the list", ss.SLO.ID)
			}
		}
		// booking/availability burnt 240 of 31 240 events against a 0.1 %
		// budget: overspent, first in the list, in freeze.
		booking := tr.SLO("booking/availability").Series()[0].Status(time.Now())
		budget := fmt.Sprintf(">%.1f%%<span class=\"budget-label\">budget left</span>", booking.BudgetRemaining*100)
		first := regexp.MustCompile(`<a class="card zone-(\w+)" href="#/slo/([^"]+)"`).FindStringSubmatch(dom)
		if first == nil || first[1] != "freeze" || first[2] != "booking%2Favailability" {
			t.Errorf("first card %q, want booking/availability in freeze", first)
		}
		for _, want := range []string{
			`<span class="zone-badge zone-freeze">freeze</span>`,
			`<span class="zone-badge zone-normal">normal</span>`,
			budget,
			`>100.0%<span class="budget-label">budget left</span>`,
			`page-1h firing`,
			`10 SLO series`,
			`<div id="banner" class="banner" hidden="">`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("list lacks %q", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("the hash route shows one SLO's detail", func(t *testing.T) {
		dom, stderr := headless(t, bin, srv.URL+"/#/slo/booking%2Favailability", "--dump-dom")
		if errs := consoleErrors(stderr); len(errs) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
		}
		for _, want := range []string{
			`<div id="detail" data-slo="booking/availability">`,
			`<h1>booking/availability</h1>`,
			`aria-label="error budget remaining over the window"`,
			`aria-label="SLI per hour"`,
			`aria-label="alert timeline"`,
			`<tr data-rule="page-1h">`,
			`href="https://runbooks.example.com/booking"`,
			`href="http://127.0.0.1:16686/trace/4bf90000000000000000000000000001"`,
			`ticket-1d</strong> (ticket) fired`,
			`<div id="banner" class="banner" hidden="">`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("a page error is caught, so the checks above can fail", func(t *testing.T) {
		broken := http.NewServeMux()
		broken.Handle("/assets/", srv.Config.Handler)
		broken.Handle("/api/", srv.Config.Handler)
		broken.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`<!doctype html><div id="banner" hidden></div><main id="view"></main>` +
				`<span id="clock"></span><span id="freshness"></span><div id="totals"></div>` +
				`<script src="/assets/app.js"></script><img src="/assets/missing.png" alt="">`))
		})
		bs := httptest.NewServer(broken)
		defer bs.Close()
		dom, stderr := headless(t, bin, bs.URL+"/", "--dump-dom")
		if errs := consoleErrors(stderr); len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "missing.png") {
			t.Errorf("a failed image load went unnoticed; console errors %q", errs)
		}
		if !strings.Contains(dom, "Dashboard error: failed to load") {
			t.Errorf("the banner does not show the page error:\n%s", dom)
		}
	})

	t.Run("screenshots render", func(t *testing.T) {
		dir := os.Getenv("SPANSLO_SCREENSHOT_DIR") // keep them to look at
		if dir == "" {
			dir = t.TempDir()
		}
		for name, url := range map[string]string{
			"list.png":   srv.URL + "/",
			"detail.png": srv.URL + "/#/slo/booking%2Favailability",
		} {
			path := filepath.Join(dir, name)
			headless(t, bin, url, "--screenshot="+path, "--hide-scrollbars")
			st, err := os.Stat(path)
			if err != nil || st.Size() < 10_000 {
				t.Errorf("screenshot %s: %v (%d bytes)", name, err, sizeOf(st))
			}
		}
	})
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}
