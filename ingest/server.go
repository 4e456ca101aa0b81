package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBodyBytes     = 20 << 20
	DefaultMaxInFlightBytes = 64 << 20
	DefaultRetryAfter       = time.Second
)

// Options configure the OTLP receivers.
type Options struct {
	// GRPCAddr and HTTPAddr are the listen addresses ("127.0.0.1:0" picks a
	// port); an empty address disables that receiver.
	GRPCAddr string
	HTTPAddr string
	// MaxBodyBytes bounds a request after decompression (HTTP 413, gRPC
	// RESOURCE_EXHAUSTED).
	MaxBodyBytes int64
	// MaxInFlightBytes bounds the request bytes held at once; past it
	// requests are refused with HTTP 503 + Retry-After or gRPC UNAVAILABLE.
	MaxInFlightBytes int64
	// RetryAfter is what a refused client is told to wait.
	RetryAfter time.Duration
	// Tokens are the accepted bearer tokens; none means no authentication.
	Tokens     []string
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Server runs the OTLP/gRPC and OTLP/HTTP receivers and feeds every decoded
// span to an Observer before answering, so an accepted span is a counted
// (or explicitly rejected) span: nothing is queued, nothing dropped.
type Server struct {
	opts     Options
	obs      Observer
	log      *slog.Logger
	now      func() time.Time
	tokens   tokens
	inFlight inFlight
	metrics  *metrics

	mu       sync.Mutex
	httpSrv  *http.Server
	grpcSrv  *grpc.Server
	httpAddr net.Addr
	grpcAddr net.Addr
	wg       sync.WaitGroup
}

// NewServer builds the receivers; Start opens the listeners.
func NewServer(opts Options, obs Observer) (*Server, error) {
	if obs == nil {
		return nil, errors.New("ingest: nil observer")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, obs: obs, log: opts.Logger, now: opts.Now}
	s.inFlight.max = opts.MaxInFlightBytes
	s.tokens.set(opts.Tokens)
	s.metrics = newMetrics(opts.Registerer, s.inFlight.bytes)
	return s, nil
}

// SetTokens replaces the accepted bearer tokens (rotation); an empty list
// turns authentication off.
func (s *Server) SetTokens(list []string) { s.tokens.set(list) }

// Start listens on the configured addresses and serves in the background
// until Shutdown. ctx is the base context of every request.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.HTTPAddr != "" {
		ln, err := net.Listen("tcp", s.opts.HTTPAddr)
		if err != nil {
			return fmt.Errorf("otlp/http: %w", err)
		}
		s.httpAddr = ln.Addr()
		s.httpSrv = s.newHTTPServer(ctx)
		s.serve("otlp/http", func() error { return s.httpSrv.Serve(ln) })
	}
	if s.opts.GRPCAddr != "" {
		ln, err := net.Listen("tcp", s.opts.GRPCAddr)
		if err != nil {
			if s.httpSrv != nil {
				_ = s.httpSrv.Close()
			}
			return fmt.Errorf("otlp/grpc: %w", err)
		}
		s.grpcAddr = ln.Addr()
		s.grpcSrv = s.newGRPCServer()
		s.serve("otlp/grpc", func() error { return s.grpcSrv.Serve(ln) })
	}
	return nil
}

func (s *Server) serve(name string, fn func() error) {
	s.log.Info("receiver listening", "receiver", name, "addr", s.addrOf(name))
	s.wg.Go(func() {
		if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("receiver stopped", "receiver", name, "err", err)
		}
	})
}

func (s *Server) addrOf(name string) string {
	if name == "otlp/http" {
		return s.httpAddr.String()
	}
	return s.grpcAddr.String()
}

// HTTPAddr is the bound OTLP/HTTP address, nil before Start or when disabled.
func (s *Server) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

// GRPCAddr is the bound OTLP/gRPC address, nil before Start or when disabled.
func (s *Server) GRPCAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grpcAddr
}

// Shutdown stops accepting requests and waits for those in flight to be
// classified and answered, or for ctx to end (then it closes connections).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	httpSrv, grpcSrv := s.httpSrv, s.grpcSrv
	s.mu.Unlock()
	var errs []error
	if httpSrv != nil {
		if err := httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("otlp/http shutdown: %w", err))
			_ = httpSrv.Close()
		}
	}
	if grpcSrv != nil {
		done := make(chan struct{})
		go func() { grpcSrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			grpcSrv.Stop()
			<-done
			errs = append(errs, fmt.Errorf("otlp/grpc shutdown: %w", ctx.Err()))
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// classify counts a decoded batch and records it.
func (s *Server) classify(protocol string, res Result) {
	s.metrics.batch(protocol, res)
	if res.Rejected() > 0 {
		s.log.Debug("spans rejected", "protocol", protocol, "too_old", res.TooOld, "too_far_in_future", res.TooNew)
	}
}

// rejectMessage explains a partial success.
func rejectMessage(r Result) string {
	return fmt.Sprintf("%d spans rejected: %d ended before every SLO window, %d ended more than %s in the future",
		r.Rejected(), r.TooOld, r.TooNew, maxFutureText)
}
