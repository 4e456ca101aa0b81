package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/api"
	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/ingest"
	"github.com/spanslo/spanslo/notify"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/store"
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	ConfigPath       string
	DataDir          string
	OTLPGRPCAddr     string
	OTLPHTTPAddr     string
	HTTPAddr         string
	MaxBodyBytes     int64
	MaxInFlightBytes int64
	TokenEnv         string
	TokenFile        string
	AdminTokenEnv    string
	AdminTokenFile   string
	EvalInterval     time.Duration
	FlushInterval    time.Duration
	RepeatInterval   time.Duration
	ShutdownTimeout  time.Duration
	LogLevel         slog.Level
	Demo             bool
	DemoRate         float64
	DemoJourney      string
	DemoEvery        time.Duration
	DemoBackfill     time.Duration
}

func serveFlags(fs *flag.FlagSet) *serveConfig {
	c := &serveConfig{}
	fs.StringVar(&c.ConfigPath, "config", "slos.yaml", "SLO config `file`; SIGHUP or POST /-/reload re-reads it")
	fs.StringVar(&c.DataDir, "data", "./data", "data `directory`: counter history (TSDB + snapshots), alert state, notification log")
	fs.StringVar(&c.OTLPGRPCAddr, "otlp-grpc-addr", "127.0.0.1:4317", "OTLP/gRPC listen `address` (empty disables)")
	fs.StringVar(&c.OTLPHTTPAddr, "otlp-http-addr", "127.0.0.1:4318", "OTLP/HTTP listen `address` (empty disables)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "API, dashboard and /metrics listen `address`")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", ingest.DefaultMaxBodyBytes, "largest OTLP request accepted, in `bytes` after decompression (413 / RESOURCE_EXHAUSTED beyond)")
	fs.Int64Var(&c.MaxInFlightBytes, "max-inflight-bytes", ingest.DefaultMaxInFlightBytes, "request `bytes` held at once; beyond, requests get 503 + Retry-After / UNAVAILABLE so exporters retry")
	fs.StringVar(&c.TokenEnv, "ingest-token-env", "", "environment `variable` holding the accepted OTLP bearer tokens (comma separated); none: no auth")
	fs.StringVar(&c.TokenFile, "ingest-token-file", "", "`file` of accepted OTLP bearer tokens, one per line, re-read when it changes")
	fs.StringVar(&c.AdminTokenEnv, "admin-token-env", "SPANSLO_ADMIN_TOKEN", "environment `variable` holding the bearer token POST /-/reload requires (unset: HTTP reload is off)")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "`file` holding the admin token (instead of --admin-token-env)")
	fs.DurationVar(&c.EvalInterval, "eval-interval", 15*time.Second, "how often burn-rate rules are evaluated")
	fs.DurationVar(&c.FlushInterval, "flush-interval", store.DefaultFlushInterval, "how often counters are written to the data directory (a crash loses at most this much)")
	fs.DurationVar(&c.RepeatInterval, "repeat-interval", 4*time.Hour, "how often a still-firing alert is notified again")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may drain on shutdown; the last notification flush then gets as long again, at most 10s")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.BoolVar(&c.Demo, "demo", false, "also run the load generator against this server: realistic traffic for the bundled journeys, a recurring incident, and --demo-backfill of history")
	fs.Float64Var(&c.DemoRate, "demo-rate", 40, "demo `requests` per second over all journeys")
	fs.StringVar(&c.DemoJourney, "demo-journey", "payment", "`journey` the demo incident hits")
	fs.DurationVar(&c.DemoEvery, "demo-every", 20*time.Minute, "how often the demo incident recurs (30% errors and +1s latency for 6 minutes, first 2 minutes after start)")
	fs.DurationVar(&c.DemoBackfill, "demo-backfill", 7*24*time.Hour, "history the demo sends first (sampled spans weighted back up), so budgets start from a realistic week")
	return c
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", stdout)
	c := serveFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("serve: unexpected arguments %q", fs.Args())}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	s, err := newServer(*c, logger, time.Now)
	if err != nil {
		return err
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down", "timeout", c.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := s.shutdown(sctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// server is the composition root of spanslo serve: every part is built by
// one small wiring method, in data-flow order.
type server struct {
	cfg      serveConfig
	log      *slog.Logger
	now      func() time.Time
	registry *prometheus.Registry

	slos       atomic.Pointer[slo.Config]
	current    atomic.Pointer[slo.Tracker]
	observer   *ingest.SwappableObserver
	store      *store.Store
	evaluator  *burnrate.Evaluator
	dispatcher *notify.Dispatcher
	ingest     *ingest.Server
	tokens     *tokenSource
	api        *http.Server
	apiAddr    net.Addr
	ready      atomic.Bool
	reloadMu   sync.Mutex
	// alertsRestored: the evaluator holds the alert state of the last run.
	alertsRestored bool

	stop []func(context.Context) error // shutdown steps, run in reverse
}

func newServer(c serveConfig, logger *slog.Logger, now func() time.Time) (*server, error) {
	s := &server{cfg: c, log: logger, now: now, registry: prometheus.NewRegistry()}
	steps := []func() error{s.loadConfig, s.openStore, s.buildTracker, s.buildEvaluator, s.buildNotify, s.resumeNotifications,
		s.buildIngest, s.buildAPI}
	for _, step := range steps {
		if err := step(); err != nil {
			if s.store != nil {
				_ = s.store.Close()
			}
			return nil, err
		}
	}
	return s, nil
}

// tracker is the tracker counting now (a reload swaps it).
func (s *server) tracker() *slo.Tracker { return s.current.Load() }

func (s *server) loadConfig() error {
	cfg, err := slo.LoadFile(s.cfg.ConfigPath)
	var ps slo.Problems
	if errors.As(err, &ps) {
		return fmt.Errorf("invalid config:\n%s", ps.Error())
	}
	if err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	s.slos.Store(cfg)
	s.log.Info("config loaded", "file", s.cfg.ConfigPath, "journeys", len(cfg.Journeys), "slos", len(cfg.SLOs))
	return nil
}

func (s *server) openStore() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(s.cfg.DataDir, store.Options{
		Now: s.now, Logger: s.log.With("component", "store"), Registerer: s.registry,
		Retention: store.RetentionFor(s.slos.Load()), FlushInterval: s.cfg.FlushInterval,
	})
	if err != nil {
		return fmt.Errorf("open data directory: %w", err)
	}
	s.store = st
	return nil
}

