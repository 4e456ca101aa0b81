package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/spanslo/spanslo/loadgen"
	"github.com/spanslo/spanslo/slo"
)

// startServer runs the receivers on loopback port 0 with the bundled
// config and a fixed clock.
func startServer(t *testing.T, opts Options) (*Server, *slo.Tracker) {
	t.Helper()
	tr := bundledTracker(t)
	opts.HTTPAddr, opts.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	s, err := NewServer(opts, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s, tr
}

func tracesURL(s *Server) string { return "http://" + s.HTTPAddr().String() + TracesPath }

// batch is n loadgen traces ending at testNow, and the requests among them.
func batch(t testing.TB, seed uint64, n int) (ptrace.Traces, int) {
	t.Helper()
	g, err := loadgen.New(loadgen.Options{Seed: seed, ErrorRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	return g.Traces(testNow, n), n
}

func encode(t testing.TB, td ptrace.Traces, ct string) []byte {
	t.Helper()
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var b []byte
	var err error
	if ct == ctJSON {
		b, err = req.MarshalJSON()
	} else {
		b, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compress(t testing.TB, enc string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch enc {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
	default:
		return b
	}
	return buf.Bytes()
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func post(t testing.TB, url, ct, enc, token string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func countedTotal(tr *slo.Tracker) float64 {
	var total float64
	for _, ss := range tr.SLOs() {
		if ss.SLO.Name == "availability" {
			for _, s := range ss.Series() {
				total += s.Cumulative().Total
			}
		}
	}
	return total
}

func TestHTTPCountsEveryContentTypeAndEncoding(t *testing.T) {
	for _, ct := range []string{ctProtobuf, ctJSON} {
		for _, enc := range []string{"", "gzip", "zstd"} {
			t.Run(ct+" "+enc, func(t *testing.T) {
				s, tr := startServer(t, Options{})
				td, n := batch(t, 11, 40)
				r := post(t, tracesURL(s), ct, enc, "", compress(t, enc, encode(t, td, ct)))
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if r.header.Get("Content-Type") != ct {
					t.Errorf("reply content type %q, want %q", r.header.Get("Content-Type"), ct)
				}
				resp := ptraceotlp.NewExportResponse()
				if ct == ctJSON {
					err := resp.UnmarshalJSON(r.body)
					if err != nil {
						t.Fatal(err)
					}
				} else if err := resp.UnmarshalProto(r.body); err != nil {
					t.Fatal(err)
				}
				if resp.PartialSuccess().RejectedSpans() != 0 {
					t.Errorf("rejected %d spans, want 0", resp.PartialSuccess().RejectedSpans())
				}
				if got := countedTotal(tr); got != float64(n) {
					t.Errorf("counted %g requests, want %d", got, n)
				}
			})
		}
	}
}

// statusOf decodes a google.rpc.Status body.
func statusOf(t *testing.T, body []byte) *spb.Status {
	t.Helper()
	var st spb.Status
	if err := proto.Unmarshal(body, &st); err != nil {
		t.Fatalf("body is not a protobuf Status: %v (%q)", err, body)
	}
	return &st
}

func TestHTTPAnswersBadRequestsWithAStatusBody(t *testing.T) {
	s, tr := startServer(t, Options{MaxBodyBytes: 64 << 10})
	td, _ := batch(t, 12, 5)
	good := encode(t, td, ctProtobuf)
	for _, tc := range []struct {
		name, method, ct, enc string
		body                  []byte
		status                int
		code                  codes.Code
	}{
		{"a GET is not allowed", http.MethodGet, ctProtobuf, "", nil, 405, codes.Unimplemented},
		{"plain text is not a traces encoding", http.MethodPost, "text/plain", "", good, 415, codes.Unimplemented},
		{"brotli is not a supported encoding", http.MethodPost, ctProtobuf, "br", good, 415, codes.Unimplemented},
		{"garbage protobuf cannot be decoded", http.MethodPost, ctProtobuf, "", []byte{0xff, 0xff, 0xff}, 400, codes.InvalidArgument},
		{"a broken gzip stream cannot be read", http.MethodPost, ctProtobuf, "gzip", []byte("not gzip"), 400, codes.InvalidArgument},
		{"a plain body over the limit is too large", http.MethodPost, ctProtobuf, "", make([]byte, 65<<10), 413, codes.ResourceExhausted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tracesURL(s), bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ct)
			if tc.enc != "" {
				req.Header.Set("Content-Encoding", tc.enc)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%q)", resp.StatusCode, tc.status, b)
			}
			if st := statusOf(t, b); codes.Code(st.Code) != tc.code || st.Message == "" {
				t.Errorf("Status %v, want code %v and a message", st, tc.code)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", resp.Header.Get("Allow"))
			}
		})
	}
	if got := countedTotal(tr); got != 0 {
		t.Errorf("failed requests counted %g events", got)
	}
}

func TestHTTPStatusBodyFollowsAJSONRequest(t *testing.T) {
	s, _ := startServer(t, Options{})
	r := post(t, tracesURL(s), ctJSON, "", "", []byte(`{"resourceSpans": [`))
	if r.status != 400 || r.header.Get("Content-Type") != ctJSON || !bytes.Contains(r.body, []byte(`"code":3`)) {
		t.Fatalf("status %d %q body %s, want 400 JSON Status with code 3", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestHTTPReportsRejectedSpansAsPartialSuccess(t *testing.T) {
	s, tr := startServer(t, Options{})
	// One journey: the tracker judges age against the newest bucket each
	// series holds, so every rejected span's series must have seen now.
	g, _ := loadgen.New(loadgen.Options{Seed: 13, Journeys: []string{"booking"}})
	td := g.Traces(testNow, 4)
	g.Traces(testNow.Add(-40*24*time.Hour), 3).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	g.Traces(testNow.Add(10*time.Minute), 2).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	r := post(t, tracesURL(s), ctProtobuf, "", "", encode(t, td, ctProtobuf))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	resp := ptraceotlp.NewExportResponse()
	if err := resp.UnmarshalProto(r.body); err != nil {
		t.Fatal(err)
	}
	if got := resp.PartialSuccess().RejectedSpans(); got != 5 {
		t.Errorf("rejected_spans = %d, want 5 (3 too old, 2 too new)", got)
	}
	if msg := resp.PartialSuccess().ErrorMessage(); msg == "" {
		t.Error("partial success without a message")
	}
	if got := countedTotal(tr); got != 4 {
		t.Errorf("counted %g, want 4", got)
	}
}
