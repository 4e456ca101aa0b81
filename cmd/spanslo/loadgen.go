package main

import (
	"context"
	"io"
)

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return notBuilt("loadgen")
}
