package filterpattern

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// regexAllowed marks the characters CloudWatch Logs accepts inside %...%: letters, digits, the
// symbols _ # = @ / ; , - : and space, and the operators ^ $ ? [ ] { } | \ * + . — nothing
// else, not even escaped (so "(" is written \x28).
var regexAllowed = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_#=@/;,-: ^$?[]{}|\\*+." {
		t[c] = true
	}
	return t
}()

// compileRegex validates a CloudWatch regular expression and compiles it to Go's RE2. On error
// it returns the byte offset within body and a message.
func compileRegex(body string) (*regexp.Regexp, int, string) {
	if body == "" {
		return nil, 0, "empty regular expression"
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c >= 0x80 {
			return nil, i, "regular expressions may contain only ASCII characters"
		}
		if !regexAllowed[c] {
			hint := ""
			if c == '(' || c == ')' {
				hint = " (groups are not supported; write a literal parenthesis as \\x28 or \\x29)"
			}
			return nil, i, "character " + quoteChar(c) + " is not allowed in a regular expression" + hint
		}
	}
	re, err := regexp.Compile(translateRegex(body))
	if err != nil {
		msg := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			msg = string(se.Code) + " in " + se.Expr
		}
		return nil, 0, "invalid regular expression: " + msg
	}
	return re, 0, ""
}

// translateRegex turns CloudWatch's syntax into RE2's where they differ: a repetition with the
// lower bound left out, {,n}, means {0,n} in CloudWatch but literal text in RE2.
func translateRegex(body string) string {
	if !strings.Contains(body, "{,") {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			b.WriteByte(body[i])
			b.WriteByte(body[i+1])
			i++
			continue
		}
		if body[i] == '{' && i+1 < len(body) && body[i+1] == ',' {
			b.WriteString("{0")
			continue
		}
		b.WriteByte(body[i])
	}
	return b.String()
}

func quoteChar(c byte) string {
	if c < 0x20 || c == 0x7f {
		return "0x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	}
	return "\"" + string(rune(c)) + "\""
}
