package filterpattern

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // the whole error message
	}{
		{`{ $.eventName = && $.b = 1 }`, `filter pattern: column 17: expected a value after "=", found "&&"`},
		{`{ $.a = 1`, `filter pattern: column 10: a pattern that starts with '{' must end with '}'`},
		{`{ status = "401" }`, `filter pattern: column 3: expected a selector starting with $. (such as $.eventName), found "status"`},
		{`{ $.a = 'x' }`, `filter pattern: column 9: string values must be in double quotes, not single quotes`},
		{`{ $.a IS NOT NULL }`, `filter pattern: column 10: IS NOT is not supported: use != or NOT EXISTS`},
		{`{ $.a EXISTS }`, `filter pattern: column 7: EXISTS is not supported: test for a value with = "*", or for absence with NOT EXISTS`},
		{`{ $.a is null }`, `filter pattern: column 7: expected an operator (=, !=, <, <=, >, >=) or IS / NOT EXISTS, found "is"`},
		{`{ $.a == 1 }`, `filter pattern: column 7: unexpected "==": the equality operator is =`},
		{`{ $.a > abc }`, `filter pattern: column 9: operator > needs a number, found "abc"`},
		{`{ $.a > %x% }`, `filter pattern: column 9: operator > needs a number, found "%"`},
		{`{ ($.a = 1 }`, `filter pattern: column 3: unclosed "(": add the matching ")"`},
		{`{ $.a = 1) }`, `filter pattern: column 10: unexpected ")" without a matching "("`},
		{`{ $.a = 1 $.b = 2 }`, `filter pattern: column 11: expected && or || or the closing }, found "$"`},
		{`{ }`, `filter pattern: column 3: expected a condition such as $.eventName = "ConsoleLogin", found "}"`},
		{`{ $ = 1 }`, `filter pattern: column 4: expected "." after "$": selectors look like $.eventName`},
		{`{ $.a[x] = 1 }`, `filter pattern: column 7: expected an array index such as [0] or [*], found "x"`},
		{`{ $.a[*][*] = 1 }`, `filter pattern: column 3: selector $.a[*][*] has 2 wildcards; CloudWatch Logs allows 1 per selector`},
		{`{ $.a[*] = 1 || $.b[*] = 2 || $.c[*] = 3 || $.d[*] = 4 }`, `filter pattern: column 45: too many selectors with wildcards: CloudWatch Logs allows 3 in one pattern`},
		{`{ $.a = %x% || $.b = %y% || $.c = %z% }`, `filter pattern: column 35: too many regular expressions: CloudWatch Logs allows at most 2 in one pattern`},
		{`{ $.a = %(x)% }`, `filter pattern: column 10: character "(" is not allowed in a regular expression (groups are not supported; write a literal parenthesis as \x28 or \x29)`},
		{`{ $.a = "x }`, `filter pattern: column 9: unterminated quoted string: add the closing "`},
		{`{ $.a = 1 } x`, `filter pattern: column 14: a pattern that starts with '{' must end with '}'`},
		{`email@someemail.com`, `filter pattern: column 6: unexpected "@": an unquoted term may contain only letters, digits and _; put the term in double quotes`},
		{`ERROR - WARN`, `filter pattern: column 8: expected a term after "-", found " "`},
		{`"ERROR"x`, `filter pattern: column 8: expected a space after the quoted term, found "x"`},
		{`ERROR %x%`, `filter pattern: column 7: a regular expression %...% must be the whole pattern, or a value in a JSON or space-delimited pattern`},
		{`%something!%`, `filter pattern: column 11: character "!" is not allowed in a regular expression`},
		{`%café%`, `filter pattern: column 5: regular expressions may contain only ASCII characters`},
		{`%abc`, `filter pattern: column 1: unterminated regular expression: add the closing %`},
		{`%a% b`, `filter pattern: column 5: unexpected "b" after the regular expression: a %...% pattern must stand alone`},
		{`%[a%`, `filter pattern: column 2: invalid regular expression: missing closing ] in [a`},
		{`[ip, ..., ...]`, `filter pattern: column 11: only one "..." is allowed in a space-delimited pattern`},
		{`[a = 4* && b > 1000]`, `filter pattern: column 12: a condition of field "a" may refer only to "a", found "b"`},
		{`[a, b`, `filter pattern: column 6: unclosed "[": add the closing "]"`},
		{`[a (b)]`, `filter pattern: column 4: expected an operator (=, !=, <, <=, >, >=) or IS / NOT EXISTS, found "("`},
		{`[a] b`, `filter pattern: column 5: unexpected "b" after the closing ]`},
		{`[a = ]`, `filter pattern: column 6: expected a value after "=", found "]"`},
		{strings.Repeat("a", 1025), `filter pattern: pattern is 1025 characters long; CloudWatch Logs accepts at most 1024`},
		{"\xff", `filter pattern: column 1: invalid UTF-8`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.pattern)
		if err == nil {
			t.Errorf("Parse(%q) accepted", tt.pattern)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): error %T, want *SyntaxError", tt.pattern, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tt.pattern, err, tt.want)
		}
	}
}

