package notify

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/notify/pagerduty"
	"github.com/spanslo/spanslo/notify/slack"
	"github.com/spanslo/spanslo/slo"
)

// Notifier delivers a group of messages to one destination. The
// integrations in notify/pagerduty and notify/slack implement it; their
// errors are *delivery.Error, already redacted.
type Notifier interface {
	Notify(ctx context.Context, msgs []delivery.Message) error
}

var (
	_ Notifier = (*pagerduty.Notifier)(nil)
	_ Notifier = (*slack.Notifier)(nil)
)

// integration is one configured notifier, ready to send.
type integration struct {
	name, typ string
	notifier  Notifier
	// maxBatch is how many messages one Notify call carries: PagerDuty
	// takes one event a request, Slack groups a burst into one message.
	maxBatch int
	// minInterval spaces requests: Slack's one message a second.
	minInterval time.Duration
	redact      *delivery.Redactor
	// setupErr says why the notifier cannot send (no secret), redacted.
	setupErr string
	// retiring: removed from the config by a reload while alerts it paged
	// were firing; it sends only their resolves, then goes.
	retiring bool
}

// newIntegration builds a notifier from its config and secret. A missing
// secret is not an error here: the notifier exists, reports unhealthy and
// fails its deliveries with reason "no_secret".
func newIntegration(n *slo.Notifier, opts *Options) (*integration, error) {
	secret, serr := loadSecret(n, opts)
	in := &integration{name: n.Name, typ: n.Type, redact: delivery.NewRedactor(secret), maxBatch: 1}
	if serr != nil {
		in.setupErr = in.redact.Error(serr)
	}
	switch n.Type {
	case "pagerduty":
		in.notifier = pagerduty.New(pagerduty.Config{Name: n.Name, RoutingKey: secret, URL: n.Options["url"],
			Source: n.Options["source"], Component: n.Options["component"], Group: n.Options["group"]}, opts.HTTPClient)
		in.minInterval = pagerduty.MinInterval
	case "slack":
		in.notifier = slack.New(slack.Config{Name: n.Name, WebhookURL: secret, Channel: n.Options["channel"],
			Username: n.Options["username"]}, opts.HTTPClient, opts.Now)
		in.maxBatch, in.minInterval = slack.MaxGroup, slack.MinInterval
	default:
		return nil, fmt.Errorf("notifier %q: type %q is not supported", n.Name, n.Type)
	}
	return in, nil
}

// loadSecret reads a notifier's routing key or webhook URL from its
// environment variable or file. Errors name the variable or file, never
// the value.
func loadSecret(n *slo.Notifier, opts *Options) (string, error) {
	what := "routing key"
	if n.Type == "slack" {
		what = "webhook URL"
	}
	switch {
	case n.SecretEnv != "":
		v := strings.TrimSpace(opts.Getenv(n.SecretEnv))
		if v == "" {
			return "", fmt.Errorf("notifier %q: %s: environment variable %s is not set", n.Name, what, n.SecretEnv)
		}
		return v, nil
	case n.SecretFile != "":
		data, err := os.ReadFile(n.SecretFile)
		if err != nil {
			return "", fmt.Errorf("notifier %q: %s: %w", n.Name, what, err)
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", fmt.Errorf("notifier %q: %s: file %s is empty", n.Name, what, n.SecretFile)
		}
		return v, nil
	}
	return "", fmt.Errorf("notifier %q: no %s configured", n.Name, what)
}

// state is a notifier's queue and health. It lives by notifier name, so it
// survives a reload that rebuilds the integration.
type state struct {
	mu      sync.Mutex
	pending map[string]*pending // by alert or zone key: the latest state wins
	health  NotifierHealth
	// setupFailed: unhealthy because the secret was missing.
	setupFailed bool
	// lastSend is when the last request started, for minInterval.
	lastSend time.Time
	// flushMu lets one flush at a time talk to the notifier.
	flushMu sync.Mutex
	wake    chan struct{}
}

func newState(name, typ string) *state {
	return &state{pending: map[string]*pending{}, wake: make(chan struct{}, 1),
		health: NotifierHealth{Name: name, Type: typ, Healthy: true}}
}

// pending is the latest thing to tell a notifier about one key.
type pending struct {
	alert   *burnrate.Alert
	zone    *burnrate.ZoneChange
	at      time.Time // event time, for ordering
	version uint64    // changes when a newer event replaces this one
	// notBefore defers a retry after the retry stage gave up.
	notBefore time.Time
}

// NotifierHealth is a notifier's delivery health, for the API.
type NotifierHealth struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Healthy bool   `json:"healthy"`
	// LastError is the last failure, with secrets redacted.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Pending     int       `json:"pending"`
}

// defaultClient has a timeout as a last resort; the retry stage sets
// shorter per-attempt deadlines.
var defaultClient = &http.Client{Timeout: time.Minute}
