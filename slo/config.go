package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a config file, at a line.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) Error() string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// Problems is every problem found in one load, sorted by line. It is the
// error Load returns for an invalid file.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadFile reads and validates a slos.yaml file.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return Load(data, path)
}

// Load parses and validates slos.yaml content; file names it in messages.
// On failure the error is Problems, one per problem found.
func Load(data []byte, file string) (*Config, error) {
	b := &builder{file: file}
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&f)
	var te *yaml.TypeError
	switch {
	case errors.Is(err, io.EOF):
		b.add(0, "file is empty: expected journeys")
		return nil, b.problems
	case errors.As(err, &te):
		b.decodeErrs = te.Errors // reported once journeys are known, with their names
	case err != nil:
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		if line == 0 {
			// yaml.v3 gives no line for errors found at the end of the input.
			line = max(1, bytes.Count(data, []byte("\n")))
		}
		b.add(line, "%s", msg)
		return nil, b.problems
	}
	b.findScopes(data, &f)
	cfg := b.build(&f)
	b.addDecodeErrors()
	if len(b.problems) > 0 {
		sort.SliceStable(b.problems, func(i, j int) bool { return b.problems[i].Line < b.problems[j].Line })
		return nil, b.problems
	}
	return cfg, nil
}

var lineRE = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

func splitLine(s string) (int, string) {
	if m := lineRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, s
}

// schemaNames turns yaml.v3's Go type names into the words of slos.yaml.
var schemaNames = map[string]string{
	"slo.fileYAML": "the top level", "slo.defaultsYAML": "defaults", "slo.zonesYAML": "zones",
	"slo.notifierYAML": "notifier", "slo.routesYAML": "routes", "slo.journeyYAML": "journey",
	"slo.matchYAML": "match", "slo.sloYAML": "slo", "slo.availabilityYAML": "availability",
	"slo.latencyYAML": "latency", "slo.ruleYAML": "alert rule",
}

var unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
var cannotRE = regexp.MustCompile("(?s)^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// scope is the line range of a journey or SLO in the file, to name it in
// errors that yaml.v3 reports with a line only.
type scope struct {
	from, to int
	prefix   string
}

type builder struct {
	file       string
	problems   Problems
	decodeErrs []string
	scopes     []scope // outer scopes before inner ones
}

// findScopes walks the raw YAML tree for journeys and their SLOs, and notes
// where every list item starts, for items that lack a name.
func (b *builder) findScopes(data []byte, f *fileYAML) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return
	}
	top := root.Content[0]
	for i, j := range mappingValue(top, "journeys").seq() {
		jname := mappingValue(j, "name").scalar()
		b.scopes = append(b.scopes, scope{j.Line, lastLine(j), fmt.Sprintf("journey %q: ", jname)})
		if i < len(f.Journeys) {
			f.Journeys[i].line = j.Line
		}
		for k, s := range mappingValue(j, "slos").seq() {
			id := jname + "/" + mappingValue(s, "name").scalar()
			b.scopes = append(b.scopes, scope{s.Line, lastLine(s), fmt.Sprintf("slo %q: ", id)})
			if i < len(f.Journeys) && k < len(f.Journeys[i].SLOs) {
				sy := &f.Journeys[i].SLOs[k]
				sy.line = s.Line
				for r, a := range mappingValue(s, "alerts").seq() {
					if r < len(sy.Alerts) {
						sy.Alerts[r].line = a.Line
					}
				}
			}
		}
	}
	for i, n := range mappingValue(top, "notifiers").seq() {
		if i < len(f.Notifiers) {
			f.Notifiers[i].line = n.Line
		}
	}
	for r, a := range mappingValue(mappingValue(top, "defaults").Node, "alerts").seq() {
		if r < len(f.Defaults.Alerts) {
			f.Defaults.Alerts[r].line = a.Line
		}
	}
}

// scopeOf names the innermost journey or SLO that holds line.
func (b *builder) scopeOf(line int) string {
	prefix := ""
	for _, s := range b.scopes {
		if line >= s.from && line <= s.to {
			prefix = s.prefix
		}
	}
	return prefix
}

type node struct{ *yaml.Node }

func mappingValue(n *yaml.Node, key string) node {
	if n == nil || n.Kind != yaml.MappingNode {
		return node{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return node{n.Content[i+1]}
		}
	}
	return node{}
}

func (n node) seq() []*yaml.Node {
	if n.Node == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func (n node) scalar() string {
	if n.Node == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

func (b *builder) add(line int, format string, args ...any) {
	b.problems = append(b.problems, Problem{File: b.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) addDecodeErrors() {
	for _, e := range b.decodeErrs {
		line, msg := splitLine(e)
		if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
			where := schemaNames[m[2]]
			if where == "" {
				where = m[2]
			}
			msg = fmt.Sprintf("unknown key %q in %s", m[1], where)
		} else if m := cannotRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("%q is not a valid %s", m[2], goTypeWord(m[3]))
		}
		b.add(line, "%s%s", b.scopeOf(line), msg)
	}
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "float"):
		return "number"
	case strings.HasPrefix(t, "int"):
		return "whole number"
	case t == "bool":
		return "boolean (true or false)"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case t == "string":
		return "string"
	}
	if w, ok := schemaNames[t]; ok {
		return w + " (expected a mapping)"
	}
	return "value"
}
