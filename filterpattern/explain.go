package filterpattern

import (
	"fmt"
	"strconv"
	"strings"
)

// Explanation is the evaluation of a pattern against one event, sub-expression by
// sub-expression, so that a user can see why a pattern did or did not match.
type Explanation struct {
	Expr     string         `json:"expr"`             // the sub-expression, in canonical form
	Result   bool           `json:"result"`           // what it evaluated to
	Detail   string         `json:"detail,omitempty"` // what was found in the event
	Children []*Explanation `json:"children,omitempty"`
}

// String renders the explanation as an indented tree, one sub-expression a line.
func (e *Explanation) String() string {
	var b strings.Builder
	e.write(&b, 0)
	return b.String()
}

func (e *Explanation) write(b *strings.Builder, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	if e.Result {
		b.WriteString("true   ")
	} else {
		b.WriteString("false  ")
	}
	b.WriteString(e.Expr)
	if e.Detail != "" {
		b.WriteString("  # ")
		b.WriteString(e.Detail)
	}
	b.WriteByte('\n')
	for _, c := range e.Children {
		c.write(b, depth+1)
	}
}

// Explain evaluates the pattern against event and returns the tree of its sub-expressions with
// each one's result. The root's Result equals Match(event).
func (p *Pattern) Explain(event []byte) *Explanation {
	m := p.single.NewMatcher()
	m.load(event)
	root := &Explanation{Expr: p.String()}
	switch p.kind {
	case KindJSON:
		if !m.valid {
			root.Detail = "the event is not valid JSON, and a JSON pattern matches only JSON events"
			return root
		}
		x := m.explainExpr(p.expr)
		if p.expr.op == exprCond {
			root.Result, root.Detail = x.Result, x.Detail
		} else {
			root.Result, root.Children = x.Result, x.Children
		}
	case KindSpace:
		m.explainSpace(root, p.space)
	case KindRegex:
		loc := p.regex.re.FindIndex(event)
		root.Result = loc != nil
		if loc != nil {
			root.Detail = fmt.Sprintf("matched %q at offset %d", clip(string(event[loc[0]:loc[1]])), loc[0])
		} else {
			root.Detail = "no match in the event"
		}
	default:
		m.explainTerms(root, p.terms)
	}
	return root
}

func (m *Matcher) explainExpr(e *expr) *Explanation {
	x := &Explanation{}
	switch e.op {
	case exprCond:
		c := e.cond
		var b strings.Builder
		writeCond(&b, c)
		x.Expr = b.String()
		slot := m.set.slots[c.sel.text]
		x.Result = m.eval(&cexpr{op: exprCond, cond: c, slot: slot})
		x.Detail = m.describeSlot(c.sel.text, slot)
		if m.js.first[slot] < 0 && (c.op == opNe) {
			x.Detail += " (!= is false for a missing field; add || " + c.sel.text + " NOT EXISTS to match it)"
		}
		return x
	case exprAnd, exprOr:
		var b strings.Builder
		writeExpr(&b, e, exprOr)
		x.Expr = b.String()
		x.Result = e.op == exprAnd
		for _, k := range e.kids {
			kx := m.explainExpr(k)
			x.Children = append(x.Children, kx)
			if e.op == exprAnd {
				x.Result = x.Result && kx.Result
			} else {
				x.Result = x.Result || kx.Result
			}
		}
	}
	return x
}

// describeSlot says what the event holds at a selector.
func (m *Matcher) describeSlot(name string, slot int32) string {
	var vals []string
	for h := m.js.first[slot]; h >= 0; h = m.js.hits[h].next {
		if len(vals) == 5 {
			vals = append(vals, "…")
			break
		}
		switch m.js.hits[h].kind {
		case jsonString:
			vals = append(vals, strconv.Quote(clip(string(m.hitText(h)))))
		case jsonObject:
			vals = append(vals, "an object")
		case jsonArray:
			vals = append(vals, "an array")
		default:
			vals = append(vals, string(m.hitText(h)))
		}
	}
	switch len(vals) {
	case 0:
		return name + " is missing"
	case 1:
		return name + " is " + vals[0]
	default:
		return name + " has " + strings.Join(vals, ", ")
	}
}

func (m *Matcher) explainSpace(root *Explanation, sp *spacePattern) {
	var ok bool
	m.spans, ok = bind(m.spans, sp, m.tokens)
	if !ok {
		need := len(sp.fields)
		if sp.ellipsis >= 0 {
			need--
		}
		root.Detail = fmt.Sprintf("the event has %d fields; the pattern needs at least %d", len(m.tokens), need)
		return
	}
	root.Result = true
	if len(sp.fields) == 0 {
		root.Detail = fmt.Sprintf("[] matches every event (%d fields)", len(m.tokens))
		return
	}
	for j, f := range sp.fields {
		if f.ellipsis {
			continue
		}
		text := string(m.data[m.spans[j].start:m.spans[j].end])
		x := &Explanation{Expr: f.name, Result: true, Detail: "field " + strconv.Itoa(j+1) + " is " + strconv.Quote(clip(text))}
		if f.name == "" {
			x.Expr = "(unnamed)"
		}
		if f.cond != nil {
			var b strings.Builder
			writeExpr(&b, f.cond, exprOr)
			x.Expr = b.String()
			x.Result = evalField(f.cond, m.data[m.spans[j].start:m.spans[j].end])
		}
		root.Result = root.Result && x.Result
		root.Children = append(root.Children, x)
	}
}

func (m *Matcher) explainTerms(root *Explanation, terms []term) {
	root.Result = matchTerms(terms, m.data)
	if len(terms) == 0 {
		root.Expr = `""`
		root.Detail = "the empty pattern matches every event"
		return
	}
	mixed := false
	for _, t := range terms {
		if t.mode != termOptional {
			mixed = true
		}
	}
	for _, t := range terms {
		p := &Pattern{kind: KindTerm, terms: []term{t}}
		x := &Explanation{Expr: p.String()}
		occurs := t.blank || strings.Contains(string(m.data), t.text)
		switch {
		case t.blank:
			x.Detail = "a quoted blank term matches every event"
		case occurs:
			x.Detail = "occurs in the event"
		default:
			x.Detail = "does not occur in the event"
		}
		switch t.mode {
		case termExcluded:
			x.Result = !occurs
		case termOptional:
			x.Result = occurs
			if mixed {
				x.Detail += "; ignored, because ?terms count only when every term is a ?term"
			}
		default:
			x.Result = occurs
		}
		root.Children = append(root.Children, x)
	}
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
