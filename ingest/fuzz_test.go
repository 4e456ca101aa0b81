package ingest

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func FuzzHTTPHandler(f *testing.F) {
	td, _ := batch(f, 41, 3)
	pb := encode(f, td, ctProtobuf)
	js := encode(f, td, ctJSON)
	f.Add(pb, ctProtobuf, "")
	f.Add(js, ctJSON, "")
	f.Add(compress(f, "gzip", pb), ctProtobuf, "gzip")
	f.Add(compress(f, "zstd", js), ctJSON, "zstd")
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0x0f}, ctProtobuf, "")
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`), ctJSON, "")
	f.Add([]byte("\x1f\x8b\x08\x00"), ctProtobuf, "gzip")
	s, err := NewServer(Options{MaxBodyBytes: 1 << 20}, bundledTracker(f))
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, ct, enc string) {
		req := httptest.NewRequest(http.MethodPost, TracesPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Content-Encoding", enc)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 413, 415:
		default:
			t.Fatalf("status %d for %q %q", w.Code, ct, enc)
		}
		if w.Code != 200 {
			var st spb.Status
			unmarshal := proto.Unmarshal
			if w.Header().Get("Content-Type") == ctJSON {
				unmarshal = protojson.Unmarshal
			}
			if err := unmarshal(w.Body.Bytes(), &st); err != nil || st.Message == "" {
				t.Fatalf("status %d body %q is not a Status with a message: %v", w.Code, w.Body.Bytes(), err)
			}
		}
		if s.inFlight.used.Load() != 0 {
			t.Fatalf("%d bytes still held", s.inFlight.used.Load())
		}
	})
}

func FuzzClassify(f *testing.F) {
	td, _ := batch(f, 42, 5)
	f.Add(encode(f, td, ctProtobuf))
	f.Add([]byte{})
	tr := bundledTracker(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return
		}
		res := Classify(req.Traces(), tr, testNow)
		if res.Counted+res.Unmatched+res.Rejected() != res.Spans || res.Spans != req.Traces().SpanCount() {
			t.Fatalf("outcomes %+v do not add up to %d spans", res, req.Traces().SpanCount())
		}
	})
}

func FuzzThresholdWeight(f *testing.F) {
	for _, s := range []string{"ot=th:8", "ot=th:c;rv:abcd", "vendor=x,ot=th:0", "ot=th:ffffffffffffff", "ot=th:", "ot=th:123456789abcdef", "ot=rv:1;th:fff", " ot = th:8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ts string) {
		w, ok := thresholdWeight(ts)
		if ok && (w < 1 || math.IsInf(w, 0) || math.IsNaN(w)) {
			t.Fatalf("thresholdWeight(%q) = %g, want a finite weight ≥ 1", ts, w)
		}
	})
}

func TestThresholdWeight(t *testing.T) {
	for _, tc := range []struct {
		ts   string
		want float64
		ok   bool
	}{
		{"ot=th:0", 1, true},
		{"ot=th:8", 2, true},
		{"ot=th:c", 4, true},
		{"vendor=a,ot=rv:0123;th:c", 4, true},
		{"ot=th:ff", 256, true},
		{"ot=th:", 0, false},
		{"ot=th:123456789abcdef", 0, false},
		{"ot=th:xyz", 0, false},
		{"other=th:8", 0, false},
		{"", 0, false},
	} {
		w, ok := thresholdWeight(tc.ts)
		if ok != tc.ok || (ok && w != tc.want) {
			t.Errorf("thresholdWeight(%q) = %g, %v; want %g, %v", tc.ts, w, ok, tc.want, tc.ok)
		}
	}
}
