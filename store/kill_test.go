package store_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanslo/spanslo/slo"
)

const (
	killChildEnv   = "SPANSLO_STORE_KILL_CHILD_DIR"
	killInterval   = 10 * time.Second
	spansPerBatch  = 4
	eventsPerBatch = spansPerBatch * 3 // two booking SLOs and one search SLO
)

// TestKillNineChild is the process the kill -9 test starts and kills: it
// ingests a batch per flush interval and flushes, forever, saying on stdout
// when a batch starts and when its flush is done.
func TestKillNineChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestAKillNineLosesAtMostOneFlushInterval")
	}
	c := &clock{t: start}
	st := open(t, dir, c, nil, nil)
	tr := slo.NewTracker(testConfig(t))
	for i := 1; ; i++ {
		fmt.Printf("ingesting %d\n", i)
		traffic(t, tr, c.Add(killInterval), spansPerBatch, false)
		if err := st.Flush(tr); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("flushed %d\n", i)
	}
}

func TestAKillNineLosesAtMostOneFlushInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for round := range 4 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			dir := t.TempDir()
			flushed, started := runAndKill(t, dir, 3+round*4)

			c := &clock{t: start.Add(time.Duration(started+1) * killInterval)}
			st := open(t, dir, c, nil, nil)
			defer st.Close()
			tr := slo.NewTracker(testConfig(t))
			rep, err := st.Restore(tr)
			if err != nil || rep.Source != "snapshot" {
				t.Fatalf("restore: %+v, %v", rep, err)
			}
			got := totalEvents(tr)
			t.Logf("flushed %d batches, started %d, restored %v batches", flushed, started, got/eventsPerBatch)
			if got < float64(flushed*eventsPerBatch) {
				t.Fatalf("restored %v events, but %d batches (%d events) were flushed", got, flushed, flushed*eventsPerBatch)
			}
			if got > float64(started*eventsPerBatch) || int(got)%eventsPerBatch != 0 {
				t.Fatalf("restored %v events, more than the %d ingested or a partial batch", got, started*eventsPerBatch)
			}
			// The TSDB holds every completed flush and never more than the
			// snapshot: the counters the new process appends continue from
			// there without a reset.
			tsdb := instant(t, st.QueryAPI(), "sum(spanslo_events_total)", c.Now())["{}"]
			if tsdb < float64(flushed*eventsPerBatch) || tsdb > got {
				t.Fatalf("the TSDB's last total %v, want between %d and the restored %v", tsdb, flushed*eventsPerBatch, got)
			}
			if _, err := os.Stat(filepath.Join(dir, "state")); err != nil {
				t.Fatal(err)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, "state", ".*")); len(tmp) != 0 {
				t.Fatalf("temporary files left after reopening: %v", tmp)
			}
		})
	}
}

// runAndKill starts the child on dir, SIGKILLs it at a random moment after
// it reported afterFlushes flushes and started the next batch, and returns the last batch it reported
// flushed and the last it started.
func runAndKill(t *testing.T, dir string, afterFlushes int) (flushed, started int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	killed := false
	for lines.Scan() {
		word, n, ok := strings.Cut(lines.Text(), " ")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		switch word {
		case "ingesting":
			started = i
		case "flushed":
			flushed = i
		}
		// Kill somewhere in the next batch: while it is counted, while its
		// snapshot is written, or while the TSDB appends it.
		if !killed && word == "ingesting" && flushed >= afterFlushes {
			time.Sleep(time.Duration(rand.IntN(8000)) * time.Microsecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Reading to EOF took every line the child wrote before it died.
	err = cmd.Wait()
	if !killed || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child ended with %v before it was killed (killed=%v)", err, killed)
	}
	return flushed, started
}
