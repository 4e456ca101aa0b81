package bench

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/ingest"
	"github.com/spanslo/spanslo/loadgen"
	"github.com/spanslo/spanslo/slo"
)

const batches = 8

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// decodedBatches are the realistic 1 000-span batches the ingest
// benchmarks use (seed 99, 2 % errors), already decoded.
func decodedBatches(b *testing.B) ([]ptrace.Traces, int) {
	g, err := loadgen.New(loadgen.Options{Seed: 99, ErrorRate: 0.02})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]ptrace.Traces, batches)
	spans := 0
	for i := range out {
		out[i] = g.Batch(now, 1000)
		spans += out[i].SpanCount()
	}
	return out, spans / batches
}

func perSpan(b *testing.B, spans int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(spans), "ns/span")
}

func newSpanmetrics(b *testing.B, dims []string) connector.Traces {
	f := spanmetricsconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*spanmetricsconnector.Config)
	for _, d := range dims {
		cfg.Dimensions = append(cfg.Dimensions, spanmetricsconnector.Dimension{Name: d})
	}
	cfg.MetricsFlushInterval = time.Hour // measure span handling, not export
	set := connectortest.NewNopSettings(component.MustNewType("spanmetrics"))
	c, err := f.CreateTracesToMetrics(context.Background(), set, cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// BenchmarkSideBySide: the spanmetrics connector's ConsumeTraces (default
// dimensions, and with the route/method/status dimensions an SLO built on
// spanmetrics needs) against spanslo's classify + count of the bundled SLOs.
func BenchmarkSideBySide(b *testing.B) {
	decoded, spans := decodedBatches(b)
	for _, tc := range []struct {
		name string
		dims []string
	}{
		{"spanmetrics/default", nil},
		{"spanmetrics/slo-dimensions", []string{"http.route", "http.request.method", "http.response.status_code"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newSpanmetrics(b, tc.dims)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.ConsumeTraces(ctx, decoded[i%batches]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			perSpan(b, spans)
		})
	}
	b.Run("spanslo/classify+count", func(b *testing.B) {
		cfg, err := slo.LoadFile("../slos.yaml")
		if err != nil {
			b.Fatal(err)
		}
		tr := slo.NewTracker(cfg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ingest.Classify(decoded[i%batches], tr, now)
			i++
		}
		perSpan(b, spans)
	})
}
