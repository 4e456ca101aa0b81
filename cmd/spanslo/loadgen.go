package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spanslo/spanslo/loadgen"
)

const loadgenUsage = `[flags]

Sends traces of the bundled journeys (search, booking, payment, cancellation,
booking-lookup) to an OTLP receiver. Incidents degrade chosen journeys:
  spanslo loadgen --error-rate payment=0.05 --latency booking=2s \
    --incident-start 5m --incident-duration 10m
--demo runs until interrupted, with a recurring incident on one journey so a
dashboard shows budgets burning and recovering.`

// journeyValues is a repeatable journey=value flag.
type journeyValues map[string]string

func (j journeyValues) String() string {
	keys := make([]string, 0, len(j))
	for k := range j {
		keys = append(keys, k+"="+j[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (j journeyValues) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		name, val, ok := strings.Cut(part, "=")
		if !ok || name == "" || val == "" {
			return fmt.Errorf("want journey=value, got %q", part)
		}
		if _, ok := loadgen.JourneyNamed(name); !ok {
			return fmt.Errorf("unknown journey %q (known: %s)", name, strings.Join(loadgen.Names(), ", "))
		}
		j[name] = val
	}
	return nil
}

type loadgenConfig struct {
	target, protocol, tokenEnv, demoJourney string
	rate, baseErrors, sampleRatio           float64
	duration, start, length, demoEvery      time.Duration
	batch, workers, reuse                   int
	gzip                                    bool
	seed                                    uint64
	demo                                    bool
	errorRates, latencies                   journeyValues
}

func loadgenFlags(fs *flag.FlagSet) *loadgenConfig {
	c := &loadgenConfig{errorRates: journeyValues{}, latencies: journeyValues{}}
	fs.StringVar(&c.target, "target", "", "receiver `address`: host:port, or an http:// URL for OTLP/HTTP (default 127.0.0.1:4317 for grpc, http://127.0.0.1:4318/v1/traces for http)")
	fs.StringVar(&c.protocol, "protocol", "grpc", "OTLP `protocol`: grpc or http (protobuf)")
	fs.BoolVar(&c.gzip, "gzip", false, "gzip-compress requests")
	fs.StringVar(&c.tokenEnv, "token-env", "", "environment `variable` holding a bearer token to send")
	fs.Float64Var(&c.rate, "rate", 50, "`requests` (traces of 6–9 spans) per second over all journeys; 0 sends batches as fast as the receiver accepts")
	fs.DurationVar(&c.duration, "duration", time.Minute, "how long to send; 0 runs until interrupted")
	fs.IntVar(&c.batch, "batch", 1000, "spans per request when --rate is 0")
	fs.IntVar(&c.workers, "workers", 1, "concurrent senders when --rate is 0")
	fs.IntVar(&c.reuse, "reuse", 0, "when --rate is 0, generate (and encode) this many batches per worker once and resend them, to measure the receiver rather than the generator")
	fs.Float64Var(&c.baseErrors, "base-error-rate", 0.0002, "`fraction` of failing requests outside incidents")
	fs.Var(c.errorRates, "error-rate", "incident: `journey=fraction` of requests failing with HTTP 500 (repeatable, e.g. payment=0.05)")
	fs.Var(c.latencies, "latency", "incident: `journey=duration` added to every request (repeatable, e.g. booking=2s)")
	fs.DurationVar(&c.start, "incident-start", 0, "incident start, after the run starts")
	fs.DurationVar(&c.length, "incident-duration", 0, "incident length; 0 lasts to the end")
	fs.Float64Var(&c.sampleRatio, "sample-ratio", 1, "head-sampling `ratio` (0,1]: below 1 only that fraction of traces is sent, marked with tracestate ot=th so spanslo weighs them back up")
	fs.Uint64Var(&c.seed, "seed", 0, "random `seed`, for reproducible traffic; 0 picks one from the clock")
	fs.BoolVar(&c.demo, "demo", false, "run until interrupted with a recurring incident on --demo-journey (10% errors and +1s latency for 4m every --demo-every)")
	fs.StringVar(&c.demoJourney, "demo-journey", "payment", "`journey` the demo incident hits")
	fs.DurationVar(&c.demoEvery, "demo-every", 20*time.Minute, "how often the demo incident recurs")
	return c
}

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadgen", loadgenUsage, stdout)
	c := loadgenFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, ro, err := c.options(time.Now())
	if err != nil {
		return &exitError{2, fmt.Errorf("loadgen: %w", err)}
	}
	sender, closeFn, err := c.sender()
	if err != nil {
		return err
	}
	defer closeFn()
	var stats loadgen.Stats
	fmt.Fprintf(stderr, "loadgen: sending to %s over %s\n", c.targetOrDefault(), c.protocol)
	done := make(chan struct{})
	go report(stderr, &stats, done)
	err = loadgen.Run(ctx, opts, sender, ro, &stats)
	close(done)
	fmt.Fprintf(stdout, "sent %d spans in %d batches; %d rejected, %d refused (retried), %d batches failed\n",
		stats.Spans.Load(), stats.Batches.Load(), stats.Rejected.Load(), stats.Refused.Load(), stats.Failed.Load())
	if err != nil {
		return err
	}
	if stats.Batches.Load() == 0 && stats.Failed.Load() > 0 {
		return fmt.Errorf("loadgen: nothing delivered: %w", stats.LastError())
	}
	return nil
}

// options turns the flags into generator and run options; start is when
// the run (and incident offsets) begin.
func (c *loadgenConfig) options(start time.Time) (loadgen.Options, loadgen.RunOptions, error) {
	seed := c.seed
	if seed == 0 {
		seed = uint64(start.UnixNano())
	}
	opts := loadgen.Options{Seed: seed, ErrorRate: c.baseErrors, SampleRatio: c.sampleRatio}
	ro := loadgen.RunOptions{Rate: c.rate, Duration: c.duration, BatchSpans: c.batch, Workers: c.workers, Reuse: c.reuse}
	if c.sampleRatio <= 0 || c.sampleRatio > 1 {
		return opts, ro, fmt.Errorf("--sample-ratio %g not in (0, 1]", c.sampleRatio)
	}
	if c.protocol != "grpc" && c.protocol != "http" {
		return opts, ro, fmt.Errorf("--protocol %q: want grpc or http", c.protocol)
	}
	incidents := map[string]*loadgen.Incident{}
	get := func(j string) *loadgen.Incident {
		if incidents[j] == nil {
			in := loadgen.Incident{Journey: j, Start: start.Add(c.start)}
			if c.length > 0 {
				in.End = in.Start.Add(c.length)
			}
			incidents[j] = &in
		}
		return incidents[j]
	}
	for j, v := range c.errorRates {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return opts, ro, fmt.Errorf("--error-rate %s=%s: want a fraction between 0 and 1", j, v)
		}
		get(j).ErrorRate = f
	}
	for j, v := range c.latencies {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return opts, ro, fmt.Errorf("--latency %s=%s: want a duration like 2s", j, v)
		}
		get(j).Latency = d
	}
	if c.demo {
		ro.Duration = 0
		in := get(c.demoJourney)
		in.ErrorRate, in.Latency = 0.1, time.Second
		in.Start = start.Add(2 * time.Minute)
		in.End = in.Start.Add(4 * time.Minute)
		in.Every = c.demoEvery
	}
	for _, in := range incidents {
		opts.Incidents = append(opts.Incidents, *in)
	}
	return opts, ro, nil
}

