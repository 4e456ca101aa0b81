package notify

import (
	"github.com/prometheus/client_golang/prometheus"
)

// failureReasons are the values of the failed counter's reason label,
// created at zero for every notifier.
var failureReasons = []string{"rate_limited", "server_error", "network", "timeout", "bad_request", "rejected",
	"client_error", "no_secret", "too_large"}

type metrics struct {
	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	retries *prometheus.CounterVec
	latency *prometheus.HistogramVec
	healthy *prometheus.GaugeVec
	pending *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"notifier", "type"}
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spanslo_notifications_sent_total",
			Help: "Notifications delivered (alerts, resolves, repeats, zone changes)."}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spanslo_notifications_failed_total",
			Help: "Notifications not delivered after the retry stage, by reason."}, append(labels, "reason")),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spanslo_notifications_retries_total",
			Help: "Delivery attempts that were retries of a failed attempt."}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "spanslo_notifications_latency_seconds",
			Help: "Duration of one delivery attempt.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10}}, labels),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spanslo_notifications_healthy",
			Help: "1 when the notifier's last delivery succeeded (or none was needed yet), 0 after a failure."}, labels),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spanslo_notifications_pending",
			Help: "Notifications waiting for delivery."}, labels),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sent, m.failed, m.retries, m.latency, m.healthy, m.pending} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// add creates a notifier's series at zero.
func (m *metrics) add(name, typ string) {
	m.sent.WithLabelValues(name, typ)
	m.retries.WithLabelValues(name, typ)
	m.latency.WithLabelValues(name, typ)
	m.healthy.WithLabelValues(name, typ)
	m.pending.WithLabelValues(name, typ)
	for _, r := range failureReasons {
		m.failed.WithLabelValues(name, typ, r)
	}
}

// remove drops a notifier's series after a reload removed it.
func (m *metrics) remove(name, typ string) {
	l := prometheus.Labels{"notifier": name, "type": typ}
	m.sent.Delete(l)
	m.retries.Delete(l)
	m.latency.Delete(l)
	m.healthy.Delete(l)
	m.pending.Delete(l)
	m.failed.DeletePartialMatch(l)
}
