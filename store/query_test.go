package store_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/spanslo/spanslo/slo"
)

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// call runs one request against the API and decodes the envelope.
func call(t testing.TB, h http.Handler, method, path string, form url.Values) (int, apiResponse) {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path+"?"+form.Encode(), nil)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	var resp apiResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body.String())
	}
	return rec.Code, resp
}

// instant runs an instant query and returns each sample's value keyed by
// its labels rendered as {k="v",...}.
func instant(t testing.TB, h http.Handler, q string, at time.Time) map[string]float64 {
	t.Helper()
	code, resp := call(t, h, http.MethodGet, "/query", url.Values{"query": {q}, "time": {strconv.FormatInt(at.Unix(), 10)}})
	if code != http.StatusOK || resp.Status != "success" {
		t.Fatalf("query %s: %d %+v", q, code, resp)
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil || data.ResultType != "vector" {
		t.Fatalf("query %s: %v %s", q, err, resp.Data)
	}
	out := map[string]float64{}
	for _, r := range data.Result {
		v, err := strconv.ParseFloat(r.Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		out[labelKey(r.Metric)] = v
	}
	return out
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// queryFixture is a store with three hours of steady traffic flushed every
// five minutes, and the native counters at every flush.
type queryFixture struct {
	api    http.Handler
	now    time.Time
	native map[time.Time]map[string]float64 // flush time → series labels → cumulative
}

func newQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	c := &clock{t: start}
	st := open(t, t.TempDir(), c, nil, nil)
	t.Cleanup(func() { st.Close() })
	tr := slo.NewTracker(testConfig(t))
	f := &queryFixture{api: st.QueryAPI(), native: map[time.Time]map[string]float64{}}
	for range 36 {
		now := c.Add(5 * time.Minute)
		traffic(t, tr, now, 6, false)
		if err := st.Flush(tr); err != nil {
			t.Fatal(err)
		}
		f.native[now] = nativeCounters(tr)
		f.now = now
	}
	return f
}

// nativeCounters renders the tracker's cumulative counters the way the
// TSDB labels them.
func nativeCounters(tr *slo.Tracker) map[string]float64 {
	out := map[string]float64{}
	for _, ss := range tr.SLOs() {
		for _, s := range ss.Series() {
			l := map[string]string{"__name__": "spanslo_events_total", "slo": ss.SLO.ID, "journey": ss.SLO.Journey.Name}
			for i, attr := range ss.SLO.GroupBy {
				l[slo.LabelName(attr)] = s.Labels[i]
			}
			cum := s.Cumulative()
			l["result"] = "good"
			out[labelKey(l)] = cum.Good
			l["result"] = "bad"
			out[labelKey(l)] = cum.Bad()
		}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestSumBySLOReturnsWhatTheNativeCountersHold(t *testing.T) {
	f := newQueryFixture(t)
	want := map[string]float64{}
	for k, v := range f.native[f.now] {
		id := k[strings.Index(k, `slo="`)+5:]
		want[`{slo="`+id[:strings.Index(id, `"`)]+`"}`] += v
	}
	got := instant(t, f.api, "sum by (slo) (spanslo_events_total)", f.now)
	if len(got) != 3 || !reflect.DeepEqual(got, want) {
		t.Fatalf("sum by (slo):\n got %v\nwant %v", got, want)
	}
}

func TestIncreaseOverAnHourReturnsWhatTheNativeCountersGained(t *testing.T) {
	f := newQueryFixture(t)
	got := instant(t, f.api, "increase(spanslo_events_total[1h])", f.now)
	before, after := f.native[f.now.Add(-time.Hour)], f.native[f.now]
	if len(got) != len(after) || len(got) != 10 {
		t.Fatalf("%d series, want %d", len(got), len(after))
	}
	for k, v := range after {
		// increase() drops the metric name.
		key := strings.Replace(k, `__name__="spanslo_events_total",`, "", 1)
		if g, w := got[key], v-before[k]; !near(g, w) {
			t.Errorf("increase %s = %v, want %v", key, g, w)
		}
	}
}

func TestQueryRangeReturnsTheCountersAtEveryStep(t *testing.T) {
	f := newQueryFixture(t)
	from := f.now.Add(-time.Hour)
	code, resp := call(t, f.api, http.MethodPost, "/query_range", url.Values{
		"query": {"sum(spanslo_events_total)"}, "start": {from.Format(time.RFC3339)},
		"end": {strconv.FormatInt(f.now.Unix(), 10)}, "step": {"10m"}})
	if code != http.StatusOK {
		t.Fatalf("%d %+v", code, resp)
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil || data.ResultType != "matrix" || len(data.Result) != 1 {
		t.Fatalf("%v %s", err, resp.Data)
	}
	if len(data.Result[0].Values) != 7 {
		t.Fatalf("%d points, want 7", len(data.Result[0].Values))
	}
	for _, p := range data.Result[0].Values {
		at := time.Unix(int64(p[0].(float64)), 0).UTC()
		want := 0.0
		for _, v := range f.native[at] {
			want += v
		}
		if p[1].(string) != strconv.FormatFloat(want, 'f', -1, 64) {
			t.Errorf("at %v: %v, want %v", at, p[1], want)
		}
	}
}

func TestMetadataEndpointsListTheCounterSeries(t *testing.T) {
	f := newQueryFixture(t)
	tests := []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"labels lists every label name", "/labels", nil,
			`["__name__","app_tier","journey","result","slo"]`},
		{"label values list every SLO", "/label/slo/values", nil,
			`["booking/availability","booking/latency","search/availability"]`},
		{"label values follow match[]", "/label/app_tier/values", url.Values{"match[]": {`{slo="booking/latency"}`}},
			`["bronze","gold","silver"]`},
		{"label values of an unknown label are empty", "/label/nope/values", nil, `[]`},
		{"series lists the matched label sets", "/series", url.Values{"match[]": {`spanslo_events_total{slo="search/availability"}`}},
			`[{"__name__":"spanslo_events_total","journey":"search","result":"bad","slo":"search/availability"},` +
				`{"__name__":"spanslo_events_total","journey":"search","result":"good","slo":"search/availability"}]`},
		{"series merges several match[]", "/series", url.Values{"match[]": {`{result="bad",slo="search/availability"}`, `{result="bad",slo="booking/availability"}`}},
			`[{"__name__":"spanslo_events_total","journey":"booking","result":"bad","slo":"booking/availability"},` +
				`{"__name__":"spanslo_events_total","journey":"search","result":"bad","slo":"search/availability"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				code, resp := call(t, f.api, method, tt.path, tt.form)
				if code != http.StatusOK || string(resp.Data) != tt.want {
					t.Fatalf("%s: %d %s, want %s", method, code, resp.Data, tt.want)
				}
			}
		})
	}
}

func TestBadRequestsGetPrometheusErrors(t *testing.T) {
	f := newQueryFixture(t)
	tests := []struct {
		name, path string
		form       url.Values
		code       int
		typ        string
	}{
		{"a query that does not parse", "/query", url.Values{"query": {"sum(spanslo_events_total"}}, 400, "bad_data"},
		{"an empty query", "/query", nil, 400, "bad_data"},
		{"a time that is not one", "/query", url.Values{"query": {"1"}, "time": {"yesterday"}}, 400, "bad_data"},
		{"a range without a step", "/query_range", url.Values{"query": {"1"}, "start": {"1"}, "end": {"2"}}, 400, "bad_data"},
		{"a range ending before it starts", "/query_range", url.Values{"query": {"1"}, "start": {"2"}, "end": {"1"}, "step": {"1"}}, 400, "bad_data"},
		{"a range with too many points", "/query_range", url.Values{"query": {"1"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400, "bad_data"},
		{"series without match[]", "/series", nil, 400, "bad_data"},
		{"a bad match[]", "/labels", url.Values{"match[]": {"{"}}, 400, "bad_data"},
		{"a label name that is not one", "/label/%ff/values", nil, 400, "bad_data"},
		{"an evaluation error", "/query", url.Values{"query": {`label_replace(spanslo_events_total, "result", "x", "result", ".*")`}}, 422, "execution"},
		{"an unknown endpoint", "/alerts", nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, resp := call(t, f.api, http.MethodGet, tt.path, tt.form)
			if code != tt.code || resp.Status != "error" || resp.ErrorType != tt.typ || resp.Error == "" {
				t.Fatalf("%d %s %s %s; want %d %s", code, resp.ErrorType, resp.Error, resp.Data, tt.code, tt.typ)
			}
		})
	}
}

func TestTheAPIWorksMountedUnderPrometheusAPIV1(t *testing.T) {
	f := newQueryFixture(t)
	r := chi.NewRouter()
	r.Mount("/prometheus/api/v1", f.api)
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/status/buildinfo", "/query?query=vector(1)", "/labels"} {
		res, err := srv.Client().Get(srv.URL + "/prometheus/api/v1" + path)
		if err != nil {
			t.Fatal(err)
		}
		var resp apiResponse
		err = json.NewDecoder(res.Body).Decode(&resp)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || resp.Status != "success" {
			t.Fatalf("%s: %d %+v %v", path, res.StatusCode, resp, err)
		}
		if path == "/status/buildinfo" && !strings.Contains(string(resp.Data), `"goVersion":"go`) {
			t.Fatalf("buildinfo %s", resp.Data)
		}
	}
}
