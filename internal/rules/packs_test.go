package rules

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
)

func TestPacksLoad(t *testing.T) {
	if _, err := builtin(); err != nil {
		t.Fatalf("built-in packs: %v", err)
	}
	want := []string{"cis-1.2", "cis-1.3", "cis-1.4", "cis-1.5", "cis-2.0", "cis-3.0", "cis-4.0", "cis-5.0", "cis-6.0", "cis-7.0", "default", "runbook", "securityhub", "threat"}
	if got := PackNames(); !slices.Equal(got, want) {
		t.Fatalf("PackNames() = %v, want %v", got, want)
	}
	counts := map[string]int{"threat": 65, "runbook": 3, "cis-1.2": 14, "cis-1.3": 15, "cis-1.4": 15, "cis-1.5": 15, "cis-2.0": 15, "cis-3.0": 15,
		"cis-4.0": 15, "cis-5.0": 15, "cis-6.0": 15, "cis-7.0": 15, "securityhub": 14, "default": 15}
	for _, p := range Packs() {
		if p.Rules != counts[p.Name] {
			t.Errorf("pack %s has %d rules, want %d", p.Name, p.Rules, counts[p.Name])
		}
		if p.Description == "" {
			t.Errorf("pack %s has no description", p.Name)
		}
		rs, err := Pack(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if p.Name != DefaultPack && (r.Pack != p.Name || !strings.HasPrefix(r.ID, p.Name+":")) {
				t.Errorf("rule %s in pack %s has pack %q", r.ID, p.Name, r.Pack)
			}
			if r.Compiled == nil || r.Metric.ValueRef == nil {
				t.Errorf("%s: not compiled", r.ID)
			}
			if p.Name == "threat" || p.Name == "runbook" {
				continue // not a CIS pack: checked by TestThreatPackShape, TestRunbookPack
			}
			if r.Title == "" || r.Description == "" || r.Remediation == "" || len(r.References.CIS) == 0 {
				t.Errorf("%s: missing title, description, remediation or CIS reference", r.ID)
			}
			if r.Metric.Namespace != "CISBenchmark" || r.Metric.Value != "1" || r.Alarm != DefaultAlarm() {
				t.Errorf("%s: metric %+v alarm %+v, want the CIS settings", r.ID, r.Metric, r.Alarm)
			}
		}
	}
}

// Every pack pattern is the reference's pattern, byte for byte, and every chosen reference
// entry is in its pack.
func TestPackPatternsVerbatim(t *testing.T) {
	entries := readCISPatterns(t)
	all := map[string]*Rule{}
	for _, r := range AllBuiltin() {
		if r.Pack != "threat" && r.Pack != "runbook" { // not generated from the CIS reference
			all[r.ID] = r
		}
	}
	used := 0
	for _, e := range entries {
		id := packName(e.Benchmark) + ":" + e.Control
		if !chosen(e) {
			continue
		}
		used++
		r, ok := all[id]
		if !ok {
			t.Errorf("%s (%s, variant %s) is not in the packs", id, e.Topic, e.Variant)
			continue
		}
		want := *e.Pattern
		if r.Pattern != want {
			// The one sanctioned difference: a transcription CloudWatch would reject, replaced by
			// the reference's own correction, with the original quoted in the notes.
			_, verbatimErr := filterpattern.Parse(want)
			if e.PatternCorrected == nil || r.Pattern != *e.PatternCorrected || verbatimErr == nil || !strings.Contains(r.Notes, want) {
				t.Errorf("%s: pattern\n%q\nwant (cis-patterns.json)\n%q", id, r.Pattern, want)
			}
		}
		if _, err := filterpattern.Parse(r.Pattern); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if e.SecurityHub != nil && !slices.Contains(r.References.SecurityHub, *e.SecurityHub) {
			t.Errorf("%s: references.securityHub %v lacks %s", id, r.References.SecurityHub, *e.SecurityHub)
		}
	}
	if used != len(all) {
		t.Errorf("%d reference entries chosen, %d rules in the packs", used, len(all))
	}
}

func TestBuiltinIDsUnique(t *testing.T) {
	seen := map[string]string{}
	for _, r := range AllBuiltin() {
		if prev, dup := seen[r.ID]; dup {
			t.Errorf("id %s in %s and %s", r.ID, prev, r.File)
		}
		seen[r.ID] = r.File
	}
	if len(seen) != 163+65+3 {
		t.Errorf("%d built-in rules, want 163 (CIS, Security Hub) + 65 (threat) + 3 (runbook)", len(seen))
	}
}

