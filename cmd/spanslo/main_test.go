package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestValidateAcceptsTheBundledConfig(t *testing.T) {
	out, _, code := runCmd(t, "validate", "../../slos.yaml")
	if code != 0 || !strings.Contains(out, "ok: 5 journeys, 10 SLOs") {
		t.Fatalf("exit %d, output %q", code, out)
	}
	if out, _, code := runCmd(t, "validate", "-q", "../../slos.yaml"); code != 0 || out != "" {
		t.Errorf("-q: exit %d, output %q; want silence", code, out)
	}
}

func TestValidateReportsEveryProblemAndExits1(t *testing.T) {
	out, _, code := runCmd(t, "validate", "../../slos.yaml", "../../slo/testdata/invalid/windows.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"../../slos.yaml: ok: 5 journeys, 10 SLOs",
		`../../slo/testdata/invalid/windows.yaml:8: slo "search/latency": alert rule "ticket-3d": long window 3d is longer than the SLO window 2d`,
		`../../slo/testdata/invalid/windows.yaml:15: slo "search/availability": alert rule "page-1h": short window 2h must be shorter than long window 1h`,
		`../../slo/testdata/invalid/windows.yaml:19: slo "search/availability": alert rule "custom": short window 30m must be shorter than long window 30m`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

func TestValidateWithoutFilesOrWithAMissingFileFails(t *testing.T) {
	if _, _, code := runCmd(t, "validate"); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	out, _, code := runCmd(t, "validate", "does-not-exist.yaml")
	if code != 1 || !strings.Contains(out, "does-not-exist.yaml") {
		t.Errorf("missing file: exit %d, output %q", code, out)
	}
}

func TestEveryCommandDescribesItsFlags(t *testing.T) {
	out, _, code := runCmd(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for name := range commands() {
		if !strings.Contains(out, name) {
			t.Errorf("--help does not list %s", name)
		}
		help, _, code := runCmd(t, name, "--help")
		if code != 0 || !strings.Contains(help, "Usage: spanslo "+name) {
			t.Errorf("%s --help: exit %d, output %q", name, code, help)
		}
	}
	if _, errOut, code := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}
