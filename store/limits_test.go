package store_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQueriesThatWouldExhaustMemoryAreRefusedBeforeEvaluation(t *testing.T) {
	f := newQueryFixture(t)
	at := strconv.FormatInt(f.now.Unix(), 10)
	from := strconv.FormatInt(f.now.Add(-11_000*time.Hour).Unix(), 10)
	tests := []struct {
		name, path string
		form       url.Values
		want       string // in the error message
	}{
		{"a century of one-second subquery steps", "/query",
			url.Values{"query": {"count_over_time(vector(1)[100y:1s])"}, "time": {at}}, "exceeds the maximum of 11000 points"},
		{"a day of one-second subquery steps", "/query",
			url.Values{"query": {"max_over_time(spanslo_events_total[1d:1s])"}, "time": {at}}, "exceeds the maximum of 11000 points"},
		{"a subquery stepping 11000 hours of a range query by the second", "/query_range",
			url.Values{"query": {"max_over_time(spanslo_events_total[1h:1s])"}, "start": {from}, "end": {at}, "step": {"1h"}},
			"would evaluate 39603600 steps per series"},
		{"nested subqueries multiplying their steps", "/query",
			url.Values{"query": {"max_over_time(max_over_time(vector(1)[2h:1s])[32d:5m])"}, "time": {at}},
			"would evaluate 2772000 steps per series"},
		{"a range far beyond the retention", "/query",
			url.Values{"query": {"spanslo_events_total[10000d]"}, "time": {at}}, "range 10000d reaches beyond the 33d1h of history"},
		{"a subquery range beyond the retention", "/query",
			url.Values{"query": {"max_over_time(spanslo_events_total[40d:1h])"}, "time": {at}}, "subquery range 40d reaches beyond"},
		{"an offset far into the past", "/query",
			url.Values{"query": {"spanslo_events_total offset 400d"}, "time": {at}}, "offset 400d reaches beyond"},
		{"a negative offset far into the future", "/query",
			url.Values{"query": {"sum(rate(spanslo_events_total[5m] offset -400d))"}, "time": {at}}, "offset 400d reaches beyond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			code, resp := call(t, f.api, http.MethodGet, tt.path, tt.form)
			took := time.Since(begin)
			if code != http.StatusBadRequest || resp.ErrorType != "bad_data" || !strings.Contains(resp.Error, tt.want) {
				t.Fatalf("%d %s %q; want 400 bad_data containing %q", code, resp.ErrorType, resp.Error, tt.want)
			}
			// Refused after parsing, not after evaluating for a while.
			if took > time.Second {
				t.Fatalf("refused after %v", took)
			}
		})
	}
}

func TestSubqueriesAndRangesWithinTheLimitsStillWork(t *testing.T) {
	f := newQueryFixture(t)
	latest := f.native[f.now]
	// The counters only grow, so their maximum over the last hour is their
	// value now; max_over_time drops the metric name.
	for _, q := range []string{
		"max_over_time(spanslo_events_total[1h:1m])",
		"max_over_time(spanslo_events_total[1h:])",
		"last_over_time(spanslo_events_total[33d])",
		"max_over_time(spanslo_events_total[2h:5m] offset -1d)",
	} {
		got := instant(t, f.api, q, f.now)
		if q == "max_over_time(spanslo_events_total[2h:5m] offset -1d)" {
			if len(got) != 0 {
				t.Errorf("%s: %v, want nothing (no samples a day ahead)", q, got)
			}
			continue
		}
		if len(got) != len(latest) {
			t.Fatalf("%s: %d series, want %d", q, len(got), len(latest))
		}
		for k, v := range latest {
			key := strings.Replace(k, `__name__="spanslo_events_total",`, "", 1)
			if q == "last_over_time(spanslo_events_total[33d])" {
				key = k // last_over_time keeps the name
			}
			if g, ok := got[key]; !ok || !near(g, v) {
				t.Errorf("%s %s = %v, want %v", q, key, g, v)
			}
		}
	}
	// A week of one-minute range steps, each with an hour of subquery.
	code, resp := call(t, f.api, http.MethodGet, "/query_range", url.Values{
		"query": {"sum(max_over_time(spanslo_events_total[1h:1m]))"},
		"start": {strconv.FormatInt(f.now.Add(-7*24*time.Hour).Unix(), 10)},
		"end":   {strconv.FormatInt(f.now.Unix(), 10)}, "step": {"1m"}})
	if code != http.StatusOK || resp.Status != "success" {
		t.Fatalf("range query: %d %+v", code, resp)
	}
}

func TestAnOversizedFormIsRefusedAsTooLarge(t *testing.T) {
	f := newQueryFixture(t)
	body := "query=" + strings.Repeat("1", 1<<20)
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, req)
	var resp apiResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
	if rec.Code != http.StatusRequestEntityTooLarge || resp.Status != "error" || resp.ErrorType != "bad_data" ||
		!strings.Contains(resp.Error, "larger than 1048576 bytes") {
		t.Fatalf("%d %+v", rec.Code, resp)
	}
	// A form just within the limit is still read.
	code, resp := call(t, f.api, http.MethodPost, "/query", url.Values{"query": {"1" + strings.Repeat(" ", 1<<19)}})
	if code != http.StatusOK {
		t.Fatalf("form within the limit: %d %+v", code, resp)
	}
}

func TestAQueryOutOfTimeEndsInAJSONError(t *testing.T) {
	f := newQueryFixture(t)
	code, resp := call(t, f.api, http.MethodGet, "/query", url.Values{
		"query": {"sum(spanslo_events_total)"}, "timeout": {"0.000000001"}})
	if code != http.StatusServiceUnavailable || resp.Status != "error" || resp.ErrorType != "timeout" {
		t.Fatalf("%d %+v", code, resp)
	}
}
