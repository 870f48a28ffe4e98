package filterpattern

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// The JSON scanner reads an event's bytes once, validating that they are one JSON value (AWS
// matches no JSON pattern against an event that is not valid JSON) and recording the value of
// every selector a Set uses. Selectors are merged into a trie, so a key is looked up once per
// object however many patterns use it, and subtrees no selector reaches are skipped without
// lookups. Nothing is decoded and nothing allocates once the scratch slices have grown.

type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber
	jsonTrue
	jsonFalse
	jsonNull
	jsonObject
	jsonArray
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack; deeper input is
// treated as invalid, as encoding/json does.
const maxDepth = 10000

type trie struct {
	keys   map[string]*trie
	few    []keyChild // the same children as keys, searched linearly when there are few
	idx    map[int]*trie
	anyKey *trie
	anyIdx *trie
	slots  []int32 // selectors that end here
}

type keyChild struct {
	key  string
	node *trie
}

// maxLinearKeys is how many keys a trie node searches linearly rather than through its map:
// comparing lengths first beats hashing every key of every object.
const maxLinearKeys = 12

// lookup returns the child for an object key, or nil.
func (t *trie) lookup(key []byte) *trie {
	if t.few != nil {
		for i := range t.few {
			if len(t.few[i].key) == len(key) && t.few[i].key == bstr(key) {
				return t.few[i].node
			}
		}
		return nil
	}
	return t.keys[string(key)]
}

func (t *trie) child(st step) *trie {
	switch st.kind {
	case stepKey:
		if t.keys == nil {
			t.keys = map[string]*trie{}
		}
		c := t.keys[st.key]
		if c == nil {
			c = &trie{}
			t.keys[st.key] = c
			if len(t.keys) <= maxLinearKeys {
				t.few = append(t.few, keyChild{st.key, c})
			} else {
				t.few = nil
			}
		}
		return c
	case stepIndex:
		if t.idx == nil {
			t.idx = map[int]*trie{}
		}
		c := t.idx[st.index]
		if c == nil {
			c = &trie{}
			t.idx[st.index] = c
		}
		return c
	case stepAnyKey:
		if t.anyKey == nil {
			t.anyKey = &trie{}
		}
		return t.anyKey
	default:
		if t.anyIdx == nil {
			t.anyIdx = &trie{}
		}
		return t.anyIdx
	}
}

// hit is one value found at a selector.
type hit struct {
	start, end int32 // strings: the bytes between the quotes; other values: the whole value
	kind       jsonKind
	esc        bool  // a string with backslash escapes
	next       int32 // the next hit of the same selector, or -1
}

type jsonScanner struct {
	data   []byte
	pos    int
	depth  int
	hits   []hit
	first  []int32 // per slot: first hit, or -1
	last   []int32 // per slot: last hit
	stack  []*trie // active trie nodes, used as a stack of frames
	open   []byte  // skip: the containers open, '{' or '['
	trust  bool    // the caller vouches that data is valid JSON: skip without validating
	keyBuf []byte

	// find's result (Ref.TextMatched): the span of the value found.
	found        bool
	fstart, fend int
	fesc         bool
}

// scan validates data as one JSON value and records the hits of the selectors in root. It
// reports whether data is valid JSON.
func (s *jsonScanner) scan(data []byte, root *trie, nslots int) bool {
	s.data, s.pos, s.depth = data, 0, 0
	s.hits = s.hits[:0]
	if cap(s.first) < nslots {
		s.first = make([]int32, nslots)
		s.last = make([]int32, nslots)
	}
	s.first, s.last = s.first[:nslots], s.last[:nslots]
	for i := range s.first {
		s.first[i] = -1
	}
	s.stack = append(s.stack[:0], root)
	s.skipWS()
	if !s.value(s.stack[0:1]) {
		return false
	}
	s.skipWS()
	return s.pos == len(s.data)
}

