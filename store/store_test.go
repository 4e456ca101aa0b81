package store_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/store"
)

func open(t testing.TB, dir string, c *clock, reg prometheus.Registerer, log *slog.Logger) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{Now: c.Now, Registerer: reg, Logger: log,
		Retention: store.RetentionFor(testConfig(t))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return st
}

// populate ingests and flushes every interval for d, with late spans, and
// returns the tracker.
func populate(t testing.TB, st *store.Store, c *clock, d, every time.Duration, perInterval int) *slo.Tracker {
	t.Helper()
	tr := slo.NewTracker(testConfig(t))
	for end := c.Now().Add(d); c.Now().Before(end); {
		now := c.Add(every)
		traffic(t, tr, now, perInterval, true)
		if err := st.Flush(tr); err != nil {
			t.Fatalf("flush at %v: %v", now, err)
		}
	}
	return tr
}

func TestAGracefulRestartRestoresIdenticalBudgets(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	st := open(t, dir, c, nil, nil)
	tr := populate(t, st, c, 3*24*time.Hour, 30*time.Minute, 12)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open(t, dir, c, nil, nil)
	defer st.Close()
	fresh := slo.NewTracker(testConfig(t))
	rep, err := st.Restore(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source != store.SourceSnapshot || rep.Restored != 5 || rep.Skipped != 0 || !rep.Taken.Equal(c.Now()) {
		t.Fatalf("report %+v; want 5 series from the snapshot taken at %v", rep, c.Now())
	}
	want, got := views(tr, c.Now()), views(fresh, c.Now())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored views differ:\n got %+v\nwant %+v", got, want)
	}
	if want[0].Status.Window.Total == 0 || want[0].Status.BudgetRemaining >= 1 {
		t.Fatalf("the test burned no budget: %+v", want[0].Status)
	}
}

func TestAFirstStartRestoresNothing(t *testing.T) {
	st := open(t, t.TempDir(), &clock{t: start}, nil, nil)
	defer st.Close()
	rep, err := st.Restore(slo.NewTracker(testConfig(t)))
	if err != nil || rep.Source != store.SourceEmpty || rep.Restored != 0 || rep.SnapshotProblem != "" {
		t.Fatalf("report %+v, %v; want an empty first start", rep, err)
	}
}

func TestWithoutAUsableSnapshotHourlyBucketsAreRebuiltFromTheTSDB(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		problem bool
	}{
		{"a missing snapshot", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a garbled snapshot", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0xff
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a truncated snapshot", func(t *testing.T, path string) {
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &clock{t: start}
			st := open(t, dir, c, nil, nil)
			tr := populate(t, st, c, 30*time.Hour, 30*time.Minute, 9)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, filepath.Join(dir, "state", "counters.snap"))

			st = open(t, dir, c, nil, nil)
			defer st.Close()
			fresh := slo.NewTracker(testConfig(t))
			rep, err := st.Restore(fresh)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Source != store.SourceTSDB || rep.Restored != 5 || (rep.SnapshotProblem != "") != tt.problem {
				t.Fatalf("report %+v", rep)
			}
			now := c.Now()
			for i, ss := range tr.SLOs() {
				want := ss.Series()
				got := map[string]*slo.Series{}
				for _, s := range fresh.SLOs()[i].Series() {
					got[s.ID] = s
				}
				for j := range want {
					// The whole window and the counters are exact; the
					// buckets hold counts by arrival, not event, time.
					if g, w := got[want[j].ID].Window(now), want[j].Window(now); g != w {
						t.Errorf("%s window %+v, want %+v", want[j].ID, g, w)
					}
					if g, w := got[want[j].ID].Cumulative(), want[j].Cumulative(); g != w {
						t.Errorf("%s cumulative %+v, want %+v", want[j].ID, g, w)
					}
					if g := got[want[j].ID].Rolling(now, 30*time.Minute); g.Total == 0 {
						t.Errorf("%s has nothing in its last 30 minutes", want[j].ID)
					}
				}
			}
		})
	}
}