// buildTracker makes the counters and restores them from the data
// directory before any span is accepted.
func (s *server) buildTracker() error {
	tr := slo.NewTracker(s.slos.Load())
	rep, err := s.store.Restore(tr)
	if err != nil {
		return fmt.Errorf("restore counters: %w", err)
	}
	s.log.Info("counters restored", "source", rep.Source, "series", rep.Restored, "skipped", rep.Skipped,
		"taken", rep.Taken, "snapshot_problem", rep.SnapshotProblem, "wal_repair", rep.Info.WALRepair)
	s.current.Store(tr)
	s.observer = ingest.NewSwappableObserver(tr)
	return nil
}

// alertStateBlob is where the evaluator's alert state lives between runs,
// so a restart neither re-fires nor forgets an alert.
const alertStateBlob = "alerts.json"

func (s *server) buildEvaluator() error {
	s.evaluator = burnrate.New(s.tracker(), burnrate.Options{Now: s.now, Logger: s.log.With("component", "burnrate")})
	data, err := s.store.LoadBlob(alertStateBlob)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		s.log.Error("alert state not restored; alerts start afresh", "err", err)
	default:
		if err := s.evaluator.Restore(data); err != nil {
			s.log.Error("alert state not restored; alerts start afresh", "err", err)
		} else {
			s.alertsRestored = true
			s.log.Info("alert state restored", "alerts", len(s.evaluator.Alerts()))
		}
	}
	return nil
}

