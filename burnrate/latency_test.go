package burnrate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// creep is the seed incident: mean latency grows from 300 ms to 4 s over
// two hours, then stays; each minute's 100 requests spread evenly from
// half to one and a half times the mean.
func creep(m, i int) time.Duration {
	mean := 300*time.Millisecond + time.Duration(float64(3700*time.Millisecond)*min(float64(m), 120)/120)
	return time.Duration(float64(mean) * (0.5 + float64(i)/100))
}

func TestLatencyCreepingFrom300msTo4sOverTwoHoursPages(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	tr := slo.NewTracker(cfg)
	prefill(series(t, tr, "booking/latency"), 100)
	prefill(series(t, tr, "booking/availability"), 100)
	ev := burnrate.New(tr, burnrate.Options{})

	// The oracle: each minute's bad share straight from the latency
	// threshold, and the burn of a window = bad share / (1 - 0.995).
	threshold := 800 * time.Millisecond
	var bad []float64
	want := -1
	var got []string
	for m := 0; m < 150; m++ {
		nbad := 0
		for i := 0; i < 100; i++ {
			d := creep(m, i)
			end := start.Add(time.Duration(m)*time.Minute + time.Duration(i)*500*time.Millisecond)
			sp := slotest.Server("booking-api", 200, end, d).WithTrace(traceID(m*100 + i))
			if o := tr.Observe(sp, 1, tickAt(m)); o != slo.Counted {
				t.Fatalf("span outcome %v", o)
			}
			if d >= threshold {
				nbad++
			}
		}
		bad = append(bad, float64(nbad))
		burn := func(minutes int) float64 {
			sum := 0.0
			for j := max(0, m-minutes+1); j <= m; j++ {
				sum += bad[j]
			}
			return sum / (100 * float64(minutes)) / 0.005
		}
		if want < 0 && burn(60) > 14.4 && burn(5) > 14.4 {
			want = m
		}
		for _, line := range timeline(ev.Tick(tickAt(m))) {
			if line[len(line)-len("page-1h"):] == "page-1h" || line[len(line)-len("page-6h"):] == "page-6h" {
				got = append(got, line)
			}
		}
	}
	if want < 0 || want >= 120 {
		t.Fatalf("oracle: the creep does not burn 14.4x within two hours (minute %d)", want)
	}
	if !slices.Equal(got, []string{at(want+1, "firing page-1h")}) {
		t.Errorf("pages = %q, want page-1h at %dm, when latency reached %v", got, want+1, creep(want, 50))
	}
	t.Logf("paged %dm into the creep, at a mean latency of %v", want+1, creep(want, 50))
	for _, a := range ev.Alerts() {
		if a.SLOID != "booking/latency" {
			t.Errorf("alert on %s: only latency burns", a.Key)
		}
	}
}
