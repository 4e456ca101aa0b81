package ingest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// SwappableObserver forwards to an Observer that can be replaced while
// spans flow, so a config reload swaps the Tracker without restarting the
// receivers. A batch holds the observer it started with (a read lock, taken
// once per batch); Replace waits for those batches, so no span is counted on
// a tracker after its history was handed to the next one.
type SwappableObserver struct {
	mu  sync.RWMutex
	cur atomic.Pointer[observerBox]
}

type observerBox struct{ Observer }

// NewSwappableObserver starts with obs.
func NewSwappableObserver(obs Observer) *SwappableObserver {
	s := &SwappableObserver{}
	s.Swap(obs)
	return s
}

// Swap installs obs and returns the one it replaces.
func (s *SwappableObserver) Swap(obs Observer) Observer {
	old := s.cur.Swap(&observerBox{obs})
	if old == nil {
		return nil
	}
	return old.Observer
}

// Replace installs the observer next returns, given the current one, once
// no batch is using the current one: next can move its state over (e.g.
// slo.Migrate) without losing spans counted meanwhile.
func (s *SwappableObserver) Replace(next func(old Observer) Observer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Store(&observerBox{next(s.cur.Load().Observer)})
}

// Load returns the current observer.
func (s *SwappableObserver) Load() Observer { return s.cur.Load().Observer }

// hold returns the current observer and keeps it current until release.
func (s *SwappableObserver) hold() (obs Observer, release func()) {
	s.mu.RLock()
	return s.cur.Load().Observer, s.mu.RUnlock
}

// Observe forwards to the current observer.
func (s *SwappableObserver) Observe(span slo.Span, weight float64, now time.Time) slo.Outcome {
	obs, release := s.hold()
	defer release()
	return obs.Observe(span, weight, now)
}
