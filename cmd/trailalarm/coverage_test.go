package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRulesCoverage(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "coverage", "--pack", "threat")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"65 rules:", "44 of 44 Stratus Red Team AWS techniques", "MITRE ATT&CK", "T1562.008",
		"aws.defense-evasion.cloudtrail-stop", "threat:cloudtrail-logging-stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(not covered)") {
		t.Errorf("threat leaves techniques uncovered:\n%s", out)
	}

	code, out, _ = runCLI(t, "", "rules", "coverage", "--pack", "cis-1.2", "--format", "json")
	var c struct {
		Rules          int                 `json:"rules"`
		MITRE          map[string][]string `json:"mitre"`
		Stratus        map[string][]string `json:"stratus"`
		StratusMissing []string            `json:"stratusMissing"`
		StratusTotal   int                 `json:"stratusTotal"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if c.Rules != 14 || len(c.Stratus) != 0 || len(c.StratusMissing) != 44 || c.StratusTotal != 44 {
		t.Errorf("cis-1.2 coverage: %+v", c)
	}

	if code, _, _ := runCLI(t, "", "rules", "coverage", "--format", "yaml"); code != 2 {
		t.Errorf("--format yaml: exit %d, want 2", code)
	}
}

func TestScanAllow(t *testing.T) {
	count := func(args ...string) (int, map[string]int) {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"scan", "--pack", "threat", "--no-alarms", "--format", "json"}, args...)...)
		if code != 0 {
			return code, nil
		}
		var rep struct {
			Rules []struct {
				ID      string `json:"id"`
				Matches int    `json:"matches"`
			} `json:"rules"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %s %s", err, out, errOut)
		}
		m := map[string]int{}
		for _, r := range rep.Rules {
			m[r.ID] = r.Matches
		}
		return code, m
	}
	_, plain := count("../../examples/cloudtrail")
	if plain["threat:ssm-secure-parameter-read-by-human"] != 87 || plain["threat:iam-user-created"] != 4 {
		t.Fatalf("without --allow: %v", plain)
	}
	_, allowed := count("--allow", `threat:*={ $.userAgent = "*Terraform*" }`,
		"--allow", `threat:iam-user-c*={ $.eventName = "CreateUser" }`, "../../examples/cloudtrail")
	if allowed["threat:ssm-secure-parameter-read-by-human"] != 5 || allowed["threat:iam-user-created"] != 0 {
		t.Errorf("with --allow: %v", allowed)
	}
	for _, bad := range []string{"threat:nope={ $.x = 1 }", "threat:iam-user-created", "threat:iam-user-created={ $.x = }"} {
		if code, _ := count("--allow", bad, "../../examples/cloudtrail"); code != 2 {
			t.Errorf("--allow %q: exit %d, want 2", bad, code)
		}
	}
}
