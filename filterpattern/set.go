package filterpattern

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
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
	// needs[i], for a JSON pattern without a guard, are byte strings one of which every event
	// it matches contains verbatim when the event has no backslash (no escapes): a key such as
	// "errorCode" with its quotes, or a value such as "Root" — or, for an || of values such as
	// $.userAgent = "*kali*" || $.userAgent = "*TruffleHog*", each branch's value. MatchKnown
	// uses them to rule the pattern out without scanning the event.
	needs [][][]byte
	// keyGuards, per selector slot, lists the patterns that need that selector to equal one of
	// a few literals, for MatchKnown.
	keyGuards map[int32]*keyGuard
	// requires, per selector slot, lists the JSON patterns that cannot match an event without a
	// value at that selector.
	requires map[int32][]int32
	// patSlots, per JSON pattern, are the distinct selector slots it uses: when the caller of
	// MatchKnown knows all of them, the pattern is decided from the known values alone.
	patSlots [][]int32

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
		patterns:  patterns,
		progs:     make([]*cexpr, len(patterns)),
		root:      &trie{},
		slots:     map[string]int32{},
		guarded:   make([]bool, len(patterns)),
		needs:     make([][][]byte, len(patterns)),
		keyGuards: map[int32]*keyGuard{},
		requires:  map[int32][]int32{},
		patSlots:  make([][]int32, len(patterns)),
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
			s.needs[i] = requiredAny(p.expr)
			s.addKeyGuards(i, s.progs[i])
			s.patSlots[i] = usedSlots(s.progs[i], nil)
			for _, slot := range requiredSlots(s.progs[i]) {
				s.requires[slot] = append(s.requires[slot], int32(i))
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

	knownSel  []string    // MatchKnown: the selectors of the last call
	knownKG   []*keyGuard // and their guards
	knownSlot []int32     // and their slots (-1: no pattern uses the selector)
	excl      []uint32    // per pattern: ruled out by a missing selector when excl == gen
	needCnt   []int32     // per pattern: how many known selectors guard it
	cnt       []int32     // per pattern: how many known values it accepts (valid when cntGen == gen)
	cntGen    []uint32
	knownAt   []int32  // per slot: its index in the known values, or -1
	direct    []bool   // per pattern: decided from the known values alone
	dgen      []uint32 // per pattern: decided as matching when dgen == gen
}

// NewMatcher returns a Matcher for s.
func (s *Set) NewMatcher() *Matcher {
	n := len(s.patterns)
	return &Matcher{set: s, mark: make([]uint32, n), needCnt: make([]int32, n), cnt: make([]int32, n), cntGen: make([]uint32, n), excl: make([]uint32, n),
		direct: make([]bool, n), dgen: make([]uint32, n)}
}

