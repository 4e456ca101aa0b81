package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const bombSize = 32 << 20

// bomb compresses 32 MiB of zeros into a few hundred kilobytes.
func bomb(t *testing.T, enc string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zeros := make([]byte, 1<<20)
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if enc == "gzip" {
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	} else {
		w, _ = zstd.NewWriter(&buf)
	}
	for range bombSize >> 20 {
		w.Write(zeros)
	}
	w.Close()
	return buf.Bytes()
}

func TestHTTPCutsACompressionBombAtTheLimit(t *testing.T) {
	const limit = 512 << 10
	s, _ := startServer(t, Options{MaxBodyBytes: limit})
	for _, enc := range []string{"gzip", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			body := bomb(t, enc)
			if len(body) > limit {
				t.Fatalf("bomb is %d bytes compressed", len(body))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := post(t, tracesURL(s), ctProtobuf, enc, "", body)
			runtime.ReadMemStats(&after)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", r.status, r.body)
			}
			if st := statusOf(t, r.body); codes.Code(st.Code) != codes.ResourceExhausted {
				t.Errorf("Status code %v, want RESOURCE_EXHAUSTED", codes.Code(st.Code))
			}
			// Inflating the bomb would allocate 32 MiB; cutting it at the
			// limit costs the limit plus buffers and, for zstd, a decoder
			// window of at most 8 MiB.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > bombSize/2 {
				t.Errorf("the request allocated %d bytes, want well under the %d bytes of the bomb", grew, bombSize)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadBodyStopsInflatingAtTheLimit(t *testing.T) {
	for _, enc := range []string{"gzip", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			const limit = 256 << 10
			r, done, err := decompressor(enc, bytes.NewReader(bomb(t, enc)))
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			cr := &countingReader{r: r}
			lim := &inFlight{max: 1 << 30}
			var buf bytes.Buffer
			held, err := readBody(&buf, cr, limit, lim)
			if !errors.Is(err, errTooLarge) {
				t.Fatalf("err = %v, want errTooLarge", err)
			}
			if cr.n > limit+readChunk {
				t.Errorf("inflated %d bytes, want at most the limit %d plus one chunk", cr.n, limit)
			}
			if held != int64(cr.n) || lim.used.Load() != held {
				t.Errorf("held %d, charged %d, read %d: want all equal", held, lim.used.Load(), cr.n)
			}
		})
	}
}

func TestHTTPRequiresOneOfTheTokens(t *testing.T) {
	s, tr := startServer(t, Options{Tokens: []string{"old-secret", "new-secret"}})
	td, _ := batch(t, 21, 3)
	body := encode(t, td, ctProtobuf)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token is refused", "", 401},
		{"a wrong token is refused", "guess", 401},
		{"the old token is accepted", "old-secret", 200},
		{"the new token is accepted", "new-secret", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, tracesURL(s), ctProtobuf, "", tc.token, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.status == 401 {
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if tc.token != "" && bytes.Contains(r.body, []byte(tc.token)) {
					t.Error("the reply echoes the presented token")
				}
				if codes.Code(statusOf(t, r.body).Code) != codes.Unauthenticated {
					t.Error("Status code is not UNAUTHENTICATED")
				}
			}
		})
	}
	t.Run("rotation retires the old token", func(t *testing.T) {
		s.SetTokens([]string{"new-secret"})
		if r := post(t, tracesURL(s), ctProtobuf, "", "old-secret", body); r.status != 401 {
			t.Errorf("old token after rotation: status %d, want 401", r.status)
		}
		if r := post(t, tracesURL(s), ctProtobuf, "", "new-secret", body); r.status != 200 {
			t.Errorf("new token after rotation: status %d, want 200", r.status)
		}
	})
	if got := countedTotal(tr); got != 9 {
		t.Errorf("counted %g, want 3 accepted requests × 3 traces", got)
	}
}

func TestHTTPPushesBackWhenTooManyBytesAreInFlight(t *testing.T) {
	s, tr := startServer(t, Options{MaxInFlightBytes: 1 << 20})
	td, _ := batch(t, 22, 3)
	body := encode(t, td, ctProtobuf)
	s.inFlight.acquire(1 << 20) // a slow request holding everything
	r := post(t, tracesURL(s), ctProtobuf, "", "", body)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.status)
	}
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After = %q, want whole seconds", r.header.Get("Retry-After"))
	}
	if codes.Code(statusOf(t, r.body).Code) != codes.Unavailable {
		t.Error("Status code is not UNAVAILABLE")
	}
	s.inFlight.release(1 << 20)
	if r := post(t, tracesURL(s), ctProtobuf, "", "", body); r.status != 200 {
		t.Fatalf("after the bytes are released: status %d, want 200", r.status)
	}
	if got := countedTotal(tr); got != 3 {
		t.Errorf("counted %g, want only the accepted request's 3", got)
	}
}

