// Package loadgen generates realistic OTLP traffic for the bundled journeys
// of slos.yaml: traces of 6–9 spans across several services, with entry
// SERVER spans carrying HTTP semantic-convention attributes and CLIENT,
// INTERNAL and database children, optional head sampling (tracestate
// ot=th) and injectable incidents (errors, added latency) per journey.
package loadgen

import (
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Journey is one user journey the generator produces traffic for.
type Journey struct {
	Name    string
	Service string // service.name of the entry span
	Method  string
	Route   string
	Share   float64 // fraction of all traffic
	// Latency is the median duration of the entry span when healthy.
	Latency float64 // seconds
	steps   []step
}

// step is one child span of a journey's trace.
type step struct {
	service  string
	name     string
	kind     ptrace.SpanKind
	parent   int     // index in the trace: 0 is the entry span
	share    float64 // of the parent's duration
	db       string  // db.system.name for database calls
	op       string  // db.operation.name
	table    string  // db.collection.name
	peer     string  // server.address of a client call
	route    string  // http.route of a downstream SERVER span
	method   string
	optional bool // present in about half the traces
	fails    bool // the step that fails when the journey fails
}

// Journeys are the bundled journeys, matching slos.yaml.
var Journeys = []Journey{
	{Name: "search", Service: "search-api", Method: "GET", Route: "/v1/availability", Share: 0.5, Latency: 0.09, steps: []step{
		{service: "search-api", name: "parse query", kind: ptrace.SpanKindInternal, share: 0.05},
		{service: "search-api", name: "GET", kind: ptrace.SpanKindClient, db: "redis", op: "GET", peer: "cache", share: 0.05, optional: true},
		{service: "search-api", name: "GET", kind: ptrace.SpanKindClient, peer: "inventory-api", method: "GET", share: 0.6},
		{service: "inventory-api", name: "GET /v1/inventory", kind: ptrace.SpanKindServer, parent: 3, route: "/v1/inventory", method: "GET", share: 0.9},
		{service: "inventory-api", name: "SELECT rooms", kind: ptrace.SpanKindClient, parent: 4, db: "postgresql", op: "SELECT", table: "rooms", peer: "inventory-db", share: 0.7, fails: true},
		{service: "search-api", name: "rank results", kind: ptrace.SpanKindInternal, share: 0.2},
		{service: "search-api", name: "SET", kind: ptrace.SpanKindClient, db: "redis", op: "SET", peer: "cache", share: 0.03, optional: true},
	}},
	{Name: "booking", Service: "booking-api", Method: "POST", Route: "/v1/bookings", Share: 0.15, Latency: 0.18, steps: []step{
		{service: "booking-api", name: "validate booking", kind: ptrace.SpanKindInternal, share: 0.05},
		{service: "booking-api", name: "SELECT rooms", kind: ptrace.SpanKindClient, db: "postgresql", op: "SELECT", table: "rooms", peer: "booking-db", share: 0.1},
		{service: "booking-api", name: "POST", kind: ptrace.SpanKindClient, peer: "inventory-api", method: "POST", share: 0.4},
		{service: "inventory-api", name: "POST /v1/holds", kind: ptrace.SpanKindServer, parent: 3, route: "/v1/holds", method: "POST", share: 0.9},
		{service: "inventory-api", name: "UPDATE holds", kind: ptrace.SpanKindClient, parent: 4, db: "postgresql", op: "UPDATE", table: "holds", peer: "inventory-db", share: 0.6},
		{service: "booking-api", name: "INSERT bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "INSERT", table: "bookings", peer: "booking-db", share: 0.2, fails: true},
		{service: "booking-api", name: "bookings publish", kind: ptrace.SpanKindProducer, peer: "kafka", share: 0.05, optional: true},
		{service: "booking-api", name: "render confirmation", kind: ptrace.SpanKindInternal, share: 0.05, optional: true},
	}},
	{Name: "payment", Service: "payment-api", Method: "POST", Route: "/v1/payments", Share: 0.1, Latency: 0.22, steps: []step{
		{service: "payment-api", name: "fraud check", kind: ptrace.SpanKindInternal, share: 0.1},
		{service: "payment-api", name: "SELECT bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "SELECT", table: "bookings", peer: "payment-db", share: 0.05},
		{service: "payment-api", name: "POST", kind: ptrace.SpanKindClient, peer: "psp.example.com", method: "POST", share: 0.6, fails: true},
		{service: "payment-api", name: "INSERT payments", kind: ptrace.SpanKindClient, db: "postgresql", op: "INSERT", table: "payments", peer: "payment-db", share: 0.1},
		{service: "payment-api", name: "UPDATE bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "UPDATE", table: "bookings", peer: "payment-db", share: 0.05},
		{service: "payment-api", name: "payments publish", kind: ptrace.SpanKindProducer, peer: "kafka", share: 0.03, optional: true},
	}},
	{Name: "cancellation", Service: "booking-api", Method: "DELETE", Route: "/v1/bookings/{id}", Share: 0.05, Latency: 0.2, steps: []step{
		{service: "booking-api", name: "SELECT bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "SELECT", table: "bookings", peer: "booking-db", share: 0.1},
		{service: "booking-api", name: "POST", kind: ptrace.SpanKindClient, peer: "payment-api", method: "POST", share: 0.5},
		{service: "payment-api", name: "POST /v1/refunds", kind: ptrace.SpanKindServer, parent: 2, route: "/v1/refunds", method: "POST", share: 0.9},
		{service: "payment-api", name: "INSERT refunds", kind: ptrace.SpanKindClient, parent: 3, db: "postgresql", op: "INSERT", table: "refunds", peer: "payment-db", share: 0.3},
		{service: "booking-api", name: "UPDATE bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "UPDATE", table: "bookings", peer: "booking-db", share: 0.1, fails: true},
		{service: "booking-api", name: "bookings publish", kind: ptrace.SpanKindProducer, peer: "kafka", share: 0.05, optional: true},
		{service: "booking-api", name: "release hold", kind: ptrace.SpanKindInternal, share: 0.05, optional: true},
	}},
	{Name: "booking-lookup", Service: "booking-api", Method: "GET", Route: "/v1/bookings/{id}", Share: 0.2, Latency: 0.05, steps: []step{
		{service: "booking-api", name: "GET", kind: ptrace.SpanKindClient, db: "redis", op: "GET", peer: "cache", share: 0.05},
		{service: "booking-api", name: "SELECT bookings", kind: ptrace.SpanKindClient, db: "postgresql", op: "SELECT", table: "bookings", peer: "booking-db", share: 0.4, fails: true},
		{service: "booking-api", name: "GET", kind: ptrace.SpanKindClient, peer: "inventory-api", method: "GET", share: 0.3},
		{service: "inventory-api", name: "GET /v1/inventory/{id}", kind: ptrace.SpanKindServer, parent: 3, route: "/v1/inventory/{id}", method: "GET", share: 0.9},
		{service: "inventory-api", name: "SELECT rooms", kind: ptrace.SpanKindClient, parent: 4, db: "postgresql", op: "SELECT", table: "rooms", peer: "inventory-db", share: 0.6},
		{service: "booking-api", name: "render booking", kind: ptrace.SpanKindInternal, share: 0.1},
		{service: "booking-api", name: "SET", kind: ptrace.SpanKindClient, db: "redis", op: "SET", peer: "cache", share: 0.03, optional: true},
		{service: "booking-api", name: "audit log", kind: ptrace.SpanKindInternal, share: 0.02, optional: true},
	}},
}

// JourneyNamed returns the bundled journey called name.
func JourneyNamed(name string) (Journey, bool) {
	for _, j := range Journeys {
		if j.Name == name {
			return j, true
		}
	}
	return Journey{}, false
}
