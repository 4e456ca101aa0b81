package main

import (
	"context"
	"io"
)

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return notBuilt("notify")
}
