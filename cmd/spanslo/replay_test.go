package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spanslo/spanslo/slo"
)

var update = flag.Bool("update", false, "regenerate the replay span files and golden outputs")

const replayDir = "testdata/replay"

// spanslo runs the program in-process.
func spanslo(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// recording is the generated incident: 20 booking requests a minute
// for four hours, a 20 minute 40 % error burst at 0:30, and the seed
// case's latency creep from 300 ms to 4 s between 1:40 and 3:40. One line
// per minute, spans shuffled within it and one in ten sent a minute late,
// plus a span of another service per line.
var recordingStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func recording() [][]byte {
	rng := rand.New(rand.NewPCG(4, 2))
	const minutes = 240
	lines := make([]ptrace.Traces, minutes)
	for m := range lines {
		lines[m] = ptrace.NewTraces()
		for _, svc := range []string{"booking-api", "search-api"} {
			rs := lines[m].ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", svc)
			rs.ScopeSpans().AppendEmpty().Scope().SetName("net/http")
		}
	}
	batch := func(m int) ptrace.ScopeSpansSlice { return lines[m].ResourceSpans().At(0).ScopeSpans() }
	for m := 0; m < minutes; m++ {
		for i := 0; i < 20; i++ {
			end := recordingStart.Add(time.Duration(m)*time.Minute + time.Duration(rng.Int64N(int64(time.Minute))))
			mean := 300 * time.Millisecond
			if m >= 100 {
				mean += time.Duration(float64(3700*time.Millisecond) * min(float64(m-100), 120) / 120)
			}
			d := time.Duration(float64(mean) * (0.5 + rng.Float64()))
			status := int64(201)
			if m >= 30 && m < 50 && rng.Float64() < 0.4 {
				status = 503
			}
			line := m
			if rng.IntN(10) == 0 && m+1 < minutes {
				line = m + 1 // reaches the collector a minute late
			}
			s := batch(line).At(0).Spans().AppendEmpty()
			fillSpan(rng, s, "POST /v1/bookings", end, d)
			s.Attributes().PutStr("http.route", "/v1/bookings")
			s.Attributes().PutStr("http.request.method", "POST")
			s.Attributes().PutInt("http.response.status_code", status)
			if status >= 500 {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
		}
		other := lines[m].ResourceSpans().At(1).ScopeSpans().At(0).Spans().AppendEmpty()
		fillSpan(rng, other, "GET /v1/availability", recordingStart.Add(time.Duration(m)*time.Minute+time.Second), 40*time.Millisecond)
	}
	var out [][]byte
	var ms ptrace.JSONMarshaler
	for _, td := range lines {
		shuffle(rng, td.ResourceSpans().At(0).ScopeSpans().At(0).Spans())
		b, err := ms.MarshalTraces(td)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

func fillSpan(rng *rand.Rand, s ptrace.Span, name string, end time.Time, d time.Duration) {
	var tid [16]byte
	var sid [8]byte
	for i := range tid {
		tid[i] = byte(rng.IntN(256))
	}
	for i := range sid {
		sid[i] = byte(rng.IntN(256))
	}
	s.SetTraceID(pcommon.TraceID(tid))
	s.SetSpanID(pcommon.SpanID(sid))
	s.SetName(name)
	s.SetKind(ptrace.SpanKindServer)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-d)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
}

// shuffle reorders spans, as batching in an SDK and a collector does.
func shuffle(rng *rand.Rand, spans ptrace.SpanSlice) {
	tmp := ptrace.NewSpanSlice()
	spans.MoveAndAppendTo(tmp)
	for _, i := range rng.Perm(tmp.Len()) {
		tmp.At(i).CopyTo(spans.AppendEmpty())
	}
}

// writeRecording splits the recording: the first hour plain, the rest
// gzip, and a short file with bad lines between good ones.
func writeRecording(t *testing.T) {
	lines := recording()
	join := func(ls [][]byte) []byte { return append(bytes.Join(ls, []byte("\n")), '\n') }
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(replayDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("spans.json", join(lines[:60]))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(join(lines[60:]))
	zw.Close()
	write("spans.json.gz", gz.Bytes())
	bad := [][]byte{
		lines[0],
		[]byte(`{"resourceSpans":[{"resource":`), // truncated by a crash
		lines[1],
		[]byte(`not json at all`),
		{},
		[]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`),
		lines[2],
	}
	write("bad.json", join(bad))
}

func TestReplayGolden(t *testing.T) {
	if *update {
		writeRecording(t)
	}
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"the incident day, plain and gzip", []string{"-q", "--tick", "1m", "spans.json", "spans.json.gz"}, "incident.golden"},
		{"bad lines are reported with their numbers and the rest is replayed", []string{"-q", "bad.json"}, "bad.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"replay", "--config", filepath.Join(replayDir, "slos.yaml")}
			for _, a := range tc.args {
				if strings.HasSuffix(a, ".json") || strings.HasSuffix(a, ".gz") {
					a = filepath.Join(replayDir, a)
				}
				args = append(args, a)
			}
			stdout, stderr, code := spanslo(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := stdout + "-- stderr --\n" + stderr
			path := filepath.Join(replayDir, tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after checking):\n%s", path, got)
			}
		})
	}
}

func TestReplayPagesForTheBurstAndTheLatencyCreep(t *testing.T) {
	stdout, _, code := spanslo(t, "replay", "-q", "--config", filepath.Join(replayDir, "slos.yaml"),
		filepath.Join(replayDir, "spans.json"), filepath.Join(replayDir, "spans.json.gz"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	pages := map[string]time.Time{}
	summaries := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var l struct {
			Time     time.Time `json:"time"`
			SLO      string    `json:"slo"`
			Rule     string    `json:"rule"`
			Severity string    `json:"severity"`
			State    string    `json:"state"`
			Summary  bool      `json:"summary"`
			Budget   *float64  `json:"budget_remaining"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if l.Summary {
			summaries++
			if l.Budget == nil {
				t.Errorf("summary without budget: %s", line)
			}
			continue
		}
		if l.Severity == "page" && l.State == "firing" {
			if _, ok := pages[l.SLO]; !ok {
				pages[l.SLO] = l.Time
			}
		}
	}
	burst := recordingStart.Add(30 * time.Minute)
	if at, ok := pages["booking/availability"]; !ok || at.Before(burst) || at.After(burst.Add(5*time.Minute)) {
		t.Errorf("availability paged at %v, want within 5 minutes of the burst at %v", at, burst)
	}
	creep := recordingStart.Add(100 * time.Minute)
	if at, ok := pages["booking/latency"]; !ok || at.Before(creep) || at.After(creep.Add(2*time.Hour)) {
		t.Errorf("latency paged at %v, want during the two hour creep from %v", at, creep)
	}
	if summaries != 2 {
		t.Errorf("%d summary lines, want one per SLO", summaries)
	}
}

func TestReplayWithoutFilesOrWithAMissingFileFails(t *testing.T) {
	cfg := filepath.Join(replayDir, "slos.yaml")
	if _, _, code := spanslo(t, "replay", "--config", cfg); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	if _, stderr, code := spanslo(t, "replay", "--config", cfg, "missing.json"); code != 1 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := spanslo(t, "replay", "--config", "../../slo/testdata/invalid/windows.yaml", "x.json"); code != 1 || !strings.Contains(stderr, "windows.yaml:8:") {
		t.Errorf("invalid config: exit %d, stderr %q", code, stderr)
	}
}

// batchLine is one export of booking spans ending at the given times,
// failing when bad.
func batchLine(t testing.TB, bad bool, ends ...time.Time) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "booking-api")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	rng := rand.New(rand.NewPCG(1, uint64(ends[0].UnixNano())))
	for _, end := range ends {
		s := spans.AppendEmpty()
		fillSpan(rng, s, "POST /v1/bookings", end, 100*time.Millisecond)
		s.Attributes().PutStr("http.route", "/v1/bookings")
		s.Attributes().PutStr("http.request.method", "POST")
		code := int64(201)
		if bad {
			code = 500
		}
		s.Attributes().PutInt("http.response.status_code", code)
	}
	var ms ptrace.JSONMarshaler
	b, err := ms.MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func replayLines(t *testing.T, lines ...[]byte) (stdout, stderr string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spans.json")
	if err := os.WriteFile(path, bytes.Join(lines, []byte("\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := spanslo(t, "replay", "-q", "--config", filepath.Join(replayDir, "slos.yaml"), path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	return stdout, stderr
}

func TestASpanFromABrokenClockIsRejectedAsTooNewAndDoesNotMoveTime(t *testing.T) {
	t0 := recordingStart
	var lines [][]byte
	for m := 0; m < 10; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		ends := []time.Time{at, at.Add(10 * time.Second), at.Add(20 * time.Second)}
		if m == 3 {
			ends = append(ends, at.AddDate(200, 0, 0)) // a broken host clock
		}
		lines = append(lines, batchLine(t, false, ends...))
	}
	stdout, stderr := replayLines(t, lines...)
	if !strings.Contains(stderr, "31 spans: 30 counted, 0 unmatched, 0 too old, 1 too new") {
		t.Errorf("stderr %q, want 30 counted and the outlier too new", stderr)
	}
	if !strings.Contains(stdout, `"at":"2026-03-02T09:09:30Z"`) {
		t.Errorf("the replay clock moved past the recording: %s", stdout)
	}
}

func TestAGapInTheRecordingIsSkippedOnceEveryWindowIsEmpty(t *testing.T) {
	t0 := recordingStart
	var lines [][]byte
	for m := 0; m < 30; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		lines = append(lines, batchLine(t, true, at, at.Add(20*time.Second), at.Add(40*time.Second)))
	}
	later := t0.AddDate(0, 2, 0) // two months of silence
	lines = append(lines, batchLine(t, false, later))
	start := time.Now()
	stdout, _ := replayLines(t, lines...)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("replay took %v over the gap", took)
	}
	for _, want := range []string{
		// min_events 20 at 3 spans a minute: the 7th minute.
		`"time":"2026-03-02T09:06:45Z","slo":"booking/availability","rule":"page-1h","severity":"page","state":"firing"`,
		`"time":"2026-03-02T09:34:00Z","slo":"booking/availability","rule":"page-1h","severity":"page","state":"resolved","burn_long":1000,"burn_short":0,`,
		// The budget and its zone recover when the errors leave the 30d window.
		`"time":"2026-04-01T09:00:00Z","slo":"booking/availability","rule":"budget-exhausted","severity":"ticket","state":"resolved"`,
		`"time":"2026-04-01T09:00:00Z","slo":"booking/availability","state":"zone","from":"freeze","to":"normal","budget_remaining":1}`,
		`"at":"2026-05-02T09:00:15Z","good":1,"total":1`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("timeline lacks %s:\n%s", want, stdout)
		}
	}
}

func FuzzReplayLine(f *testing.F) {
	f.Add(batchLine(f, true, recordingStart))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"endTimeUnixNano":"1"}]}]}]}`))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"endTimeUnixNano":"9223372036854775807"},{"endTimeUnixNano":"18446744073709551615"}]}]}]}`))
	f.Add([]byte(`{"resourceSpans":[{"resource":`))
	cfg, err := loadConfig(filepath.Join(replayDir, "slos.yaml"), &bytes.Buffer{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var out, errb bytes.Buffer
		r := newReplayer(cfg, time.Minute, &out, &errb)
		r.line("fuzz.json", 1, line)
		r.line("fuzz.json", 2, batchLine(t, false, recordingStart))
		r.finish()
		if r.badLines == 1 && !strings.HasPrefix(errb.String(), "fuzz.json:1: ") {
			t.Errorf("bad line reported as %q", errb.String())
		}
	})
}

