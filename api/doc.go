// Package api serves spanslo's HTTP surface: the REST JSON API over the
// current SLO tracker, the deploy gate, hot reload, health, /metrics, the
// mounted Prometheus-compatible query API and the embedded budget dashboard.
// It only reads the tracker and the alert state; it never changes them.
//
// Endpoints (JSON unless noted; errors are {"error": "..."}):
//
//	GET  /api/v1/slos                every SLO series, least budget left first
//	GET  /api/v1/slos/{id}           one SLO: history, rule readings, alerts, traces
//	GET  /api/v1/slos/{id}/policy    the deploy gate
//	GET  /api/v1/alerts              firing, suppressed, recently resolved
//	GET  /api/v1/notifiers           notifier health
//	POST /-/reload                   re-read slos.yaml (Authorization: Bearer <admin token>)
//	GET  /healthz, /readyz           liveness, readiness
//	GET  /metrics                    Prometheus text format
//	*    /prometheus/api/v1/...      the Prometheus-compatible query API, when wired
//	GET  /                           the budget dashboard (#/slo/<id> for one SLO)
//
// An SLO id holds a slash ("booking/availability"); it may be sent raw or
// URL-escaped ("booking%2Favailability"). A group-by series is addressed by
// its series id, e.g. search/availability{app.tier="gold"}, URL-escaped.
//
// The deploy gate answers 200 in every zone with "allowed": false in
// freeze, so a pipeline step can read the answer:
//
//	curl -fsS http://127.0.0.1:8080/api/v1/slos/booking/availability/policy | jq -e .allowed
//
// exits non-zero in freeze. Without jq, ask strictly: with ?strict=1 a
// freeze answers 423 Locked, and curl -f fails on it:
//
//	curl -fsS 'http://127.0.0.1:8080/api/v1/slos/booking/availability/policy?strict=1'
//
// Caution ("ship with extra review") is allowed in both forms; its zone is
// in the answer for pipelines that want to ask for a second approval.
package api
