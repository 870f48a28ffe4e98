package rules

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

type runbookCase struct {
	Rule   string          `json:"rule"`
	Expect string          `json:"expect"`
	Source string          `json:"source"`
	Note   string          `json:"note"`
	Record json.RawMessage `json:"record"`
}

func readRunbookCases(t *testing.T) []runbookCase {
	t.Helper()
	f, err := os.Open("testdata/runbook/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []runbookCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c runbookCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

var runbookValues = map[string]string{
	"home_cidrs":             "203.0.113.0/24",
	"allowed_regions":        "us-east-1,us-west-2",
	"break_glass_role":       "*FullAdminRole",
	"break_glass_principals": "arn:aws:iam::123456789012:user/security-oncall",
}

func boundRunbook(t *testing.T, values map[string]string) map[string]*Rule {
	t.Helper()
	rs, err := Pack("runbook")
	if err != nil {
		t.Fatal(err)
	}
	bound, skipped, unused, err := Bind(rs, values)
	if err != nil || len(skipped) != 0 || len(unused) != 0 {
		t.Fatalf("Bind: %v, skipped %v, unused %v", err, skipped, unused)
	}
	byID := map[string]*Rule{}
	for _, r := range bound {
		byID[r.ID] = r
	}
	return byID
}

func TestRunbookPack(t *testing.T) {
	byID := boundRunbook(t, runbookValues)
	if len(byID) != 3 {
		t.Fatalf("%d rules", len(byID))
	}
	per := map[string][2]int{}
	for i, c := range readRunbookCases(t) {
		r := byID[c.Rule]
		if r == nil {
			t.Fatalf("case %d: no rule %s", i+1, c.Rule)
		}
		got := r.Compiled.Match(c.Record)
		if got != (c.Expect == "match") {
			t.Errorf("case %d (%s, %s): matched %v, want %s", i+1, c.Rule, c.Note, got, c.Expect)
		}
		n := per[c.Rule]
		if c.Expect == "match" {
			n[0]++
		} else {
			n[1]++
		}
		per[c.Rule] = n
	}
	for id, n := range per {
		if n[0] == 0 || n[1] == 0 {
			t.Errorf("%s: %d matching cases and %d near-misses; want both", id, n[0], n[1])
		}
	}
	if len(per) != 3 {
		t.Errorf("cases for %d rules", len(per))
	}
}

// TestRunbookOtherValues: the same records decide differently with other values.
func TestRunbookOtherValues(t *testing.T) {
	vals := map[string]string{
		"home_cidrs":             "192.0.2.0/24, 203.0.113.0/24, 10.0.0.0/8, 192.168.0.0/16, 73.252.0.0/16, 2001:db8::/32",
		"allowed_regions":        "us-east-1,us-west-2,eu-west-1,ap-northeast-1,us-east-2",
		"break_glass_principals": "arn:aws:iam::123456789012:user/example-user",
	}
	byID := boundRunbook(t, vals)
	if byID["runbook:break-glass-role-use"].Values["break_glass_role"] != "*break-glass*" {
		t.Errorf("default not used: %v", byID["runbook:break-glass-role-use"].Values)
	}
	vals["break_glass_role"] = "*FullAdminRole"
	byID = boundRunbook(t, vals)
	for i, c := range readRunbookCases(t) {
		if got := byID[c.Rule].Compiled.Match(c.Record); got {
			t.Errorf("case %d (%s, %s): matched with every address, region and principal allowed", i+1, c.Rule, c.Note)
		}
	}
}

func TestRunbookMissingValues(t *testing.T) {
	rs, err := Pack("runbook")
	if err != nil {
		t.Fatal(err)
	}
	bound, skipped, _, err := Bind(rs, map[string]string{"home_cidrs": "203.0.113.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bound) != 1 || bound[0].ID != "runbook:console-login-outside-home" {
		t.Errorf("bound %d rules", len(bound))
	}
	want := []Skipped{{"runbook:api-call-outside-allowed-regions", "allowed_regions"}, {"runbook:break-glass-role-use", "break_glass_principals"}}
	if len(skipped) != 2 || skipped[0] != want[0] || skipped[1] != want[1] {
		t.Errorf("skipped %v", skipped)
	}
}
