package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spanslo/spanslo/notify"
)

const notifyUsage = `Usage: spanslo notify test --config slos.yaml --route page|ticket|zone [--notifier NAME]

Sends a clearly-labelled test alert through the notifiers of a route (or to
one notifier) so a team can check routing keys and webhook URLs before
relying on them. A PagerDuty test incident is resolved right after it opens;
Slack gets one message. Secrets are read like serve reads them, from the
environment variable or file slos.yaml names. Exits 1 if any notifier
failed.
`

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, notifyUsage)
		if len(args) == 0 {
			return errSilent(2)
		}
		return nil
	}
	if args[0] != "test" {
		fmt.Fprint(stderr, notifyUsage)
		return &exitError{2, fmt.Errorf("notify: unknown subcommand %q (want test)", args[0])}
	}
	return runNotifyTest(ctx, args[1:], stdout, stderr)
}

func runNotifyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notify", "test --config slos.yaml --route page|ticket|zone [--notifier NAME]", stdout)
	config := fs.String("config", "slos.yaml", "the SLO config naming the notifiers, routes and where their secrets live")
	route := fs.String("route", "page", "route to test: page, ticket or zone")
	notifier := fs.String("notifier", "", "send only to this notifier (default: every notifier of the route)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to keep retrying a failing notifier")
	verbose := fs.Bool("v", false, "log each retry to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return &exitError{2, errors.New("notify test: unexpected arguments")}
	}
	cfg, err := loadConfig(*config, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelError + 1 // retries are summed up in the result lines
	if *verbose {
		level = slog.LevelDebug
	}
	opts := notify.Options{
		RetryDeadline:  *timeout,
		AttemptTimeout: min(*timeout, 10*time.Second),
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	results, err := notify.SendTest(ctx, cfg, *route, *notifier, opts)
	if err != nil {
		return &exitError{2, fmt.Errorf("notify test: %w", err)}
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stdout, "%s (%s): FAILED: %v\n", r.Notifier, r.Type, r.Err)
			continue
		}
		fmt.Fprintf(stdout, "%s (%s): test alert delivered\n", r.Notifier, r.Type)
	}
	if failed > 0 {
		return errSilent(1)
	}
	return nil
}