// Match evaluates every pattern of the set against one log event message and returns the
// indexes of those that match, in increasing order. The returned slice is reused by the next
// call.
func (m *Matcher) Match(event []byte) []int {
	m.load(event)
	m.matched = m.matched[:0]
	s := m.set
	if len(s.guards) > 0 && m.valid {
		m.nextGen()
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

// Known is a value the caller has already read from an event: the one value of Selector
// (such as "$.eventName") in it, unescaped.
type Known struct {
	Selector string
	Value    string
	Missing  bool // the event has no value at all at Selector (Value is then ignored)
}

// MatchKnown is MatchTrusted for an event whose values of some selectors the caller already
// knows — trailalarm's CloudTrail reader reads eventName, eventSource and a few others from
// every record. Patterns that need one of a few values of a known selector, and patterns that
// need a literal the event does not contain, are ruled out without scanning the event; when
// every pattern is ruled out, the event is not scanned at all. Patterns that need a value at a
// selector known to be Missing are ruled out too. Each Known must be the only value of its
// selector in the event. The results are those of Match.
func (m *Matcher) MatchKnown(event []byte, known ...Known) []int {
	s := m.set
	if !s.hasJSON {
		return m.Match(event)
	}
	m.nextGen()
	gen := m.gen
	kgs := m.knownGuards(known)
	// Count, per pattern, the known selectors whose value it accepts; rule out those that need
	// a selector the event does not have.
	for j := range known {
		if known[j].Missing {
			for _, p := range s.requires[m.knownSlot[j]] {
				m.excl[p] = gen
			}
			continue
		}
		kg := kgs[j]
		if kg == nil {
			continue
		}
		for _, p := range kg.byValue[known[j].Value] {
			if m.cntGen[p] != gen {
				m.cntGen[p], m.cnt[p] = gen, 0
			}
			m.cnt[p]++
		}
	}
	plain := -1 // whether the event has no backslash (no escapes), once we need to know
	scan := false
	for i, p := range s.patterns {
		if p.kind != KindJSON || m.excl[i] == gen {
			continue
		}
		if need := m.needCnt[i]; need > 0 {
			if got := m.cnt[i]; m.cntGen[i] != gen || got < need {
				continue // a known value rules it out
			}
		}
		if m.direct[i] {
			// Every selector of the pattern is known: decide it without the event.
			if m.evalKnown(s.progs[i], known) {
				m.dgen[i] = gen
			}
			continue
		}
		if need := m.needCnt[i]; need == 0 && s.needs[i] != nil {
			if plain < 0 {
				plain = 0
				if bytes.IndexByte(event, '\\') < 0 {
					plain = 1 // literals appear verbatim
				}
			}
			if plain == 1 && !containsAny(event, s.needs[i]) {
				continue
			}
		}
		m.mark[i] = gen
		scan = true
	}
	m.data = event
	m.matched = m.matched[:0]
	m.valid = false
	if scan {
		m.js.trust = true
		m.valid = m.js.scan(event, s.root, s.nslots)
		m.js.trust = false
	}
	if s.hasSpace {
		m.tokens = tokenize(m.tokens[:0], event)
	}
	for i, p := range s.patterns {
		if p.kind == KindJSON && m.dgen[i] == gen {
			m.matched = append(m.matched, i)
			continue
		}
		if p.kind == KindJSON && m.mark[i] != gen {
			continue
		}
		if m.matchOne(i, p) {
			m.matched = append(m.matched, i)
		}
	}
	return m.matched
}

// evalKnown evaluates an expression all of whose selectors are known: each has one string
// value, or none (Missing).
func (m *Matcher) evalKnown(c *cexpr, known []Known) bool {
	switch c.op {
	case exprAnd:
		for _, k := range c.kids {
			if !m.evalKnown(k, known) {
				return false
			}
		}
		return true
	case exprOr:
		for _, k := range c.kids {
			if m.evalKnown(k, known) {
				return true
			}
		}
		return false
	}
	k := &known[m.knownAt[c.slot]]
	switch c.cond.op {
	case opNotExists:
		return k.Missing
	case opIsNull, opIsTrue, opIsFalse:
		return false // a string is none of these
	}
	if k.Missing {
		return false
	}
	return compareScalar(c.cond.op, &c.cond.val, unsafe.Slice(unsafe.StringData(k.Value), len(k.Value)), false)
}

// nextGen starts a new round of candidate marks.
func (m *Matcher) nextGen() {
	m.gen++
	if m.gen == 0 { // wrapped: forget old marks
		clear(m.mark)
		clear(m.cntGen)
		clear(m.excl)
		clear(m.dgen)
		m.gen = 1
	}
}

// knownGuards resolves the selectors of known to their guard sets (nil for a selector no
// pattern requires a value of) and counts, per pattern, how many of them guard it. The last
// resolution is remembered: callers pass the same selectors every time.
func (m *Matcher) knownGuards(known []Known) []*keyGuard {
	same := len(known) == len(m.knownSel)
	for i := 0; same && i < len(known); i++ {
		same = known[i].Selector == m.knownSel[i]
	}
	if same {
		return m.knownKG
	}
	s := m.set
	m.knownSel, m.knownKG, m.knownSlot = m.knownSel[:0], m.knownKG[:0], m.knownSlot[:0]
	clear(m.needCnt)
	if len(m.knownAt) != s.nslots {
		m.knownAt = make([]int32, s.nslots)
	}
	for i := range m.knownAt {
		m.knownAt[i] = -1
	}
	defer func() {
		// A pattern is decided from known values when it uses only known selectors.
		for i, slots := range s.patSlots {
			m.direct[i] = len(slots) > 0
			for _, sl := range slots {
				m.direct[i] = m.direct[i] && m.knownAt[sl] >= 0
			}
		}
	}()
	for _, k := range known {
		var kg *keyGuard
		sl, ok := s.slots[k.Selector]
		if ok {
			kg = s.keyGuards[sl]
		} else {
			sl = -1
		}
		m.knownSel = append(m.knownSel, k.Selector)
		m.knownKG = append(m.knownKG, kg)
		m.knownSlot = append(m.knownSlot, sl)
		if sl >= 0 {
			m.knownAt[sl] = int32(len(m.knownSel) - 1)
		}
		if kg != nil {
			for _, p := range kg.patterns {
				m.needCnt[p]++
			}
		}
	}
	return m.knownKG
}

// keyGuard is, for one selector, which patterns require it to equal one of a few literals, and
// which patterns accept each literal.
type keyGuard struct {
	patterns []int32
	byValue  map[string][]int32
}

// addKeyGuards records every conjunct of pattern i that requires a selector to equal one of a
// few exact literals; conjuncts on the same selector intersect.
func (s *Set) addKeyGuards(i int, e *cexpr) {
	conjuncts := []*cexpr{e}
	if e.op == exprAnd {
		conjuncts = e.kids
	}
	perSlot := map[int32]map[string]bool{}
	var order []int32
	for _, c := range conjuncts {
		slot, values, ok := equalityAlternatives(c)
		if !ok {
			continue
		}
		set := map[string]bool{}
		for _, v := range values {
			set[v] = true
		}
		if prev, seen := perSlot[slot]; seen {
			for v := range prev {
				if !set[v] {
					delete(prev, v)
				}
			}
			continue
		}
		perSlot[slot] = set
		order = append(order, slot)
	}
	for _, slot := range order {
		kg := s.keyGuards[slot]
		if kg == nil {
			kg = &keyGuard{byValue: map[string][]int32{}}
			s.keyGuards[slot] = kg
		}
		kg.patterns = append(kg.patterns, int32(i))
		for v := range perSlot[slot] {
			kg.byValue[v] = append(kg.byValue[v], int32(i))
		}
	}
}

// usedSlots appends the distinct slots of e's conditions to dst.
func usedSlots(e *cexpr, dst []int32) []int32 {
	if e.op == exprCond {
		if !slices.Contains(dst, e.slot) {
			dst = append(dst, e.slot)
		}
		return dst
	}
	for _, k := range e.kids {
		dst = usedSlots(k, dst)
	}
	return dst
}

// requiredSlots lists the selectors at which an event must have a value for e to hold: those
// of conditions other than NOT EXISTS, in every branch of an ||.
func requiredSlots(e *cexpr) []int32 {
	switch e.op {
	case exprAnd:
		var out []int32
		for _, k := range e.kids {
			for _, sl := range requiredSlots(k) {
				if !slices.Contains(out, sl) {
					out = append(out, sl)
				}
			}
		}
		return out
	case exprOr:
		common := requiredSlots(e.kids[0])
		for _, k := range e.kids[1:] {
			next := requiredSlots(k)
			common = slices.DeleteFunc(common, func(sl int32) bool { return !slices.Contains(next, sl) })
		}
		return common
	}
	if e.cond.op == opNotExists {
		return nil
	}
	return []int32{e.slot}
}

// literal is a byte string an event must contain, verbatim when it has no escapes.
type literal struct {
	b    []byte
	rank int // how selective it is likely to be: a value 2, a selector's last key 1, another key 0
}

// requiredLiterals lists what an event must contain for e to hold: the quoted keys along a
// selector whose condition needs a value, and the quoted text of an exact (or prefix, suffix)
// string literal. For || only what every branch requires counts.
func requiredLiterals(e *expr) []literal {
	switch e.op {
	case exprAnd:
		var out []literal
		for _, k := range e.kids {
			out = append(out, requiredLiterals(k)...)
		}
		return out
	case exprOr:
		common := requiredLiterals(e.kids[0])
		for _, k := range e.kids[1:] {
			next := requiredLiterals(k)
			var keep []literal
			for _, c := range common {
				for _, n := range next {
					if bytes.Equal(c.b, n.b) {
						keep = append(keep, c)
						break
					}
				}
			}
			common = keep
		}
		return common
	}
	c := e.cond
	if c.op == opNotExists {
		return nil
	}
	var out []literal
	for i, st := range c.sel.steps {
		if st.kind == stepKey && literalSafe(st.key) {
			rank := 0
			if i == len(c.sel.steps)-1 {
				rank = 1
			}
			out = append(out, literal{[]byte(`"` + st.key + `"`), rank})
		}
	}
	if c.op == opEq && c.val.kind == valString && literalSafe(c.val.core) && c.val.core != "" {
		switch c.val.wild {
		case wildExact:
			out = append(out, literal{[]byte(`"` + c.val.core + `"`), 2})
		case wildPrefix:
			out = append(out, literal{[]byte(`"` + c.val.core), 2})
		case wildSuffix:
			out = append(out, literal{[]byte(c.val.core + `"`), 2})
		case wildContains:
			out = append(out, literal{[]byte(c.val.core), 2})
		}
	}
	return out
}

// literalSafe reports whether JSON writes s only one way when it uses no escapes: no
// characters with a short escape (\" \\ \/ and control characters).
func literalSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '/' {
			return false
		}
	}
	return true
}

