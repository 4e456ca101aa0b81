// Package pagerduty sends spanslo alerts to PagerDuty's Events API v2:
// trigger on fire, resolve on resolve, one incident per SLO series and rule.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/spanslo/spanslo/notify/delivery"
)

// DefaultURL is the Events API v2 base URL; the client appends /v2/enqueue.
const DefaultURL = "https://events.pagerduty.com"

// Events API v2 limits.
const (
	MaxSummary  = 1024
	MaxDedupKey = 255
	MaxBody     = 512 * 1024
)

// MinInterval spaces events to one routing key: the Events API takes
// about 120 a minute before it answers 429.
const MinInterval = 500 * time.Millisecond

// Config is one PagerDuty notifier.
type Config struct {
	Name string
	// RoutingKey is the integration key (a secret).
	RoutingKey string
	// URL is the Events API base URL, DefaultURL when empty. A URL ending
	// in /v2/enqueue is accepted too.
	URL       string
	Source    string // default "spanslo"
	Component string // default: the SLO id
	Group     string // default: the journey
}

// Notifier sends events to one routing key. It holds no mutable state, so
// concurrent use is safe.
type Notifier struct {
	conf   Config
	client *http.Client
	redact *delivery.Redactor
}

// New returns a notifier using client (http.DefaultClient when nil).
func New(conf Config, client *http.Client) *Notifier {
	if client == nil {
		client = http.DefaultClient
	}
	if conf.URL == "" {
		conf.URL = DefaultURL
	}
	conf.URL = strings.TrimSuffix(strings.TrimSuffix(conf.URL, "/"), "/v2/enqueue")
	if conf.Source == "" {
		conf.Source = "spanslo"
	}
	return &Notifier{conf: conf, client: client, redact: delivery.NewRedactor(conf.RoutingKey)}
}

// Notify sends each message as one event, stopping at the first failure.
// The returned error is a *delivery.Error, redacted.
func (n *Notifier) Notify(ctx context.Context, msgs []delivery.Message) error {
	for i := range msgs {
		if err := n.send(ctx, &msgs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (n *Notifier) send(ctx context.Context, m *delivery.Message) error {
	if n.conf.RoutingKey == "" {
		return &delivery.Error{Reason: "no_secret", Msg: fmt.Sprintf("pagerduty %s: routing key is not set", n.conf.Name)}
	}
	ev, err := Build(n.conf, m)
	if err != nil {
		return &delivery.Error{Reason: "too_large", Msg: fmt.Sprintf("pagerduty %s: %v", n.conf.Name, err)}
	}
	ex := &exchange{client: n.client}
	client := pd.NewClient("", pd.WithV2EventsAPIEndpoint(n.conf.URL))
	client.HTTPClient = ex
	_, err = client.ManageEventWithContext(ctx, ev)
	return n.classify(ex, err)
}

// classify turns the outcome of one request into a delivery error, reading
// the response the exchange captured: the library neither keeps PagerDuty's
// error message (its error type expects another JSON shape) nor the
// network error's type.
func (n *Notifier) classify(ex *exchange, err error) error {
	what := "pagerduty " + n.conf.Name
	switch {
	case ex.err != nil:
		return delivery.NetError(ex.err, n.redact, what)
	case ex.status == 0 && err != nil:
		return &delivery.Error{Reason: "client_error", Msg: fmt.Sprintf("%s: %s", what, n.redact.Error(err))}
	case ex.status >= 200 && ex.status < 300:
		return nil // accepted; a body we cannot decode does not undo that
	}
	msg := fmt.Sprintf("%s: HTTP %d: %s", what, ex.status, n.redact.String(apiMessage(ex.body)))
	e := &delivery.Error{StatusCode: ex.status, Msg: msg}
	switch {
	case ex.status == http.StatusTooManyRequests:
		e.Reason, e.Retryable = "rate_limited", true
	case ex.status >= 500:
		e.Reason, e.Retryable = "server_error", true
	case ex.status == http.StatusBadRequest:
		e.Reason = "bad_request"
	default:
		e.Reason = "client_error"
	}
	return e
}

// apiMessage renders PagerDuty's error body ({"status","message","errors"}).
func apiMessage(body []byte) string {
	var r struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil || r.Message == "" && r.Status == "" {
		return delivery.Truncate(strings.TrimSpace(string(body)), 512)
	}
	s := r.Message
	if r.Status != "" && r.Status != r.Message {
		s = r.Status + ": " + s
	}
	if len(r.Errors) > 0 {
		s += " (" + strings.Join(r.Errors, "; ") + ")"
	}
	return delivery.Truncate(s, 1024)
}

// exchange is the HTTP client of one request: it remembers the status,
// error body and transport error for classify.
type exchange struct {
	client *http.Client
	status int
	body   []byte
	err    error
}

func (x *exchange) Do(req *http.Request) (*http.Response, error) {
	resp, err := x.client.Do(req)
	if err != nil {
		x.err = err
		return nil, err
	}
	x.status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		x.body, _ = io.ReadAll(io.LimitReader(resp.Body, 64*1024))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(x.body))
	}
	return resp, nil
}

var _ pd.HTTPClient = (*exchange)(nil)

// timestamp formats times as the Events API expects.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
