package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Request outcomes, the values of the outcome label of
// spanslo_ingest_requests_total.
const (
	outcomeSuccess          = "success"
	outcomePartial          = "partial_success"
	outcomeBadRequest       = "bad_request"
	outcomeTooLarge         = "too_large"
	outcomeUnauthorized     = "unauthorized"
	outcomeUnsupportedMedia = "unsupported_media_type"
	outcomeMethodNotAllowed = "method_not_allowed"
	outcomeOverloaded       = "overloaded"
)

var (
	protocols       = []string{"grpc", "http"}
	requestOutcomes = []string{
		outcomeSuccess, outcomePartial, outcomeBadRequest, outcomeTooLarge,
		outcomeUnauthorized, outcomeUnsupportedMedia, outcomeMethodNotAllowed, outcomeOverloaded,
	}
	rejectReasons = []string{"too_old", "too_far_in_future"}
)

// metrics are the receivers' own counters. Every label set is created up
// front so each series exists at zero before the first span arrives.
type metrics struct {
	received  *prometheus.CounterVec // protocol
	counted   prometheus.Counter
	unmatched prometheus.Counter
	rejected  *prometheus.CounterVec // reason
	requests  *prometheus.CounterVec // protocol, outcome
	inFlight  prometheus.GaugeFunc

	receivedBy map[string]prometheus.Counter
	tooOld     prometheus.Counter
	tooNew     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, inFlight func() float64) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spanslo_ingest_spans_received_total",
			Help: "Spans received in decoded OTLP requests.",
		}, []string{"protocol"}),
		counted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "spanslo_ingest_spans_counted_total",
			Help: "Spans counted in at least one SLO.",
		}),
		unmatched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "spanslo_ingest_spans_unmatched_total",
			Help: "Spans that matched no journey.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spanslo_ingest_spans_rejected_total",
			Help: "Spans rejected (reported as OTLP partial success), by reason.",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spanslo_ingest_requests_total",
			Help: "OTLP export requests, by protocol and outcome.",
		}, []string{"protocol", "outcome"}),
		inFlight: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spanslo_ingest_inflight_bytes",
			Help: "Request bytes read and not yet classified.",
		}, inFlight),
		receivedBy: map[string]prometheus.Counter{},
	}
	for _, p := range protocols {
		m.receivedBy[p] = m.received.WithLabelValues(p)
		for _, o := range requestOutcomes {
			m.requests.WithLabelValues(p, o)
		}
	}
	m.tooOld = m.rejected.WithLabelValues(rejectReasons[0])
	m.tooNew = m.rejected.WithLabelValues(rejectReasons[1])
	if reg != nil {
		reg.MustRegister(m.received, m.counted, m.unmatched, m.rejected, m.requests, m.inFlight)
	}
	return m
}

// batch adds one classified batch; called once per request, not per span.
func (m *metrics) batch(protocol string, r Result) {
	m.receivedBy[protocol].Add(float64(r.Spans))
	m.counted.Add(float64(r.Counted))
	m.unmatched.Add(float64(r.Unmatched))
	m.tooOld.Add(float64(r.TooOld))
	m.tooNew.Add(float64(r.TooNew))
}

func (m *metrics) request(protocol, outcome string) {
	m.requests.WithLabelValues(protocol, outcome).Inc()
}