func (c *loadgenConfig) targetOrDefault() string {
	switch {
	case c.target != "":
		return c.target
	case c.protocol == "http":
		return "http://127.0.0.1:4318/v1/traces"
	}
	return "127.0.0.1:4317"
}

func (c *loadgenConfig) sender() (loadgen.Sender, func(), error) {
	token := ""
	if c.tokenEnv != "" {
		token = os.Getenv(c.tokenEnv)
		if token == "" {
			return nil, nil, fmt.Errorf("loadgen: environment variable %s is empty", c.tokenEnv)
		}
	}
	target := c.targetOrDefault()
	if c.protocol == "http" {
		if !strings.Contains(target, "://") {
			target = "http://" + target + "/v1/traces"
		}
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		return &loadgen.HTTPSender{URL: target, Token: token, Gzip: c.gzip, Client: client}, func() {}, nil
	}
	g, err := loadgen.DialGRPC(target, token, c.gzip)
	if err != nil {
		return nil, nil, err
	}
	return g, func() { g.Close() }, nil
}

// report prints the sending rate every 10 seconds.
func report(w io.Writer, s *loadgen.Stats, done <-chan struct{}) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	last, lastT := int64(0), time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			n := s.Spans.Load()
			fmt.Fprintf(w, "loadgen: %.0f spans/s, %d refused, %d failed\n", float64(n-last)/now.Sub(lastT).Seconds(), s.Refused.Load(), s.Failed.Load())
			last, lastT = n, now
		}
	}
}
