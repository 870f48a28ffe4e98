package rules_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// The threat pack's fixtures are in testdata/threat (see SOURCE.md there).
const threatData = "testdata/threat"

func TestThreatPackShape(t *testing.T) {
	rs := threatPack(t)
	if len(rs) != 65 {
		t.Errorf("%d rules, want the 65 single-event rules of the reference", len(rs))
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.ID, "threat:") || r.Title == "" || r.Description == "" || r.Remediation == "" || r.FalsePositives == "" {
			t.Errorf("%s: id, title, description, remediation and false-positive notes are required", r.ID)
		}
		if len(r.References.MITRE) == 0 {
			t.Errorf("%s: no MITRE ATT&CK technique", r.ID)
		}
		// Deployable as a metric filter: CloudWatch's length and regex/wildcard quotas, which
		// Parse enforces, hold for the pattern as deployed (account filled in) too.
		if _, err := filterpattern.Parse(rules.BindAccountID(r.Pattern, "123456789012")); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		for _, s := range r.References.Stratus {
			if !slices.Contains(rules.StratusAWSTechniques, s) {
				t.Errorf("%s: %s is not a Stratus AWS technique", r.ID, s)
			}
		}
	}
}

// stratusFile is the events of a Stratus technique: its detonation log, or the supplement
// events for the techniques that have none.
func stratusFile(t *testing.T, technique string) string {
	for _, name := range []string{technique + ".json", technique + ".supplement.json"} {
		p := threatData + "/stratus/" + name
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("no events for %s", technique)
	return ""
}

// Every Stratus Red Team AWS technique is caught: running the pack over its events fires every
// rule that names the technique in references.stratus (at least one).
func TestThreatStratusTechniques(t *testing.T) {
	rs := threatPack(t)
	if len(rules.StratusAWSTechniques) != 44 {
		t.Fatalf("%d Stratus AWS techniques, want 44", len(rules.StratusAWSTechniques))
	}
	for _, technique := range rules.StratusAWSTechniques {
		t.Run(technique, func(t *testing.T) {
			var want []string
			for _, r := range rs {
				if slices.Contains(r.References.Stratus, technique) {
					want = append(want, r.ID)
				}
			}
			if len(want) == 0 {
				t.Fatalf("no rule names %s", technique)
			}
			fired := map[string]int{}
			for _, h := range runRules(t, rs, stratusFile(t, technique)) {
				fired[h.Rule]++
			}
			for _, id := range want {
				if fired[id] == 0 {
					t.Errorf("%s did not fire (fired: %v)", id, fired)
				}
			}
		})
	}
}

type threatCase struct {
	Rule  string          `json:"rule"`
	Match bool            `json:"match"`
	Note  string          `json:"note"`
	Event json.RawMessage `json:"event"`
}

// Each rule fires on its positive case and not on its near-misses: the same API call (or its
// harmless sibling) in a shape that is not the risky one.
func TestThreatNearMisses(t *testing.T) {
	rs := threatPack(t)
	f, err := os.Open(threatData + "/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	covered := map[string][2]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var c threatCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("cases.jsonl:%d: %v", line, err)
		}
		got := slices.Contains(evalEvent(t, rs, c.Event), c.Rule)
		if got != c.Match {
			t.Errorf("cases.jsonl:%d: %s on %q: fired %v, want %v", line, c.Rule, c.Note, got, c.Match)
		}
		n := covered[c.Rule]
		if c.Match {
			n[0]++
		} else {
			n[1]++
		}
		covered[c.Rule] = n
	}
	for _, r := range rs {
		if n := covered[r.ID]; n[0] == 0 || n[1] == 0 {
			t.Errorf("%s: %d positive and %d near-miss cases; want at least one of each", r.ID, n[0], n[1])
		}
	}
}

// invictusClass sorts a record of the Invictus dataset: the Stratus detonation (its user agent,
// or the stolen instance credentials of a stratus-red-team role), Terraform (Stratus' warm-up and
// clean-up), or the background (everything else).
func invictusClass(h hit) string {
	switch {
	case strings.Contains(h.UserAgent, "Terraform"):
		return "TF"
	case strings.Contains(h.UserAgent, "stratus-red-team"), bytes.Contains(h.Raw, []byte("assumed-role/stratus-red-team-")):
		return "DET"
	}
	return "BG"
}

// terraformAllow is how a user silences the Terraform runs: the dataset's Terraform uses the same
// IAM user as the detonation and the console, so the allow-list keys on the user agent.
const terraformAllow = `{ $.userAgent = "*Terraform*" }`

// The noise test. An alert is a rule firing on a record (a distinct record/rule pair). On the
// Invictus dataset the background raises at most 2, and with Terraform allow-listed the
// Terraform set-up raises at most 5 while the detonation still raises everything it did.
func TestThreatNoiseInvictus(t *testing.T) {
	rs := threatPack(t)
	count := func(hs []hit) map[string]int {
		c := map[string]int{}
		for _, h := range hs {
			c[invictusClass(h)]++
			if invictusClass(h) == "BG" {
				t.Logf("background alert: %s on %s (%s)", h.Rule, h.EventName, h.UserAgent)
			}
		}
		return c
	}
	plain := count(runRules(t, rs, "../../examples/cloudtrail"))
	t.Logf("without allow-lists: detonation %d, Terraform %d, background %d", plain["DET"], plain["TF"], plain["BG"])
	if plain["BG"] > 2 {
		t.Errorf("background raises %d alerts, want at most 2", plain["BG"])
	}
	if plain["DET"] < 90 {
		t.Errorf("the detonation raises only %d alerts", plain["DET"])
	}

	a, err := rules.NewAllowPattern(terraformAllow)
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.AddAllow(rs, "threat:*", a); err != nil {
		t.Fatal(err)
	}
	allowed := count(runRules(t, rs, "../../examples/cloudtrail"))
	t.Logf("Terraform allow-listed: detonation %d, Terraform %d, background %d", allowed["DET"], allowed["TF"], allowed["BG"])
	if allowed["TF"] > 5 {
		t.Errorf("with Terraform allow-listed, Terraform raises %d alerts, want at most 5", allowed["TF"])
	}
	if allowed["DET"] != plain["DET"] || allowed["BG"] != plain["BG"] {
		t.Errorf("the allow-list changed detonation or background alerts: %v, before %v", allowed, plain)
	}
}

func TestThreatCoverage(t *testing.T) {
	c := rules.CoverageOf(threatPack(t))
	if len(c.StratusMissing) != 0 || len(c.Stratus) != 44 {
		t.Errorf("Stratus: %d covered, missing %v", len(c.Stratus), c.StratusMissing)
	}
	if len(c.MITRE) < 20 {
		t.Errorf("only %d MITRE techniques", len(c.MITRE))
	}
	cis, _ := rules.Pack("cis-1.2")
	if c := rules.CoverageOf(cis); len(c.StratusMissing) != 44 {
		t.Errorf("cis-1.2 names %d Stratus techniques, want none", 44-len(c.StratusMissing))
	}
}
