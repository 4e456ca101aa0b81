package main

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestRulesPrintsARuleFilePromtoolAccepts(t *testing.T) {
	stdout, stderr, code := spanslo(t, "rules", "../../slos.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	groups, errs := rulefmt.Parse([]byte(stdout), false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	if len(errs) > 0 {
		t.Fatalf("rulefmt: %v", errs)
	}
	if len(groups.Groups) != 10 {
		t.Errorf("%d groups, want one per SLO (10)", len(groups.Groups))
	}
	if !strings.HasPrefix(stdout, "# ") {
		t.Errorf("no header comment")
	}
}

func TestRulesReportsConfigProblemsWithTheirLines(t *testing.T) {
	stdout, stderr, code := spanslo(t, "rules", "../../slo/testdata/invalid/windows.yaml")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "windows.yaml:8: ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, _, code := spanslo(t, "rules"); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
}