func (s *server) buildNotify() error {
	d, err := notify.NewDispatcher(s.slos.Load(), notify.Options{
		DataDir: s.cfg.DataDir, Now: s.now, RepeatInterval: s.cfg.RepeatInterval,
		Logger: s.log.With("component", "notify"), Registerer: s.registry,
	})
	if err != nil {
		return fmt.Errorf("notifiers: %w", err)
	}
	s.dispatcher = d
	return nil
}

// resumeNotifications hands the notifiers what the restored alert state
// owes them: a trigger still queued when the last run stopped (PagerDuty
// was down) is sent, a resolve still queued is sent, and an alert the log
// says was paged but that is no longer firing is resolved. The log skips
// whatever was delivered already. Without a restored state nothing is
// reconciled: every open incident would be resolved while still burning.
func (s *server) resumeNotifications() error {
	if !s.alertsRestored {
		return nil
	}
	var events []burnrate.Event
	var active []string
	owed := map[string]bool{}
	// Alerts lists the firing and suppressed alerts first, then the
	// resolved ones newest first: a key firing again is not resolved, and
	// a key resolved twice gets its latest resolve.
	for _, a := range s.evaluator.Alerts() {
		switch a.State {
		case burnrate.StateFiring:
			events = append(events, burnrate.Event{Time: a.FiredAt, Alert: &a})
			active = append(active, a.Key)
		case burnrate.StateSuppressed:
			active = append(active, a.Key) // paged or not, it is not over
		case burnrate.StateResolved:
			if !slices.Contains(active, a.Key) && !owed[a.Key] {
				owed[a.Key] = true
				events = append(events, burnrate.Event{Time: a.ResolvedAt, Alert: &a})
			}
		}
	}
	s.dispatcher.Enqueue(events...)
	s.dispatcher.Reconcile(s.now(), active)
	s.log.Info("notifications resumed from the alert state", "firing", len(active), "resolved", len(owed))
	return nil
}

func (s *server) buildIngest() error {
	var err error
	s.tokens, err = newTokenSource(s.cfg.TokenEnv, s.cfg.TokenFile)
	if err != nil {
		return err
	}
	s.ingest, err = ingest.NewServer(ingest.Options{
		GRPCAddr:         s.cfg.OTLPGRPCAddr,
		HTTPAddr:         s.cfg.OTLPHTTPAddr,
		MaxBodyBytes:     s.cfg.MaxBodyBytes,
		MaxInFlightBytes: s.cfg.MaxInFlightBytes,
		Tokens:           s.tokens.current,
		Now:              s.now,
		Logger:           s.log.With("component", "ingest"),
		Registerer:       s.registry,
	}, s.observer)
	if err != nil {
		return err
	}
	if len(s.tokens.current) == 0 {
		s.log.Warn("OTLP receivers accept requests without a bearer token; set --ingest-token-env or --ingest-token-file")
	}
	return nil
}

func (s *server) buildAPI() error {
	admin, err := readSecret(s.cfg.AdminTokenEnv, s.cfg.AdminTokenFile)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	h := api.New(api.Options{
		Tracker:       s.tracker,
		Alerts:        s.evaluator,
		Notifiers:     s.notifierStatus,
		Reload:        s.reload,
		AdminToken:    admin,
		PrometheusAPI: s.store.QueryAPI(),
		Registry:      s.registry,
		Ready:         s.ready.Load,
		Now:           s.now,
		Logger:        s.log.With("component", "api"),
	})
	s.api = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

func (s *server) notifierStatus() []api.NotifierStatus {
	hs := s.dispatcher.Health()
	out := make([]api.NotifierStatus, len(hs))
	for i, h := range hs {
		out[i] = api.NotifierStatus{Name: h.Name, Type: h.Type, Healthy: h.Healthy, LastError: h.LastError, LastSuccess: h.LastSuccess}
	}
	return out
}

// readSecret reads a secret from a file, else from an environment variable;
// "" when neither is set.
func readSecret(env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", file, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if env != "" {
		return strings.TrimSpace(os.Getenv(env)), nil
	}
	return "", nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "disabled"
	}
	return a.String()
}
