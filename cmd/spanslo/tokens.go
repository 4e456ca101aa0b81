package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spanslo/spanslo/ingest"
)

// tokenSource holds the ingest tokens and, when they come from a file,
// follows the file so tokens rotate without a restart.
type tokenSource struct {
	env, file string
	current   []string
	modTime   time.Time
}

func newTokenSource(env, file string) (*tokenSource, error) {
	t := &tokenSource{env: env, file: file}
	if env == "" && file == "" {
		return t, nil
	}
	list, err := ingest.ReadTokens(env, file)
	if err != nil {
		return nil, err
	}
	t.current = list
	if file != "" {
		if fi, err := os.Stat(file); err == nil {
			t.modTime = fi.ModTime()
		}
	}
	return t, nil
}

// watch re-reads the token file when its modification time changes and
// hands the new list to apply. A bad read keeps the previous tokens.
func (t *tokenSource) watch(ctx context.Context, every time.Duration, apply func([]string), log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fi, err := os.Stat(t.file)
		if err != nil || fi.ModTime().Equal(t.modTime) {
			continue
		}
		list, err := ingest.ReadTokens(t.env, t.file)
		if err != nil {
			log.Error("ingest tokens not reloaded; keeping the previous ones", "err", err)
			continue
		}
		t.modTime = fi.ModTime()
		t.current = list
		apply(list)
		log.Info("ingest tokens reloaded", "count", len(list))
	}
}
