package filterpattern

// A space-delimited event is split into fields at runs of spaces and tabs; a field that starts
// with '[' runs to the next ']', one that starts with '"' to the next '"', and the brackets or
// quotes are not part of its value. An unterminated group takes the rest of the line.

type token struct {
	start, end       int32 // the value
	rawStart, rawEnd int32 // including the brackets or quotes
}

type span struct{ start, end int32 }

func isFieldSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func tokenize(dst []token, data []byte) []token {
	i := 0
	for {
		for i < len(data) && isFieldSpace(data[i]) {
			i++
		}
		if i >= len(data) {
			return dst
		}
		start := i
		var t token
		switch data[i] {
		case '[', '"':
			closer := byte(']')
			if data[i] == '"' {
				closer = '"'
			}
			j := i + 1
			for j < len(data) && data[j] != closer {
				j++
			}
			if j < len(data) {
				t = token{start: int32(i + 1), end: int32(j), rawStart: int32(start), rawEnd: int32(j + 1)}
				i = j + 1
			} else {
				t = token{start: int32(i + 1), end: int32(j), rawStart: int32(start), rawEnd: int32(j)}
				i = j
			}
		default:
			for i < len(data) && !isFieldSpace(data[i]) {
				i++
			}
			t = token{start: int32(start), end: int32(i), rawStart: int32(start), rawEnd: int32(i)}
		}
		dst = append(dst, t)
	}
}

// bind lines the pattern's fields up with the event's tokens and returns the value span of each
// declared field (the "..." entry gets an empty span). With "...", the fields before it take the
// first tokens and those after it the last ones. Without it, an event with more tokens than
// fields gives the remainder of the line to the last field.
func bind(dst []span, sp *spacePattern, toks []token) ([]span, bool) {
	dst = dst[:0]
	k, n := len(sp.fields), len(toks)
	if k == 0 {
		return dst, true
	}
	if sp.ellipsis >= 0 {
		before, after := sp.ellipsis, k-sp.ellipsis-1
		if n < before+after {
			return dst, false
		}
		for j := 0; j < k; j++ {
			switch {
			case j < before:
				dst = append(dst, span{toks[j].start, toks[j].end})
			case j == before:
				dst = append(dst, span{})
			default:
				t := toks[n-(k-j)]
				dst = append(dst, span{t.start, t.end})
			}
		}
		return dst, true
	}
	if n < k {
		return dst, false
	}
	for j := 0; j < k-1; j++ {
		dst = append(dst, span{toks[j].start, toks[j].end})
	}
	if n == k {
		dst = append(dst, span{toks[k-1].start, toks[k-1].end})
	} else {
		dst = append(dst, span{toks[k-1].rawStart, toks[n-1].rawEnd})
	}
	return dst, true
}

func (m *Matcher) matchSpace(sp *spacePattern) bool {
	var ok bool
	m.spans, ok = bind(m.spans, sp, m.tokens)
	if !ok {
		return false
	}
	for j := range sp.fields {
		f := &sp.fields[j]
		if f.cond == nil {
			continue
		}
		if !evalField(f.cond, m.data[m.spans[j].start:m.spans[j].end]) {
			return false
		}
	}
	return true
}

func evalField(e *expr, text []byte) bool {
	switch e.op {
	case exprAnd:
		for _, k := range e.kids {
			if !evalField(k, text) {
				return false
			}
		}
		return true
	case exprOr:
		for _, k := range e.kids {
			if evalField(k, text) {
				return true
			}
		}
		return false
	}
	return compareScalar(e.cond.op, &e.cond.val, text, false)
}
