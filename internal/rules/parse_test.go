package rules

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
)

func TestParseValid(t *testing.T) {
	rs, err := LoadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("got %d rules", len(rs))
	}
	r := rs[0]
	if r.ID != "acme:root-login" || r.Pack != "acme" || r.File != "testdata/valid.yaml" || r.Line != 5 || r.Column != 5 {
		t.Errorf("rule 0: id %q pack %q at %s", r.ID, r.Pack, r.Position())
	}
	if r.Severity != SeverityCritical || r.Compiled.Kind() != filterpattern.KindJSON {
		t.Errorf("severity %v kind %v", r.Severity, r.Compiled.Kind())
	}
	if r.Description != "The root user signed in. Nobody at ACME should use it.\n" {
		t.Errorf("description %q", r.Description)
	}
	m := r.Metric
	if m.Name != "RootConsoleLogin" || m.Namespace != "ACME/Security" || m.Value != "1" || m.DefaultValue == nil || *m.DefaultValue != 0 || m.Unit != "Count" {
		t.Errorf("metric %+v", m)
	}
	if r.Alarm.Period != 60 || r.Alarm.DatapointsToAlarm != 1 {
		t.Errorf("alarm %+v", r.Alarm)
	}
	refs := r.References
	if refs.CIS[0] != "v5.0.0/4.3" || refs.SecurityHub[0] != "CloudWatch.1" || refs.MITRE[0] != "T1078.004" || !strings.HasPrefix(refs.URLs[0], "https://") {
		t.Errorf("references %+v", refs)
	}
	if !r.Compiled.Match([]byte(`{"userIdentity":{"type":"Root"},"eventName":"ConsoleLogin"}`)) {
		t.Error("compiled pattern does not match")
	}

	r = rs[1]
	if r.Severity != SeverityLow || r.Metric.Unit != "Bytes" || len(r.Metric.Dimensions) != 2 ||
		r.Metric.Dimensions[0].Name != "Bucket" || r.Metric.Dimensions[1].Ref == nil {
		t.Errorf("rule 1: %+v", r.Metric)
	}
	event := []byte(`{"eventName":"GetObject","additionalEventData":{"bytesTransferredOut":2000000},"requestParameters":{"bucketName":"b"},"userIdentity":{"arn":"a"}}`)
	if v, ok := r.Metric.ValueRef.Float(event); !ok || v != 2000000 {
		t.Errorf("metric value = %v, %v", v, ok)
	}
	if v, ok := r.Metric.Dimensions[0].Ref.Text(event); !ok || v != "b" {
		t.Errorf("dimension = %v, %v", v, ok)
	}
	// Alarm defaults fill what the file leaves out; datapointsToAlarm follows evaluationPeriods.
	want := DefaultAlarm()
	want.Threshold, want.EvaluationPeriods, want.DatapointsToAlarm = 1e10, 3, 3
	if r.Alarm != want {
		t.Errorf("alarm %+v, want %+v", r.Alarm, want)
	}
}

