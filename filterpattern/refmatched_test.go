package filterpattern

import (
	"testing"
)

// refSelectors are paths of real CloudTrail records: present, missing, nested, in arrays, a
// value that is an object (not a value), a number and a boolean.
var refSelectors = []string{
	"$.userIdentity.arn", "$.userIdentity.sessionContext.attributes.mfaAuthenticated",
	"$.eventName", "$.sourceIPAddress", "$.resources[0].ARN", "$.resources[1].type",
	"$.requestParameters", "$.responseElements.ConsoleLogin", "$.additionalEventData.MFAUsed",
	"$.eventVersion", "$.readOnly", "$.requestParameters.maxResults", "$.nope.deeper",
	"$.tlsDetails.tlsVersion", "$.userIdentity.sessionContext.sessionIssuer.userName",
}

// TextMatched must give what Text gives on every event the pattern matches.
func TestTextMatchedAgreesWithText(t *testing.T) {
	records := invictusRecords(t)
	for _, sel := range refSelectors {
		p, err := Parse(`{ ($.eventVersion = *) || (` + sel + ` NOT EXISTS) }`)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Ref(sel)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, ev := range records {
			if !p.Match(ev) {
				continue
			}
			want, wok := r.Text(ev)
			got, gok := r.TextMatched(ev)
			if got != want || gok != wok {
				t.Fatalf("%s on %.200s: TextMatched %q %v, Text %q %v", sel, ev, got, gok, want, wok)
			}
			if gok {
				found++
			}
		}
		t.Logf("%s: %d values", sel, found)
	}
}

// Edge cases of the walk: duplicate keys (the first value in document order, even when the
// first occurrence lacks the path), escapes in keys and values, blanks everywhere.
func TestTextMatchedEdges(t *testing.T) {
	for _, c := range []struct{ sel, event string }{
		{"$.a.b", `{"a":{"c":1},"a":{"b":"second"}}`},
		{"$.a.b", `{"a":{"b":{"x":1}},"a":{"b":"str"}}`},
		{"$.a.b", `{"a":{"b":null,"b":7}}`},
		{"$.a", `{ "a" : "x\"y\\u00e9" }`},
		{"$.k", `{"\u006b":"escaped key"}`},
		{"$.l[2]", `{"l":[1, {"x":[1,2]} , true ]}`},
		{"$.l[5]", `{"l":[1,2]}`},
		{"$.n", `{"n":-1.5e3}`},
		{"$.f", `{"f":false}`},
		{"$.a.b", `{"a":[{"b":1}]}`},
		{"$.a", `[{"a":1}]`},
	} {
		p, err := Parse(`{ ($.zz NOT EXISTS) }`)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Ref(c.sel)
		if err != nil {
			t.Fatalf("%s: %v", c.sel, err)
		}
		ev := []byte(c.event)
		if !p.Match(ev) {
			t.Logf("%s: pattern does not match %s", c.sel, c.event)
			continue
		}
		want, wok := r.Text(ev)
		got, gok := r.TextMatched(ev)
		if got != want || gok != wok {
			t.Errorf("%s on %s: TextMatched %q %v, Text %q %v", c.sel, c.event, got, gok, want, wok)
		}
	}
}

// FuzzTextMatched: on any input it does not panic; on any event the pattern matches (so valid JSON), the walk agrees with Text.
func FuzzTextMatched(f *testing.F) {
	f.Add(`{"a":{"b":"x"}}`, "$.a.b")
	f.Add(`{"a":[1,{"b":2}],"a":{"b":true}}`, "$.a[1].b")
	f.Add(`{"k\u0022":"v"}`, `$.['k"']`)
	f.Fuzz(func(t *testing.T, event, sel string) {
		p, err := Parse(`{ ($.zz NOT EXISTS) }`)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Ref(sel)
		if err != nil {
			return
		}
		ev := []byte(event)
		r.TextMatched(ev) // on anything: must not panic
		if !p.Match(ev) {
			return
		}
		want, wok := r.Text(ev)
		got, gok := r.TextMatched(ev)
		if got != want || gok != wok {
			t.Errorf("%s on %s: TextMatched %q %v, Text %q %v", sel, event, got, gok, want, wok)
		}
	})
}
