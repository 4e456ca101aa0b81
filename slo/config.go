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
		b.add(line, "%s", msg)
		return nil, b.problems
	}
	cfg := b.build(&f)
	b.addDecodeErrors()
	if len(b.problems) > 0 {
		sort.SliceStable(b.problems, func(i, j int) bool { return b.problems[i].Line < b.problems[j].Line })
		return nil, b.problems
	}
	return cfg, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

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
var cannotRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// marker remembers where a journey or SLO starts, to name it in errors that
// yaml.v3 reports with a line only.
type marker struct {
	line   int
	prefix string
}

type builder struct {
	file       string
	problems   Problems
	decodeErrs []string
	journeys   []marker
	slos       []marker
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
			switch m[2] {
			case "slo.sloYAML", "slo.availabilityYAML", "slo.latencyYAML", "slo.ruleYAML":
				msg = nearest(b.slos, b.journeys, line) + msg
			case "slo.journeyYAML", "slo.matchYAML":
				msg = nearest(b.journeys, nil, line) + msg
			}
		} else if m := cannotRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("%q is not a valid %s", m[2], goTypeWord(m[3]))
		}
		b.add(line, "%s", msg)
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

// nearest names the closest journey or SLO defined before line.
func nearest(primary, fallback []marker, line int) string {
	for _, ms := range [][]marker{primary, fallback} {
		best := -1
		for i, m := range ms {
			if m.line <= line {
				best = i
			}
		}
		if best >= 0 {
			return ms[best].prefix
		}
	}
	return ""
}
