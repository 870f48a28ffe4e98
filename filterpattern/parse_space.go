package filterpattern

// parseSpace reads [field, field = value, ..., field] .
func (ps *parser) parseSpace() (*spacePattern, error) {
	ps.pos++ // [
	sp := &spacePattern{ellipsis: -1}
	ps.skipSpace()
	if ps.peek() == ']' {
		ps.pos++
		return sp, ps.expectEnd()
	}
	for {
		ps.skipSpace()
		var f spaceField
		switch {
		case ps.hasPrefix("..."):
			if sp.ellipsis >= 0 {
				return nil, ps.errorf("only one \"...\" is allowed in a space-delimited pattern")
			}
			ps.pos += 3
			f.ellipsis = true
			sp.ellipsis = len(sp.fields)
		case ps.peek() == ',' || ps.peek() == ']':
			// an empty entry: an unnamed field
		case !ps.eof() && isNameByte(ps.peek()):
			name := ps.parseName()
			f.name = name
			ps.skipSpace()
			if ps.eof() {
				return nil, ps.errorf("unclosed \"[\": add the closing \"]\"")
			}
			if ps.peek() != ',' && ps.peek() != ']' {
				cond, err := ps.parseFieldConds(name)
				if err != nil {
					return nil, err
				}
				f.cond = cond
			}
		case ps.eof():
			return nil, ps.errorf("expected a field name, \"...\" or \"]\", found the end of the pattern")
		default:
			return nil, ps.errorf("expected a field name (letters, digits, _ and -), found %s", ps.found())
		}
		sp.fields = append(sp.fields, f)
		ps.skipSpace()
		switch ps.peek() {
		case ',':
			ps.pos++
		case ']':
			ps.pos++
			return sp, ps.expectEnd()
		default:
			if ps.eof() {
				return nil, ps.errorf("unclosed \"[\": add the closing \"]\"")
			}
			return nil, ps.errorf("expected \",\" or \"]\" after a field, found %s", ps.found())
		}
	}
}

func (ps *parser) expectEnd() error {
	ps.skipSpace()
	if !ps.eof() {
		return ps.errorf("unexpected %s after the closing ]", ps.found())
	}
	return nil
}

func (ps *parser) parseName() string {
	start := ps.pos
	for !ps.eof() && isNameByte(ps.peek()) {
		ps.pos++
	}
	return ps.src[start:ps.pos]
}

// parseFieldConds reads the conditions of one field, "f = 404 || f = 410", where && binds
// tighter than ||; every condition must name the field it belongs to.
func (ps *parser) parseFieldConds(name string) (*expr, error) {
	var ors []*expr
	var ands []*expr
	for {
		c := &condition{field: name}
		if err := ps.parseComparison(c); err != nil {
			return nil, err
		}
		ands = append(ands, &expr{op: exprCond, cond: c})
		ps.skipSpace()
		var op string
		switch {
		case ps.hasPrefix("&&"):
			op = "&&"
		case ps.hasPrefix("||"):
			op = "||"
		default:
			ors = append(ors, group(exprAnd, ands))
			return group(exprOr, ors), nil
		}
		ps.pos += 2
		if op == "||" {
			ors = append(ors, group(exprAnd, ands))
			ands = nil
		}
		ps.skipSpace()
		at := ps.pos
		if ps.eof() || !isNameByte(ps.peek()) {
			return nil, ps.errorf("expected %s after %q, found %s", name, op, ps.found())
		}
		if other := ps.parseName(); other != name {
			ps.pos = at
			return nil, ps.errorf("a condition of field %q may refer only to %q, found %q", name, name, other)
		}
		ps.skipSpace()
	}
}

func group(kind exprOp, kids []*expr) *expr {
	if len(kids) == 1 {
		return kids[0]
	}
	return flatten(kind, kids)
}
