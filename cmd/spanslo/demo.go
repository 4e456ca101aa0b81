package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spanslo/spanslo/loadgen"
)

// The demo incident: 30 % errors and +1 s for 6 minutes burns the payment
// budgets at ~300× (availability) and 200× (latency), enough to page on the
// 1h/5m rule about 3 minutes in, even over an hour of healthy history.
const (
	demoIncidentErrors = 0.3
	demoIncidentLength = 6 * time.Minute
)

// startDemo feeds this server the load generator's traffic: first a week of
// history (head-sampled, each span weighted back up, with one past incident
// on search), then live traffic with a recurring incident on one journey,
// so a newcomer sees budgets in every zone and an alert fire within minutes.
func (s *server) startDemo() (func(context.Context) error, error) {
	send, err := s.demoSender()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		now := s.now()
		if err := s.backfill(ctx, send, now); err != nil && ctx.Err() == nil {
			s.log.Error("demo: history not sent", "err", err)
		}
		live := loadgen.Options{
			Seed: uint64(now.UnixNano()), ErrorRate: 0.0002,
			Incidents: []loadgen.Incident{{
				Journey: s.cfg.DemoJourney, ErrorRate: demoIncidentErrors, Latency: time.Second,
				Start: now.Add(2 * time.Minute), End: now.Add(2*time.Minute + demoIncidentLength), Every: s.cfg.DemoEvery,
			}},
		}
		s.log.Info("demo: live traffic", "rate", s.cfg.DemoRate, "incident_journey", s.cfg.DemoJourney,
			"first_incident", live.Incidents[0].Start.Format(time.TimeOnly), "every", s.cfg.DemoEvery)
		var stats loadgen.Stats
		if err := loadgen.Run(ctx, live, send, loadgen.RunOptions{Rate: s.cfg.DemoRate}, &stats); err != nil && ctx.Err() == nil {
			s.log.Error("demo: load generator stopped", "err", err)
		}
	}()
	return func(context.Context) error { cancel(); <-done; return nil }, nil
}

func (s *server) demoSender() (loadgen.Sender, error) {
	addr := s.ingest.HTTPAddr()
	if addr == nil {
		return nil, errors.New("--demo sends over OTLP/HTTP; --otlp-http-addr must not be empty")
	}
	token := ""
	if len(s.tokens.current) > 0 {
		token = s.tokens.current[0]
	}
	return &loadgen.HTTPSender{URL: "http://" + addr.String() + "/v1/traces", Token: token, Gzip: true,
		Client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// backfill sends --demo-backfill of history, one request per simulated
// hour. Traffic is head-sampled to about 8 requests a minute, so each span
// stands for DemoRate×60/8 requests (tracestate ot=th), the way a sampled
// production fleet reports.
func (s *server) backfill(ctx context.Context, send loadgen.Sender, now time.Time) error {
	if s.cfg.DemoBackfill <= 0 {
		return nil
	}
	const perMinute = 8
	ratio := min(1, perMinute/(s.cfg.DemoRate*60))
	past := now.Add(-2 * 24 * time.Hour)
	g, err := loadgen.New(loadgen.Options{
		Seed: uint64(now.UnixNano()) + 1, ErrorRate: 0.0002, SampleRatio: ratio,
		Incidents: []loadgen.Incident{{Journey: "search", ErrorRate: 0.08, Start: past, End: past.Add(45 * time.Minute)}},
	})
	if err != nil {
		return err
	}
	from := now.Add(-s.cfg.DemoBackfill).Truncate(time.Minute)
	s.log.Info("demo: sending history", "from", from.Format(time.DateTime), "sample_ratio", ratio)
	for hour := from; hour.Before(now); hour = hour.Add(time.Hour) {
		batch := g.Traces(hour, 0)
		for m := time.Duration(0); m < time.Hour && hour.Add(m).Before(now); m += time.Minute {
			g.Traces(hour.Add(m), perMinute).ResourceSpans().MoveAndAppendTo(batch.ResourceSpans())
		}
		reply, err := send.Send(ctx, batch)
		if err != nil {
			return fmt.Errorf("history at %s: %w", hour.Format(time.DateTime), err)
		}
		if reply.Rejected > 0 {
			s.log.Warn("demo: history spans rejected", "at", hour.Format(time.DateTime), "rejected", reply.Rejected)
		}
	}
	return nil
}