func TestRunFlushesEveryIntervalAndOnceMoreAtShutdown(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	reg := prometheus.NewRegistry()
	st, err := store.Open(dir, store.Options{Now: c.Now, Registerer: reg, FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := slo.NewTracker(testConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx, func() *slo.Tracker { return tr }); close(done) }()
	flushes := func() float64 {
		return metricValue(t, reg, "spanslo_store_flushes_total")
	}
	deadline := time.Now().Add(5 * time.Second)
	for flushes() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if flushes() < 2 {
		t.Fatal("Run did not flush on its ticker")
	}
	traffic(t, tr, c.Add(time.Minute), 6, false)
	cancel()
	<-done
	fresh := slo.NewTracker(testConfig(t))
	if _, err := st.Restore(fresh); err != nil {
		t.Fatal(err)
	}
	if got, want := totalEvents(fresh), totalEvents(tr); got != want || want == 0 {
		t.Fatalf("after shutdown the snapshot holds %v events, want %v", got, want)
	}
}

// metricValue sums every series of a counter or gauge family.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func TestBlobsSurviveAReopenAndRejectDamage(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	st := open(t, dir, c, nil, nil)
	if _, err := st.LoadBlob("alerts"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing blob: %v, want fs.ErrNotExist", err)
	}
	for _, data := range [][]byte{[]byte(`{"firing":["a"]}`), []byte(`{"firing":[]}`), {}} {
		if err := st.SaveBlob("alerts", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveBlob("../escape", []byte("x")); err == nil {
		t.Fatal("a blob name with a path was accepted")
	}
	st.Close()
	st = open(t, dir, c, nil, nil)
	defer st.Close()
	got, err := st.LoadBlob("alerts")
	if err != nil || len(got) != 0 {
		t.Fatalf("load after reopen: %q, %v; want the last (empty) save", got, err)
	}
	if err := st.SaveBlob("alerts", []byte("state")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state", "alerts.blob")
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(data, []byte("state"), []byte("stale"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LoadBlob("alerts"); err == nil {
		t.Fatal("a garbled blob was returned")
	}
}

func TestAClockGoingBackSkipsTSDBSamplesButKeepsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	reg := prometheus.NewRegistry()
	st := open(t, dir, c, reg, nil)
	defer st.Close()
	tr := slo.NewTracker(testConfig(t))
	traffic(t, tr, c.Add(time.Hour), 6, false)
	if err := st.Flush(tr); err != nil {
		t.Fatal(err)
	}
	traffic(t, tr, c.Add(-30*time.Minute), 6, false)
	if err := st.Flush(tr); err != nil {
		t.Fatalf("a flush after the clock went back: %v", err)
	}
	if got := metricValue(t, reg, "spanslo_store_skipped_samples_total"); got != 10 {
		t.Fatalf("skipped %v samples, want the 10 of the second flush", got)
	}
	fresh := slo.NewTracker(testConfig(t))
	if _, err := st.Restore(fresh); err != nil {
		t.Fatal(err)
	}
	if got, want := totalEvents(fresh), totalEvents(tr); got != want {
		t.Fatalf("snapshot holds %v events, want %v", got, want)
	}
}

func TestFlushingWhileSpansArriveNeitherRacesNorLosesCounts(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	st := open(t, dir, c, nil, nil)
	tr := slo.NewTracker(testConfig(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			traffic(t, tr, start.Add(time.Duration(i)*time.Second), 3, false)
		}
	}()
	for {
		c.Add(time.Second)
		if err := st.Flush(tr); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	c.Add(time.Second)
	if err := st.Flush(tr); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = open(t, dir, c, nil, nil)
	defer st.Close()
	fresh := slo.NewTracker(testConfig(t))
	if _, err := st.Restore(fresh); err != nil {
		t.Fatal(err)
	}
	if got, want := totalEvents(fresh), float64(200*3*3); got != want {
		t.Fatalf("restored %v events, want %v", got, want)
	}
	if got := instant(t, st.QueryAPI(), "sum(spanslo_events_total)", c.Now())["{}"]; got != 200*3*3 {
		t.Fatalf("the TSDB's last total is %v, want %v", got, 200*3*3)
	}
}

func TestReopeningOnTheSameRegistryKeepsCounting(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	reg := prometheus.NewRegistry()
	tr := slo.NewTracker(testConfig(t))
	for range 2 {
		st := open(t, dir, c, reg, nil)
		c.Add(time.Minute)
		if err := st.Flush(tr); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	if got := metricValue(t, reg, "spanslo_store_flushes_total"); got != 2 {
		t.Fatalf("flushes %v, want 2", got)
	}
}

func TestARebuildBeyondMaxSeriesAddsUpInTheOverflowSeries(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: start}
	st := open(t, dir, c, nil, nil)
	tr := populate(t, st, c, 6*time.Hour, 30*time.Minute, 9)
	st.Close()
	if err := os.Remove(filepath.Join(dir, "state", "counters.snap")); err != nil {
		t.Fatal(err)
	}
	cfg, err := slo.Load([]byte(strings.Replace(testYAML, "max_series: 3", "max_series: 1", 1)), "slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st = open(t, dir, c, nil, nil)
	defer st.Close()
	fresh := slo.NewTracker(cfg)
	rep, err := st.Restore(fresh)
	if err != nil || rep.Source != store.SourceTSDB || rep.Restored != 4 {
		t.Fatalf("report %+v, %v; want 4 series (one named, one overflow) rebuilt", rep, err)
	}
	sum := func(tr *slo.Tracker) (w slo.Counts) {
		for _, s := range tr.SLO("booking/latency").Series() {
			w = w.Add(s.Window(c.Now()))
		}
		return w
	}
	if got, want := sum(fresh), sum(tr); got != want || want.Total == 0 {
		t.Fatalf("grouped window %+v, want %+v", got, want)
	}
}
