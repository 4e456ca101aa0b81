package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// AlertSource is the alert state the API shows; the burn-rate evaluator
// satisfies it.
type AlertSource interface {
	// Alerts returns firing, suppressed and recently resolved alerts.
	Alerts() []burnrate.Alert
	// Rules returns every rule's current reading for one series.
	Rules(seriesID string) []burnrate.RuleStatus
}

// NotifierStatus is one notification target's health, as GET
// /api/v1/notifiers shows it. LastError must already be free of secrets.
type NotifierStatus struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Healthy     bool      `json:"healthy"`
	LastError   string    `json:"last_error,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
}

// Options wire the API to the rest of spanslo. Only Tracker is required.
type Options struct {
	// Tracker returns the current tracker; reload swaps it, so it is read
	// on every request.
	Tracker func() *slo.Tracker
	// Alerts is the alert state (nil: no alerts are shown).
	Alerts AlertSource
	// Notifiers reports notifier health (nil: an empty list).
	Notifiers func() []NotifierStatus
	// Reload re-reads the config. It returns slo.Problems for an invalid
	// file, which the client sees; other errors are logged, not shown.
	Reload func(ctx context.Context) error
	// AdminToken guards POST /-/reload; empty disables reload over HTTP.
	AdminToken string
	// PrometheusAPI is mounted under /prometheus/api/v1/ with that prefix
	// stripped, so it sees /query, /labels… (nil: not mounted).
	PrometheusAPI http.Handler
	// Registry gets the SLO, Go runtime and process collectors and is what
	// /metrics serves (nil: a private registry).
	Registry *prometheus.Registry
	// Ready reports readiness for /readyz (nil: always ready).
	Ready func() bool
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (0: 1 MiB).
	MaxBodyBytes int64
}

// server holds the options with defaults applied; handlers are its methods.
type server struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger
}

const defaultMaxBody = 1 << 20

// New builds the router once. It registers the collectors on
// opts.Registry and panics if they are already registered there, like
// prometheus.MustRegister.
func New(opts Options) http.Handler {
	s := &server{opts: opts, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.MaxBodyBytes <= 0 {
		s.opts.MaxBodyBytes = defaultMaxBody
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(
		newCollector(s.tracker, opts.Alerts, s.now),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return s.routes(reg)
}

func (s *server) routes(reg *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.limitBody, middleware.GetHead) // HEAD /healthz for load balancers
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})

	r.Get("/api/v1/slos", s.listSLOs)
	r.Get("/api/v1/slos/*", s.sloOrPolicy)
	r.Get("/api/v1/alerts", s.listAlerts)
	r.Get("/api/v1/notifiers", s.listNotifiers)
	r.Post("/-/reload", s.reload)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	}))
	if s.opts.PrometheusAPI != nil {
		r.Handle("/prometheus/api/v1/*", http.StripPrefix("/prometheus/api/v1", s.opts.PrometheusAPI))
	}
	r.Get("/", s.dashboard)
	r.Get("/assets/*", s.assets)
	return r
}

// tracker is the current tracker, possibly nil before the first load.
func (s *server) tracker() *slo.Tracker {
	if s.opts.Tracker == nil {
		return nil
	}
	return s.opts.Tracker()
}

// recoverer answers a panicking handler with a JSON 500 and logs the panic
// without sending it to the client.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body; the mounted query API accepts POST
// forms, and nothing here needs more.
func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.opts.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// pathID is the SLO id after prefix in the decoded path, so both
// /api/v1/slos/booking/availability and /api/v1/slos/booking%2Favailability
// name booking/availability.
func pathID(r *http.Request, prefix string) string {
	return strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/")
}
