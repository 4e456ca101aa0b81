package slack

import (
	"fmt"
	"strings"

	"github.com/spanslo/spanslo/burnrate"
	"github.com/spanslo/spanslo/notify/delivery"
	"github.com/spanslo/spanslo/slo"
)

// Payload is an incoming-webhook message: Block Kit blocks and the
// plain-text fallback shown in notifications and old clients.
type Payload struct {
	Channel  string  `json:"channel,omitempty"`
	Username string  `json:"username,omitempty"`
	Text     string  `json:"text"`
	Blocks   []Block `json:"blocks"`
}

// Block is a Block Kit layout block (header, section, actions, context,
// divider); unused fields are omitted.
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"` // "plain_text" or "mrkdwn"
	Text string `json:"text"`
}

// Button is a link button.
type Button struct {
	Type string `json:"type"` // "button"
	Text Text   `json:"text"`
	URL  string `json:"url"`
}

// Block Kit limits.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxURL     = 3000
	maxText    = 38000 // the fallback; Slack truncates at 40 000
)

// Build renders one message for msgs, grouped: a header, a section with
// fields, link buttons and trace links per notification, dividers between.
func Build(conf Config, msgs []delivery.Message) Payload {
	p := Payload{Channel: conf.Channel, Username: conf.Username}
	lines := make([]string, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if i > 0 {
			p.Blocks = append(p.Blocks, Block{Type: "divider"})
		}
		p.Blocks = append(p.Blocks, blocks(m)...)
		lines = append(lines, fallback(m))
	}
	p.Text = delivery.Truncate(strings.Join(lines, "\n"), maxText)
	return p
}

func blocks(m *delivery.Message) []Block {
	header := Block{Type: "header", Text: &Text{"plain_text", delivery.Truncate(title(m), maxHeader)}}
	section := Block{Type: "section", Text: mrkdwn(delivery.Truncate(body(m), maxSection))}
	for _, f := range fields(m) {
		section.Fields = append(section.Fields, *mrkdwn(delivery.Truncate(f, maxField)))
	}
	bs := []Block{header, section}
	var buttons []any
	runbook, dashboard := urls(m)
	if runbook != "" && len(runbook) <= maxURL {
		buttons = append(buttons, Button{"button", Text{"plain_text", "Runbook"}, runbook})
	}
	if dashboard != "" && len(dashboard) <= maxURL {
		buttons = append(buttons, Button{"button", Text{"plain_text", "SLO dashboard"}, dashboard})
	}
	if len(buttons) > 0 {
		bs = append(bs, Block{Type: "actions", Elements: buttons})
	}
	if m.Alert != nil && len(m.Alert.Traces) > 0 {
		bs = append(bs, Block{Type: "context", Elements: []any{mrkdwn(delivery.Truncate(traces(m.Alert.Traces), maxSection))}})
	}
	return bs
}

func urls(m *delivery.Message) (runbook, dashboard string) {
	if m.Zone != nil {
		return m.Zone.RunbookURL, m.Zone.DashboardURL
	}
	return m.Alert.RunbookURL, m.Alert.DashboardURL
}

// title is the header: severity or zone, then the journey.
func title(m *delivery.Message) string {
	prefix := ""
	if m.Test {
		prefix = "🧪 TEST · "
	}
	if z := m.Zone; z != nil {
		icon := map[slo.Zone]string{slo.ZoneNormal: "🟢", slo.ZoneCaution: "🟡", slo.ZoneFreeze: "⛔"}[z.To]
		return fmt.Sprintf("%s%s %s zone · %s journey", prefix, icon, strings.ToUpper(string(z.To)), z.Journey)
	}
	a := m.Alert
	switch {
	case m.Resolved():
		return fmt.Sprintf("%s✅ RESOLVED %s · %s journey", prefix, strings.ToUpper(a.Severity), a.Journey)
	case a.Severity == slo.SeverityPage:
		return fmt.Sprintf("%s🔴 PAGE · %s journey", prefix, a.Journey)
	default:
		return fmt.Sprintf("%s🟠 %s · %s journey", prefix, strings.ToUpper(a.Severity), a.Journey)
	}
}

func body(m *delivery.Message) string {
	if z := m.Zone; z != nil {
		return fmt.Sprintf("*%s* moved from *%s* to *%s* with %s of its error budget left.%s", esc(z.SeriesID), z.From, z.To,
			delivery.Percent(z.BudgetRemaining), zoneAdvice(z.To))
	}
	a := m.Alert
	if m.Resolved() {
		return fmt.Sprintf("*%s* rule %s resolved after %s: burn rate back under %s.", esc(a.SeriesID), esc(a.Rule),
			slo.FormatDuration(a.Duration(a.ResolvedAt).Round(1e9)), delivery.Burn(a.Factor))
	}
	still := ""
	if m.Repeat {
		still = " Still firing since " + a.FiredAt.UTC().Format("2006-01-02 15:04 MST") + "."
	}
	return fmt.Sprintf("*%s* is burning its error budget at *%s* over %s (rule %s fires above %s).%s",
		esc(a.SeriesID), delivery.Burn(a.BurnLong), slo.FormatDuration(a.LongWindow), esc(a.Rule), delivery.Burn(a.Factor), still)
}

func zoneAdvice(z slo.Zone) string {
	switch z {
	case slo.ZoneCaution:
		return " Risky changes need extra review."
	case slo.ZoneFreeze:
		return " Feature freeze: ship only reliability fixes."
	}
	return " Back to normal."
}

func fields(m *delivery.Message) []string {
	if z := m.Zone; z != nil {
		return []string{"*Budget left*\n" + delivery.Percent(z.BudgetRemaining), fmt.Sprintf("*Zone*\n%s → %s", z.From, z.To)}
	}
	a := m.Alert
	fs := []string{
		fmt.Sprintf("*Burn rate %s*\n%s", slo.FormatDuration(a.LongWindow), delivery.Burn(a.BurnLong)),
		fmt.Sprintf("*Burn rate %s*\n%s", slo.FormatDuration(a.ShortWindow), delivery.Burn(a.BurnShort)),
		"*Budget left*\n" + delivery.Percent(a.BudgetRemaining),
		"*Time to exhaustion*\n" + delivery.Exhaustion(a.TimeToExhaustion),
	}
	if m.CurrentZone != "" {
		fs = append(fs, "*Zone*\n"+string(m.CurrentZone))
	}
	return fs
}

func traces(ts []burnrate.TraceLink) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.URL != "" {
			parts = append(parts, fmt.Sprintf("<%s|%s>", t.URL, esc(short(t.TraceID))))
		} else {
			parts = append(parts, "`"+esc(t.TraceID)+"`")
		}
	}
	return "Example bad traces: " + strings.Join(parts, " · ")
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// fallback is the plain-text line of one notification.
func fallback(m *delivery.Message) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(title(m)+": "+body(m), "*", "")), " ")
	if a := m.Alert; a != nil && !m.Resolved() {
		s += fmt.Sprintf(" %s budget left, exhausted in %s.", delivery.Percent(a.BudgetRemaining), delivery.Exhaustion(a.TimeToExhaustion))
	}
	return s
}

func mrkdwn(s string) *Text { return &Text{"mrkdwn", s} }

// esc escapes the three characters Slack's mrkdwn reserves.
func esc(s string) string { return escaper.Replace(s) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