// bestLiteral picks the literal most likely to be absent from an event that does not match: a
// value before a leaf key before another key (keys such as "userIdentity" are in every
// CloudTrail record), the longest among equals.
func bestLiteral(lits []literal) *literal {
	var best *literal
	for i := range lits {
		l := &lits[i]
		if best == nil || l.rank > best.rank || l.rank == best.rank && len(l.b) > len(best.b) {
			best = l
		}
	}
	return best
}

// maxAnyLiterals bounds the alternatives requiredAny returns: beyond it, looking for each costs
// more than it saves.
const maxAnyLiterals = 8

// requiredAny returns byte strings one of which an event must contain for e to hold. It is
// requiredLiterals' best literal when that is a value; otherwise, for an || whose every branch
// requires a value (or an && with such a conjunct), those values — so that a pattern such as
// $.userAgent = "*kali*" || $.userAgent = "*TruffleHog*" is not reduced to the key "userAgent",
// which every CloudTrail record has. nil: nothing is known.
func requiredAny(e *expr) [][]byte {
	lits, _ := anyLiterals(e)
	return lits
}

func anyLiterals(e *expr) ([][]byte, int) {
	best := bestLiteral(requiredLiterals(e))
	if best != nil && best.rank == 2 {
		return [][]byte{best.b}, 2
	}
	switch e.op {
	case exprOr:
		var out [][]byte
		for _, k := range e.kids {
			kl, kr := anyLiterals(k)
			if kr != 2 || len(out)+len(kl) > maxAnyLiterals {
				out = nil
				break
			}
			out = append(out, kl...)
		}
		if out != nil {
			return out, 2
		}
	case exprAnd:
		var out [][]byte
		for _, k := range e.kids {
			if kl, kr := anyLiterals(k); kr == 2 && (out == nil || len(kl) < len(out)) {
				out = kl
			}
		}
		if out != nil {
			return out, 2
		}
	}
	if best == nil {
		return nil, -1
	}
	return [][]byte{best.b}, best.rank
}

