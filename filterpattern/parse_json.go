package filterpattern

import (
	"strconv"
	"strings"
)

// parseJSON reads { or-expr } and checks the quotas that apply to the whole pattern.
func (ps *parser) parseJSON() (*expr, error) {
	end := strings.TrimRight(ps.src, " \t\r\n")
	if !strings.HasSuffix(end, "}") {
		ps.pos = len(end)
		return nil, ps.errorf("a pattern that starts with '{' must end with '}'")
	}
	ps.pos++ // {
	ps.skipSpace()
	if ps.peek() == '}' {
		return nil, ps.errorf("expected a condition such as $.eventName = \"ConsoleLogin\", found \"}\"")
	}
	e, err := ps.parseOr()
	if err != nil {
		return nil, err
	}
	ps.skipSpace()
	if ps.peek() != '}' {
		if ps.peek() == ')' {
			return nil, ps.errorf("unexpected \")\" without a matching \"(\"")
		}
		return nil, ps.errorf("expected && or || or the closing }, found %s", ps.found())
	}
	ps.pos++
	ps.skipSpace()
	if !ps.eof() {
		return nil, ps.errorf("unexpected %s after the closing }", ps.found())
	}
	return e, nil
}

func (ps *parser) parseOr() (*expr, error) {
	return ps.parseBinary("||", exprOr, ps.parseAnd)
}

func (ps *parser) parseAnd() (*expr, error) {
	return ps.parseBinary("&&", exprAnd, ps.parseUnary)
}

