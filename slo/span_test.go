package slo_test

import (
	"time"

	"github.com/spanslo/spanslo/slo"
	"github.com/spanslo/spanslo/slo/slotest"
)

// span is a booking-api SERVER span with a remote parent, trace id {1}, an
// HTTP status (0: none) and a duration, ending at the unix epoch + 1e9 s.
func span(status int, d time.Duration) *slotest.Span {
	s := slotest.Server("booking-api", status, time.Unix(0, 1e18), d)
	s.ParentOf, s.Trace = slo.ParentRemote, slo.TraceID{1}
	return s
}
