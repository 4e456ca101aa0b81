package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spanslo/spanslo/slo"
)

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "FILE...", stdout)
	quiet := fs.Bool("q", false, "print nothing when the files are valid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return &exitError{2, errors.New("validate: no file given")}
	}
	bad := false
	for _, path := range fs.Args() {
		cfg, err := slo.LoadFile(path)
		var ps slo.Problems
		switch {
		case errors.As(err, &ps):
			bad = true
			for _, p := range ps {
				fmt.Fprintln(stdout, p.Error())
			}
		case err != nil:
			bad = true
			fmt.Fprintln(stdout, err)
		case !*quiet:
			fmt.Fprintf(stdout, "%s: ok: %d journeys, %d SLOs\n", path, len(cfg.Journeys), len(cfg.SLOs))
		}
	}
	if bad {
		return errSilent(1)
	}
	return nil
}
