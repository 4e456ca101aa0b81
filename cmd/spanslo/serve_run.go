package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/ingest"
	"github.com/spanslo/spanslo/slo"
)

// start opens the listeners and starts the background loops. The loops run
// on their own context, ended by shutdown once ingest has drained, so every
// accepted span is counted, evaluated and flushed before spanslo stops.
// Each part appends its stop step; shutdown runs them in reverse.
func (s *server) start(ctx context.Context) error {
	s.stop = append(s.stop, s.closeStore)
	bg, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goLoop := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	goLoop(func() { s.store.Run(bg, s.tracker) })
	goLoop(func() { _ = s.dispatcher.Run(bg) })
	goLoop(func() { _ = s.evaluator.Run(bg, s.cfg.EvalInterval, s.handleEvents) })
	goLoop(func() { s.watchSIGHUP(bg) })
	if s.tokens.file != "" {
		goLoop(func() { s.tokens.watch(bg, 10*time.Second, s.ingest.SetTokens, s.log) })
	}
	// The last tick's alert state is saved and the final flush done before
	// the store closes.
	s.stop = append(s.stop, func(context.Context) error {
		cancel()
		wg.Wait()
		s.saveAlertState()
		s.flushNotifications()
		return nil
	})
	steps := []func() (func(context.Context) error, error){
		func() (func(context.Context) error, error) { return s.api.Shutdown, s.startAPI() },
		func() (func(context.Context) error, error) { return s.ingest.Shutdown, s.ingest.Start(ctx) },
	}
	if s.cfg.Demo {
		steps = append(steps, s.startDemo)
	}
	for _, step := range steps {
		stop, err := step()
		if err != nil {
			_ = s.shutdown(context.Background())
			return err
		}
		s.stop = append(s.stop, stop)
	}
	s.ready.Store(true)
	s.log.Info("spanslo serving", "api", "http://"+s.apiAddr.String(), "otlp_grpc", addrString(s.ingest.GRPCAddr()),
		"otlp_http", addrString(s.ingest.HTTPAddr()), "data", s.cfg.DataDir)
	return nil
}

func (s *server) startAPI() error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s.apiAddr = ln.Addr()
	go func() {
		if err := s.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "err", err)
		}
	}()
	return nil
}

func (s *server) closeStore(context.Context) error { return s.store.Close() }

// maxStopFlush bounds the last delivery attempt at shutdown.
const maxStopFlush = 10 * time.Second

// flushNotifications tries once more to deliver what is queued, on its own
// budget (the shutdown timeout may be spent draining ingest). A notifier
// that is down does not fail the stop: the saved alert state still owes
// those triggers and resolves, and the next start sends them.
func (s *server) flushNotifications() {
	budget := maxStopFlush
	if t := s.cfg.ShutdownTimeout; t > 0 && t < budget {
		budget = t
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	err := s.dispatcher.Flush(ctx)
	pending := 0
	for _, h := range s.dispatcher.Health() {
		pending += h.Pending
	}
	if pending > 0 {
		// Errors are redacted by the notifiers.
		s.log.Warn("notifications not delivered before stopping; alert triggers and resolves are sent after the next start",
			"pending", pending, "err", err)
	} else if err != nil {
		s.log.Warn("notification flush at stop failed", "err", err)
	}
}

// handleEvents takes each tick's transitions to the notifiers and keeps the
// alert state durable.
func (s *server) handleEvents(evs []burnrate.Event) {
	for _, ev := range evs {
		if ev.Alert != nil {
			s.log.Info("alert", "slo", ev.Alert.SeriesID, "rule", ev.Alert.Rule, "severity", ev.Alert.Severity,
				"state", ev.Alert.State, "burn_long", ev.Alert.BurnLong, "burn_short", ev.Alert.BurnShort)
		}
		if ev.Zone != nil {
			s.log.Info("zone change", "slo", ev.Zone.SeriesID, "from", ev.Zone.From, "to", ev.Zone.To, "budget_remaining", ev.Zone.BudgetRemaining)
		}
	}
	s.dispatcher.Enqueue(evs...)
	if len(evs) > 0 {
		s.saveAlertState()
	}
}

func (s *server) saveAlertState() {
	data, err := s.evaluator.State()
	if err == nil {
		err = s.store.SaveBlob(alertStateBlob, data)
	}
	if err != nil {
		s.log.Error("alert state not saved", "err", err)
	}
}

// shutdown runs the stop steps in reverse order of start: the demo load
// stops, receivers drain, the API closes, then the loops end with a final
// evaluation save and flush, and the store closes.
func (s *server) shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	for i := len(s.stop) - 1; i >= 0; i-- {
		if err := s.stop[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.stop = nil
	return errors.Join(errs...)
}

func (s *server) watchSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := s.reload(ctx); err != nil {
				s.log.Error("reload failed; the previous config keeps running", "err", err)
			}
		}
	}
}

// reload re-reads slos.yaml. An invalid file changes nothing (the error is
// slo.Problems, with file:line messages); otherwise a new tracker takes over
// with the history of every SLO whose id did not change, and the evaluator
// resolves the alerts of SLOs that are gone.
func (s *server) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cfg, err := slo.LoadFile(s.cfg.ConfigPath)
	if err != nil {
		return err
	}
	if err := s.dispatcher.Reload(cfg); err != nil {
		return fmt.Errorf("notifiers: %w", err)
	}
	next := slo.NewTracker(cfg)
	var kept, dropped int
	// Replace waits for the batches counting on the old tracker, so the
	// migrated history includes every span accepted before the swap.
	s.observer.Replace(func(ingest.Observer) ingest.Observer {
		kept, dropped = slo.Migrate(s.tracker(), next)
		s.current.Store(next)
		return next
	})
	s.evaluator.SetTracker(next)
	s.slos.Store(cfg)
	s.log.Info("config reloaded", "file", s.cfg.ConfigPath, "slos", len(cfg.SLOs), "series_kept", kept, "series_dropped", dropped)
	return nil
}
