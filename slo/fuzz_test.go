package slo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanslo/spanslo/slo"
)

// The loader never panics, and every failure is a list of problems that each
// carry a line (or, for a file-level problem, say so).
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.yaml")
	seeds = append(seeds, "../slos.yaml")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("journeys: [{name: a, match: {service: [x, {regex: '('}]}}]"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := slo.Load(data, "slos.yaml")
		if err == nil {
			if cfg == nil || len(cfg.Journeys) == 0 {
				t.Fatal("a valid config has journeys")
			}
			return
		}
		var ps slo.Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error is not Problems: %v", err)
		}
		for _, p := range ps {
			if p.Line <= 0 && !fileLevel(p.Msg) {
				t.Errorf("problem without a line: %q", p.Msg)
			}
		}
	})
}

// fileLevel problems concern the whole file, not a line of it.
func fileLevel(msg string) bool {
	for _, s := range []string{"file is empty", "no journeys defined"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
