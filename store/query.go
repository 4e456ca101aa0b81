package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
)

// Query limits. Samples, points and concurrency are Prometheus' defaults;
// the timeout is shorter than Prometheus' two minutes so that a slow query
// ends in a JSON error well before spanslo's HTTP server gives up writing
// the response (after a minute) and drops the connection.
const (
	maxQueryTimeout = 30 * time.Second
	maxSamples      = 50_000_000
	maxPoints       = 11_000
	maxFormBytes    = 1 << 20
)

var promqlParser = parser.NewParser(parser.Options{})

func newEngine(log *slog.Logger) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		Logger:        log.With("component", "promql"),
		MaxSamples:    maxSamples,
		Timeout:       maxQueryTimeout,
		LookbackDelta: 5 * time.Minute,
		// A subquery without a step ([1h:]) steps by Prometheus' default
		// evaluation interval; without this function the engine panics.
		NoStepSubqueryIntervalFn: func(int64) int64 { return defaultSubqueryStep.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   promqlParser,
	})
}

// QueryAPI serves the read side of the Prometheus HTTP API over the TSDB,
// relative to where it is mounted (spanslo mounts it at
// /prometheus/api/v1): query, query_range, labels, label/{name}/values,
// series and status/buildinfo, by GET or form POST, in Prometheus' JSON
// format, so Grafana can use spanslo as a Prometheus data source.
func (s *Store) QueryAPI() http.Handler {
	r := chi.NewRouter()
	for _, route := range []struct {
		path string
		h    func(*http.Request) (any, error)
	}{
		{"/query", s.query},
		{"/query_range", s.queryRange},
		{"/labels", s.labelNames},
		{"/label/{name}/values", s.labelValues},
		{"/series", s.series},
		{"/status/buildinfo", buildInfo},
	} {
		h := s.serve(route.h)
		r.Get(route.path, h)
		r.Post(route.path, h)
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown endpoint"})
	})
	return r
}

// apiError is an error in Prometheus' format: its type and HTTP status.
type apiError struct {
	status int
	typ    string
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func badData(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_data", fmt.Sprintf(format, args...)}
}

type response struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

func (s *Store) serve(h func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeError(w, &apiError{http.StatusRequestEntityTooLarge, "bad_data",
					fmt.Sprintf("request body larger than %d bytes", maxFormBytes)})
				return
			}
			writeError(w, badData("invalid form"))
			return
		}
		data, err := h(r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				s.log.Error("query api: internal error", "path", r.URL.Path, "err", err)
				ae = &apiError{http.StatusInternalServerError, "internal", "internal error"}
			}
			writeError(w, ae)
			return
		}
		writeJSON(w, http.StatusOK, response{Status: "success", Data: data})
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, response{Status: "error", ErrorType: e.typ, Error: e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

func (s *Store) query(r *http.Request) (any, error) {
	ts, err := parseTimeParam(r, "time", s.opts.Now())
	if err != nil {
		return nil, err
	}
	if err := s.checkQuery(r.FormValue("query"), 0); err != nil {
		return nil, err
	}
	ctx, cancel, err := withTimeout(r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	q, err := s.engine.NewInstantQuery(ctx, s.db, nil, r.FormValue("query"), ts)
	if err != nil {
		return nil, badData("%s", err)
	}
	return s.exec(ctx, q)
}

func (s *Store) queryRange(r *http.Request) (any, error) {
	start, err := parseTimeParam(r, "start", time.Time{})
	if err != nil {
		return nil, err
	}
	end, err := parseTimeParam(r, "end", time.Time{})
	if err != nil {
		return nil, err
	}
	if start.IsZero() || end.IsZero() {
		return nil, badData("start and end are required")
	}
	if end.Before(start) {
		return nil, badData("end timestamp must not be before start time")
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return nil, badData("invalid parameter \"step\": %s", err)
	}
	if step <= 0 {
		return nil, badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Sub(start)/step > maxPoints {
		return nil, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	if err := s.checkQuery(r.FormValue("query"), end.Sub(start)); err != nil {
		return nil, err
	}
	ctx, cancel, err := withTimeout(r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	q, err := s.engine.NewRangeQuery(ctx, s.db, nil, r.FormValue("query"), start, end, step)
	if err != nil {
		return nil, badData("%s", err)
	}
	return s.exec(ctx, q)
}

func (s *Store) exec(ctx context.Context, q promql.Query) (any, error) {
	defer q.Close()
	release, err := s.acquireQuerySlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, execError(res.Err)
	}
	return queryData{ResultType: res.Value.Type(), Result: res.Value}, nil
}

// execError maps an evaluation error like Prometheus does: cancel and
// timeout 503, storage failures 500 (their text stays in the log), the rest
// 422.
func execError(err error) error {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		stor     promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{http.StatusServiceUnavailable, "canceled", "query was canceled"}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{http.StatusServiceUnavailable, "timeout", "query timed out"}
	case errors.As(err, &stor):
		return err
	}
	return &apiError{http.StatusUnprocessableEntity, "execution", err.Error()}
}

func withTimeout(r *http.Request) (context.Context, context.CancelFunc, error) {
	d := maxQueryTimeout
	if v := r.FormValue("timeout"); v != "" {
		t, err := parseDuration(v)
		if err != nil || t <= 0 {
			return nil, nil, badData("invalid parameter \"timeout\"")
		}
		d = min(d, t)
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return ctx, cancel, nil
}

// parseTimeParam reads a Unix time in (fractional) seconds or RFC 3339.
func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		s, frac := math.Modf(f)
		return time.Unix(int64(s), int64(math.Round(frac*1e9))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, badData("invalid parameter %q: cannot parse %q to a valid timestamp", name, v)
}

// parseDuration reads seconds ("15", "0.5") or a Prometheus duration ("5m").
func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f*1e9 > math.MaxInt64 || f*1e9 < math.MinInt64 {
			return 0, fmt.Errorf("cannot parse %q to a valid duration", v)
		}
		return time.Duration(f * 1e9), nil
	}
	d, err := model.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", v)
	}
	return time.Duration(d), nil
}

// selection is the parsed match[], start and end of the metadata endpoints.
type selection struct {
	matchers   [][]*labels.Matcher
	mint, maxt int64
}

func (s *Store) selection(r *http.Request) (selection, error) {
	start, err := parseTimeParam(r, "start", time.Time{})
	if err != nil {
		return selection{}, err
	}
	end, err := parseTimeParam(r, "end", time.Time{})
	if err != nil {
		return selection{}, err
	}
	sel := selection{mint: math.MinInt64, maxt: math.MaxInt64}
	if !start.IsZero() {
		sel.mint = start.UnixMilli()
	}
	if !end.IsZero() {
		sel.maxt = end.UnixMilli()
	}
	for _, m := range r.Form["match[]"] {
		ms, err := promqlParser.ParseMetricSelector(m)
		if err != nil {
			return selection{}, badData("invalid parameter \"match[]\": %s", err)
		}
		sel.matchers = append(sel.matchers, ms)
	}
	return sel, nil
}

func (s *Store) labelNames(r *http.Request) (any, error) {
	return s.metadata(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		names, _, err := q.LabelNames(ctx, nil, ms...)
		return names, err
	})
}