func TestParseDefaults(t *testing.T) {
	rs, err := Parse("min.yaml", []byte("rules:\n- id: a:b\n  title: T\n  pattern: ERROR\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Severity != SeverityMedium || r.Metric.Name != "a-b" || r.Metric.Namespace != DefaultNamespace ||
		r.Metric.Value != "1" || r.Metric.Unit != "None" || r.Alarm != DefaultAlarm() || r.Pack != "" {
		t.Errorf("defaults: %+v", r)
	}
}

// rule wraps one rule's YAML lines (indented by four spaces) in a file. The rule's first key is
// on line 2, column 5.
func rule(lines ...string) string {
	return "rules:\n  - " + strings.TrimPrefix(strings.Join(lines, "\n"), "    ") + "\n"
}

func TestParseErrors(t *testing.T) {
	base := []string{"    id: r1", "    title: T"}
	with := func(lines ...string) string { return rule(append(append([]string{}, base...), lines...)...) }
	tests := []struct {
		name string
		src  string
		want []string // "line:col: message fragment"
	}{
		{"yaml syntax", "rules: [\n", []string{"1:8: invalid YAML"}},
		{"empty file", "", []string{"1:1: the file has no rules"}},
		{"top-level list", "- id: x\n", []string{"1:1: expected `rules:` at the top"}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"1:1: `rules:` is empty", "3:1: a rule file holds one YAML document"}},
		{"unknown top-level key", "rule:\n  - id: x\n", []string{`1:1: unknown key "rule" in the top level of a rule file; did you mean "rules"?`, "1:1: the file has no `rules:` list"}},
		{"rules not a list", "rules: x\n", []string{"1:1: `rules:` must be a list"}},
		{"typo key", with(`    patern: ERROR`), []string{`2:5: r1 has no pattern`, `4:5: unknown key "patern" in a rule; did you mean "pattern"?`}},
		{"unknown key no suggestion", with(`    pattern: ERROR`, `    colour: red`), []string{`5:5: unknown key "colour" in a rule (known keys: id, title,`}},
		{"repeated key", with(`    pattern: ERROR`, `    title: U`), []string{`5:5: key "title" is given twice in a rule (first at line 3)`}},
		{"missing id", rule(`    title: T`, `    pattern: ERROR`), []string{"2:5: rule has no id"}},
		{"missing title", rule(`    id: r1`, `    pattern: ERROR`), []string{"2:5: r1 has no title"}},
		{"missing pattern", rule(base...), []string{"2:5: r1 has no pattern"}},
		{"bad id", rule(`    id: r 1`, `    title: T`, `    pattern: ERROR`), []string{`2:9: id "r 1": use letters, digits`}},
		{"duplicate id", "rules:\n  - id: a\n    title: T\n    pattern: X\n  - id: a\n    title: T\n    pattern: Y\n",
			[]string{`5:5: duplicate rule id "a": it is already defined at line 2`}},
		{"bad severity", with(`    pattern: ERROR`, `    severity: severe`), []string{`5:15: unknown severity "severe": use one of info, low, medium, high, critical`}},
		{"invalid pattern, single quotes", with(`    pattern: '{ $.a = }'`), []string{`4:23: invalid pattern: expected a value after "=", found "}"`}},
		{"invalid pattern, plain", with(`    pattern: '{ $.a = 1 ||'`), []string{`4:27: invalid pattern: a pattern that starts with '{' must end with '}'`}},
		{"invalid pattern, double quotes with escapes", with(`    pattern: "{ $.a = \"x\" && $b = 1 }"`), []string{`4:33: invalid pattern: expected "." after "$"`}},
		{"invalid pattern, literal block", with(`    pattern: |-`, `      { $.a = 1 &&`, `        $b = 2 }`), []string{`6:10: invalid pattern: expected "." after "$"`}},
		{"invalid pattern, plain with comment", with(`    pattern: ERROR "unterminated   # comment`), []string{`4:20: invalid pattern: unterminated quoted string`}},
		{"invalid pattern, folded block", with(`    pattern: >`, `      { $.a = 1 &&`, `      $b = 2 }`), []string{`6:8: invalid pattern: expected "." after "$"`}},
		{"invalid pattern, folded block more indented", with(`    pattern: >-`, `      { $.a = 1 &&`, `        $b = 2 }`), []string{`6:10: invalid pattern: expected "." after "$"`}},
		{"invalid pattern, doubled quote", with(`    pattern: '{ $.a = ''x'' }'`), []string{`4:23: invalid pattern: string values must be in double quotes`}},
		{"invalid pattern, no column", with(`    pattern: '` + strings.Repeat("x", 1025) + `'`), []string{`4:14: invalid pattern: pattern is 1025 characters long`}},
		{"metric name", with(`    pattern: ERROR`, `    metric:`, `      name: "a:b"`, `      namespace: AWS/EC2`),
			[]string{`6:13: metric name "a:b" must not contain ':', '*' or '$'`, `7:18: metric namespace "AWS/EC2": namespaces starting with AWS/ are reserved`}},
		{"metric name too long", with(`    pattern: ERROR`, `    metric:`, `      name: `+strings.Repeat("n", 256)), []string{`6:13: metric name is longer than 255 characters`}},
		{"metric value for term pattern", with(`    pattern: ERROR`, `    metric:`, `      value: $.bytes`), []string{`6:14: metric value: value reference "$.bytes": term patterns extract no values`}},
		{"metric value bare word", with(`    pattern: '{ $.a = 1 }'`, `    metric:`, `      value: bytes`), []string{`6:14: metric value: value reference "bytes": expected a number`}},
		{"metric value space field", with(`    pattern: '[ip, user, bytes]'`, `    metric:`, `      value: $size`), []string{`6:14: metric value: value reference "$size": the pattern has no field named "size"`}},
		{"defaultValue with dimensions", with(`    pattern: '{ $.a = 1 }'`, `    metric:`, `      defaultValue: 0`, `      dimensions:`, `        A: $.a`),
			[]string{`6:7: metric defaultValue cannot be used together with dimensions`}},
		{"too many dimensions", with(`    pattern: '{ $.a = 1 }'`, `    metric:`, `      dimensions:`, `        A: $.a`, `        B: $.b`, `        C: $.c`, `        D: $.d`),
			[]string{`10:9: more than 3 metric dimensions`}},
		{"term pattern with dimensions", with(`    pattern: ERROR`, `    metric:`, `      dimensions:`, `        A: $.a`), []string{`6:7: metric dimensions need a JSON or space-delimited pattern; this is a term pattern`}},
		{"dimension literal", with(`    pattern: '{ $.a = 1 }'`, `    metric:`, `      dimensions:`, `        A: x`), []string{`7:12: dimension "A": the value must refer to a field`}},
		{"dimension bad ref", with(`    pattern: '{ $.a = 1 }'`, `    metric:`, `      dimensions:`, `        A: $a`), []string{`7:12: dimension "A": value reference "$a"`}},
		{"unit", with(`    pattern: ERROR`, `    metric:`, `      unit: count`), []string{`6:13: metric unit "count" is not a CloudWatch standard unit; did you mean "Count"?`}},
		{"metric typo", with(`    pattern: ERROR`, `    metric:`, `      nmae: X`), []string{`6:7: unknown key "nmae" in metric; did you mean "name"?`}},
		{"metric not a mapping", with(`    pattern: ERROR`, `    metric: X`), []string{`5:13: metric must be a mapping of keys`}},
		{"alarm values", with(`    pattern: ERROR`, `    alarm:`, `      period: -5`, `      statistic: sum`, `      threshold: high`, `      comparisonOperator: GreaterThan`,
			`      evaluationPeriods: 1.5`, `      treatMissingData: notbreaching`),
			[]string{`6:15: alarm period (-5) must be a positive`, `7:18: alarm statistic "sum" is not one of`, `did you mean "Sum"?`, `8:18: alarm threshold must be a number`,
				`9:27: alarm comparisonOperator "GreaterThan" is not one of`, `10:26: alarm evaluationPeriods must be a whole number`, `11:25: alarm treatMissingData "notbreaching"`}},
		{"datapoints over periods", with(`    pattern: ERROR`, `    alarm:`, `      evaluationPeriods: 2`, `      datapointsToAlarm: 3`), []string{`7:26: alarm datapointsToAlarm (3) must not exceed evaluationPeriods (2)`}},
		{"references", with(`    pattern: ERROR`, `    references:`, `      mitre: [1078]`, `      securityHub: CloudWatch1`, `      urls: [example.com]`, `      cve: [x]`),
			[]string{`6:15: references.mitre: "1078" is not a MITRE`, `7:20: references.securityHub: "CloudWatch1"`, `8:14: references.urls: "example.com" is not an http(s) URL`, `9:7: unknown key "cve" in references`}},
		{"repeated title", with(`    pattern: ERROR`, `    title: [a]`), []string{`5:5: key "title" is given twice`}},
		{"title is a list", rule(`    id: r1`, `    title: [a]`, `    pattern: ERROR`), []string{`3:12: title must be text, found a list`, `2:5: r1 has no title`}},
		{"unknown alias", with(`    pattern: *p`), []string{`4:14: unknown alias *p`}},
		{"merge key", with(`    pattern: ERROR`, `    <<: {a: 1}`), []string{`5:5: merge keys (<<) are not supported`}},
		{"rule not a mapping", "rules:\n  - just text\n", []string{`2:5: a rule must be a mapping of keys`}},
		{"empty rule", "rules:\n  -\n", []string{`a rule needs at least id, title and pattern`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse("f.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; got %d rules\n%s", len(rs), tt.src)
			}
			if rs != nil {
				t.Errorf("rules returned with errors")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T, want Errors", err)
			}
			got := err.Error()
			for _, w := range tt.want {
				if w[0] >= '0' && w[0] <= '9' {
					w = "f.yaml:" + w
				}
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s\n--- source:\n%s", w, got, tt.src)
				}
			}
		})
	}
}

// Every error of a file is reported, not only the first.
func TestParseAllErrors(t *testing.T) {
	src := "rules:\n  - id: a\n    patern: X\n  - id: b\n    title: T\n    pattern: '{'\n    severity: huge\n"
	_, err := Parse("f.yaml", []byte(src))
	es, _ := err.(Errors)
	if len(es) != 5 {
		t.Fatalf("got %d errors, want 5:\n%v", len(es), err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "f.yaml:2:5: a has no title") {
		t.Errorf("Error() =\n%s", err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile("testdata/does-not-exist.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestSeverity(t *testing.T) {
	for _, s := range []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical} {
		got, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if !(SeverityInfo < SeverityLow && SeverityLow < SeverityMedium && SeverityMedium < SeverityHigh && SeverityHigh < SeverityCritical) {
		t.Error("severities are not ordered")
	}
	var s Severity
	if err := s.UnmarshalText([]byte("high")); err != nil || s != SeverityHigh {
		t.Errorf("UnmarshalText: %v %v", s, err)
	}
	if b, _ := SeverityCritical.MarshalText(); string(b) != "critical" {
		t.Errorf("MarshalText = %s", b)
	}
}