func TestKnownQuirksHaveNotes(t *testing.T) {
	for _, id := range []string{"cis-1.3:4.1", "cis-1.4:4.1", "cis-1.5:4.1"} {
		r, ok := Builtin(id)
		if !ok || !strings.Contains(r.Notes, "matches nearly every") {
			t.Errorf("%s: notes %q should explain the broken pattern", id, r.Notes)
		}
	}
	r, _ := Builtin("cis-1.3:4.4")
	if !strings.Contains(r.Notes, "($eventName=DetachRolePolicy)") {
		t.Errorf("cis-1.3:4.4 notes should quote the verbatim pattern: %q", r.Notes)
	}
	if r, _ := Builtin("cis-1.2:3.1"); r.Notes != "" {
		t.Errorf("cis-1.2:3.1 has notes %q; its pattern has no known problem", r.Notes)
	}
}

func TestDefaultSelection(t *testing.T) {
	rs := DefaultSelection()
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	var want []string
	for i := 1; i <= 14; i++ {
		want = append(want, "securityhub:CloudWatch."+strconv.Itoa(i))
	}
	want = append(want, "cis-5.0:4.15")
	if !slices.Equal(ids, want) {
		t.Errorf("DefaultSelection() = %v, want %v", ids, want)
	}
	sel, err := Select(nil, nil)
	if err != nil || len(sel) != len(want) {
		t.Errorf("Select(nil, nil) = %d rules, %v; want the default selection", len(sel), err)
	}
	// Copies: changing one does not change the packs.
	rs[0].Title = "changed"
	if DefaultSelection()[0].Title == "changed" {
		t.Error("DefaultSelection returns shared rules")
	}
}

func TestPackUnknown(t *testing.T) {
	_, err := Pack("cis-1.0")
	if err == nil || !strings.Contains(err.Error(), "cis-1.2, cis-1.3") || !strings.Contains(err.Error(), `unknown pack "cis-1.0"`) {
		t.Errorf("Pack(cis-1.0) error = %v", err)
	}
	_, err = Pack("securityhb")
	if err == nil || !strings.Contains(err.Error(), `did you mean "securityhub"`) {
		t.Errorf("Pack(securityhb) error = %v", err)
	}
}

func TestSelect(t *testing.T) {
	rs, err := Select([]string{"cis-1.2", "cis-1.2"}, []string{"testdata/valid.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 14+2 {
		t.Errorf("got %d rules, want 16", len(rs))
	}
	// The default selection and securityhub overlap: the same rules, counted once.
	rs, err = Select([]string{"default", "securityhub"}, nil)
	if err != nil || len(rs) != 15 {
		t.Errorf("default+securityhub: %d rules, %v", len(rs), err)
	}
	_, err = Select(nil, []string{"testdata/valid.yaml", "testdata/valid-copy.yaml"})
	es, ok := err.(Errors)
	if !ok || len(es) != 2 || !strings.Contains(es[0].Error(), "testdata/valid-copy.yaml:") || !strings.Contains(es[0].Error(), `duplicate rule id "acme:root-login": already defined at testdata/valid.yaml:`) {
		t.Errorf("duplicate ids across files: %v", err)
	}
	_, err = Select([]string{"nope"}, []string{"testdata/missing.yaml"})
	if err == nil || !strings.Contains(err.Error(), `unknown pack "nope"`) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("unknown pack and missing file: %v", err)
	}
}

// The notes describe what the patterns do; check the claims against the engine.
func TestQuirkClaims(t *testing.T) {
	match := func(id, event string) bool {
		r, ok := Builtin(id)
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		return r.Compiled.Match([]byte(event))
	}
	ordinary := `{"eventName":"DescribeInstances","sourceIPAddress":"198.51.100.7","eventSource":"ec2.amazonaws.com"}`
	if !match("cis-1.3:4.1", ordinary) || match("cis-1.2:3.1", ordinary) || match("cis-2.0:4.1", ordinary) {
		t.Error("cis-1.3 4.1 should match an ordinary event, cis-1.2 3.1 and cis-2.0 4.1 should not")
	}
	// A || (B && C && D): the exclusions do not apply to *UnauthorizedOperation errors.
	unauth := `{"errorCode":"Client.UnauthorizedOperation","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"HeadBucket"}`
	denied := `{"errorCode":"AccessDenied","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"HeadBucket"}`
	if !match("cis-2.0:4.1", unauth) || match("cis-2.0:4.1", denied) {
		t.Error("cis-2.0 4.1 precedence is not A || (B && C && D)")
	}
	modify := `{"eventName":"ModifySecurityGroupRules"}`
	if match("securityhub:CloudWatch.10", modify) || !match("cis-5.0:4.10", modify) {
		t.Error("ModifySecurityGroupRules: only cis-5.0+ should match it")
	}
}
