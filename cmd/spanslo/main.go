// Command spanslo turns OpenTelemetry spans into SLOs, error budgets and
// burn-rate alerts. main only calls run; everything is wired there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	_ "time/tzdata" // time zones for calendar windows, even in a scratch image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"receive OTLP spans, keep budgets, alert, serve the dashboard and APIs", runServe},
		"validate": {"check slos.yaml files; print file:line: message per problem", runValidate},
		"replay":   {"backtest: replay recorded OTLP JSON spans and print the alert timeline", runReplay},
		"rules":    {"print a Prometheus rule file computing the same burn rates", runRules},
		"loadgen":  {"send realistic OTLP traffic for the bundled journeys, with incidents", runLoadgen},
		"notify":   {"operator tools for notifications (notify test: send a test alert)", runNotify},
	}
}

// exitError carries an exit code; a plain error exits 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errSilent exits with a code after the command printed its own messages.
type errSilent int

func (e errSilent) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var s errSilent
	if errors.As(err, &s) {
		return int(s)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "spanslo:", err)
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

// run is the whole program: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return errSilent(2)
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return &exitError{2, fmt.Errorf("unknown command %q", args[0])}
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "spanslo — SLOs and burn-rate alerts from OpenTelemetry spans")
	fmt.Fprintln(w, "\nUsage: spanslo COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'spanslo COMMAND --help' for a command's flags.")
}

// newFlags makes a command's flag set; --help prints the usage to stdout.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("spanslo "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: spanslo %s %s\n\n%s\n", name, synopsis, commands()[name].summary)
		if hasFlags(fs) {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args; a bad flag exits 2, --help exits 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errSilent(2)
	}
	return nil
}