func TestOneSpanFromABrokenClockChangesNothingButTheTooNewCount(t *testing.T) {
	t0 := recordingStart
	// 30 lines of three spans, the first 20 minutes failing: a page that
	// fires and resolves, so a moved clock would show in the timeline.
	file := func(outlierLine int, ahead time.Duration) [][]byte {
		var lines [][]byte
		for m := 0; m < 30; m++ {
			at := t0.Add(time.Duration(m) * time.Minute)
			ends := []time.Time{at, at.Add(20 * time.Second), at.Add(40 * time.Second)}
			if m+1 == outlierLine {
				ends = append(ends, at.Add(ahead))
			}
			lines = append(lines, batchLine(t, m < 20, ends...))
		}
		return lines
	}
	wantOut, wantErr := replayLines(t, file(0, 0)...)
	if !strings.Contains(wantErr, "90 spans: 90 counted, 0 unmatched, 0 too old, 0 too new") ||
		!strings.Contains(wantOut, `"rule":"page-1h","severity":"page","state":"resolved"`) {
		t.Fatalf("the file without an outlier: stdout %s\nstderr %q", wantOut, wantErr)
	}
	wantErr = strings.Replace(wantErr, "90 spans: 90 counted, 0 unmatched, 0 too old, 0 too new",
		"91 spans: 90 counted, 0 unmatched, 0 too old, 1 too new", 1)
	tests := []struct {
		name  string
		line  int
		ahead time.Duration
	}{
		{"six hours ahead on line 3, within what used to move the clock", 3, 6 * time.Hour},
		{"forty days ahead on line 1, before the clock is set", 1, 40 * 24 * time.Hour},
		{"just past the live limit on the last line", 30, slo.MaxFuture + 2*time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := replayLines(t, file(tc.line, tc.ahead)...)
			if stderr != wantErr {
				t.Errorf("stderr %q, want %q", stderr, wantErr)
			}
			if stdout != wantOut {
				t.Errorf("timeline and summaries differ from the file without the outlier:\n got %s\nwant %s", stdout, wantOut)
			}
		})
	}
}
