package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// BenchmarkFlush measures one flush (snapshot file plus TSDB append) of
// series whose every minute and hour bucket is in use: the worst case.
func BenchmarkFlush(b *testing.B) {
	for _, groups := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("%d grouped series, 3 days of minutes", groups), func(b *testing.B) {
			y := strings.Replace(testYAML, "max_series: 3", fmt.Sprintf("max_series: %d", groups), 1)
			cfg, err := slo.Load([]byte(y), "slos.yaml")
			if err != nil {
				b.Fatal(err)
			}
			c := &clock{t: start}
			st := open(b, b.TempDir(), c, nil, nil)
			defer st.Close()
			tr := slo.NewTracker(cfg)
			for m := range 3 * 24 * 60 {
				now := start.Add(time.Duration(m) * time.Minute)
				for g := range groups {
					tr.Observe(span("booking-api", fmt.Sprint("t", g), now, 0, 200+m%2*300, slo.TraceID{}), 1, now)
				}
			}
			c.Add(3 * 24 * time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				c.Add(10 * time.Second)
				if err := st.Flush(tr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