func (s *Store) labelValues(r *http.Request) (any, error) {
	name, err := url.PathUnescape(chi.URLParam(r, "name"))
	if err != nil || !model.UTF8Validation.IsValidLabelName(name) {
		return nil, badData("invalid label name: %q", name)
	}
	return s.metadata(r, func(ctx context.Context, q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		values, _, err := q.LabelValues(ctx, name, nil, ms...)
		return values, err
	})
}

// metadata runs get once per match[] (or once unfiltered) and merges the
// sorted, de-duplicated results.
func (s *Store) metadata(r *http.Request, get func(context.Context, storage.Querier, []*labels.Matcher) ([]string, error)) (any, error) {
	sel, err := s.selection(r)
	if err != nil {
		return nil, err
	}
	q, err := s.db.Querier(sel.mint, sel.maxt)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	if len(sel.matchers) == 0 {
		sel.matchers = [][]*labels.Matcher{nil}
	}
	out := []string{}
	for _, ms := range sel.matchers {
		vs, err := get(r.Context(), q, ms)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (s *Store) series(r *http.Request) (any, error) {
	sel, err := s.selection(r)
	if err != nil {
		return nil, err
	}
	if len(sel.matchers) == 0 {
		return nil, badData("no match[] parameter provided")
	}
	q, err := s.db.Querier(sel.mint, sel.maxt)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	sets := make([]storage.SeriesSet, 0, len(sel.matchers))
	hints := &storage.SelectHints{Start: sel.mint, End: sel.maxt, Func: "series"}
	for _, ms := range sel.matchers {
		sets = append(sets, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	out := []labels.Labels{}
	for set.Next() {
		out = append(out, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Version is spanslo's version, reported by status/buildinfo; set it at
// build time with -ldflags "-X github.com/spanslo/spanslo/store.Version=…".
var Version = "dev"

func buildInfo(*http.Request) (any, error) {
	return map[string]string{
		"version":   Version,
		"revision":  "",
		"branch":    "",
		"buildUser": "",
		"buildDate": "",
		"goVersion": runtime.Version(),
	}, nil
}
