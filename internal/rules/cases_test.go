package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateTopics = flag.Bool("update-topics", false, "rewrite cases/topics.json from testdata/cis-patterns.json")

// casePacks are the built-in packs whose rules the case bank covers: every CIS version and
// Security Hub.
func casePacks(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range PackNames() {
		if strings.HasPrefix(name, "cis-") || name == "securityhub" {
			out = append(out, name)
		}
	}
	if len(out) < 11 {
		t.Fatalf("expected cis-1.2 … cis-7.0 and securityhub among the packs, got %v", out)
	}
	return out
}

// topicsFromReference builds cases/topics.json from testdata/cis-patterns.json: benchmark and
// control → topic, for every entry that is a metric filter (has a pattern).
func topicsFromReference(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/cis-patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Benchmark string  `json:"benchmark"`
		Control   string  `json:"control"`
		Topic     string  `json:"topic"`
		Pattern   *string `json:"pattern"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		if e.Pattern == nil {
			continue
		}
		pack := e.Benchmark
		if pack == "aws-securityhub" {
			pack = "securityhub"
		}
		id := pack + ":" + e.Control
		if prev, ok := m[id]; ok && prev != e.Topic {
			t.Fatalf("cis-patterns.json gives %s two topics, %s and %s", id, prev, e.Topic)
		}
		m[id] = e.Topic
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestTopicsJSON(t *testing.T) {
	want := topicsFromReference(t)
	const file = "cases/topics.json"
	if *updateTopics {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := caseFiles.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what testdata/cis-patterns.json gives; run go test ./internal/rules -run TestTopicsJSON -update-topics", file)
	}
}

func TestEveryBuiltinRuleHasATopic(t *testing.T) {
	topics := Topics()
	for _, pack := range casePacks(t) {
		rs, err := Pack(pack)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			topic, ok := TopicOf(r.ID)
			if !ok {
				t.Errorf("%s (%s): no topic in cases/topics.json", r.ID, r.Position())
				continue
			}
			if !slices.Contains(topics, topic) {
				t.Errorf("%s: topic %q has no cases/%s.jsonl", r.ID, topic, topic)
			}
		}
	}
	if _, ok := TopicOf("no-such-pack:1.1"); ok {
		t.Error("TopicOf accepts an unknown rule id")
	}
	if _, err := Cases("no_such_topic"); err == nil {
		t.Error("Cases accepts an unknown topic")
	}
}

// TestCaseBankValid checks that every case is a CloudTrail record with its provenance, and that
// every topic has positives and near-misses.
func TestCaseBankValid(t *testing.T) {
	topics := Topics()
	if len(topics) < 15 {
		t.Fatalf("expected the 15 CIS monitoring topics, got %d: %v", len(topics), topics)
	}
	for _, topic := range topics {
		cs, err := Cases(topic)
		if err != nil {
			t.Fatal(err)
		}
		var pos, neg int
		seen := map[string]int{}
		for _, c := range cs {
			where := fmt.Sprintf("cases/%s.jsonl:%d", topic, c.Line)
			if c.Expect {
				pos++
			} else {
				neg++
			}
			var rec struct {
				EventTime    string `json:"eventTime"`
				EventName    string `json:"eventName"`
				EventSource  string `json:"eventSource"`
				EventVersion string `json:"eventVersion"`
				UserIdentity any    `json:"userIdentity"`
			}
			if err := json.Unmarshal(c.Record, &rec); err != nil {
				t.Errorf("%s: record: %v", where, err)
				continue
			}
			if rec.EventTime == "" || rec.EventName == "" || rec.EventSource == "" {
				t.Errorf("%s: not a CloudTrail record: eventTime %q, eventName %q, eventSource %q", where, rec.EventTime, rec.EventName, rec.EventSource)
			}
			if _, err := time.Parse(time.RFC3339, rec.EventTime); err != nil {
				t.Errorf("%s: eventTime %q is not as CloudTrail writes it: %v", where, rec.EventTime, err)
			}
			if !strings.HasSuffix(rec.EventSource, ".amazonaws.com") {
				t.Errorf("%s: eventSource %q is not an AWS service", where, rec.EventSource)
			}
			if rec.EventVersion == "" || rec.UserIdentity == nil {
				t.Errorf("%s: record lacks eventVersion or userIdentity", where)
			}
			if !strings.Contains(c.Source, "/") || !strings.HasSuffix(c.Source, ")") || !strings.Contains(c.Source, " (") {
				t.Errorf("%s: source %q does not read \"dataset/file … (licence)\"", where, c.Source)
			}
			if c.Note == "" {
				t.Errorf("%s: no note", where)
			}
			key := caseKey(c, rec.EventName)
			if prev, dup := seen[key]; dup {
				t.Errorf("%s: same source and eventName as line %d; cases must be told apart by them", where, prev)
			}
			seen[key] = c.Line
		}
		if pos == 0 || neg == 0 {
			t.Errorf("cases/%s.jsonl: %d positives and %d negatives; every topic needs at least one of each", topic, pos, neg)
		}
	}
}

func caseKey(c Case, eventName string) string { return c.Source + "\x00" + eventName }

func eventNameOf(c Case) string {
	var rec struct {
		EventName string `json:"eventName"`
	}
	_ = json.Unmarshal(c.Record, &rec)
	return rec.EventName
}

// caseException is a known, documented difference between what a rule's verbatim pattern does
// and what its topic's cases expect.
type caseException struct {
	rules     []string // the rule ids it applies to
	expect    bool     // which cases: the positives (true) or the near-misses (false)
	eventName string   // and of those, the ones with this eventName ("" for all)
	source    string   // and whose Source contains this ("" for all)
	note      string   // and whose Note contains this ("" for all)
	why       string   // what the pattern does and why
}

func (e *caseException) selects(c Case) bool {
	return c.Expect == e.expect &&
		(e.eventName == "" || eventNameOf(c) == e.eventName) &&
		(e.source == "" || strings.Contains(c.Source, e.source)) &&
		(e.note == "" || strings.Contains(c.Note, e.note))
}

// topicRules lists the built-in rule ids of a topic in the CIS and Security Hub packs whose name
// starts with prefix ("" for all of them, "cis-" for the CIS versions only).
func topicRules(topic, prefix string) []string {
	var out []string
	for _, pack := range PackNames() {
		if !strings.HasPrefix(pack, "cis-") && pack != "securityhub" || !strings.HasPrefix(pack, prefix) {
			continue
		}
		rs, _ := Pack(pack)
		for _, r := range rs {
			if tp, _ := TopicOf(r.ID); tp == topic {
				out = append(out, r.ID)
			}
		}
	}
	return out
}

// caseExceptions is the table of known differences. The test fails when an exception selects a
// case the rule gets right, or no case at all: the table must stay exact.
func caseExceptions() []caseException {
	return []caseException{
		{
			rules:  []string{"cis-1.3:4.1", "cis-1.4:4.1", "cis-1.5:4.1"},
			expect: false,
			why: `v1.3.0–v1.5.0 joined the HeadBucket and delivery.logs exclusions with || instead of &&:
($.sourceIPAddress != "delivery.logs.amazonaws.com") alone is true for almost every event, so the
pattern matches every near-miss (v2.0.0 fixed it)`,
		},
		{
			rules:     []string{"securityhub:CloudWatch.3"},
			expect:    true,
			eventName: "ConsoleLogin",
			note:      "by Root",
			why: `Security Hub's pattern (CIS's "alt-sso" variant) adds $.userIdentity.type = "IAMUser": root