func (s *jsonScanner) skipWS() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return // compact JSON: the usual case
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value at s.pos; active are the trie nodes this value stands at.
func (s *jsonScanner) value(active []*trie) bool {
	if s.pos >= len(s.data) {
		return false
	}
	if len(active) == 0 {
		if s.trust {
			return s.skipTrusted()
		}
		return s.skip()
	}
	start := s.pos
	var kind jsonKind
	esc := false
	switch c := s.data[s.pos]; c {
	case '{':
		kind = jsonObject
		if !s.object(active) {
			return false
		}
	case '[':
		kind = jsonArray
		if !s.array(active) {
			return false
		}
	case '"':
		kind = jsonString
		var ok bool
		if esc, ok = s.str(); !ok {
			return false
		}
	case 't':
		kind = jsonTrue
		if !s.lit("true") {
			return false
		}
	case 'f':
		kind = jsonFalse
		if !s.lit("false") {
			return false
		}
	case 'n':
		kind = jsonNull
		if !s.lit("null") {
			return false
		}
	default:
		kind = jsonNumber
		if !s.number() {
			return false
		}
	}
	for _, n := range active {
		for _, slot := range n.slots {
			h := hit{start: int32(start), end: int32(s.pos), kind: kind, esc: esc, next: -1}
			if kind == jsonString {
				h.start, h.end = int32(start+1), int32(s.pos-1)
			}
			i := int32(len(s.hits))
			s.hits = append(s.hits, h)
			if s.first[slot] < 0 {
				s.first[slot] = i
			} else {
				s.hits[s.last[slot]].next = i
			}
			s.last[slot] = i
		}
	}
	return true
}

func (s *jsonScanner) lit(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// strPlain marks the bytes that can be skipped inside a string without a closer look.
var strPlain = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = false, false
	return t
}()

// str scans a string starting at its opening quote and reports whether it had escapes.
func (s *jsonScanner) str() (esc bool, ok bool) {
	if s.trust {
		return s.strTrusted()
	}
	d := s.data
	i := s.pos + 1
	for {
		// Eight bytes at a time while none of them is a quote, a backslash or a control
		// character; strings are most of a CloudTrail record.
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			if m := hasZeroByte(x^quotes) | hasZeroByte(x^backslashes) | hasLessThanSpace(x); m != 0 {
				// The lowest flagged byte is a true hit: borrows only run upwards.
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(d) && strPlain[d[i]] {
			i++
		}
		if i >= len(d) {
			return false, false
		}
		switch d[i] {
		case '"':
			s.pos = i + 1
			return esc, true
		case '\\':
			esc = true
			if i+1 >= len(d) {
				return false, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return false, false
				}
				i += 6
			default:
				return false, false
			}
		default: // a control character
			return false, false
		}
	}
}

const (
	ones        = 0x0101010101010101
	highs       = 0x8080808080808080
	quotes      = 0x2222222222222222 // '"' in every byte
	backslashes = 0x5c5c5c5c5c5c5c5c // '\\' in every byte
)

// hasZeroByte is non-zero when some byte of x is zero.
func hasZeroByte(x uint64) uint64 { return (x - ones) & ^x & highs }

// hasLessThanSpace is non-zero when some byte of x is below 0x20.
func hasLessThanSpace(x uint64) uint64 { return (x - 0x20*ones) & ^x & highs }

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return false
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return true
}