func TestParseCanonical(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{``, ``},
		{`   `, ``},
		{`ERROR  ?x -"a b" "[ERROR]" "say \"hi\""`, `ERROR ?x -"a b" "[ERROR]" "say \"hi\""`},
		{`{$.eventName=ConsoleLogin}`, `{ $.eventName = "ConsoleLogin" }`},
		{`{ ($.a = 1) && (($.b = 2) || ($.c = "x")) }`, `{ $.a = 1 && ($.b = 2 || $.c = "x") }`},
		{`{ $.a = 1 && ($.b = 2 && $.c = 3) }`, `{ $.a = 1 && $.b = 2 && $.c = 3 }`},
		{`{ ($.a = 1 || $.b = 2) || $.c = 3 }`, `{ $.a = 1 || $.b = 2 || $.c = 3 }`},
		{`{ $.['cluster.name'] = "c" && $['x'] NOT EXISTS && $.a[0].b[*] IS NULL && $.* IS TRUE }`,
			`{ $.['cluster.name'] = "c" && $.x NOT EXISTS && $.a[0].b[*] IS NULL && $.* IS TRUE }`},
		{`{ $.latency >= +1e3 && $.x = %a{,3}% }`, `{ $.latency >= +1e3 && $.x = %a{,3}% }`},
		{`[ip,user , ...,status_code=4*||status_code = 500, bytes>1000,]`, `[ip, user, ..., status_code = "4*" || status_code = 500, bytes > 1000, ]`},
		{`[]`, `[]`},
		{` %^REPORT\s% `, `%^REPORT\s%`},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.pattern, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.pattern, got, tt.want)
		}
		q, err := Parse(p.String())
		if err != nil {
			t.Errorf("reparse of %q: %v", p.String(), err)
			continue
		}
		if q.String() != p.String() {
			t.Errorf("round trip of %q gave %q", p.String(), q.String())
		}
	}
}

func TestKind(t *testing.T) {
	for pattern, want := range map[string]Kind{
		"": KindTerm, "ERROR": KindTerm, " { $.a = 1 }": KindJSON, "[a]": KindSpace, "%a%": KindRegex, `"[ERROR]"`: KindTerm,
	} {
		if got := MustParse(pattern).Kind(); got != want {
			t.Errorf("Kind(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestRegexTranslation(t *testing.T) {
	p := MustParse(`%^a{,2}b$%`)
	for event, want := range map[string]bool{"b": true, "ab": true, "aab": true, "aaab": false, "a{,2}b": false} {
		if got := p.MatchString(event); got != want {
			t.Errorf("%s on %q = %v, want %v", p, event, got, want)
		}
	}
	// A newline is not matched by "." (U16).
	if MustParse(`%a.b%`).MatchString("a\nb") {
		t.Error(`"." matched a newline`)
	}
}
