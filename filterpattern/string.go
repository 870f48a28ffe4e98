package filterpattern

import (
	"strconv"
	"strings"
)

// String returns the pattern in a canonical form: single spaces, parentheses only where
// precedence needs them, strings in double quotes. Parsing it gives back an equal pattern.
func (p *Pattern) String() string {
	var b strings.Builder
	switch p.kind {
	case KindJSON:
		b.WriteString("{ ")
		writeExpr(&b, p.expr, exprOr)
		b.WriteString(" }")
	case KindSpace:
		writeSpace(&b, p.space)
	case KindRegex:
		writeValue(&b, p.regex)
	default:
		for i, t := range p.terms {
			if i > 0 {
				b.WriteByte(' ')
			}
			switch t.mode {
			case termOptional:
				b.WriteByte('?')
			case termExcluded:
				b.WriteByte('-')
			}
			if t.quoted || !isWord(t.text) {
				writeQuoted(&b, t.text)
			} else {
				b.WriteString(t.text)
			}
		}
	}
	return b.String()
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// writeExpr writes e inside a context of operator ctx, adding parentheses where e binds less
// tightly than its context requires (|| inside &&).
func writeExpr(b *strings.Builder, e *expr, ctx exprOp) {
	switch e.op {
	case exprCond:
		writeCond(b, e.cond)
	case exprAnd, exprOr:
		sep := " && "
		if e.op == exprOr {
			sep = " || "
		}
		paren := e.op == exprOr && ctx == exprAnd
		if paren {
			b.WriteByte('(')
		}
		for i, k := range e.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			inner := e.op
			if k.op == e.op {
				// Cannot happen after flattening, but keep the tree shape if it does.
				b.WriteByte('(')
				writeExpr(b, k, exprOr)
				b.WriteByte(')')
				continue
			}
			writeExpr(b, k, inner)
		}
		if paren {
			b.WriteByte(')')
		}
	}
}

func writeCond(b *strings.Builder, c *condition) {
	if c.sel != nil {
		b.WriteString(c.sel.text)
	} else {
		b.WriteString(c.field)
	}
	b.WriteByte(' ')
	b.WriteString(c.op.String())
	if c.op <= opGe {
		b.WriteByte(' ')
		writeValue(b, &c.val)
	}
}

func writeValue(b *strings.Builder, v *value) {
	switch v.kind {
	case valRegex:
		b.WriteByte('%')
		b.WriteString(v.text)
		b.WriteByte('%')
	case valNumber:
		b.WriteString(v.text)
	default:
		writeQuoted(b, v.text)
	}
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func writeSpace(b *strings.Builder, sp *spacePattern) {
	b.WriteByte('[')
	for i, f := range sp.fields {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case f.ellipsis:
			b.WriteString("...")
		case f.cond != nil:
			writeExpr(b, f.cond, exprOr)
		default:
			b.WriteString(f.name)
		}
	}
	b.WriteByte(']')
}

// selectorText renders a selector canonically: dotted keys where the key allows it,
// ['key'] otherwise.
func selectorText(steps []step) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, st := range steps {
		switch st.kind {
		case stepKey:
			if isName(st.key) {
				b.WriteByte('.')
				b.WriteString(st.key)
			} else {
				b.WriteString(".['")
				b.WriteString(st.key)
				b.WriteString("']")
			}
		case stepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		case stepAnyKey:
			b.WriteString(".*")
		case stepAnyIndex:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}
