package filterpattern

import (
	"testing"
)

var fuzzEvents = []string{
	`{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"},"a":[1,"2",{"b":null}],"n":1e3,"t":true}`,
	`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`,
	`[ERROR] 400 BAD REQUEST`,
	``,
}

func addPatternSeeds(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.Pattern, []byte(c.Event))
	}
}

// FuzzParse: no panic, no hang, and the canonical form parses back to the same pattern, which
// matches the same events.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.Pattern)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		q, err := Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", src, p.String(), err)
		}
		if q.String() != p.String() || q.Kind() != p.Kind() {
			t.Fatalf("round trip of %q: %q then %q", src, p.String(), q.String())
		}
		for _, ev := range fuzzEvents {
			if p.MatchString(ev) != q.MatchString(ev) {
				t.Fatalf("%q and its canonical form %q disagree on %q", src, p.String(), ev)
			}
		}
	})
}

// FuzzMatch: matching never panics on any bytes; Explain agrees with Match; JSON patterns agree
// with the decoding oracle.
func FuzzMatch(f *testing.F) {
	addPatternSeeds(f)
	f.Fuzz(func(t *testing.T, src string, event []byte) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		got := p.Match(event)
		if x := p.Explain(event); x.Result != got {
			t.Fatalf("Explain says %v, Match %v, for %q on %q", x.Result, got, src, event)
		}
		if vals := p.ExtractedValues(event); (vals != nil) != got {
			t.Fatalf("ExtractedValues non-nil = %v, Match %v", vals != nil, got)
		}
		if p.Kind() == KindJSON {
			if want := oracleMatch(p, event); want != got {
				t.Fatalf("%s on %q: %v, oracle %v", p, event, got, want)
			}
		}
	})
}
