package filterpattern

import (
	"fmt"
	"unicode/utf8"
)

// MaxLength is the longest filter pattern CloudWatch Logs accepts, in characters.
const MaxLength = 1024

// Quotas CloudWatch Logs applies to one pattern.
const (
	maxRegexes           = 2 // regular expressions per JSON or space-delimited pattern
	maxWildcardSelectors = 3 // JSON selectors that contain a wildcard
	maxSelectorWildcards = 1 // wildcards within one selector
)

// SyntaxError reports a pattern that CloudWatch Logs would reject.
type SyntaxError struct {
	Pattern string // the pattern as given
	Column  int    // 1-based column (in characters) where the problem was found; 0 for the whole pattern
	Msg     string // what was expected, or what is wrong
}

func (e *SyntaxError) Error() string {
	if e.Column <= 0 {
		return "filter pattern: " + e.Msg
	}
	return fmt.Sprintf("filter pattern: column %d: %s", e.Column, e.Msg)
}

// errorAt builds a SyntaxError for the byte offset off of src.
func errorAt(src string, off int, format string, args ...any) *SyntaxError {
	if off > len(src) {
		off = len(src)
	}
	return &SyntaxError{Pattern: src, Column: utf8.RuneCountInString(src[:off]) + 1, Msg: fmt.Sprintf(format, args...)}
}

// describe renders the text found at an error position for a message: the next token-ish
// piece of input, or "the end of the pattern".
func describe(src string, off int) string {
	if off >= len(src) {
		return "the end of the pattern"
	}
	rest := src[off:]
	for _, op := range []string{"&&", "||", "!=", "<=", ">=", "..."} {
		if len(rest) >= len(op) && rest[:len(op)] == op {
			return fmt.Sprintf("%q", op)
		}
	}
	r, size := utf8.DecodeRuneInString(rest)
	if isBareByte(rest[0]) {
		end := 0
		for end < len(rest) && isBareByte(rest[end]) && end < 40 {
			end++
		}
		return fmt.Sprintf("%q", rest[:end])
	}
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", rest[0])
	}
	return fmt.Sprintf("%q", string(r))
}
