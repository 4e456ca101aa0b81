package slo

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Cond is a compiled condition on one value. Compiled once per config, it
// matches without allocating.
type Cond struct {
	op     condOp
	str    string
	list   []string
	re     *regexp.Regexp
	exists bool
}

type condOp uint8

const (
	opEquals condOp = iota
	opIn
	opRegex
	opExists
)

func compileCond(c condYAML) (Cond, error) {
	switch {
	case c.Equals != nil:
		return Cond{op: opEquals, str: *c.Equals}, nil
	case c.In != nil:
		return Cond{op: opIn, list: c.In}, nil
	case c.Regex != nil:
		// Anchored like Prometheus label matchers: the whole value must match.
		re, err := regexp.Compile("^(?:" + *c.Regex + ")$")
		if err != nil {
			return Cond{}, fmt.Errorf("invalid regex %q: %s", *c.Regex, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		return Cond{op: opRegex, re: re, str: *c.Regex}, nil
	case c.Exists != nil:
		return Cond{op: opExists, exists: *c.Exists}, nil
	}
	return Cond{}, fmt.Errorf("empty condition")
}

// MatchString applies the condition to a present string value.
func (c *Cond) MatchString(s string) bool {
	switch c.op {
	case opEquals:
		return s == c.str
	case opIn:
		for _, v := range c.list {
			if v == s {
				return true
			}
		}
		return false
	case opRegex:
		return c.re.MatchString(s)
	default:
		return c.exists
	}
}

// Match applies the condition to an attribute lookup result.
func (c *Cond) Match(v Value, ok bool) bool { return c.matchRef(&v, ok) }

// matchRef is Match without copying the value.
func (c *Cond) matchRef(v *Value, ok bool) bool {
	if c.op == opExists {
		return ok == c.exists
	}
	if !ok {
		return false
	}
	if v.Type == ValueString {
		return c.MatchString(v.Str)
	}
	// Non-string attributes (an int status code, a bool flag) are compared
	// in their canonical text form; the buffer stays on the stack.
	var buf [32]byte
	var b []byte
	switch v.Type {
	case ValueInt:
		b = strconv.AppendInt(buf[:0], v.Int, 10)
	case ValueDouble:
		b = strconv.AppendFloat(buf[:0], v.Double, 'g', -1, 64)
	case ValueBool:
		b = strconv.AppendBool(buf[:0], v.Bool)
	default:
		return false
	}
	switch c.op {
	case opEquals:
		return string(b) == c.str
	case opIn:
		for _, s := range c.list {
			if string(b) == s {
				return true
			}
		}
		return false
	default:
		return c.re.Match(b)
	}
}

type attrCond struct {
	key      string
	resource bool
	cond     Cond
}

// Matcher decides whether a span belongs to a journey. All conditions must
// hold.
type Matcher struct {
	EntryOnly bool
	kinds     uint8 // bit per SpanKind; 0 = any
	service   *Cond // on the resource's service.name
	conds     []attrCond
	spanName  *Cond
}

// Match reports whether the span belongs to the journey. The tracker runs
// the same conditions through a journeyMatcher, with lookups shared across
// journeys.
func (m *Matcher) Match(s Span) bool {
	if m.EntryOnly && !IsEntry(s) {
		return false
	}
	svc, ok := s.ResourceAttr("service.name")
	jm := journeyMatcher{Matcher: m} // no memo slots: every lookup direct
	return jm.matchSpan(s, true, &svc, ok, nil)
}

// attrMemo remembers the span attribute lookups made while one span is
// matched against several journeys, which mostly test the same keys
// (http.route, http.request.method): each is read from the span once.
type attrMemo struct {
	have  uint8 // bit per slot: looked up
	found uint8 // bit per slot: present
	vals  [memoSlots]Value
}

const memoSlots = 4

// journeyMatcher is a Matcher as a tracker runs it: each span attribute
// condition knows its memo slot (-1: none, looked up directly).
type journeyMatcher struct {
	*Matcher
	slots []int8
}

// newJourneyMatcher assigns memo slots to m's span attribute conditions,
// sharing them across journeys by key through keys.
func newJourneyMatcher(m *Matcher, keys *[]string) journeyMatcher {
	jm := journeyMatcher{Matcher: m, slots: make([]int8, len(m.conds))}
	for i, c := range m.conds {
		jm.slots[i] = -1
		if c.resource {
			continue
		}
		for k, key := range *keys {
			if key == c.key {
				jm.slots[i] = int8(k)
			}
		}
		if jm.slots[i] < 0 && len(*keys) < memoSlots {
			jm.slots[i] = int8(len(*keys))
			*keys = append(*keys, c.key)
		}
	}
	return jm
}

// spanAttr reads a span attribute a matcher tests.
func spanAttr(s Span, key string) (Value, bool) {
	v, ok := s.Attr(key)
	if !ok && key == "http.request.method" {
		v, ok = s.Attr("http.method") // older semantic conventions
	}
	return v, ok
}

// matchSpan tests every condition but entry-only, which the caller checked;
// the service condition is skipped when the caller already selected the
// journey by service name. memo may be nil when m has no memo slots.
func (m *journeyMatcher) matchSpan(s Span, checkService bool, svc *Value, svcOK bool, memo *attrMemo) bool {
	if checkService && m.service != nil && !m.service.matchRef(svc, svcOK) {
		return false
	}
	if m.kinds != 0 && m.kinds&(1<<uint(s.Kind())) == 0 {
		return false
	}
	if m.spanName != nil && !m.spanName.MatchString(s.Name()) {
		return false
	}
	for i := range m.conds {
		c := &m.conds[i]
		var ok bool
		if i < len(m.slots) && m.slots[i] >= 0 {
			slot := m.slots[i]
			bit := uint8(1) << uint(slot)
			if memo.have&bit == 0 {
				// Straight into the memo: through spanAttr the 48-byte
				// value is copied twice more.
				dst := &memo.vals[slot]
				*dst, ok = s.Attr(c.key)
				if !ok && c.key == "http.request.method" {
					*dst, ok = s.Attr("http.method") // older semantic conventions
				}
				memo.have |= bit
				if ok {
					memo.found |= bit
				}
			}
			if !c.cond.matchRef(&memo.vals[slot], memo.found&bit != 0) {
				return false
			}
			continue
		}
		var v Value
		if c.resource {
			v, ok = s.ResourceAttr(c.key)
		} else {
			v, ok = spanAttr(s, c.key)
		}
		if !c.cond.matchRef(&v, ok) {
			return false
		}
	}
	return true
}

// serviceKeys are the service names a condition can only ever hold for,
// when it is an equality or a list; indexable says whether it is.
func (c *Cond) serviceKeys() (keys []string, indexable bool) {
	switch c.op {
	case opEquals:
		return []string{c.str}, true
	case opIn:
		return c.list, true
	}
	return nil, false
}

func parseKind(s string) (SpanKind, bool) {
	for i, n := range kindNames {
		if strings.EqualFold(s, n) || strings.EqualFold(s, "SPAN_KIND_"+n) {
			return SpanKind(i), true
		}
	}
	return 0, false
}

// StatusSet is a set of HTTP status codes (100–599).
type StatusSet struct{ bits [10]uint64 }

// Has reports whether code is in the set.
func (s *StatusSet) Has(code int) bool {
	if code < 0 || code >= 640 {
		return false
	}
	return s.bits[code/64]&(1<<(uint(code)%64)) != 0
}

func (s *StatusSet) addRange(lo, hi int) {
	for c := lo; c <= hi; c++ {
		s.bits[c/64] |= 1 << (uint(c) % 64)
	}
}

// ParseStatusSet reads HTTP status classes: "2xx", "< 500", "<= 499",
// "200-299", "404", one or several.
func ParseStatusSet(specs []string) (StatusSet, error) {
	var s StatusSet
	for _, spec := range specs {
		lo, hi, err := parseStatusSpec(strings.TrimSpace(spec))
		if err != nil {
			return s, err
		}
		s.addRange(lo, hi)
	}
	return s, nil
}

func parseStatusSpec(spec string) (lo, hi int, err error) {
	bad := fmt.Errorf("invalid HTTP status %q (use a class like 2xx, a bound like \"< 500\", a range like 200-299, or a code)", spec)
	code := func(s string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return n, err == nil && n >= 100 && n <= 599
	}
	switch {
	case len(spec) == 3 && (spec[1:] == "xx" || spec[1:] == "XX") && spec[0] >= '1' && spec[0] <= '5':
		base := int(spec[0]-'0') * 100
		return base, base + 99, nil
	case strings.HasPrefix(spec, "<="):
		if n, ok := code(spec[2:]); ok {
			return 100, n, nil
		}
	case strings.HasPrefix(spec, "<"):
		if n, ok := code(spec[1:]); ok && n > 100 {
			return 100, n - 1, nil
		}
	case strings.Contains(spec, "-"):
		a, b, _ := strings.Cut(spec, "-")
		l, ok1 := code(a)
		h, ok2 := code(b)
		if ok1 && ok2 && l <= h {
			return l, h, nil
		}
	default:
		if n, ok := code(spec); ok {
			return n, n, nil
		}
	}
	return 0, 0, bad
}
