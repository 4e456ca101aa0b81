package ingest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestShutdownDrainsARequestInFlight(t *testing.T) {
	tr := bundledTracker(t)
	s, err := NewServer(Options{HTTPAddr: "127.0.0.1:0", Now: func() time.Time { return testNow }}, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	td, n := batch(t, 51, 10)
	body := encode(t, td, ctProtobuf)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, tracesURL(s), pr)
	req.Header.Set("Content-Type", ctProtobuf)
	req.ContentLength = int64(len(body))
	answered := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	pw.Write(body[:len(body)/2])
	// Wait until the handler holds the bytes it read: the request is in flight.
	for deadline := time.Now().Add(5 * time.Second); s.inFlight.used.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the handler never started reading the body")
		}
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- s.Shutdown(ctx)
	}()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned %v before the request in flight finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	pw.Write(body[len(body)/2:])
	pw.Close()
	if code := <-answered; code != http.StatusOK {
		t.Fatalf("the drained request got %d, want 200", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if got := countedTotal(tr); got != float64(n) {
		t.Errorf("counted %g, want %d", got, n)
	}
}

func TestMetricsCountSpansAndRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, _ := startServer(t, Options{Registerer: reg})
	want := `
# HELP spanslo_ingest_requests_total OTLP export requests, by protocol and outcome.
# TYPE spanslo_ingest_requests_total counter
spanslo_ingest_requests_total{outcome="bad_request",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="bad_request",protocol="http"} 1
spanslo_ingest_requests_total{outcome="method_not_allowed",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="method_not_allowed",protocol="http"} 0
spanslo_ingest_requests_total{outcome="overloaded",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="overloaded",protocol="http"} 0
spanslo_ingest_requests_total{outcome="partial_success",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="partial_success",protocol="http"} 0
spanslo_ingest_requests_total{outcome="success",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="success",protocol="http"} 1
spanslo_ingest_requests_total{outcome="too_large",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="too_large",protocol="http"} 0
spanslo_ingest_requests_total{outcome="unauthorized",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="unauthorized",protocol="http"} 0
spanslo_ingest_requests_total{outcome="unsupported_media_type",protocol="grpc"} 0
spanslo_ingest_requests_total{outcome="unsupported_media_type",protocol="http"} 0
`
	td, n := batch(t, 52, 4)
	post(t, tracesURL(s), ctProtobuf, "", "", encode(t, td, ctProtobuf))
	post(t, tracesURL(s), ctProtobuf, "", "", []byte{0xff})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "spanslo_ingest_requests_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(s.metrics.counted); got != float64(n) {
		t.Errorf("counted = %g, want %d", got, n)
	}
	if got := testutil.ToFloat64(s.metrics.receivedBy["http"]); got != float64(td.SpanCount()) {
		t.Errorf("received = %g, want %d", got, td.SpanCount())
	}
	if got := testutil.ToFloat64(s.metrics.unmatched); got != float64(td.SpanCount()-n) {
		t.Errorf("unmatched = %g, want %d", got, td.SpanCount()-n)
	}
}
