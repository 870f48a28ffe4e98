package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestUnescape(t *testing.T) {
	for _, lit := range []string{`plain`, `a\"b\\c\/d`, `\b\f\n\r\t`, `\u00e9\u65e5`, `\ud83d\ude00`, `\ud83d x`, `\udc00`, `end\`, `\u12`} {
		got := string(Unescape(nil, []byte(lit)))
		var want string
		if err := json.Unmarshal([]byte(`"`+lit+`"`), &want); err != nil {
			want = got // not valid JSON: only "no panic" is asked
		}
		if got != want {
			t.Errorf("Unescape(%q) = %q, want %q", lit, got, want)
		}
	}
}

func FuzzUnescape(f *testing.F) {
	f.Add([]byte(`a\u00e9\ud83d\ude00\n`))
	f.Fuzz(func(t *testing.T, s []byte) {
		got := Unescape(nil, s)
		var want string
		// encoding/json replaces invalid UTF-8 with U+FFFD; Unescape keeps the bytes as they are.
		if utf8.Valid(s) && json.Unmarshal(append(append([]byte{'"'}, s...), '"'), &want) == nil && string(got) != want {
			t.Errorf("Unescape(%q) = %q, encoding/json %q", s, got, want)
		}
	})
}
