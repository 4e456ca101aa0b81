package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/slo"
)

// DedupKey is the stable dedup_key of an alert key ("series/rule"), so a
// retry or a restart never opens a second incident. Keys longer than the
// API's 255 characters keep a readable prefix and end in a hash of the
// whole key.
func DedupKey(key string) string {
	k := "spanslo/" + key
	if len(k) <= MaxDedupKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	h := hex.EncodeToString(sum[:])
	cut := MaxDedupKey - len(h) - 1
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut] + "~" + h
}

// Details is the event's custom_details: what the on-call engineer needs
// before opening the dashboard.
type Details struct {
	SLO              string            `json:"slo"`
	Series           string            `json:"series"`
	Journey          string            `json:"journey"`
	Labels           map[string]string `json:"labels,omitempty"`
	Rule             string            `json:"rule"`
	Severity         string            `json:"severity"`
	Objective        string            `json:"objective"`
	Factor           float64           `json:"burn_rate_threshold"`
	LongWindow       string            `json:"long_window"`
	ShortWindow      string            `json:"short_window"`
	BurnLong         float64           `json:"burn_rate_long"`
	BurnShort        float64           `json:"burn_rate_short"`
	BudgetRemaining  string            `json:"budget_remaining"`
	TimeToExhaustion string            `json:"time_to_exhaustion"`
	Zone             string            `json:"zone,omitempty"`
	FiredAt          string            `json:"fired_at"`
	ExampleTraces    []string          `json:"example_trace_ids,omitempty"`
	Repeat           bool              `json:"repeat,omitempty"`
	Test             bool              `json:"test,omitempty"`
}

// ZoneDetails is the custom_details of a zone change.
type ZoneDetails struct {
	SLO             string `json:"slo"`
	Series          string `json:"series"`
	Journey         string `json:"journey"`
	From            string `json:"from"`
	To              string `json:"to"`
	BudgetRemaining string `json:"budget_remaining"`
}

// Build renders a message as an Events API v2 event within the API's
// limits: summary cut to 1024 characters, dedup_key to 255, and a body
// over 512 KB loses custom_details first, then links.
func Build(conf Config, m *delivery.Message) (*pd.V2Event, error) {
	ev := &pd.V2Event{RoutingKey: conf.RoutingKey, Client: "spanslo"}
	switch {
	case m.Alert != nil:
		buildAlert(ev, conf, m)
	case m.Zone != nil:
		buildZone(ev, conf, m)
	default:
		return nil, fmt.Errorf("empty message")
	}
	if ev.Payload != nil {
		ev.Payload.Summary = delivery.Truncate(ev.Payload.Summary, MaxSummary)
	}
	for _, trim := range []func(){
		func() {},
		func() { ev.Payload.Details = nil },
		func() { ev.Links = nil },
	} {
		if ev.Payload == nil && len(ev.Links) == 0 {
			return ev, nil
		}
		trim()
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event: %w", err)
		}
		if len(body) <= MaxBody {
			return ev, nil
		}
	}
	return nil, fmt.Errorf("event over %d bytes even without details and links", MaxBody)
}

func buildAlert(ev *pd.V2Event, conf Config, m *delivery.Message) {
	a := m.Alert
	ev.DedupKey = DedupKey(a.Key)
	if m.Resolved() {
		ev.Action = "resolve"
		return // PagerDuty ignores a resolve's payload
	}
	ev.Action = "trigger"
	ev.ClientURL = a.DashboardURL
	ev.Payload = &pd.V2Payload{
		Summary:   Summary(m),
		Source:    conf.Source,
		Severity:  severity(a.Severity),
		Timestamp: timestamp(a.FiredAt),
		Component: or(conf.Component, a.SLOID),
		Group:     or(conf.Group, a.Journey),
		Class:     "slo-burn-rate",
		Details:   alertDetails(m),
	}
	ev.Links = links(a.RunbookURL, a.DashboardURL, a.Traces)
}

