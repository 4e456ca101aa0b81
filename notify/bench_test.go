package notify_test

import (
	"testing"

	"github.com/spanslo/spanslo/burnrate"
)

// Enqueue runs on the evaluator's tick: it must stay cheap and never wait
// for delivery.
func BenchmarkEnqueue(b *testing.B) {
	e := newEnv(b, accepted, slackOK)
	for _, bc := range []struct {
		name string
		n    int
	}{{"one alert", 1}, {"burst of 50", 50}} {
		events := make([]burnrate.Event, bc.n)
		for i := range events {
			a := alert("ticket-1d", "ticket", burnrate.StateFiring)
			a.Key = a.Key + string(rune('a'+i%26)) + string(rune('a'+i/26))
			events[i] = fire(a)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.d.Enqueue(events...)
			}
		})
	}
}
