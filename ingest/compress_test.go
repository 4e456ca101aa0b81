package ingest

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A Collector exporter set to compression: zstd is understood over gRPC,
// and the decompressed-size limit still holds.
func TestGRPCAcceptsZstdAndCutsItAtTheLimit(t *testing.T) {
	s, tr := startServer(t, Options{MaxBodyBytes: 64 << 10})
	c := dialGRPC(t, s)
	small, n := batch(t, 41, 5)
	if _, err := c.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(small), grpc.UseCompressor("zstd")); err != nil {
		t.Fatalf("zstd export: %v", err)
	}
	if got := countedTotal(tr); got != float64(n) {
		t.Errorf("counted %g, want %d", got, n)
	}
	big, _ := batch(t, 42, 300)
	if _, err := c.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(big), grpc.UseCompressor("zstd")); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized after zstd decompression: %v, want RESOURCE_EXHAUSTED", err)
	}
}

// A body cut short is refused whole: counting its first half would count
// those spans twice when the exporter retries the batch.
func TestHTTPRefusesATruncatedBody(t *testing.T) {
	s, tr := startServer(t, Options{})
	td, _ := batch(t, 43, 20)
	for _, enc := range []string{"gzip", "zstd"} {
		full := compress(t, enc, encode(t, td, ctProtobuf))
		r := post(t, tracesURL(s), ctProtobuf, enc, "", full[:len(full)-8])
		if r.status != http.StatusBadRequest {
			t.Errorf("%s body cut short: %d, want 400", enc, r.status)
		}
	}
	if got := countedTotal(tr); got != 0 {
		t.Errorf("counted %g spans from truncated bodies, want 0", got)
	}
}
