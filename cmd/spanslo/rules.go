package main

import (
	"context"
	"io"
)

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return notBuilt("rules")
}
