package filterpattern

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

type conformanceCase struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	Pattern     string            `json:"pattern"`
	Event       string            `json:"event"`
	Match       bool              `json:"match"`
	Value       *float64          `json:"value"`
	MetricValue string            `json:"metricValue"`
	Extracted   map[string]string `json:"extracted"`
	Invalid     bool              `json:"invalid"`
	Uncertain   bool              `json:"uncertain"`
	Note        string            `json:"note"`
}

func loadCases(t testing.TB) []conformanceCase {
	t.Helper()
	f, err := os.Open("testdata/filter-pattern-cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c conformanceCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("bad case line: %v", err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestConformance runs every case of the conformance corpus. Uncertain cases are reported, not
// failed: they record a best guess about behaviour AWS does not document.
func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 300 {
		t.Fatalf("only %d cases loaded", len(cases))
	}
	var passed, uncertainOK, uncertainDiffer int
	for _, c := range cases {
		problems := checkCase(c)
		switch {
		case c.Uncertain && len(problems) > 0:
			uncertainDiffer++
			t.Logf("uncertain case %s differs: %v (%s)", c.ID, problems, c.Note)
		case c.Uncertain:
			uncertainOK++
		case len(problems) > 0:
			t.Errorf("case %s: pattern %q event %q: %v", c.ID, c.Pattern, c.Event, problems)
		default:
			passed++
		}
	}
	t.Logf("%d cases: %d passed, %d uncertain agree, %d uncertain differ", len(cases), passed, uncertainOK, uncertainDiffer)
}

func checkCase(c conformanceCase) []string {
	var problems []string
	p, err := Parse(c.Pattern)
	if c.Invalid {
		if err == nil {
			return []string{"pattern accepted, but CloudWatch rejects it"}
		}
		return nil
	}
	if err != nil {
		return []string{"pattern rejected: " + err.Error()}
	}
	if got := p.Match([]byte(c.Event)); got != c.Match {
		problems = append(problems, "match = "+boolText(got))
	}
	if c.Extracted != nil && c.Match {
		got := map[string]string{}
		for _, v := range p.ExtractedValues([]byte(c.Event)) {
			got[v.Name] = v.Value
		}
		if len(got) != len(c.Extracted) {
			problems = append(problems, "extracted "+jsonText(got)+", want "+jsonText(c.Extracted))
		} else {
			for k, v := range c.Extracted {
				if got[k] != v {
					problems = append(problems, "extracted "+jsonText(got)+", want "+jsonText(c.Extracted))
					break
				}
			}
		}
	}
	if c.MetricValue != "" && c.Value != nil {
		r, err := p.Ref(c.MetricValue)
		if err != nil {
			problems = append(problems, "metric value: "+err.Error())
		} else if v, ok := r.Float([]byte(c.Event)); !ok || v != *c.Value {
			problems = append(problems, "metric value = "+jsonText(v)+" ok="+boolText(ok))
		}
	}
	return problems
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
