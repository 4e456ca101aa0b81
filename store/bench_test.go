package store_test

import (
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

func BenchmarkFlush(b *testing.B) {
	c := &clock{t: start}
	st := open(b, b.TempDir(), c, nil, nil)
	defer st.Close()
	tr := slo.NewTracker(testConfig(b))
	for range 72 {
		traffic(b, tr, c.Add(time.Hour), 6, true)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Add(10 * time.Second)
		if err := st.Flush(tr); err != nil {
			b.Fatal(err)
		}
	}
}
