package filterpattern

import (
	"strconv"
	"strings"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// TextMatched is Text for an event already known to be valid JSON that the ref's pattern
// matches — a match a Set has just reported. It then only has to find the value: it walks
// the selector's path in document order and stops at the value, skipping everything else
// without validating it, where Text scans and matches the whole event again. A metric value
// or a dimension of every match of a scan costs a fraction of a scan this way. References that
// are not a plain path (wildcards, space-delimited fields) fall back to Text.
//
// On input that is not JSON after all it returns some answer or none, never panics.
//
// The result is Text's: the first string, number or boolean the path reaches in document
// order, unescaped; objects, arrays and null are not values.
func (r *Ref) TextMatched(event []byte) (string, bool) {
	if r.lit || r.sel == nil || r.sel.wildcards() > 0 {
		return r.textMatchedSlow(event)
	}
	b, ok := r.AppendMatched(nil, event)
	return string(b), ok
}

// AppendMatched appends TextMatched's value to dst, without allocating when dst has room:
// a backtest builds each match's series key this way and copies it only for a new series.
func (r *Ref) AppendMatched(dst, event []byte) ([]byte, bool) {
	if r.lit || r.sel == nil || r.sel.wildcards() > 0 {
		t, ok := r.textMatchedSlow(event)
		return append(dst, t...), ok
	}
	s := jsonScanner{data: event, trust: true}
	s.skipWS()
	start, end, esc, ok := s.find(r.sel.steps)
	if !ok {
		return dst, false
	}
	if esc {
		return jsonstr.Unescape(dst, event[start:end]), true
	}
	return append(dst, event[start:end]...), true
}

func (r *Ref) textMatchedSlow(event []byte) (string, bool) {
	if r.lit {
		return strings.TrimSpace(r.text), true
	}
	return r.Text(event)
}

// FloatMatched is Float for an event known to match, as TextMatched is Text.
func (r *Ref) FloatMatched(event []byte) (float64, bool) {
	if r.lit {
		return r.num, true
	}
	t, ok := r.TextMatched(event)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// find walks steps (keys and indexes only) from the value at s.pos over trusted JSON and
// returns the span of the first scalar it reaches, the quotes of a string excluded. A path that
// fails inside one occurrence of a duplicated key goes on with the next occurrence, as the
// Set's scan would record both.
func (s *jsonScanner) find(steps []step) (start, end int, esc, ok bool) {
	d := s.data
	if s.pos >= len(d) {
		return 0, 0, false, false
	}
	if len(steps) == 0 {
		switch d[s.pos] {
		case '{', '[', 'n':
			return 0, 0, false, false
		case '"':
			st := s.pos
			esc, ok = s.strTrusted()
			return st + 1, s.pos - 1, esc, ok
		}
		st := s.pos
		if !s.skipTrusted() {
			return 0, 0, false, false
		}
		return st, s.pos, false, true
	}
	want := steps[0]
	switch {
	case want.kind == stepKey && d[s.pos] == '{':
		s.pos++
		s.skipWS()
		for s.pos < len(d) && d[s.pos] == '"' {
			kstart := s.pos + 1
			kesc, kok := s.strTrusted()
			if !kok {
				return 0, 0, false, false
			}
			key := d[kstart : s.pos-1]
			if kesc {
				s.keyBuf = jsonstr.Unescape(s.keyBuf[:0], key)
				key = s.keyBuf
			}
			s.skipWS()
			if s.pos >= len(d) || d[s.pos] != ':' {
				return 0, 0, false, false
			}
			s.pos++
			s.skipWS()
			if !s.member(bstr(key) == want.key, steps) {
				return 0, 0, false, false
			}
			if s.found {
				return s.fstart, s.fend, s.fesc, true
			}
			if s.pos >= len(d) || d[s.pos] != ',' {
				return 0, 0, false, false
			}
			s.pos++
			s.skipWS()
		}
	case want.kind == stepIndex && d[s.pos] == '[':
		s.pos++
		s.skipWS()
		for i := 0; s.pos < len(d) && d[s.pos] != ']'; i++ {
			if !s.member(i == want.index, steps) {
				return 0, 0, false, false
			}
			if s.found {
				return s.fstart, s.fend, s.fesc, true
			}
			if i >= want.index || s.pos >= len(d) || d[s.pos] != ',' {
				return 0, 0, false, false
			}
			s.pos++
			s.skipWS()
		}
	}
	return 0, 0, false, false
}

// member handles one member value at s.pos: descends into it when on the path, else skips it.
// It leaves s.pos after the value and its trailing blanks, or sets s.found. ok is false on
// input that is not JSON after all.
func (s *jsonScanner) member(onPath bool, steps []step) (ok bool) {
	if s.pos >= len(s.data) {
		return false
	}
	if onPath {
		vpos := s.pos
		if st, en, esc, found := s.find(steps[1:]); found {
			s.found, s.fstart, s.fend, s.fesc = true, st, en, esc
			return true
		}
		s.pos = vpos
	}
	if !s.skipTrusted() {
		return false
	}
	s.skipWS()
	return true
}
