package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/spanslo/spanslo/ingest"
	"github.com/spanslo/spanslo/slo"
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
	ShutdownTimeout  time.Duration
	LogLevel         slog.Level
}

func serveFlags(fs *flag.FlagSet) *serveConfig {
	c := &serveConfig{}
	fs.StringVar(&c.ConfigPath, "config", "slos.yaml", "SLO config `file`")
	fs.StringVar(&c.DataDir, "data", "./data", "data `directory` (history of the counters)")
	fs.StringVar(&c.OTLPGRPCAddr, "otlp-grpc-addr", "127.0.0.1:4317", "OTLP/gRPC listen `address` (empty disables)")
	fs.StringVar(&c.OTLPHTTPAddr, "otlp-http-addr", "127.0.0.1:4318", "OTLP/HTTP listen `address` (empty disables)")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8080", "API and dashboard listen `address`")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", ingest.DefaultMaxBodyBytes, "largest OTLP request accepted, in `bytes` after decompression (413 / RESOURCE_EXHAUSTED beyond)")
	fs.Int64Var(&c.MaxInFlightBytes, "max-inflight-bytes", ingest.DefaultMaxInFlightBytes, "request `bytes` held at once; beyond, requests get 503 + Retry-After / UNAVAILABLE so exporters retry")
	fs.StringVar(&c.TokenEnv, "ingest-token-env", "", "environment `variable` holding the accepted OTLP bearer tokens (comma separated); none: no auth")
	fs.StringVar(&c.TokenFile, "ingest-token-file", "", "`file` of accepted OTLP bearer tokens, one per line, re-read when it changes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may drain on shutdown")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
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
// one small wiring method, so the burn-rate evaluator, the notifiers, the
// history store and the API are added beside ingest without reshaping it.
type server struct {
	cfg      serveConfig
	log      *slog.Logger
	now      func() time.Time
	registry *prometheus.Registry

	slos     *slo.Config
	tracker  *slo.Tracker
	observer *ingest.SwappableObserver
	ingest   *ingest.Server
	tokens   *tokenSource

	stop []func(context.Context) error // shutdown steps, run in reverse
}

func newServer(c serveConfig, logger *slog.Logger, now func() time.Time) (*server, error) {
	s := &server{cfg: c, log: logger, now: now, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, step := range []func() error{s.loadConfig, s.prepareData, s.buildTracker, s.buildIngest} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *server) loadConfig() error {
	cfg, err := slo.LoadFile(s.cfg.ConfigPath)
	var ps slo.Problems
	if errors.As(err, &ps) {
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = p.Error()
		}
		return fmt.Errorf("invalid config:\n%s", strings.Join(lines, "\n"))
	}
	if err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	s.slos = cfg
	s.log.Info("config loaded", "file", s.cfg.ConfigPath, "journeys", len(cfg.Journeys), "slos", len(cfg.SLOs))
	return nil
}

func (s *server) prepareData() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

func (s *server) buildTracker() error {
	s.tracker = slo.NewTracker(s.slos)
	s.observer = ingest.NewSwappableObserver(s.tracker)
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

// start opens the listeners and background loops.
func (s *server) start(ctx context.Context) error {
	if err := s.ingest.Start(ctx); err != nil {
		return err
	}
	s.stop = append(s.stop, s.ingest.Shutdown)
	if s.tokens.file != "" {
		go s.tokens.watch(ctx, 10*time.Second, s.ingest.SetTokens, s.log)
	}
	s.log.Info("spanslo serving", "otlp_grpc", addrString(s.ingest.GRPCAddr()), "otlp_http", addrString(s.ingest.HTTPAddr()), "data", s.cfg.DataDir)
	// Until the API is wired in beside ingest, say so rather than pretend.
	s.log.Warn("the API and dashboard are not wired into serve yet; --http-addr is unused", "http_addr", s.cfg.HTTPAddr)
	return nil
}

// shutdown runs the stop steps in reverse order of start: receivers drain
// first, so every accepted span is counted before anything downstream stops.
func (s *server) shutdown(ctx context.Context) error {
	var errs []error
	for i := len(s.stop) - 1; i >= 0; i-- {
		if err := s.stop[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.stop = nil
	return errors.Join(errs...)
}

func addrString(a net.Addr) string {
	if a == nil {
		return "disabled"
	}
	return a.String()
}