func TestHTTPPushesBackOnABodyLargerThanTheFreeBytes(t *testing.T) {
	s, tr := startServer(t, Options{MaxInFlightBytes: 64 << 10})
	td, _ := batch(t, 23, 200)
	r := post(t, tracesURL(s), ctProtobuf, "", "", encode(t, td, ctProtobuf))
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.status)
	}
	if got := countedTotal(tr); got != 0 {
		t.Errorf("a refused request counted %g events", got)
	}
	if s.inFlight.used.Load() != 0 {
		t.Errorf("%d bytes still held after the refusal", s.inFlight.used.Load())
	}
}

func dialGRPC(t *testing.T, s *Server) ptraceotlp.GRPCClient {
	t.Helper()
	conn, err := grpc.NewClient(s.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ptraceotlp.NewGRPCClient(conn)
}

func TestGRPCAnswersWithTheOTLPCodes(t *testing.T) {
	s, tr := startServer(t, Options{Tokens: []string{"secret"}, MaxBodyBytes: 64 << 10, MaxInFlightBytes: 1 << 20})
	c := dialGRPC(t, s)
	auth := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}
	small, _ := batch(t, 31, 3)
	big, _ := batch(t, 32, 300)

	if _, err := c.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(small)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.Export(auth("guess"), ptraceotlp.NewExportRequestFromTraces(small)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.Export(auth("secret"), ptraceotlp.NewExportRequestFromTraces(big)); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, err := c.Export(auth("secret"), ptraceotlp.NewExportRequestFromTraces(big), grpc.UseCompressor(grpcgzip.Name)); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized after decompression: %v, want RESOURCE_EXHAUSTED", err)
	}
	s.inFlight.acquire(1 << 20)
	if _, err := c.Export(auth("secret"), ptraceotlp.NewExportRequestFromTraces(small)); status.Code(err) != codes.Unavailable {
		t.Errorf("overloaded: %v, want UNAVAILABLE", err)
	}
	s.inFlight.release(1 << 20)
	resp, err := c.Export(auth("secret"), ptraceotlp.NewExportRequestFromTraces(small))
	if err != nil || resp.PartialSuccess().RejectedSpans() != 0 {
		t.Fatalf("valid export: %v, rejected %d", err, resp.PartialSuccess().RejectedSpans())
	}
	if got := countedTotal(tr); got != 3 {
		t.Errorf("counted %g, want 3", got)
	}
	if s.inFlight.used.Load() != 0 {
		t.Errorf("%d bytes still held", s.inFlight.used.Load())
	}
}

func TestGRPCChargesTheDecodedMessageToTheInFlightBound(t *testing.T) {
	s, tr := startServer(t, Options{MaxBodyBytes: 4 << 20, MaxInFlightBytes: 64 << 10})
	c := dialGRPC(t, s)
	big, _ := batch(t, 34, 300)
	if _, err := c.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(big)); status.Code(err) != codes.Unavailable {
		t.Fatalf("a message larger than the in-flight bound: %v, want UNAVAILABLE", err)
	}
	if got := countedTotal(tr); got != 0 {
		t.Errorf("a refused request counted %g events", got)
	}
}

func TestGRPCAnswersInvalidArgumentForUndecodableData(t *testing.T) {
	s, tr := startServer(t, Options{})
	conn, err := grpc.NewClient(s.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A raw call, so the client sends bytes no encoder would produce.
	err = conn.Invoke(context.Background(), "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
		&rawBytes{0x0a, 0xff, 0xff, 0xff, 0x0f}, new(rawBytes), grpc.ForceCodecV2(rawCodec{}))
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("undecodable request: %v, want INVALID_ARGUMENT", err)
	}
	td, n := batch(t, 35, 3)
	if _, err := dialGRPC(t, s).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td)); err != nil {
		t.Fatalf("a valid request after the bad one: %v", err)
	}
	if got := countedTotal(tr); got != float64(n) {
		t.Errorf("counted %g, want %d", got, n)
	}
}

type rawBytes []byte

// rawCodec sends and receives message bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawBytes))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawBytes) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
