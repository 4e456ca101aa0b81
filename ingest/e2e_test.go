package ingest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// request is one booking request as an instrumented service reports it.
type request struct {
	status   int
	duration time.Duration
	// traceState is the sampling decision propagated by the caller; empty
	// for an unsampled-by-threshold request (weight 1).
	traceState string
}

func TestSDKExportersAreCountedExactly(t *testing.T) {
	requests := []request{
		{200, 100 * time.Millisecond, ""},
		{200, 900 * time.Millisecond, ""},                 // slow
		{503, 50 * time.Millisecond, ""},                  // failed
		{200, 120 * time.Millisecond, "ot=th:8"},          // sampled 1 in 2: weight 2
		{500, 80 * time.Millisecond, "ot=th:c"},           // sampled 1 in 4, failed: weight 4
		{200, 1500 * time.Millisecond, "ot=th:c;rv:abcd"}, // weight 4, slow
	}
	// good availability: 1 + 1 + 2 + 4 = 8 of 1+1+1+2+4+4 = 13; latency good: 1+1+2+4 = 8.
	for _, proto := range []string{"grpc", "http"} {
		t.Run(proto, func(t *testing.T) {
			now := time.Now()
			s, tr := startServer(t, Options{Tokens: []string{"secret"}, Now: func() time.Time { return now }})
			exp := exporter(t, proto, s)
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithSyncer(exp),
				sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "booking-api"))),
			)
			tracer := tp.Tracer("booking")
			for i, r := range requests {
				emit(t, tracer, now.Add(-time.Duration(i)*time.Second), r)
			}
			if err := tp.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			avail := tr.SLO("booking/availability").Series()[0].Cumulative()
			lat := tr.SLO("booking/latency").Series()[0].Cumulative()
			if avail.Total != 13 || avail.Good != 8 {
				t.Errorf("availability good/total = %g/%g, want 8/13", avail.Good, avail.Total)
			}
			if lat.Total != 13 || lat.Good != 8 {
				t.Errorf("latency good/total = %g/%g, want 8/13", lat.Good, lat.Total)
			}
		})
	}
}

func exporter(t *testing.T, proto string, s *Server) sdktrace.SpanExporter {
	t.Helper()
	ctx := context.Background()
	headers := map[string]string{"Authorization": "Bearer secret"}
	var exp sdktrace.SpanExporter
	var err error
	if proto == "grpc" {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.GRPCAddr().String()),
			otlptracegrpc.WithInsecure(), otlptracegrpc.WithHeaders(headers), otlptracegrpc.WithCompressor("gzip"))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.HTTPAddr().String()),
			otlptracehttp.WithInsecure(), otlptracehttp.WithHeaders(headers), otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// emit reports a POST /v1/bookings SERVER span ending at end, continuing a
// remote caller's context that carries r.traceState.
func emit(t *testing.T, tracer trace.Tracer, end time.Time, r request) {
	t.Helper()
	ts, err := trace.ParseTraceState(r.traceState)
	if err != nil {
		t.Fatal(err)
	}
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0xab, byte(end.UnixNano()), 1},
		SpanID:     trace.SpanID{0xcd, 1},
		TraceFlags: trace.FlagsSampled,
		TraceState: ts,
		Remote:     true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	_, span := tracer.Start(ctx, "POST /v1/bookings",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(end.Add(-r.duration)),
		trace.WithAttributes(
			attribute.String("http.request.method", "POST"),
			attribute.String("http.route", "/v1/bookings"),
			attribute.Int("http.response.status_code", r.status),
		))
	span.End(trace.WithTimestamp(end))
}
