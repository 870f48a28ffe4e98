package filterpattern

import (
	"strings"
	"sync"
)

// Set is a compiled collection of patterns evaluated together: one pass over an event's bytes
// serves every pattern in it. A Set is immutable and safe for concurrent use; each goroutine
// evaluates through its own Matcher.
type Set struct {
	patterns []*Pattern
	progs    []*cexpr // per JSON pattern: its expression with selector slots resolved
	root     *trie    // every selector of every JSON pattern and JSON reference
	nslots   int
	slots    map[string]int32 // selector text -> slot
	hasJSON  bool
	hasSpace bool

	// Pre-selection: a JSON pattern that can only match when some selector equals one of a few
	// literals (typically $.eventName) is evaluated only when the event has such a value.
	guards  []guard
	guarded []bool

	pool sync.Pool
}

// cexpr is an expression whose conditions know their selector's slot in the Set.
type cexpr struct {
	op   exprOp
	kids []*cexpr
	cond *condition
	slot int32
}

type guard struct {
	slot    int32
	byValue map[string][]int32 // literal -> patterns that need it
}

// NewSet compiles patterns into one Set. Match results are indexes into patterns.
func NewSet(patterns ...*Pattern) *Set { return newSet(patterns) }

func newSet(patterns []*Pattern) *Set {
	s := &Set{
		patterns: patterns,
		progs:    make([]*cexpr, len(patterns)),
		root:     &trie{},
		slots:    map[string]int32{},
		guarded:  make([]bool, len(patterns)),
	}
	guardIndex := map[int32]int{}
	for i, p := range patterns {
		switch p.kind {
		case KindJSON:
			s.hasJSON = true
			s.progs[i] = s.compile(p.expr)
			if slot, values, ok := findGuard(s.progs[i]); ok {
				gi, seen := guardIndex[slot]
				if !seen {
					gi = len(s.guards)
					guardIndex[slot] = gi
					s.guards = append(s.guards, guard{slot: slot, byValue: map[string][]int32{}})
				}
				for _, v := range values {
					s.guards[gi].byValue[v] = append(s.guards[gi].byValue[v], int32(i))
				}
				s.guarded[i] = true
			}
		case KindSpace:
			s.hasSpace = true
		}
	}
	s.pool.New = func() any { return s.NewMatcher() }
	return s
}

// Len returns the number of patterns in the Set.
func (s *Set) Len() int { return len(s.patterns) }

// Pattern returns the i-th pattern.
func (s *Set) Pattern(i int) *Pattern { return s.patterns[i] }

// slot returns the slot of a selector, adding it to the trie the first time.
func (s *Set) slot(sel *selector) int32 {
	if slot, ok := s.slots[sel.text]; ok {
		return slot
	}
	slot := int32(s.nslots)
	s.nslots++
	s.slots[sel.text] = slot
	n := s.root
	for _, st := range sel.steps {
		n = n.child(st)
	}
	n.slots = append(n.slots, slot)
	s.hasJSON = true
	return slot
}

func (s *Set) compile(e *expr) *cexpr {
	c := &cexpr{op: e.op, cond: e.cond, slot: -1}
	if e.cond != nil {
		c.slot = s.slot(e.cond.sel)
	}
	for _, k := range e.kids {
		c.kids = append(c.kids, s.compile(k))
	}
	return c
}

// findGuard finds, in a conjunction, a condition that requires a selector to equal one of some
// exact string literals: $.eventName = X, or ($.eventName = X || $.eventName = Y). Such a
// pattern cannot match an event in which that selector has none of those values.
func findGuard(e *cexpr) (int32, []string, bool) {
	candidates := []*cexpr{e}
	if e.op == exprAnd {
		candidates = e.kids
	}
	var best []string
	bestSlot := int32(-1)
	for _, c := range candidates {
		slot, values, ok := equalityAlternatives(c)
		if !ok {
			continue
		}
		// Prefer the most selective: the fewest alternatives.
		if bestSlot < 0 || len(values) < len(best) {
			best, bestSlot = values, slot
		}
	}
	return bestSlot, best, bestSlot >= 0
}

func equalityAlternatives(e *cexpr) (int32, []string, bool) {
	exact := func(c *condition) bool {
		return c.op == opEq && c.val.kind == valString && c.val.wild == wildExact
	}
	switch e.op {
	case exprCond:
		if exact(e.cond) {
			return e.slot, []string{e.cond.val.core}, true
		}
	case exprOr:
		var values []string
		slot := int32(-1)
		for _, k := range e.kids {
			if k.op != exprCond || !exact(k.cond) || (slot >= 0 && k.slot != slot) {
				return 0, nil, false
			}
			slot = k.slot
			values = append(values, k.cond.val.core)
		}
		return slot, values, true
	}
	return 0, nil, false
}

// Matcher evaluates a Set against events, holding the scratch space that makes evaluation
// allocation-free. A Matcher is not safe for concurrent use; use one per goroutine.
type Matcher struct {
	set     *Set
	js      jsonScanner
	data    []byte
	valid   bool // data is valid JSON (when the set has JSON patterns)
	tokens  []token
	spans   []span
	matched []int
	mark    []uint32 // pre-selection: mark[i] == gen when pattern i is a candidate
	gen     uint32
	buf     []byte // unescaped strings
}

