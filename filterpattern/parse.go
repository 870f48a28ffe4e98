package filterpattern

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled filter pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	src   string
	kind  Kind
	terms []term        // KindTerm
	regex *value        // KindRegex
	expr  *expr         // KindJSON
	space *spacePattern // KindSpace
	sels  []*selector   // KindJSON: the distinct selectors, in order of first use

	single *Set // a Set holding only this pattern, for Match and friends
}

// Parse compiles a filter pattern, rejecting what CloudWatch Logs rejects.
func Parse(src string) (*Pattern, error) {
	if n := utf8.RuneCountInString(src); n > MaxLength {
		return nil, &SyntaxError{Pattern: src, Msg: "pattern is " + strconv.Itoa(n) + " characters long; CloudWatch Logs accepts at most 1024"}
	}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, errorAt(src, i, "invalid UTF-8")
	}
	p := &Pattern{src: src}
	ps := &parser{src: src}
	ps.skipSpace()
	var err error
	switch {
	case ps.pos == len(src):
		p.kind = KindTerm
	case src[ps.pos] == '{':
		p.kind = KindJSON
		p.expr, err = ps.parseJSON()
		if err == nil {
			p.sels = ps.sels
		}
	case src[ps.pos] == '[':
		p.kind = KindSpace
		p.space, err = ps.parseSpace()
	case src[ps.pos] == '%':
		p.kind = KindRegex
		p.regex, err = ps.parseRegexPattern()
	default:
		p.kind = KindTerm
		p.terms, err = ps.parseTerms()
	}
	if err != nil {
		return nil, err
	}
	p.single = newSet([]*Pattern{p})
	return p, nil
}

// MustParse is Parse for patterns known to be valid, such as constants in tests; it panics on error.
func MustParse(src string) *Pattern {
	p, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return p
}

// Kind reports the pattern's kind.
func (p *Pattern) Kind() Kind { return p.kind }

// Source returns the pattern as it was given to Parse.
func (p *Pattern) Source() string { return p.src }

type parser struct {
	src     string
	pos     int
	sels    []*selector // JSON: distinct selectors
	regexes int         // regular expressions seen (quota)
	wildSel int         // selectors with a wildcard (quota)
}

func (ps *parser) errorf(format string, args ...any) error {
	return errorAt(ps.src, ps.pos, format, args...)
}

func (ps *parser) found() string { return describe(ps.src, ps.pos) }

// foundChar names the one character at ps.pos.
func (ps *parser) foundChar() string {
	r, _ := utf8.DecodeRuneInString(ps.src[ps.pos:])
	return strconv.Quote(string(r))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (ps *parser) skipSpace() {
	for ps.pos < len(ps.src) && isSpace(ps.src[ps.pos]) {
		ps.pos++
	}
}

func (ps *parser) eof() bool { return ps.pos >= len(ps.src) }

func (ps *parser) peek() byte {
	if ps.pos < len(ps.src) {
		return ps.src[ps.pos]
	}
	return 0
}

func (ps *parser) hasPrefix(s string) bool { return strings.HasPrefix(ps.src[ps.pos:], s) }

// isWordByte reports the characters allowed in an unquoted term.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isBareByte reports the characters allowed in an unquoted value of a JSON or space-delimited
// condition: AWS's own examples use dots, wildcards, colons and slashes unquoted.
func isBareByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '*' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-'
}

// isNameByte reports the characters of a JSON key in dotted notation and of a field name.
func isNameByte(c byte) bool { return isWordByte(c) || c == '-' }

// ---- term patterns ----

func (ps *parser) parseTerms() ([]term, error) {
	var terms []term
	for {
		ps.skipSpace()
		if ps.eof() {
			return terms, nil
		}
		var t term
		switch ps.peek() {
		case '?':
			t.mode = termOptional
			ps.pos++
		case '-':
			t.mode = termExcluded
			ps.pos++
		}
		switch c := ps.peek(); {
		case c == '"':
			s, err := ps.parseQuoted()
			if err != nil {
				return nil, err
			}
			t.text, t.quoted = s, true
			t.blank = strings.TrimSpace(s) == ""
		case isWordByte(c):
			start := ps.pos
			for !ps.eof() && isWordByte(ps.peek()) {
				ps.pos++
			}
			t.text = ps.src[start:ps.pos]
		case c == '%':
			return nil, ps.errorf("a regular expression %%...%% must be the whole pattern, or a value in a JSON or space-delimited pattern")
		case ps.eof() || isSpace(c):
			return nil, ps.errorf("expected a term after %q, found %s", ps.src[ps.pos-1:ps.pos], ps.found())
		default:
			return nil, ps.errorf("unexpected %s: an unquoted term may contain only letters, digits and _; put the term in double quotes", ps.foundChar())
		}
		if !ps.eof() && !isSpace(ps.peek()) {
			if ps.src[ps.pos-1] == '"' {
				return nil, ps.errorf("expected a space after the quoted term, found %s", ps.found())
			}
			return nil, ps.errorf("unexpected %s: an unquoted term may contain only letters, digits and _; put the term in double quotes", ps.foundChar())
		}
		terms = append(terms, t)
	}
}