sign-ins without MFA are left to CloudWatch.1 (root usage)`,
		},
		{
			rules:     []string{"securityhub:CloudWatch.3"},
			expect:    true,
			eventName: "ConsoleLogin",
			note:      "by AssumedRole",
			why: `Security Hub's pattern (CIS's "alt-sso" variant) adds $.userIdentity.type = "IAMUser": federated
(assumed-role, SSO) console sign-ins are not counted, on purpose, to avoid SSO false positives`,
		},
		{
			rules:  topicRules("console_signin_without_mfa", "cis-"),
			expect: false,
			note:   `MFAUsed "YES"`,
			why: `every CIS version compares MFAUsed != "Yes" case-sensitively, so a root sign-in recorded with
MFAUsed "YES" (as AWS's documentation shows one) counts as without MFA; Security Hub's pattern
only looks at IAM users`,
		},
		{
			rules:  topicRules("iam_policy_changes", ""),
			expect: false,
			note:   "Organizations",
			why: `no version's IAM policy pattern constrains $.eventSource, so Organizations' CreatePolicy and
DeletePolicy (service control policies) count as IAM policy changes`,
		},
		{
			rules:  topicRules("route_table_changes", ""),
			expect: false,
			source: "APIGateway-CreateRoute",
			why: `the remediation patterns of every version (and Security Hub's) do not constrain $.eventSource,
so API Gateway's CreateRoute counts as a route table change; only the v3.0.0+ audit text adds
$.eventSource = ec2.amazonaws.com, and there only for CreateRoute`,
		},
		{
			rules: []string{"cis-1.2:3.10", "cis-1.3:4.10", "cis-1.4:4.10", "cis-1.5:4.10", "cis-2.0:4.10",
				"cis-3.0:4.10", "cis-4.0:4.10", "securityhub:CloudWatch.10"},
			expect:    true,
			eventName: "ModifySecurityGroupRules",
			why: `ModifySecurityGroupRules (an API from 2021) joined the list in v5.0.0; earlier versions and
Security Hub's CloudWatch.10 miss it`,
		},
	}
}

func TestBuiltinRulesOnCases(t *testing.T) {
	exceptions := caseExceptions()
	used := map[*caseException]map[string]bool{}
	for i := range exceptions {
		used[&exceptions[i]] = map[string]bool{}
	}
	for _, pack := range casePacks(t) {
		rs, err := Pack(pack)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			topic, ok := TopicOf(r.ID)
			if !ok {
				continue // TestEveryBuiltinRuleHasATopic reports it
			}
			cs, err := Cases(topic)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				got := r.Compiled.Match(c.Record)
				var exc *caseException
				for i := range exceptions {
					e := &exceptions[i]
					if slices.Contains(e.rules, r.ID) && e.selects(c) {
						exc = e
						break
					}
				}
				where := fmt.Sprintf("%s on cases/%s.jsonl:%d (%s, %s)", r.ID, topic, c.Line, eventNameOf(c), c.Source)
				switch {
				case exc != nil && got == c.Expect:
					t.Errorf("%s: the exception %q is no longer needed for this case; narrow or remove it", where, exc.why)
				case exc != nil:
					used[exc][r.ID] = true
				case got != c.Expect:
					t.Errorf("%s: Match = %v, want %v\nnote: %s\npattern: %s\n%s", where, got, c.Expect, c.Note, r.Pattern, r.Compiled.Explain(c.Record))
				}
			}
		}
	}
	for i := range exceptions {
		e := &exceptions[i]
		if len(e.rules) == 0 {
			t.Errorf("exception %q names no rule", e.why)
		}
		for _, id := range e.rules {
			if !used[e][id] {
				t.Errorf("exception for %s (%q) selects no case this rule gets wrong; remove it", id, e.why)
			}
		}
	}
}
