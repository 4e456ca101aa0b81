package ingest

import (
	"sync/atomic"
	"time"

	"github.com/spanslo/spanslo/slo"
)

// SwappableObserver forwards to an Observer that can be replaced while
// spans flow, so a config reload swaps the Tracker without restarting the
// receivers.
type SwappableObserver struct {
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

// Load returns the current observer.
func (s *SwappableObserver) Load() Observer { return s.cur.Load().Observer }

// Observe forwards to the current observer.
func (s *SwappableObserver) Observe(span slo.Span, weight float64, now time.Time) slo.Outcome {
	return s.cur.Load().Observe(span, weight, now)
}
