package loadgen

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// receiver is a minimal OTLP/HTTP endpoint that checks every body and
// counts its spans; it refuses the first refuse requests with 503.
func receiver(t *testing.T, refuse int64) (*httptest.Server, *atomic.Int64) {
	var spans, seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" ||
			r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("unexpected request %s %s %v", r.Method, r.URL.Path, r.Header)
		}
		if seen.Add(1) <= refuse {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			t.Errorf("undecodable body: %v", err)
			return
		}
		spans.Add(int64(req.Traces().SpanCount()))
		out, _ := ptraceotlp.NewExportResponse().MarshalProto()
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &spans
}

func TestRunDeliversEverySpanItCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		ro   RunOptions
		gzip bool
	}{
		{"a paced run", RunOptions{Rate: 500, Tick: 20 * time.Millisecond}, false},
		{"a flood of fresh gzip batches", RunOptions{BatchSpans: 200, Workers: 2}, true},
		{"a flood of reused encoded batches", RunOptions{BatchSpans: 200, Workers: 2, Reuse: 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := receiver(t, 0)
			tc.ro.Duration = 150 * time.Millisecond
			var st Stats
			send := &HTTPSender{URL: srv.URL + "/v1/traces", Token: "tok", Gzip: tc.gzip}
			if err := Run(context.Background(), Options{Seed: 1}, send, tc.ro, &st); err != nil {
				t.Fatal(err)
			}
			if st.Spans.Load() == 0 || st.Spans.Load() != got.Load() || st.Failed.Load() != 0 {
				t.Fatalf("run counted %d spans (%d failed), receiver got %d", st.Spans.Load(), st.Failed.Load(), got.Load())
			}
		})
	}
}

func TestRefusedBatchesAreRetriedNotDropped(t *testing.T) {
	srv, got := receiver(t, 1)
	g, _ := New(Options{Seed: 2})
	td := g.Traces(time.Now(), 3)
	var st Stats
	deliver(context.Background(), &HTTPSender{URL: srv.URL + "/v1/traces", Token: "tok"}, td, &st)
	if st.Refused.Load() != 1 || st.Batches.Load() != 1 || got.Load() != int64(td.SpanCount()) {
		t.Fatalf("refused %d, delivered %d batches, receiver got %d of %d spans", st.Refused.Load(), st.Batches.Load(), got.Load(), td.SpanCount())
	}
}
