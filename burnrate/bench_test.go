package burnrate_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// BenchmarkTick is one evaluation over 1 000 series × the 4 workbook rules
// (plus the budget rule), each series with a day of minute buckets filled.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n)+"_series", func(b *testing.B) {
			cfg := strings.Replace(testConfig, "      - name: latency\n", "        group_by: [app.customer]\n        max_series: 1000\n      - name: latency\n", 1)
			cfg = strings.Replace(cfg, "{threshold: 800ms}", "{threshold: 800ms}\n        group_by: [app.customer]\n        max_series: 1000", 1)
			tr := slo.NewTracker(loadConfig(b, cfg))
			now := start
			for c := 0; c < n/2; c++ {
				for m := 0; m < 24*60; m += 7 {
					end := now.Add(-time.Duration(m) * time.Minute)
					sp := slotest.Server("booking-api", 200, end, time.Second).WithString("app.customer", "c"+strconv.Itoa(c))
					tr.Observe(sp, 1, now)
				}
			}
			count := 0
			for _, ss := range tr.SLOs() {
				count += len(ss.Series())
			}
			if count != n {
				b.Fatalf("%d series, want %d", count, n)
			}
			ev := burnrate.New(tr, burnrate.Options{})
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(15 * time.Second)
				ev.Tick(now)
			}
		})
	}
}