// parseBinary reads operands separated by op and returns them as one flattened n-ary node.
func (ps *parser) parseBinary(op string, kind exprOp, operand func() (*expr, error)) (*expr, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for {
		save := ps.pos
		ps.skipSpace()
		if !ps.hasPrefix(op) {
			ps.pos = save
			break
		}
		ps.pos += len(op)
		ps.skipSpace()
		next, err := operand()
		if err != nil {
			return nil, err
		}
		kids = append(kids, next)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return flatten(kind, kids), nil
}

// flatten merges operands that are themselves nodes of the same operator.
func flatten(kind exprOp, kids []*expr) *expr {
	out := make([]*expr, 0, len(kids))
	for _, k := range kids {
		if k.op == kind {
			out = append(out, k.kids...)
		} else {
			out = append(out, k)
		}
	}
	return &expr{op: kind, kids: out}
}

func (ps *parser) parseUnary() (*expr, error) {
	if ps.peek() == '(' {
		open := ps.pos
		ps.pos++
		ps.skipSpace()
		e, err := ps.parseOr()
		if err != nil {
			return nil, err
		}
		ps.skipSpace()
		if ps.peek() != ')' {
			if ps.eof() || ps.peek() == '}' {
				ps.pos = open
				return nil, ps.errorf("unclosed \"(\": add the matching \")\"")
			}
			return nil, ps.errorf("expected && or || or \")\", found %s", ps.found())
		}
		ps.pos++
		return e, nil
	}
	c, err := ps.parseCondition()
	if err != nil {
		return nil, err
	}
	return &expr{op: exprCond, cond: c}, nil
}

func (ps *parser) parseCondition() (*condition, error) {
	if ps.peek() != '$' {
		if ps.eof() || ps.peek() == '}' || ps.peek() == ')' || ps.hasPrefix("&&") || ps.hasPrefix("||") {
			return nil, ps.errorf("expected a condition such as $.eventName = \"ConsoleLogin\", found %s", ps.found())
		}
		return nil, ps.errorf("expected a selector starting with $. (such as $.eventName), found %s", ps.found())
	}
	sel, err := ps.parseSelector()
	if err != nil {
		return nil, err
	}
	c := &condition{sel: sel}
	ps.skipSpace()
	switch {
	case ps.hasPrefix("IS"):
		ps.pos += 2
		ps.skipSpace()
		switch {
		case ps.hasPrefix("NULL"):
			c.op = opIsNull
			ps.pos += 4
		case ps.hasPrefix("TRUE"):
			c.op = opIsTrue
			ps.pos += 4
		case ps.hasPrefix("FALSE"):
			c.op = opIsFalse
			ps.pos += 5
		case ps.hasPrefix("NOT"):
			return nil, ps.errorf("IS NOT is not supported: use != or NOT EXISTS")
		default:
			return nil, ps.errorf("expected NULL, TRUE or FALSE after IS, found %s", ps.found())
		}
	case ps.hasPrefix("NOT"):
		ps.pos += 3
		ps.skipSpace()
		if !ps.hasPrefix("EXISTS") {
			return nil, ps.errorf("expected EXISTS after NOT, found %s", ps.found())
		}
		c.op = opNotExists
		ps.pos += 6
	case ps.hasPrefix("EXISTS"):
		return nil, ps.errorf("EXISTS is not supported: test for a value with = \"*\", or for absence with NOT EXISTS")
	default:
		if err := ps.parseComparison(c); err != nil {
			return nil, err
		}
		return c, nil
	}
	if !ps.eof() && isWordByte(ps.peek()) {
		return nil, ps.errorf("unexpected %s after %s", ps.found(), c.op)
	}
	return c, nil
}

// parseSelector reads $.a.b[0]['c.d'][*].* and registers it with the pattern.
func (ps *parser) parseSelector() (*selector, error) {
	start := ps.pos
	ps.pos++ // $
	sel := &selector{}
	for {
		switch {
		case ps.hasPrefix(".["):
			ps.pos++
			continue
		case ps.hasPrefix(".*"):
			ps.pos += 2
			sel.steps = append(sel.steps, step{kind: stepAnyKey})
		case ps.peek() == '.':
			ps.pos++
			n := ps.pos
			for !ps.eof() && isNameByte(ps.peek()) {
				ps.pos++
			}
			if n == ps.pos {
				return nil, ps.errorf("expected a key name after \".\", found %s (use ['key'] for keys with other characters)", ps.found())
			}
			sel.steps = append(sel.steps, step{kind: stepKey, key: ps.src[n:ps.pos]})
		case ps.hasPrefix("[*]"):
			ps.pos += 3
			sel.steps = append(sel.steps, step{kind: stepAnyIndex})
		case ps.hasPrefix("['"):
			ps.pos += 2
			end := strings.Index(ps.src[ps.pos:], "']")
			if end < 0 {
				return nil, ps.errorf("unterminated ['key']: add the closing ']")
			}
			key := ps.src[ps.pos : ps.pos+end]
			if key == "" {
				return nil, ps.errorf("empty key in ['']")
			}
			ps.pos += end + 2
			sel.steps = append(sel.steps, step{kind: stepKey, key: key})
		case ps.peek() == '[':
			ps.pos++
			n := ps.pos
			for !ps.eof() && ps.peek() >= '0' && ps.peek() <= '9' {
				ps.pos++
			}
			if n == ps.pos || ps.peek() != ']' {
				return nil, ps.errorf("expected an array index such as [0] or [*], found %s", describe(ps.src, n))
			}
			idx, err := strconv.Atoi(ps.src[n:ps.pos])
			if err != nil || idx > 1<<20 {
				return nil, errorAt(ps.src, n, "array index %s is too large", ps.src[n:ps.pos])
			}
			ps.pos++
			sel.steps = append(sel.steps, step{kind: stepIndex, index: idx})
		default:
			if len(sel.steps) == 0 {
				return nil, ps.errorf("expected \".\" after \"$\": selectors look like $.eventName")
			}
			return ps.register(sel, start)
		}
	}
}

// register checks the wildcard quotas and shares identical selectors within the pattern.
func (ps *parser) register(sel *selector, start int) (*selector, error) {
	sel.text = selectorText(sel.steps)
	if w := sel.wildcards(); w > 0 {
		if w > maxSelectorWildcards {
			return nil, errorAt(ps.src, start, "selector %s has %d wildcards; CloudWatch Logs allows %d per selector", sel.text, w, maxSelectorWildcards)
		}
		ps.wildSel++
		if ps.wildSel > maxWildcardSelectors {
			return nil, errorAt(ps.src, start, "too many selectors with wildcards: CloudWatch Logs allows %d in one pattern", maxWildcardSelectors)
		}
	}
	for _, s := range ps.sels {
		if s.text == sel.text {
			return s, nil
		}
	}
	ps.sels = append(ps.sels, sel)
	return sel, nil
}
