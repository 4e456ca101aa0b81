package delivery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/spanslo/spanslo/slo"
)

// Truncate cuts s to at most max bytes on a character boundary, ending in
// "…" when cut. Bytes bound characters, so the result also fits a limit
// counted in characters.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// Percent renders a budget fraction as "62.0%".
func Percent(f float64) string {
	return fmt.Sprintf("%.1f%%", f*100)
}

// Burn renders a burn rate as "16.2x".
func Burn(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx", f)
}

// Exhaustion renders a time to exhaustion: "now", "never" (not burning) or
// a rounded duration such as "1d6h".
func Exhaustion(d time.Duration) string {
	switch {
	case d >= slo.NoExhaustion:
		return "never"
	case d <= 0:
		return "now (budget spent)"
	case d >= 24*time.Hour:
		return slo.FormatDuration(d.Round(time.Hour))
	case d >= time.Hour:
		return slo.FormatDuration(d.Round(time.Minute))
	default:
		return slo.FormatDuration(d.Round(time.Second))
	}
}

// NetError classifies a failure where no HTTP response arrived. Both are
// retryable: the request may not have reached the service, and the
// integrations are idempotent (dedup keys) or grouped.
func NetError(err error, r *Redactor, what string) *Error {
	var ne net.Error
	reason := "network"
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		reason = "timeout"
	}
	return &Error{Reason: reason, Retryable: true, Msg: fmt.Sprintf("%s: %s", what, r.Error(withoutURL(err)))}
}

// withoutURL replaces the URL net/http puts in its errors with its scheme
// and host: a webhook URL is a secret in every part but those, and
// net/http prints it with a masked password yet the user name and query
// intact.
func withoutURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	where := ue.Op
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		where += " " + u.Scheme + "://" + u.Host
	}
	return fmt.Errorf("%s: %w", where, ue.Err)
}