func buildZone(ev *pd.V2Event, conf Config, m *delivery.Message) {
	z := m.Zone
	ev.DedupKey = DedupKey("zone/" + z.SeriesID)
	if z.To == slo.ZoneNormal {
		ev.Action = "resolve"
		return
	}
	sev := "info"
	if z.To == slo.ZoneFreeze {
		sev = "warning"
	}
	ev.Action = "trigger"
	ev.ClientURL = z.DashboardURL
	ev.Payload = &pd.V2Payload{
		Summary:   Summary(m),
		Source:    conf.Source,
		Severity:  sev,
		Timestamp: timestamp(z.At),
		Component: or(conf.Component, z.SLOID),
		Group:     or(conf.Group, z.Journey),
		Class:     "slo-budget-zone",
		Details: ZoneDetails{SLO: z.SLOID, Series: z.SeriesID, Journey: z.Journey, From: string(z.From),
			To: string(z.To), BudgetRemaining: delivery.Percent(z.BudgetRemaining)},
	}
	ev.Links = links(z.RunbookURL, z.DashboardURL, nil)
}

// Summary is the one line an on-call engineer reads at 3 a.m.: which
// journey, what burns, how fast, how much budget is left and for how long.
func Summary(m *delivery.Message) string {
	var b strings.Builder
	if m.Test {
		b.WriteString("[TEST from spanslo notify test, no action needed] ")
	}
	if z := m.Zone; z != nil {
		fmt.Fprintf(&b, "%s journey: %s error budget zone %s → %s, %s budget left", z.Journey, z.SeriesID, z.From, z.To,
			delivery.Percent(z.BudgetRemaining))
		return b.String()
	}
	a := m.Alert
	if m.Repeat {
		b.WriteString("[still firing] ")
	}
	fmt.Fprintf(&b, "%s journey: %s burning error budget %s over %s (%s over %s, %s threshold %s) — %s budget left, exhausted in %s",
		a.Journey, a.SeriesID, delivery.Burn(a.BurnLong), slo.FormatDuration(a.LongWindow),
		delivery.Burn(a.BurnShort), slo.FormatDuration(a.ShortWindow), a.Severity, delivery.Burn(a.Factor),
		delivery.Percent(a.BudgetRemaining), delivery.Exhaustion(a.TimeToExhaustion))
	return b.String()
}

func alertDetails(m *delivery.Message) Details {
	a := m.Alert
	d := Details{
		SLO: a.SLOID, Series: a.SeriesID, Journey: a.Journey, Labels: a.Labels, Rule: a.Rule, Severity: a.Severity,
		Objective: fmt.Sprintf("%g%%", a.Objective*100), Factor: finite(a.Factor),
		LongWindow: slo.FormatDuration(a.LongWindow), ShortWindow: slo.FormatDuration(a.ShortWindow),
		BurnLong: finite(a.BurnLong), BurnShort: finite(a.BurnShort),
		BudgetRemaining: delivery.Percent(a.BudgetRemaining), TimeToExhaustion: delivery.Exhaustion(a.TimeToExhaustion),
		Zone: string(m.CurrentZone), FiredAt: timestamp(a.FiredAt), Repeat: m.Repeat, Test: m.Test,
	}
	for _, t := range a.Traces {
		d.ExampleTraces = append(d.ExampleTraces, t.TraceID)
	}
	return d
}

// link is an Events API link.
type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

func links(runbook, dashboard string, traces []burnrate.TraceLink) []interface{} {
	var ls []interface{}
	if runbook != "" {
		ls = append(ls, link{runbook, "Runbook"})
	}
	if dashboard != "" {
		ls = append(ls, link{dashboard, "SLO dashboard"})
	}
	for _, t := range traces {
		if t.URL != "" {
			ls = append(ls, link{t.URL, "Example bad trace " + t.TraceID})
		}
	}
	return ls
}

// severity maps a rule's severity to the Events API's.
func severity(s string) string {
	if s == slo.SeverityPage {
		return "critical"
	}
	return "warning"
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// finite keeps JSON encodable: encoding/json rejects Inf and NaN.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