func (s *jsonScanner) object(active []*trie) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.pos++ // {
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return true
	}
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		kstart := s.pos + 1
		esc, ok := s.str()
		if !ok {
			return false
		}
		kend := s.pos - 1
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		s.skipWS()
		base := len(s.stack)
		if len(active) > 0 {
			key := s.data[kstart:kend]
			if esc {
				s.keyBuf = jsonstr.Unescape(s.keyBuf[:0], key)
				key = s.keyBuf
			}
			for _, n := range active {
				if n.keys != nil {
					if c := n.lookup(key); c != nil {
						s.stack = append(s.stack, c)
					}
				}
				if n.anyKey != nil {
					s.stack = append(s.stack, n.anyKey)
				}
			}
		}
		ok = s.value(s.stack[base:len(s.stack)])
		s.stack = s.stack[:base]
		if !ok {
			return false
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case '}':
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *jsonScanner) array(active []*trie) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.pos++ // [
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return true
	}
	for i := 0; ; i++ {
		base := len(s.stack)
		for _, n := range active {
			if n.idx != nil {
				if c := n.idx[i]; c != nil {
					s.stack = append(s.stack, c)
				}
			}
			if n.anyIdx != nil {
				s.stack = append(s.stack, n.anyIdx)
			}
		}
		ok := s.value(s.stack[base:len(s.stack)])
		s.stack = s.stack[:base]
		if !ok {
			return false
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case ']':
			s.pos++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// bstr views b as a string without copying, for comparisons and parsing that do not keep it.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// skip validates and passes over one value that no selector reaches. It is iterative, with the
// open containers on a byte stack, because most of a record is skipped and recursion costs.
func (s *jsonScanner) skip() bool {
	d := s.data
	s.open = s.open[:0]
	for {
		// A value starts at s.pos.
		if s.pos >= len(d) {
			return false
		}
		switch d[s.pos] {
		case '{':
			// The container's nesting level must stay within maxDepth, as in object and array.
			if len(s.open)+s.depth+1 > maxDepth {
				return false
			}
			s.pos++
			s.skipWS()
			if s.pos < len(d) && d[s.pos] == '}' {
				s.pos++
				break
			}
			s.open = append(s.open, '{')
			if !s.key() {
				return false
			}
			continue
		case '[':
			// The container's nesting level must stay within maxDepth, as in object and array.
			if len(s.open)+s.depth+1 > maxDepth {
				return false
			}
			s.pos++
			s.skipWS()
			if s.pos < len(d) && d[s.pos] == ']' {
				s.pos++
				break
			}
			s.open = append(s.open, '[')
			continue
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
		case 't':
			if !s.lit("true") {
				return false
			}
		case 'f':
			if !s.lit("false") {
				return false
			}
		case 'n':
			if !s.lit("null") {
				return false
			}
		default:
			if !s.number() {
				return false
			}
		}
		// After a value: close containers, or move to the next element.
		for {
			if len(s.open) == 0 {
				return true
			}
			s.skipWS()
			if s.pos >= len(d) {
				return false
			}
			top := s.open[len(s.open)-1]
			c := d[s.pos]
			if c == ',' {
				s.pos++
				s.skipWS()
				if top == '{' && !s.key() {
					return false
				}
				break
			}
			if top == '{' && c == '}' || top == '[' && c == ']' {
				s.pos++
				s.open = s.open[:len(s.open)-1]
				continue
			}
			return false
		}
	}
}

// key passes over an object key and its colon, leaving s.pos at the value.
func (s *jsonScanner) key() bool {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return false
	}
	if _, ok := s.str(); !ok {
		return false
	}
	s.skipWS()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return false
	}
	s.pos++
	s.skipWS()
	return true
}

// skipTrusted passes over one value of input known to be valid JSON: it only counts brackets
// outside strings, which is all that finding the value's end takes.
func (s *jsonScanner) skipTrusted() bool {
	d := s.data
	i := s.pos
	switch d[i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
	default: // a number or a literal runs to the next delimiter
		for i < len(d) {
			switch d[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				s.pos = i
				return true
			}
			i++
		}
		s.pos = i
		return true
	}
	depth := 0
	for i < len(d) {
		switch d[i] {
		case '"':
			s.pos = i
			if _, ok := s.str(); !ok {
				return false
			}
			i = s.pos
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.pos = i + 1
				return true
			}
		}
		i++
	}
	return false
}

// strTrusted finds the end of a string in valid JSON: the first quote not escaped by an odd
// number of backslashes. bytes.IndexByte is vectorised, which beats a byte loop even on the
// short strings of CloudTrail records.
func (s *jsonScanner) strTrusted() (esc bool, ok bool) {
	d := s.data
	i := s.pos + 1
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			return false, false
		}
		i += j
		n := 0
		for k := i - 1; k > s.pos && d[k] == '\\'; k-- {
			n++
		}
		if n == 0 && !esc {
			// Most strings have no backslash at all; check once for the unescape later.
			esc = bytes.IndexByte(d[s.pos+1:i], '\\') >= 0
			s.pos = i + 1
			return esc, true
		}
		esc = true
		if n%2 == 0 {
			s.pos = i + 1
			return true, true
		}
		i++
	}
}
