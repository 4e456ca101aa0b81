package slo_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// weighedSpan is a fake span that knows its weight and counts how often it
// was asked.
type weighedSpan struct {
	*slotest.Span
	weight float64
	asked  *int
}

func (s weighedSpan) Weight() float64 { *s.asked++; return s.weight }

// scopeConfig has every kind of service condition (name, list, regex,
// exists, none), journeys that also count non-entry spans, resource and
// span attribute conditions, and two journeys that match the same spans.
const scopeConfig = `
journeys:
  - name: exact
    match: {service: booking-api, http_route: /v1/bookings, http_method: POST}
    slos: [{name: a, objective: 99.9, availability: {}}]
  - name: list
    match: {service: [booking-api, search-api], http_route: "/v1/bookings/{id}"}
    slos: [{name: a, objective: 99.9, availability: {}}, {name: l, objective: 99, latency: {threshold: 300ms}}]
  - name: pattern
    match: {service: {regex: "pay.*"}, http_method: [POST, PUT]}
    slos: [{name: a, objective: 99.9, availability: {http_status: 2xx}}]
  - name: any-service-with-name
    match: {service: {exists: true}, entry_only: false, kind: [client], attributes: {peer.service: stripe}}
    slos: [{name: a, objective: 99.9, availability: {}}]
  - name: no-service
    match: {span_name: {regex: "consume .*"}, resource_attributes: {deployment.environment.name: production}}
    slos: [{name: l, objective: 99, latency: {threshold: 1s}}]
  - name: overlap
    match: {service: booking-api, http_method: POST, entry_only: false}
    slos: [{name: a, objective: 99.9, availability: {}}]
`

func randomSpan(r *rand.Rand, now time.Time) *slotest.Span {
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	end := now.Add(-time.Duration(r.IntN(50*24)) * time.Hour)
	switch r.IntN(20) {
	case 0:
		end = now.Add(time.Hour) // too far in the future
	case 1:
		end = now.Add(-time.Duration(1+r.IntN(50)) * 24 * time.Hour)
	}
	s := &slotest.Span{
		SpanName: pick("POST /v1/bookings", "consume bookings", "GET", "SELECT"),
		SpanKind: slo.SpanKind(r.IntN(6)),
		Code:     slo.StatusCode(r.IntN(3)),
		ParentOf: slo.Parent(r.IntN(4)),
		Start:    end.Add(-time.Duration(r.IntN(2000)) * time.Millisecond),
		End:      end,
		Trace:    slo.TraceID{byte(r.IntN(256))},
		Attrs:    map[string]slo.Value{},
		Resource: map[string]slo.Value{},
	}
	switch r.IntN(7) {
	case 0: // no service.name
	case 1:
		s.Resource["service.name"] = slo.IntValue(7) // not a string
	default:
		s.Resource["service.name"] = slo.StringValue(pick("booking-api", "search-api", "payment-api", "payments", "inventory-api", ""))
	}
	if r.IntN(2) == 0 {
		s.Resource["deployment.environment.name"] = slo.StringValue(pick("production", "staging"))
	}
	if r.IntN(4) != 0 {
		s.Attrs["http.route"] = slo.StringValue(pick("/v1/bookings", "/v1/bookings/{id}", "/v1/payments"))
	}
	switch r.IntN(4) {
	case 0:
		s.Attrs["http.request.method"] = slo.StringValue(pick("POST", "PUT", "GET"))
	case 1:
		s.Attrs["http.method"] = slo.StringValue(pick("POST", "PUT", "GET")) // older conventions
	}
	if r.IntN(3) == 0 {
		s.Attrs["peer.service"] = slo.StringValue(pick("stripe", "adyen"))
	}
	if r.IntN(3) != 0 {
		s.Attrs["http.response.status_code"] = slo.IntValue(int64(pick2(r, 200, 201, 404, 500, 503)))
	}
	return s
}

func pick2(r *rand.Rand, vals ...int) int { return vals[r.IntN(len(vals))] }

