// Package delivery holds what the notification dispatcher and its
// integrations (notify/pagerduty, notify/slack) share: the message handed to
// an integration, the error an integration returns so the retry stage knows
// what to do, and secret redaction.
package delivery

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/slo"
)

// Message is one notification for one integration: an alert transition, a
// repeat of a still-firing alert, or a zone change.
type Message struct {
	// Exactly one of Alert and Zone is set.
	Alert *burnrate.Alert
	Zone  *burnrate.ZoneChange
	// CurrentZone is the series' policy zone at the alert's budget, for
	// the zone field of alert messages ("" when unknown).
	CurrentZone slo.Zone
	// Repeat marks the re-notification of an alert that is still firing.
	Repeat bool
	// Test marks an operator's test alert (spanslo notify test).
	Test bool
	// At is when the dispatcher built the message.
	At time.Time
}

// Resolved reports whether the message resolves an alert.
func (m *Message) Resolved() bool {
	return m.Alert != nil && m.Alert.State == burnrate.StateResolved
}

// Error is an integration's delivery failure, already redacted. The retry
// stage reads Retryable and RetryAfter; metrics count by Reason.
type Error struct {
	// Reason is a short metric label: "rate_limited", "server_error",
	// "network", "timeout", "bad_request", "rejected", "client_error",
	// "no_secret", "too_large".
	Reason string
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	Retryable  bool
	// RetryAfter is the server's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Msg is the redacted description.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Redactor replaces secrets (and their URL-escaped forms) with "<secret>".
type Redactor struct {
	secrets []string
}

// Placeholder is what a secret is replaced with.
const Placeholder = "<secret>"

// NewRedactor redacts the given secrets; empty ones are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		q := strconv.Quote(s) // how %q and JSON-ish dumps print it
		r.secrets = append(r.secrets, s, url.QueryEscape(s), url.PathEscape(s), q[1:len(q)-1])
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			// net/http may print the URL with a redacted password or
			// re-encoded path: redact those spellings, and each secret
			// part (user info, path, query) on its own, too.
			r.secrets = append(r.secrets, u.Redacted(), u.String())
			if u.Path != "" && u.Path != "/" {
				r.secrets = append(r.secrets, u.Path, u.EscapedPath())
			}
			if u.RawQuery != "" {
				r.secrets = append(r.secrets, "?"+u.RawQuery, u.RawQuery)
			}
			if u.User != nil {
				masked := *u
				masked.User = url.UserPassword(u.User.Username(), "***") // how net/http prints it
				r.secrets = append(r.secrets, masked.String(), u.User.String()+"@", u.User.Username()+":***@")
				if p, ok := u.User.Password(); ok && p != "" {
					r.secrets = append(r.secrets, p, url.QueryEscape(p))
				}
			}
		}
	}
	// Longest first, so a secret is not half replaced via a shorter form.
	for i := 1; i < len(r.secrets); i++ {
		for j := i; j > 0 && len(r.secrets[j]) > len(r.secrets[j-1]); j-- {
			r.secrets[j], r.secrets[j-1] = r.secrets[j-1], r.secrets[j]
		}
	}
	return r
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return s
}

// Error is err's message, redacted ("" for nil).
func (r *Redactor) Error(err error) string {
	if err == nil {
		return ""
	}
	return r.String(err.Error())
}
