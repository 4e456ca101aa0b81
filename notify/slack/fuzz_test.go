package slack

import (
	"testing"
	"time"
)

// Retry-After comes from the network: whatever it says, the wait is never
// negative and parsing never panics.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"2", "0", "-1", "", "Sun, 01 Mar 2026 03:00:05 GMT", "99999999999999999999", " 3 "} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 {
			t.Errorf("retryAfter(%q) = %v", v, d)
		}
	})
}
