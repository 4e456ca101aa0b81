// Package slack posts spanslo alerts and zone changes to a Slack incoming
// webhook as Block Kit messages with a plain-text fallback.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spanslo/spanslo/notify/delivery"
)

// MaxGroup is how many notifications one message carries: Slack allows 50
// blocks a message and each notification takes up to four.
const MaxGroup = 10

// MinInterval is the gap Slack asks for between messages to one webhook.
const MinInterval = time.Second

// Config is one Slack notifier.
type Config struct {
	Name string
	// WebhookURL is the incoming webhook (a secret: it is the credential).
	WebhookURL string
	Channel    string // optional override, e.g. "#reliability"
	Username   string // optional, default "spanslo"
}

// Notifier posts to one webhook. It holds no mutable state.
type Notifier struct {
	conf   Config
	client *http.Client
	redact *delivery.Redactor
	now    func() time.Time
}

// New returns a notifier using client (http.DefaultClient when nil); now
// reads the clock for Retry-After dates.
func New(conf Config, client *http.Client, now func() time.Time) *Notifier {
	if client == nil {
		client = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	if conf.Username == "" {
		conf.Username = "spanslo"
	}
	return &Notifier{conf: conf, client: client, redact: delivery.NewRedactor(conf.WebhookURL), now: now}
}

// Notify posts msgs as one message (at most MaxGroup of them; the
// dispatcher groups bursts). The returned error is a *delivery.Error.
func (n *Notifier) Notify(ctx context.Context, msgs []delivery.Message) error {
	what := "slack " + n.conf.Name
	if n.conf.WebhookURL == "" {
		return &delivery.Error{Reason: "no_secret", Msg: what + ": webhook URL is not set"}
	}
	body, err := json.Marshal(Build(n.conf, msgs))
	if err != nil {
		return &delivery.Error{Reason: "client_error", Msg: fmt.Sprintf("%s: encode message: %v", what, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.conf.WebhookURL, bytes.NewReader(body))
	if err != nil {
		// The parse error quotes the URL: say only that it is malformed.
		return &delivery.Error{Reason: "client_error", Msg: what + ": webhook URL is not a valid URL"}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "spanslo")
	resp, err := n.client.Do(req)
	if err != nil {
		return delivery.NetError(err, n.redact, what)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := &delivery.Error{StatusCode: resp.StatusCode,
		Msg: fmt.Sprintf("%s: HTTP %d: %s", what, resp.StatusCode, n.redact.String(delivery.Truncate(strings.TrimSpace(string(text)), 512)))}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		e.Reason, e.Retryable = "rate_limited", true
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), n.now())
	case code >= 500:
		e.Reason, e.Retryable = "server_error", true
	case code == http.StatusBadRequest:
		e.Reason = "bad_request"
	case code == http.StatusForbidden || code == http.StatusNotFound || code == http.StatusGone:
		// The hook was revoked, or its channel deleted or archived.
		e.Reason = "rejected"
	default:
		e.Reason = "client_error"
	}
	return e
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		d = time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
		d = t.Sub(now)
	}
	return min(d, maxRetryAfter)
}

// maxRetryAfter caps a Retry-After: past the retry deadline anyway, and
// a huge value must not overflow.
const maxRetryAfter = 24 * time.Hour