// containsAny reports whether event contains one of lits.
func containsAny(event []byte, lits [][]byte) bool {
	for _, l := range lits {
		if containsRare(event, l) {
			return true
		}
	}
	return false
}

// containsRare is bytes.Contains for a literal with no quote or backslash (a value inside a
// string): it looks for the literal's rarest byte in JSON text with IndexByte and compares
// around each hit. bytes.Index starts from the first byte, which for words such as "kali" is a
// common letter and makes it fall back to a slower search on every event.
func containsRare(event, lit []byte) bool {
	if len(lit) < 2 || lit[0] == '"' || lit[len(lit)-1] == '"' {
		return bytes.Contains(event, lit)
	}
	at := 0
	for i := 1; i < len(lit); i++ {
		if jsonByteRank(lit[i]) < jsonByteRank(lit[at]) {
			at = i
		}
	}
	c := lit[at]
	for from := at; from < len(event); {
		j := bytes.IndexByte(event[from:], c)
		if j < 0 {
			return false
		}
		start := from + j - at
		if start+len(lit) <= len(event) && bytes.Equal(event[start:start+len(lit)], lit) {
			return true
		}
		from += j + 1
	}
	return false
}

// jsonByteRank orders bytes by how often they occur in CloudTrail JSON, roughly: punctuation
// and digits most, then lower-case letters, then upper-case letters, then everything else.
func jsonByteRank(c byte) int {
	switch {
	case c == '"' || c == ':' || c == ',' || c == '{' || c == '}' || c == '.' || c == '-' || c == '/' || c == ' ':
		return 5
	case c >= '0' && c <= '9':
		return 4
	case c == 'e' || c == 'a' || c == 't' || c == 'i' || c == 'o' || c == 'n' || c == 's' || c == 'r' || c == 'c' || c == 'm' || c == 'l':
		return 3
	case c >= 'a' && c <= 'z':
		return 2
	case c >= 'A' && c <= 'Z':
		return 1
	}
	return 0
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
	m.buf = jsonstr.Unescape(m.buf[:0], raw)
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
