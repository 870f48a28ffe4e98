package rules

import (
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// charPos maps a 1-based character column of a scalar's value (a pattern error's column) to its
// position in the file. It works for plain, quoted and block scalars written the usual way; for
// anything else (folded plain scalars over several lines, say) it reports false.
func (d *decoder) charPos(n ast.Node, value string, column int) (pos, bool) {
	var ps []pos
	var decoded string
	switch n := n.(type) {
	case *ast.StringNode:
		ps, decoded = d.inlineScalar(n.Token)
	case *ast.LiteralNode:
		if n.Start != nil && n.Value != nil && n.Value.Token != nil {
			ps, decoded = d.blockScalar(n.Start, n.Value.Token)
		}
	}
	if ps == nil || !strings.HasPrefix(decoded, value) {
		return pos{}, false
	}
	count := utf8.RuneCountInString(value)
	i := column - 1
	switch {
	case i < 0 || i > count:
		return pos{}, false
	case i == count: // just after the value: "the end of the pattern"
		if count == 0 {
			return pos{}, false
		}
		last := ps[count-1]
		return pos{last.line, last.col + 1}, true
	}
	return ps[i], true
}

// offset converts a file position to a byte offset, or -1.
func (d *decoder) offset(p pos) int {
	if p.line < 1 || p.line > len(d.lineStarts) || p.col < 1 {
		return -1
	}
	off := d.lineStarts[p.line-1]
	for c := 1; c < p.col; c++ {
		if off >= len(d.src) || d.src[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(d.src[off:])
		off += size
	}
	return off
}

// inlineScalar decodes a plain, single- or double-quoted scalar on one line, returning the
// position of each character of its value.
func (d *decoder) inlineScalar(t *token.Token) ([]pos, string) {
	if t == nil || t.Position == nil {
		return nil, ""
	}
	start := pos{t.Position.Line, t.Position.Column}
	off := d.offset(start)
	if off < 0 {
		return nil, ""
	}
	var (
		ps  []pos
		out strings.Builder
		col = start.col
	)
	next := func() (rune, bool) {
		if off >= len(d.src) || d.src[off] == '\n' || d.src[off] == '\r' {
			return 0, false
		}
		r, size := utf8.DecodeRune(d.src[off:])
		off += size
		col++
		return r, true
	}
	emit := func(r rune, at int) {
		ps = append(ps, pos{start.line, at})
		out.WriteRune(r)
	}
	switch t.Type {
	case token.SingleQuoteType:
		if _, ok := next(); !ok { // the opening quote
			return nil, ""
		}
		for {
			at := col
			r, ok := next()
			if !ok {
				return nil, "" // a multi-line scalar
			}
			if r == '\'' {
				if off < len(d.src) && d.src[off] == '\'' {
					next()
					emit('\'', at)
					continue
				}
				return ps, out.String()
			}
			emit(r, at)
		}
	case token.DoubleQuoteType:
		if _, ok := next(); !ok {
			return nil, ""
		}
		for {
			at := col
			r, ok := next()
			if !ok {
				return nil, ""
			}
			switch r {
			case '"':
				return ps, out.String()
			case '\\':
				e, ok := next()
				if !ok {
					return nil, ""
				}
				hex := map[rune]int{'x': 2, 'u': 4, 'U': 8}[e]
				for range hex {
					if _, ok := next(); !ok {
						return nil, ""
					}
				}
				// The decoded character is not needed: the caller compares prefixes, and a
				// placeholder keeps the character count right.
				emit(unescapeChar(e), at)
			default:
				emit(r, at)
			}
		}
	default:
		for {
			at := col
			r, ok := next()
			if !ok {
				break
			}
			emit(r, at)
		}
		// A plain scalar ends before a comment or trailing blanks.
		s := out.String()
		if i := strings.Index(s, " #"); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimRight(s, " \t")
		return ps[:utf8.RuneCountInString(s)], s
	}
}

// unescapeChar decodes the simple double-quote escapes; others become a placeholder.
func unescapeChar(e rune) rune {
	switch e {
	case '"', '\\', '/', ' ':
		return e
	case 't', '\t':
		return '\t'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	}
	return utf8.RuneError
}

// blockScalar decodes a literal (|) or folded (>) block scalar whose content token is content.
func (d *decoder) blockScalar(header, content *token.Token) ([]pos, string) {
	if header.Position == nil {
		return nil, ""
	}
	folded := strings.HasPrefix(strings.TrimSpace(header.Value), ">") || header.Type == token.FoldedType
	line := header.Position.Line + 1
	indent := -1
	prevNormal := false // the previous line was a non-empty line at the block's indentation
	var (
		ps  []pos
		out strings.Builder
	)
	for ; line <= len(d.lineStarts); line++ {
		startOff := d.lineStarts[line-1]
		end := len(d.src)
		if line < len(d.lineStarts) {
			end = d.lineStarts[line] - 1
		}
		text := strings.TrimSuffix(string(d.src[startOff:end]), "\r")
		if strings.TrimSpace(text) == "" {
			ps = append(ps, pos{line, 1})
			out.WriteByte('\n')
			prevNormal = false
			continue
		}
		lead := len(text) - len(strings.TrimLeft(text, " "))
		if indent < 0 {
			indent = lead
		}
		if lead < indent {
			break // the block has ended
		}
		normal := lead == indent
		if folded && normal && prevNormal {
			// In a folded scalar the line break between two lines of the block's own indentation
			// becomes a space; breaks around more-indented lines stay.
			s := out.String()
			out.Reset()
			out.WriteString(s[:len(s)-1] + " ")
		}
		prevNormal = normal
		col := indent + 1
		for _, r := range text[indent:] {
			ps = append(ps, pos{line, col})
			out.WriteRune(r)
			col++
		}
		ps = append(ps, pos{line, col})
		out.WriteByte('\n')
	}
	return ps, out.String()
}
