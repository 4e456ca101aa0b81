package store_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/store"
)

// lastSegment is the newest WAL segment file and the offset just past its
// last non-zero byte (segments are padded to whole pages with zeros).
func lastSegment(t *testing.T, dir string) (string, int) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "tsdb", "wal", "0*"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no WAL segments: %v", err)
	}
	sort.Strings(segs)
	path := segs[len(segs)-1]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := len(bytes.TrimRight(data, "\x00"))
	if end < 100 {
		t.Fatalf("last segment %s holds only %d bytes", path, end)
	}
	return path, end
}

func TestATornOrGarbledWALTailIsRepairedOnOpenAndReported(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, end int)
	}{
		{"a torn tail (the last record cut short)", func(t *testing.T, path string, end int) {
			if err := os.Truncate(path, int64(end-7)); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbled bytes in the last record", func(t *testing.T, path string, end int) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef}, int64(end-12)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &clock{t: start}
			st := open(t, dir, c, nil, nil)
			tr := populate(t, st, c, 2*time.Hour, 10*time.Minute, 6)
			lastFlush := c.Now()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			path, end := lastSegment(t, dir)
			tt.damage(t, path, end)

			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			st = open(t, dir, c, reg, slog.New(slog.NewTextHandler(&logs, nil)))
			defer st.Close()
			info := st.Info()
			if info.WALCorruptions != 1 || !strings.Contains(info.WALRepair, "repair") {
				t.Fatalf("info %+v; want one repaired corruption", info)
			}
			t.Logf("reported: %+v", info)
			if got := metricValue(t, reg, "spanslo_store_wal_repairs_total"); got != 1 {
				t.Fatalf("spanslo_store_wal_repairs_total = %v, want 1", got)
			}
			if !strings.Contains(logs.String(), "repaired a corrupt write-ahead log tail") {
				t.Fatalf("no repair in the log:\n%s", logs.String())
			}

			// History before the damage is intact, the damaged last flush
			// is gone, and the snapshot still restores exactly.
			api := st.QueryAPI()
			first := start.Add(10 * time.Minute)
			if got := instant(t, api, "sum(spanslo_events_total)", first); len(got) != 1 || got["{}"] == 0 {
				t.Fatalf("the first flush is lost: %v", got)
			}
			if got := instant(t, api, "timestamp(sum(spanslo_events_total))", lastFlush); got["{}"] >= float64(lastFlush.Unix()) {
				t.Fatalf("the damaged last flush is still there: %v", got)
			}
			fresh := slo.NewTracker(testConfig(t))
			rep, err := st.Restore(fresh)
			if err != nil || rep.Source != store.SourceSnapshot || rep.Info != info {
				t.Fatalf("restore %+v, %v", rep, err)
			}
			if got, want := totalEvents(fresh), totalEvents(tr); got != want {
				t.Fatalf("restored %v events, want %v", got, want)
			}
			// Flushing goes on after the repair, the counters continuing
			// from the snapshot.
			c.Add(10 * time.Minute)
			if err := st.Flush(fresh); err != nil {
				t.Fatal(err)
			}
			got := instant(t, api, "sum(spanslo_events_total)", c.Now())
			if got["{}"] != totalEvents(tr) {
				t.Fatalf("after the repair the counters read %v, want %v", got, totalEvents(tr))
			}
		})
	}
}
