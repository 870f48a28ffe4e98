package filterpattern

import (
	"fmt"
	"testing"
)

// A pattern that is an || of values on the same key is pre-selected by any of those values, not
// by the key every event has; the results stay those of Match.
func TestRequiredAnyLiterals(t *testing.T) {
	p := MustParse(`{ ($.userAgent = "*kali*") || ($.userAgent = "*TruffleHog*") || ($.userAgent = "S3 Browser*") }`)
	s := NewSet(p)
	if got := fmt.Sprintf("%q", s.needs[0]); got != `["kali" "TruffleHog" "\"S3 Browser"]` {
		t.Errorf("needs %s", got)
	}
	if got := requiredAny(MustParse(`{ ($.a = "x") || ($.b NOT EXISTS) }`).expr); got != nil {
		t.Errorf("a branch that requires nothing: %q", got)
	}
	m := s.NewMatcher()
	for _, c := range []struct {
		event string
		want  bool
	}{
		{`{"userAgent":"aws-cli/2 Linux/6.5.0-kali3-amd64"}`, true},
		{`{"userAgent":"TruffleHog"}`, true},
		{`{"userAgent":"S3 Browser 11.5.7"}`, true},
		{`{"userAgent":"aws-cli/2 Linux/6.5.0-1014-aws","x":"kal"}`, false},
		{`{"userAgent":"Boto3","note":"kali"}`, false}, // the literal elsewhere: scanned, no match
		{`{"userAgent":"Truffle\u0048og"}`, true},      // escapes: never ruled out by literals
	} {
		got := len(m.MatchKnown([]byte(c.event))) == 1
		if got != c.want || got != p.Match([]byte(c.event)) {
			t.Errorf("%s: MatchKnown %v, Match %v, want %v", c.event, got, p.Match([]byte(c.event)), c.want)
		}
	}
}

func TestContainsRare(t *testing.T) {
	for _, c := range []struct {
		event, lit string
		want       bool
	}{
		{"abc kali xyz", "kali", true}, {"kalkali", "kali", true}, {"kal", "kali", false}, {"ali", "kali", false},
		{"xxTruffleHo", "TruffleHog", false}, {"TruffleHog", "TruffleHog", true}, {"a", "ab", false}, {`"Root"`, `"Root"`, true},
	} {
		if got := containsRare([]byte(c.event), []byte(c.lit)); got != c.want {
			t.Errorf("containsRare(%q, %q) = %v", c.event, c.lit, got)
		}
	}
}
