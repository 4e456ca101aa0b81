package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// runSpanslo runs the program in-process.
func runSpanslo(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// startServe runs the serve wiring in-process on loopback port 0.
func startServe(t *testing.T, mutate func(*serveConfig)) *server {
	t.Helper()
	c := defaultServeConfig(t)
	if mutate != nil {
		mutate(&c)
	}
	s, err := newServer(c, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		if err := s.shutdown(sctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// defaultServeConfig is serve's flag defaults, on loopback port 0 and a
// fresh data directory.
func defaultServeConfig(t *testing.T) serveConfig {
	t.Helper()
	c := serveFlags(flag.NewFlagSet("serve", flag.ContinueOnError))
	c.ConfigPath = "../../slos.yaml"
	c.DataDir = t.TempDir()
	c.OTLPGRPCAddr, c.OTLPHTTPAddr, c.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	c.ShutdownTimeout = 5 * time.Second
	c.AdminTokenEnv = ""
	return *c
}

func spansSeen(tr *slo.Tracker) uint64 {
	var n uint64
	for _, v := range tr.Outcomes() {
		n += v
	}
	return n
}

var sentRE = regexp.MustCompile(`sent (\d+) spans in (\d+) batches; 0 rejected`)

func TestLoadgenTrafficIsCountedByServe(t *testing.T) {
	for _, proto := range []string{"grpc", "http"} {
		t.Run(proto, func(t *testing.T) {
			s := startServe(t, nil)
			target := s.ingest.GRPCAddr().String()
			if proto == "http" {
				target = s.ingest.HTTPAddr().String()
			}
			out, errOut, code := runSpanslo(t, "loadgen", "--protocol", proto, "--target", target, "--gzip",
				"--rate", "400", "--duration", "600ms", "--seed", "3", "--sample-ratio", "0.5")
			m := sentRE.FindStringSubmatch(out)
			if code != 0 || m == nil {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			sent, _ := strconv.ParseUint(m[1], 10, 64)
			if sent == 0 || spansSeen(s.tracker()) != sent {
				t.Fatalf("loadgen sent %d spans, serve classified %d", sent, spansSeen(s.tracker()))
			}
			// Sampled at 1 in 2, every counted request weighs 2.
			c := s.tracker().SLO("search/availability").Series()[0].Cumulative()
			if c.Total == 0 || int(c.Total)%2 != 0 {
				t.Errorf("search availability total %g, want a positive even weighted count", c.Total)
			}
		})
	}
}

func TestServeReadsIngestTokensFromEnvAndFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# rotated monthly\nfile-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPANSLO_TEST_TOKENS", "env-token-1,env-token-2")
	s := startServe(t, func(c *serveConfig) { c.TokenEnv, c.TokenFile = "SPANSLO_TEST_TOKENS", file })
	for _, tc := range []struct {
		token string
		ok    bool
	}{{"env-token-2", true}, {"file-token", true}, {"", false}, {"rotated", false}} {
		t.Setenv("SPANSLO_TEST_SEND", tc.token)
		args := []string{"loadgen", "--protocol", "http", "--target", s.ingest.HTTPAddr().String(), "--rate", "100", "--duration", "300ms", "--seed", "4"}
		if tc.token != "" {
			args = append(args, "--token-env", "SPANSLO_TEST_SEND")
		}
		_, errOut, code := runSpanslo(t, args...)
		if (code == 0) != tc.ok {
			t.Errorf("token %q: exit %d, want success %v (stderr %q)", tc.token, code, tc.ok, errOut)
		}
		if tc.token != "" && strings.Contains(errOut, tc.token) {
			t.Errorf("the token %q appears in the output", tc.token)
		}
	}
}

func TestServeRefusesAnInvalidConfig(t *testing.T) {
	_, errOut, code := runSpanslo(t, "serve", "--config", "../../slo/testdata/invalid/windows.yaml", "--data", t.TempDir(),
		"--otlp-grpc-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "windows.yaml:8:") {
		t.Fatalf("exit %d, stderr %q; want 1 with file:line problems", code, errOut)
	}
}

func TestServeStopsWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb strings.Builder
	go func() {
		done <- run(ctx, []string{"serve", "--config", "../../slos.yaml", "--data", t.TempDir(),
			"--otlp-grpc-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, &out, &errb)
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// A port already taken stops serve with an error, and the data directory
// is released: another serve can open it at once.
func TestServeFailsCleanlyWhenAPortIsTaken(t *testing.T) {
	first := startServeUntil(t, nil)
	c := defaultServeConfig(t)
	c.HTTPAddr = first.apiAddr.String()
	s, err := newServer(c, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(context.Background()); err == nil || !strings.Contains(err.Error(), "api") {
		t.Fatalf("start on a taken port: %v", err)
	}
	again, err := newServer(defaultServeConfig(t), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c2 := again.cfg
	_ = again.store.Close()
	c2.DataDir = c.DataDir
	reopened, err := newServer(c2, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatalf("the data directory stayed locked after a failed start: %v", err)
	}
	_ = reopened.store.Close()
}
