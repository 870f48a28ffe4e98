package filterpattern

import (
	"fmt"
	"strconv"
	"strings"
)

// ExtractedValue is one entry of TestMetricFilter's extractedValues.
type ExtractedValue struct {
	Name  string // "$.eventName" for JSON patterns; "$ip" or "$3" for space-delimited ones
	Value string
}

// ExtractedValues returns what CloudWatch Logs' TestMetricFilter reports for a matching event,
// in the order of the pattern: nothing for term and regex patterns; every field for
// space-delimited patterns, named ones as $name and the others by their 1-based position; for
// JSON patterns, the value of each selector the pattern uses that the event has. It returns
// nil when the pattern does not match.
func (p *Pattern) ExtractedValues(event []byte) []ExtractedValue {
	m := p.single.NewMatcher()
	if len(m.Match(event)) == 0 {
		return nil
	}
	out := []ExtractedValue{}
	switch p.kind {
	case KindJSON:
		for _, sel := range p.sels {
			slot := p.single.slots[sel.text]
			if h := m.js.first[slot]; h >= 0 {
				out = append(out, ExtractedValue{Name: sel.text, Value: string(m.hitText(h))})
			}
		}
	case KindSpace:
		out = m.spaceValues(p.space)
	}
	return out
}

// spaceValues lists a space-delimited pattern's fields for the event the Matcher holds.
func (m *Matcher) spaceValues(sp *spacePattern) []ExtractedValue {
	toks := m.tokens
	var out []ExtractedValue
	text := func(t token) string { return string(m.data[t.start:t.end]) }
	positional := func(i int) ExtractedValue {
		return ExtractedValue{Name: "$" + strconv.Itoa(i+1), Value: text(toks[i])}
	}
	k, n := len(sp.fields), len(toks)
	if k == 0 {
		for i := range toks {
			out = append(out, positional(i))
		}
		return out
	}
	spans, _ := bind(nil, sp, toks)
	pos := 0 // position of the token bound to the current field
	for j, f := range sp.fields {
		if f.ellipsis {
			covered := n - (k - 1)
			for c := 0; c < covered; c++ {
				out = append(out, positional(pos))
				pos++
			}
			continue
		}
		v := string(m.data[spans[j].start:spans[j].end])
		if f.name == "" {
			out = append(out, ExtractedValue{Name: "$" + strconv.Itoa(pos+1), Value: v})
		} else {
			out = append(out, ExtractedValue{Name: "$" + f.name, Value: v})
		}
		pos++
	}
	return out
}

// Ref is a reference to a value of a matching event, as a metric filter's metricValue or a
// dimension value uses it: a number ("1"), a JSON selector ("$.latency") for JSON patterns, or
// a field ("$bytes", "$7") for space-delimited patterns.
type Ref struct {
	p      *Pattern
	text   string
	lit    bool
	num    float64
	sel    *selector
	field  int // space-delimited: index of the named field, or -1
	pos    int // space-delimited: 1-based position, when referred to as $N
	single *Set
}

// Ref compiles a value reference for this pattern, rejecting references CloudWatch rejects: a
// bare word, a selector on a pattern that is not JSON, an unknown field name.
func (p *Pattern) Ref(expr string) (*Ref, error) {
	r := &Ref{p: p, text: expr, field: -1}
	bad := func(format string, args ...any) error {
		return &SyntaxError{Pattern: expr, Msg: "value reference " + strconv.Quote(expr) + ": " + fmt.Sprintf(format, args...)}
	}
	if n, ok := parseNumber(strings.TrimSpace(expr)); ok {
		r.lit, r.num = true, n
		return r, nil
	}
	if !strings.HasPrefix(expr, "$") {
		return nil, bad("expected a number, a selector such as $.latency, or a field such as $bytes")
	}
	switch p.kind {
	case KindJSON:
		ps := &parser{src: expr}
		if !strings.HasPrefix(expr, "$.") && !strings.HasPrefix(expr, "$[") {
			return nil, bad("a JSON pattern's values are referred to by selectors such as $.latency")
		}
		sel, err := ps.parseSelector()
		if err != nil {
			return nil, err
		}
		if !ps.eof() {
			return nil, bad("unexpected %s after the selector", ps.found())
		}
		r.sel = sel
		r.single = newSet([]*Pattern{p})
		r.single.slot(sel)
	case KindSpace:
		name := expr[1:]
		if n, err := strconv.Atoi(name); err == nil && n >= 1 && isDigits(name) {
			r.pos = n
			return r, nil
		}
		for i, f := range p.space.fields {
			if f.name != "" && f.name == name {
				r.field = i
				return r, nil
			}
		}
		return nil, bad("the pattern has no field named %q", name)
	default:
		return nil, bad("%s patterns extract no values; use a number such as 1", p.kind)
	}
	return r, nil
}

// String returns the reference as written.
func (r *Ref) String() string { return r.text }

// Text returns the referenced value's text in event, when the pattern matches and the event
// has the value.
func (r *Ref) Text(event []byte) (string, bool) {
	if r.lit {
		if !r.p.Match(event) {
			return "", false
		}
		return strings.TrimSpace(r.text), true
	}
	set := r.single
	if set == nil {
		set = r.p.single
	}
	// Matchers are reused: a metric value or dimension is read for every match of a scan.
	m := set.pool.Get().(*Matcher)
	defer func() { m.data = nil; set.pool.Put(m) }()
	if len(m.Match(event)) == 0 {
		return "", false
	}
	return m.refText(r)
}

// Float returns the referenced value as a number. A value that is missing or not numeric
// gives no number (CloudWatch publishes no datapoint for it).
func (r *Ref) Float(event []byte) (float64, bool) {
	if r.lit {
		return r.num, r.p.Match(event)
	}
	t, ok := r.Text(event)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// refText resolves a reference against the event the Matcher holds.
func (m *Matcher) refText(r *Ref) (string, bool) {
	switch {
	case r.sel != nil:
		slot, ok := m.set.slots[r.sel.text]
		if !ok || !m.valid {
			return "", false
		}
		for h := m.js.first[slot]; h >= 0; h = m.js.hits[h].next {
			if k := m.js.hits[h].kind; k != jsonObject && k != jsonArray && k != jsonNull {
				return string(m.hitText(h)), true
			}
		}
		return "", false
	case r.field >= 0:
		spans, ok := bind(nil, r.p.space, m.tokens)
		if !ok {
			return "", false
		}
		s := spans[r.field]
		return string(m.data[s.start:s.end]), true
	default:
		for _, v := range m.spaceValues(r.p.space) {
			if v.Name == r.text {
				return v.Value, true
			}
		}
		return "", false
	}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