// parseQuoted reads a double-quoted string at ps.pos. Inside it \" is a quote and \\ a
// backslash; any other backslash is kept as written.
func (ps *parser) parseQuoted() (string, error) {
	start := ps.pos
	ps.pos++ // opening quote
	var b strings.Builder
	for {
		if ps.eof() {
			ps.pos = start
			return "", ps.errorf("unterminated quoted string: add the closing \"")
		}
		c := ps.src[ps.pos]
		switch {
		case c == '"':
			ps.pos++
			return b.String(), nil
		case c == '\\' && ps.pos+1 < len(ps.src) && (ps.src[ps.pos+1] == '"' || ps.src[ps.pos+1] == '\\'):
			b.WriteByte(ps.src[ps.pos+1])
			ps.pos += 2
		default:
			b.WriteByte(c)
			ps.pos++
		}
	}
}

// ---- regular expressions ----

func (ps *parser) parseRegexPattern() (*value, error) {
	v, err := ps.parseRegex()
	if err != nil {
		return nil, err
	}
	ps.skipSpace()
	if !ps.eof() {
		return nil, ps.errorf("unexpected %s after the regular expression: a %%...%% pattern must stand alone", ps.found())
	}
	return v, nil
}

// parseRegex reads %expr% at ps.pos.
func (ps *parser) parseRegex() (*value, error) {
	start := ps.pos
	end := strings.IndexByte(ps.src[start+1:], '%')
	if end < 0 {
		return nil, ps.errorf("unterminated regular expression: add the closing %%")
	}
	body := ps.src[start+1 : start+1+end]
	ps.regexes++
	if ps.regexes > maxRegexes {
		return nil, ps.errorf("too many regular expressions: CloudWatch Logs allows at most %d in one pattern", maxRegexes)
	}
	re, off, msg := compileRegex(body)
	if msg != "" {
		return nil, errorAt(ps.src, start+1+off, "%s", msg)
	}
	ps.pos = start + 1 + end + 1
	return &value{kind: valRegex, text: body, re: re}, nil
}

// ---- values ----

// parseValue reads the value of a comparison: "quoted", %regex% or a bare value. after names the
// operator it follows, for the error message.
func (ps *parser) parseValue(after string) (value, error) {
	switch c := ps.peek(); {
	case c == '"':
		s, err := ps.parseQuoted()
		if err != nil {
			return value{}, err
		}
		return stringValue(s, true), nil
	case c == '%':
		v, err := ps.parseRegex()
		if err != nil {
			return value{}, err
		}
		return *v, nil
	case c == '\'':
		return value{}, ps.errorf("string values must be in double quotes, not single quotes")
	case !ps.eof() && isBareByte(c):
		start := ps.pos
		for !ps.eof() && isBareByte(ps.peek()) {
			ps.pos++
		}
		text := ps.src[start:ps.pos]
		if n, ok := parseNumber(text); ok {
			return value{kind: valNumber, text: text, num: n}, nil
		}
		return stringValue(text, false), nil
	default:
		return value{}, ps.errorf("expected a value after %q, found %s", after, ps.found())
	}
}

func stringValue(s string, quoted bool) value {
	v := value{kind: valString, text: s, quoted: quoted, core: s}
	switch {
	case s == "*":
		v.wild, v.core = wildAny, ""
	case len(s) >= 2 && s[0] == '*' && s[len(s)-1] == '*':
		v.wild, v.core = wildContains, s[1:len(s)-1]
	case len(s) >= 1 && s[0] == '*':
		v.wild, v.core = wildSuffix, s[1:]
	case len(s) >= 1 && s[len(s)-1] == '*':
		v.wild, v.core = wildPrefix, s[:len(s)-1]
	}
	return v
}

// parseNumber accepts AWS's number forms: an optional sign, digits with an optional fraction,
// and an optional exponent (400, +1000, 55.5, -1, 1e+3, 10e-3).
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// parseOp reads a comparison operator, or returns ok=false.
func (ps *parser) parseOp() (compareOp, string, bool) {
	for _, o := range []struct {
		text string
		op   compareOp
	}{{"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"=", opEq}, {"<", opLt}, {">", opGt}} {
		if ps.hasPrefix(o.text) {
			if o.op == opEq && ps.hasPrefix("==") {
				return 0, "", false
			}
			ps.pos += len(o.text)
			return o.op, o.text, true
		}
	}
	return 0, "", false
}

// parseComparison reads "op value" after a selector or field name, checking that the value
// fits the operator.
func (ps *parser) parseComparison(c *condition) error {
	opPos := ps.pos
	op, opText, ok := ps.parseOp()
	if !ok {
		if ps.hasPrefix("==") {
			return ps.errorf("unexpected \"==\": the equality operator is =")
		}
		return ps.errorf("expected an operator (=, !=, <, <=, >, >=) or IS / NOT EXISTS, found %s", ps.found())
	}
	ps.skipSpace()
	valPos := ps.pos
	v, err := ps.parseValue(opText)
	if err != nil {
		return err
	}
	if op.relational() && v.kind != valNumber {
		ps.pos = valPos
		return ps.errorf("operator %s needs a number, found %s", opText, describe(ps.src, valPos))
	}
	_ = opPos
	c.op, c.val = op, v
	return nil
}
