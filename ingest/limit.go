package ingest

import "sync/atomic"

// inFlight bounds the request bytes held in memory at once. A request that
// does not fit is refused (and retried by the client) rather than queued, so
// memory stays flat however fast spans are offered.
type inFlight struct {
	max  int64
	used atomic.Int64
}

// acquire takes n bytes if they fit under the bound.
func (l *inFlight) acquire(n int64) bool {
	for {
		cur := l.used.Load()
		if cur+n > l.max {
			return false
		}
		if l.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (l *inFlight) release(n int64) { l.used.Add(-n) }

// full reports whether no more bytes fit.
func (l *inFlight) full() bool { return l.used.Load() >= l.max }

func (l *inFlight) bytes() float64 { return float64(l.used.Load()) }