func TestScopeObserveCountsExactlyWhatObserveCounts(t *testing.T) {
	cfg := mustLoad(t, scopeConfig)
	plain, scoped := slo.NewTracker(cfg), slo.NewTracker(cfg)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	var tally [4]int
	asked, counted := 0, 0
	for i := 0; i < 20000; i++ {
		s := randomSpan(r, now)
		w := float64(1 + r.IntN(4))
		want := plain.Observe(s, w, now)
		svc, ok := s.ResourceAttr("service.name")
		sc := scoped.Scope(svc, ok)
		if want != slo.Unmatched && !sc.Possible() {
			t.Fatalf("span %d (%+v) is %v, but its resource's scope says no journey can match", i, s, want)
		}
		if sc.EntryOnly() && !slo.IsEntry(s) && want != slo.Unmatched {
			t.Fatalf("span %d is not an entry span and is %v, but its scope counts entry spans only", i, want)
		}
		before := asked
		got := sc.Observe(weighedSpan{s, w, &asked}, now)
		if got != want {
			t.Fatalf("span %d (%+v, resource %v): scope says %v, Observe says %v", i, s, s.Resource, got, want)
		}
		if asked-before > 1 || (got != slo.Counted && asked != before) {
			t.Fatalf("span %d (%v) asked for its weight %d times", i, got, asked-before)
		}
		tally[got]++
		if got == slo.Counted {
			counted++
		}
	}
	for o := range tally {
		scoped.AddOutcomes(slo.Outcome(o), tally[o])
	}
	if asked != counted {
		t.Errorf("weights asked %d times for %d counted spans", asked, counted)
	}
	for o, n := range plain.Outcomes() {
		if scoped.Outcomes()[o] != n {
			t.Errorf("outcome %v: scoped %d, plain %d", o, scoped.Outcomes()[o], n)
		}
	}
	if tally[slo.Counted] < 1000 || tally[slo.TooNew] == 0 || tally[slo.TooOld] == 0 {
		t.Fatalf("the random spans do not exercise every outcome: %v", tally)
	}
	for i, ss := range plain.SLOs() {
		want, got := ss.Series(), scoped.SLOs()[i].Series()
		if len(want) != len(got) {
			t.Fatalf("%s: %d series scoped, %d plain", ss.SLO.ID, len(got), len(want))
		}
		for k := range want {
			if w, g := want[k].Cumulative(), got[k].Cumulative(); w != g {
				t.Errorf("%s: scoped counts %+v, plain %+v", ss.SLO.ID, g, w)
			}
			if w, g := want[k].Window(now), got[k].Window(now); w != g {
				t.Errorf("%s: scoped window %+v, plain %+v", ss.SLO.ID, g, w)
			}
			if w, g := want[k].Examples(8), got[k].Examples(8); len(w) != len(g) {
				t.Errorf("%s: scoped examples %v, plain %v", ss.SLO.ID, g, w)
			}
		}
		if ss.Series()[0].Cumulative().Total == 0 {
			t.Errorf("%s counted nothing: the random spans miss it", ss.SLO.ID)
		}
	}
}

func TestScopeOfAServiceNoJourneyNamesHoldsOnlyUnnamedJourneys(t *testing.T) {
	tr := slo.NewTracker(mustLoad(t, `
journeys:
  - name: a
    match: {service: booking-api}
    slos: [{name: a, objective: 99.9, availability: {}}]
  - name: b
    match: {service: [search-api, booking-api], entry_only: false}
    slos: [{name: a, objective: 99.9, availability: {}}]
`))
	for _, tt := range []struct {
		service   slo.Value
		ok        bool
		possible  bool
		entryOnly bool
	}{
		{slo.StringValue("booking-api"), true, true, false},
		{slo.StringValue("search-api"), true, true, false},
		{slo.StringValue("inventory-api"), true, false, true},
		{slo.Value{}, false, false, true},
		{slo.IntValue(3), true, true, false},
	} {
		sc := tr.Scope(tt.service, tt.ok)
		if sc.Possible() != tt.possible || sc.EntryOnly() != tt.entryOnly {
			t.Errorf("scope of %+v: possible %v entry-only %v, want %v %v", tt.service, sc.Possible(), sc.EntryOnly(), tt.possible, tt.entryOnly)
		}
	}
}
