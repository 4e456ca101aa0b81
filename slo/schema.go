package slo

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// The types in this file mirror slos.yaml. They are decoded strictly (unknown
// keys are errors) and mapped to the domain model by build(). Leaf values
// carry their line so semantic errors can point at them.

type fileYAML struct {
	DashboardURL pos[string]    `yaml:"dashboard_url"`
	TraceURL     pos[string]    `yaml:"trace_url"`
	Defaults     defaultsYAML   `yaml:"defaults"`
	Notifiers    []notifierYAML `yaml:"notifiers"`
	Routes       routesYAML     `yaml:"routes"`
	Journeys     []journeyYAML  `yaml:"journeys"`
}

type defaultsYAML struct {
	Window    pos[string]  `yaml:"window"`
	TimeZone  pos[string]  `yaml:"time_zone"`
	MinEvents pos[float64] `yaml:"min_events"`
	Zones     *zonesYAML   `yaml:"zones"`
	Alerts    []ruleYAML   `yaml:"alerts"`
}

type zonesYAML struct {
	Caution pos[float64] `yaml:"caution"`
	Freeze  pos[float64] `yaml:"freeze"`
}

type notifierYAML struct {
	Name           pos[string] `yaml:"name"`
	Type           pos[string] `yaml:"type"`
	RoutingKey     pos[string] `yaml:"routing_key"` // rejected: secrets are never inline
	RoutingKeyEnv  pos[string] `yaml:"routing_key_env"`
	RoutingKeyFile pos[string] `yaml:"routing_key_file"`
	WebhookURL     pos[string] `yaml:"webhook_url"` // rejected: secrets are never inline
	WebhookURLEnv  pos[string] `yaml:"webhook_url_env"`
	WebhookURLFile pos[string] `yaml:"webhook_url_file"`
	// Non-secret options.
	URL       pos[string] `yaml:"url"` // PagerDuty Events API endpoint (EU region, proxies)
	Source    pos[string] `yaml:"source"`
	Component pos[string] `yaml:"component"`
	Group     pos[string] `yaml:"group"`
	Channel   pos[string] `yaml:"channel"`
	Username  pos[string] `yaml:"username"`
	line      int         // where the item starts, for items without a name
}

type routesYAML struct {
	Page   pos[stringList] `yaml:"page"`
	Ticket pos[stringList] `yaml:"ticket"`
	Zone   pos[stringList] `yaml:"zone"`
}

type journeyYAML struct {
	Name        pos[string] `yaml:"name"`
	Description string      `yaml:"description"`
	Runbook     pos[string] `yaml:"runbook"`
	Match       matchYAML   `yaml:"match"`
	SLOs        []sloYAML   `yaml:"slos"`
	line        int
}

type matchYAML struct {
	EntryOnly          *bool               `yaml:"entry_only"`
	Service            *condYAML           `yaml:"service"`
	Kind               pos[stringList]     `yaml:"kind"`
	SpanName           *condYAML           `yaml:"span_name"`
	HTTPRoute          *condYAML           `yaml:"http_route"`
	HTTPMethod         *condYAML           `yaml:"http_method"`
	Attributes         map[string]condYAML `yaml:"attributes"`
	ResourceAttributes map[string]condYAML `yaml:"resource_attributes"`
}

type sloYAML struct {
	Name         pos[string]       `yaml:"name"`
	Description  string            `yaml:"description"`
	Objective    pos[float64]      `yaml:"objective"`
	Window       pos[string]       `yaml:"window"`
	TimeZone     pos[string]       `yaml:"time_zone"`
	Availability *availabilityYAML `yaml:"availability"`
	Latency      *latencyYAML      `yaml:"latency"`
	Alerts       []ruleYAML        `yaml:"alerts"`
	MinEvents    pos[float64]      `yaml:"min_events"`
	Zones        *zonesYAML        `yaml:"zones"`
	Runbook      pos[string]       `yaml:"runbook"`
	GroupBy      pos[stringList]   `yaml:"group_by"`
	MaxSeries    pos[int]          `yaml:"max_series"`
	line         int
}

type availabilityYAML struct {
	HTTPStatus  pos[stringList] `yaml:"http_status"`
	MaxDuration durationYAML    `yaml:"max_duration"`
}

type latencyYAML struct {
	Threshold durationYAML `yaml:"threshold"`
}

type ruleYAML struct {
	Name      pos[string]     `yaml:"name"`
	Severity  pos[string]     `yaml:"severity"`
	Long      durationYAML    `yaml:"long"`
	Short     durationYAML    `yaml:"short"`
	Factor    pos[float64]    `yaml:"factor"`
	Budget    pos[float64]    `yaml:"budget_percent"`
	MinEvents pos[float64]    `yaml:"min_events"`
	Route     pos[stringList] `yaml:"route"`
	Runbook   pos[string]     `yaml:"runbook"`
	Disabled  bool            `yaml:"disabled"`
	line      int
}

// pos is a leaf value with the line it was written on.
type pos[T any] struct {
	V    T
	Line int
	Set  bool
}

func (p *pos[T]) UnmarshalYAML(n *yaml.Node) error {
	p.Line, p.Set = n.Line, true
	return n.Decode(&p.V)
}

// stringList accepts a scalar or a sequence of scalars.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = stringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return lineError(c, "expected a string")
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return lineError(n, "expected a string or a list of strings")
}

type durationYAML struct {
	D    time.Duration
	Line int
	Set  bool
	Bad  bool // already reported as unreadable
}

func (d *durationYAML) UnmarshalYAML(n *yaml.Node) error {
	d.Line, d.Set = n.Line, true
	if n.Kind != yaml.ScalarNode {
		d.Bad = true
		return lineError(n, "expected a duration such as 5m, 1h or 30d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		d.Bad = true
		return lineError(n, err.Error())
	}
	d.D = v
	return nil
}

// condYAML is a condition on a string value: a scalar (equals), a list (in),
// or a mapping with one of equals, in, regex, exists.
type condYAML struct {
	Equals *string
	In     []string
	Regex  *string
	Exists *bool
	Line   int
}

func (c *condYAML) UnmarshalYAML(n *yaml.Node) error {
	c.Line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		v := n.Value
		c.Equals = &v
		return nil
	case yaml.SequenceNode:
		var l stringList
		if err := l.UnmarshalYAML(n); err != nil {
			return err
		}
		c.In = l
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return lineError(n, "a condition takes exactly one of equals, in, regex, exists")
		}
		k, v := n.Content[0], n.Content[1]
		switch k.Value {
		case "equals":
			s := v.Value
			c.Equals = &s
		case "in":
			var l stringList
			if err := l.UnmarshalYAML(v); err != nil {
				return err
			}
			c.In = l
		case "regex":
			s := v.Value
			c.Regex = &s
		case "exists":
			var b bool
			if err := v.Decode(&b); err != nil {
				return lineError(v, "exists takes true or false")
			}
			c.Exists = &b
		default:
			return lineError(k, fmt.Sprintf("unknown condition %q (use equals, in, regex or exists)", k.Value))
		}
		return nil
	}
	return lineError(n, "expected a value, a list, or one of equals, in, regex, exists")
}

// lineError is a decode error that lets yaml.v3 go on decoding the rest, so
// one run reports every problem.
func lineError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}
