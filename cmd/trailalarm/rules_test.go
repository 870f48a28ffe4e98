package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validRules = "../../internal/rules/testdata/valid.yaml"

func TestRulesList(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "list", "--pack", "cis-1.2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || errOut != "" || len(lines) != 15 {
		t.Fatalf("exit %d, stderr %q, %d lines:\n%s", code, errOut, len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "SEVERITY") || !strings.Contains(lines[0], "TITLE") {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[3]); len(f) < 3 || f[0] != "cis-1.2:3.3" || f[1] != "critical" {
		t.Errorf("row for 3.3: %q", lines[3])
	}

	// Without --pack: every built-in rule.
	_, out, _ = runCLI(t, "", "rules", "list")
	if n := strings.Count(out, "\n"); n != 164+65+3 {
		t.Errorf("rules list: %d lines, want 232 (header + 163 CIS and Security Hub rules + 65 threat rules + 3 runbook rules)", n)
	}
	// The default selection, and a rule file next to a pack.
	_, out, _ = runCLI(t, "", "rules", "list", "--pack", "default")
	if !strings.Contains(out, "securityhub:CloudWatch.14") || !strings.Contains(out, "cis-5.0:4.15") || strings.Count(out, "\n") != 16 {
		t.Errorf("default selection:\n%s", out)
	}
	code, out, _ = runCLI(t, "", "rules", "list", "--pack", "securityhub", "--rules", validRules)
	if code != 0 || !strings.Contains(out, "acme:big-downloads") || !strings.Contains(out, "securityhub:CloudWatch.1 ") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestRulesListJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "list", "--rules", validRules, "--format", "json")
	var rs []map[string]any
	if err := json.Unmarshal([]byte(out), &rs); code != 0 || err != nil || len(rs) != 2 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	r := rs[1]
	if r["id"] != "acme:big-downloads" || r["severity"] != "low" || r["patternKind"] != "json" {
		t.Errorf("rule: %v", r)
	}
	m := r["metric"].(map[string]any)
	if m["value"] != "$.additionalEventData.bytesTransferredOut" || m["dimensions"].(map[string]any)["Bucket"] != "$.requestParameters.bucketName" {
		t.Errorf("metric: %v", m)
	}
	if !strings.Contains(out, `"pattern": "{ $.eventName = \"GetObject\" && $.additionalEventData.bytesTransferredOut > 1000000 }"`) {
		t.Errorf("pattern not printed as is (HTML escaping?):\n%s", out)
	}
}

func TestRulesPacks(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "packs")
	for _, p := range []string{"cis-1.2", "cis-1.3", "cis-1.4", "cis-1.5", "cis-2.0", "cis-3.0", "cis-4.0", "cis-5.0", "cis-6.0", "cis-7.0", "securityhub", "default"} {
		if !strings.Contains(out, "\n"+p+" ") {
			t.Errorf("pack %s missing:\n%s", p, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	// The help text lists the packs too; keep it in step.
	_, help, _ := runCLI(t, "", "rules", "--help")
	for _, p := range []string{"cis-1.2", "cis-7.0", "securityhub", "threat", "default"} {
		if !strings.Contains(help, p) {
			t.Errorf("rules --help does not mention %s", p)
		}
	}
	code, out, _ = runCLI(t, "", "rules", "packs", "--format", "json")
	var packs []struct {
		Name  string `json:"name"`
		Rules int    `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &packs); code != 0 || err != nil || len(packs) != 14 {
		t.Errorf("exit %d, %v: %s", code, err, out)
	}
}

func TestRulesShow(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "show", "cis-1.3:4.1")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"cis-1.3:4.1 — Unauthorized API calls",
		`pattern       { ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }`,
		"metric        CISBenchmark/UnauthorizedAPICalls, value 1, unit None",
		"alarm         Sum over 300 s >= 1, 1 of 1 periods, missing data notBreaching",
		"CIS           v1.3.0/4.1",
		"Security Hub  CloudWatch.2",
		"\nRemediation\n",
		"\nNotes\n  This version's pattern is broken",
		"matches nearly every CloudTrail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}

	code, out, _ = runCLI(t, "", "rules", "show", "acme:big-downloads", "--rules", validRules, "--format", "json")
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r["id"] != "acme:big-downloads" {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	alarm := r["alarm"].(map[string]any)
	if alarm["evaluationPeriods"] != 3.0 || alarm["datapointsToAlarm"] != 3.0 || alarm["period"] != 300.0 {
		t.Errorf("alarm %v", alarm)
	}
	code, out, _ = runCLI(t, "", "rules", "show", "acme:root-login", "--rules", validRules)
	if code != 0 || !strings.Contains(out, "default value  0") && !strings.Contains(out, "default value 0") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestRulesShowUnknown(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "show", "CloudWatch.1")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown rule id "CloudWatch.1"; did you mean securityhub:CloudWatch.1?`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "rules", "show", "nothing-like-it")
	if code != 2 || !strings.Contains(errOut, "'trailalarm rules list' lists the ids") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRulesValidateOK(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "validate", validRules)
	if code != 0 || errOut != "" || out != validRules+": OK (2 rules)\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestRulesValidateErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`rules:
  - id: a
    title: A
    patern: ERROR
  - id: b
    title: B
    pattern: '{ $.eventName = }'
    severity: urgent
`), 0o644)
	dup := filepath.Join(dir, "dup.yaml")
	os.WriteFile(dup, []byte("rules:\n  - id: acme:root-login\n    title: T\n    pattern: X\n"), 0o644)
	code, out, errOut := runCLI(t, "", "rules", "validate", validRules, bad, dup, filepath.Join(dir, "missing.yaml"))
	if code != 2 {
		t.Errorf("exit %d", code)
	}
	if out != validRules+": OK (2 rules)\n"+dup+": OK (1 rule)\n" {
		t.Errorf("stdout %q", out)
	}
	for _, want := range []string{
		bad + ":2:5: a has no pattern",
		bad + `:4:5: unknown key "patern" in a rule; did you mean "pattern"?`,
		bad + `:7:31: invalid pattern: expected a value after "="`,
		bad + `:8:15: unknown severity "urgent"`,
		dup + `:2:5: duplicate rule id "acme:root-login": already defined at ` + validRules + ":5:5",
		filepath.Join(dir, "missing.yaml") + ": cannot read the file: no such file or directory",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in stderr\n%s", want, errOut)
		}
	}
}

func TestRulesUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"rules", "list", "--pack", "cis-9.9"},
		{"rules", "list", "--format", "yaml"},
		{"rules", "list", "--nope"},
		{"rules", "list", "extra"},
		{"rules", "show"},
		{"rules", "show", "a", "b"},
		{"rules", "validate"},
		{"rules", "bogus"},
		{"rules", "packs", "--format", "xml"},
		{"rules", "list", "--rules", "does-not-exist.yaml"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "trailalarm: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, _, errOut := runCLI(t, "", "rules", "list", "--pack", "cis-9.9")
	if !strings.Contains(errOut, `unknown pack "cis-9.9"`) || !strings.Contains(errOut, "cis-1.2, cis-1.3") {
		t.Errorf("unknown pack: %q", errOut)
	}
}

func TestRulesShowParameters(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "show", "runbook:console-login-outside-home")
	if code != 0 || !strings.Contains(out, "home_cidrs (cidrs, no default: give it with --param)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