// NewMatcher returns a Matcher for s.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{set: s, mark: make([]uint32, len(s.patterns))}
}

// Match evaluates every pattern of the set against one log event message and returns the
// indexes of those that match, in increasing order. The returned slice is reused by the next
// call.
func (m *Matcher) Match(event []byte) []int {
	m.load(event)
	m.matched = m.matched[:0]
	s := m.set
	if len(s.guards) > 0 && m.valid {
		m.gen++
		if m.gen == 0 { // wrapped: forget old marks
			clear(m.mark)
			m.gen = 1
		}
		for gi := range s.guards {
			g := &s.guards[gi]
			for h := m.js.first[g.slot]; h >= 0; h = m.js.hits[h].next {
				for _, p := range g.byValue[bstr(m.hitText(h))] {
					m.mark[p] = m.gen
				}
			}
		}
	}
	for i, p := range s.patterns {
		if s.guarded[i] && (!m.valid || m.mark[i] != m.gen) {
			continue
		}
		if m.matchOne(i, p) {
			m.matched = append(m.matched, i)
		}
	}
	return m.matched
}

// MatchTrusted is Match for an event already known to be one valid JSON value, such as a
// record from trailalarm's CloudTrail reader, which validates every record it delivers. Parts of
// the event that no pattern looks at are skipped without being validated again. On an event
// that is not valid JSON its results are unspecified (but it does not panic).
func (m *Matcher) MatchTrusted(event []byte) []int {
	m.js.trust = true
	defer func() { m.js.trust = false }()
	return m.Match(event)
}

// load scans the event once for everything the set needs.
func (m *Matcher) load(event []byte) {
	m.data = event
	if m.set.hasJSON {
		m.valid = m.js.scan(event, m.set.root, m.set.nslots)
	}
	if m.set.hasSpace {
		m.tokens = tokenize(m.tokens[:0], event)
	}
}

func (m *Matcher) matchOne(i int, p *Pattern) bool {
	switch p.kind {
	case KindJSON:
		return m.valid && m.eval(m.set.progs[i])
	case KindSpace:
		return m.matchSpace(p.space)
	case KindRegex:
		return p.regex.re.Match(m.data)
	default:
		return matchTerms(p.terms, m.data)
	}
}

func (m *Matcher) eval(c *cexpr) bool {
	switch c.op {
	case exprAnd:
		for _, k := range c.kids {
			if !m.eval(k) {
				return false
			}
		}
		return true
	case exprOr:
		for _, k := range c.kids {
			if m.eval(k) {
				return true
			}
		}
		return false
	}
	if c.cond.op == opNotExists {
		return m.js.first[c.slot] < 0
	}
	for h := m.js.first[c.slot]; h >= 0; h = m.js.hits[h].next {
		if m.holds(c.cond, h) {
			return true
		}
	}
	return false
}

// holds applies a condition to one value found at its selector. Objects, arrays and null
// satisfy neither = nor != (nor any relational operator).
func (m *Matcher) holds(c *condition, h int32) bool {
	kind := m.js.hits[h].kind
	switch c.op {
	case opIsNull:
		return kind == jsonNull
	case opIsTrue:
		return kind == jsonTrue
	case opIsFalse:
		return kind == jsonFalse
	}
	if kind == jsonObject || kind == jsonArray || kind == jsonNull {
		return false
	}
	return compareScalar(c.op, &c.val, m.hitText(h), kind == jsonNumber)
}

// hitText returns a hit's text: a string's unescaped content, or the value as written.
func (m *Matcher) hitText(h int32) []byte {
	x := &m.js.hits[h]
	raw := m.data[x.start:x.end]
	if !x.esc {
		return raw
	}
	m.buf = unescape(m.buf[:0], raw)
	return m.buf
}

// matchTerms applies a term pattern: every plain term occurs and no excluded term occurs; when
// there are only ?terms, at least one occurs. ?terms mixed with other terms are ignored, as AWS
// documents.
func matchTerms(terms []term, data []byte) bool {
	hasOther, hasOptional, optionalFound := false, false, false
	for i := range terms {
		t := &terms[i]
		occurs := t.blank || strings.Contains(bstr(data), t.text)
		switch t.mode {
		case termRequired:
			hasOther = true
			if !occurs {
				return false
			}
		case termExcluded:
			hasOther = true
			if occurs {
				return false
			}
		case termOptional:
			hasOptional = true
			optionalFound = optionalFound || occurs
		}
	}
	if hasOther || !hasOptional {
		return true
	}
	return optionalFound
}

// Match reports whether the pattern matches one log event message.
func (p *Pattern) Match(event []byte) bool {
	m := p.single.pool.Get().(*Matcher)
	ok := len(m.Match(event)) > 0
	m.data = nil
	p.single.pool.Put(m)
	return ok
}

// MatchString is Match for a string message.
func (p *Pattern) MatchString(event string) bool { return p.Match([]byte(event)) }
