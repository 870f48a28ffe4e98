package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cisFlags are the settings of the alarm-stream-cases CIS case s-cis-single-missing.
var cisFlags = []string{"--period", "300", "--statistic", "Sum", "--threshold", "1",
	"--comparison-operator", "GreaterThanOrEqualToThreshold", "--evaluation-periods", "1",
	"--datapoints-to-alarm", "1", "--treat-missing-data", "missing"}

func simulate(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, stdin, append([]string{"alarm", "simulate"}, args...)...)
}

// transitionLines keeps the transition lines of the text output: "TIME  FROM → TO".
func transitionLines(out string) []string {
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " → ") {
			f := strings.Fields(line)
			got = append(got, strings.Join(f[:4], " "))
		}
	}
	return got
}

// s-cis-single-missing of alarm-stream-cases.jsonl: ALARM at 00:03, INSUFFICIENT_DATA at 00:18.
func TestSimulateStreamCase(t *testing.T) {
	want := []string{
		"2026-01-01T00:03:00Z INSUFFICIENT_DATA → ALARM",
		"2026-01-01T00:18:00Z ALARM → INSUFFICIENT_DATA",
	}
	for name, args := range map[string][]string{
		"case range":    append([]string{"--from", "2026-01-01T00:00:30Z", "--until", "2026-01-01T00:30:00Z"}, cisFlags...),
		"default range": cisFlags,
	} {
		for format, data := range map[string]string{
			"csv":  "2026-01-01T00:02:10Z,1\n",
			"json": `{"t": "2026-01-01T00:02:10Z", "value": 1}` + "\n",
			"unix": "time,value\n1767225730,1\n",
		} {
			code, out, errOut := simulate(t, data, append(args, "--data", "-")...)
			if code != 0 {
				t.Fatalf("%s/%s: exit %d: %s", name, format, code, errOut)
			}
			if got := transitionLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s/%s: got\n%s\nwant\n%s", name, format, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
	_, out, _ := simulate(t, "2026-01-01T00:02:10Z,1\n", append(cisFlags, "--data", "-")...)
	for _, s := range []string{
		"alarm: Sum >= 1 over 300 s, 1 of 1 periods, missing data: missing",
		// The newest period at 00:03 is [23:58, 00:03): periods slide with the evaluation time.
		"Threshold Crossed: 1 out of the last 1 datapoints [1.0 (31/12/25 23:58:00)] was greater than or equal to the threshold (1.0)",
		"Insufficient Data: 1 datapoint was unknown.",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// JSON output: settings, range, and each transition with its datapoints and evidence.
func TestSimulateJSON(t *testing.T) {
	data := strings.Join([]string{
		`{"t": "2026-01-01T00:00:10Z", "value": 0.5, "id": "a"}`,
		`{"t": "2026-01-01T00:01:10Z", "value": 2, "id": "a2"}`,
		`{"t": "2026-01-01T00:05:10Z", "value": 3, "id": "b"}`,
		`{"t": "2026-01-01T00:06:10Z", "value": null}`,
	}, "\n")
	code, out, errOut := simulate(t, data, "--period", "300", "--statistic", "Sum", "--threshold", "1",
		"--comparison-operator", "GreaterThanOrEqualToThreshold", "--evaluation-periods", "3",
		"--datapoints-to-alarm", "2", "--until", "2026-01-01T00:25:00Z", "--data", "-", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Alarm struct {
			Period            int    `json:"period"`
			DatapointsToAlarm int    `json:"datapointsToAlarm"`
			TreatMissingData  string `json:"treatMissingData"`
		} `json:"alarm"`
		From        string `json:"from"`
		Until       string `json:"until"`
		Transitions []struct {
			Time       string `json:"time"`
			From, To   string
			Reason     string `json:"reason"`
			Datapoints []struct {
				Time        string   `json:"time"`
				Value       *float64 `json:"value"`
				SampleCount int      `json:"sampleCount"`
			} `json:"datapoints"`
			Evidence      []string `json:"evidence"`
			EvidenceCount int      `json:"evidenceCount"`
		} `json:"transitions"`
		FinalState string `json:"finalState"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if doc.Alarm.Period != 300 || doc.Alarm.DatapointsToAlarm != 2 || doc.Alarm.TreatMissingData != "missing" {
		t.Errorf("alarm %+v", doc.Alarm)
	}
	if doc.From != "2026-01-01T00:00:00Z" || doc.Until != "2026-01-01T00:25:00Z" {
		t.Errorf("range %s %s", doc.From, doc.Until)
	}
	if len(doc.Transitions) == 0 {
		t.Fatalf("no transitions:\n%s", out)
	}
	first := doc.Transitions[0]
	if first.Time != "2026-01-01T00:01:00Z" || first.From != "INSUFFICIENT_DATA" || first.To != "OK" ||
		len(first.Datapoints) != 3 || first.Reason == "" {
		t.Errorf("first transition %+v", first)
	}
	var sawAlarm bool
	for _, tr := range doc.Transitions {
		if tr.To == "ALARM" {
			sawAlarm = true
			if len(tr.Evidence) == 0 || tr.EvidenceCount != len(tr.Evidence) {
				t.Errorf("ALARM without evidence: %+v", tr)
			}
			for _, d := range tr.Datapoints {
				if (d.Value == nil) != (d.SampleCount == 0) {
					t.Errorf("datapoint %+v: value must be null exactly when missing", d)
				}
			}
		}
	}
	if !sawAlarm || doc.FinalState != doc.Transitions[len(doc.Transitions)-1].To {
		t.Errorf("transitions %+v final %s", doc.Transitions, doc.FinalState)
	}
}

const describeAlarmsJSON = `{
    "MetricAlarms": [
        {
            "AlarmName": "CIS-3.3-RootAccountUsage",
            "StateValue": "OK",
            "MetricName": "RootAccountUsageCount",
            "Namespace": "CISBenchmark",
            "Statistic": "Sum",
            "Dimensions": [],
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"
        },
        {
            "AlarmName": "api-errors",
            "MetricName": "Errors",
            "Namespace": "App",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "Threshold": 10.0,
            "ComparisonOperator": "GreaterThanThreshold"
        }
    ],
    "CompositeAlarms": []
}`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimulateDescribeAlarms(t *testing.T) {
	alarms := writeTemp(t, "alarms.json", describeAlarmsJSON)
	data := writeTemp(t, "data.csv", "2026-01-01T00:02:10Z,1,root-login\n")

	code, out, errOut := simulate(t, "", "--alarms", alarms, "--alarm-name", "CIS-3.3-RootAccountUsage", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{
		"2026-01-01T00:03:00Z INSUFFICIENT_DATA → ALARM",
		// notBreaching: the real point decides while it is in the 3-period range, until 00:17.
		"2026-01-01T00:18:00Z ALARM → OK",
	}
	if got := transitionLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	if !strings.Contains(out, "alarm CIS-3.3-RootAccountUsage: Sum >= 1 over 300 s, 1 of 1 periods, missing data: notBreaching") {
		t.Errorf("header:\n%s", out)
	}

	// Two alarms and no --alarm-name: say which.
	code, _, errOut = simulate(t, "", "--alarms", alarms, "--data", data)
	if code != 2 || !strings.Contains(errOut, `the file has 2 alarms ("CIS-3.3-RootAccountUsage", "api-errors"): pick one with --alarm-name`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = simulate(t, "", "--alarms", alarms, "--alarm-name", "nope", "--data", data)
	if code != 2 || !strings.Contains(errOut, `no alarm named "nope"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}

	// The M of N alarm: 2 of 3 periods above 10.
	errs := writeTemp(t, "errors.csv", "2026-01-01T00:00:05,11\n2026-01-01T00:01:05Z,3\n2026-01-01T00:02:05Z,20\n")
	code, _, errOut = simulate(t, "", "--alarms", alarms, "--alarm-name", "api-errors", "--data", errs)
	if code != 2 || !strings.Contains(errOut, `errors.csv:1: time "2026-01-01T00:00:05" is neither RFC 3339`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	errs = writeTemp(t, "errors.csv", "2026-01-01T00:00:05Z,11\n2026-01-01T00:01:05Z,3\n2026-01-01T00:02:05Z,20\n")
	code, out, errOut = simulate(t, "", "--alarms", alarms, "--alarm-name", "api-errors", "--data", errs)
	if code != 0 || !strings.Contains(out, "2026-01-01T00:03:00Z  OK → ALARM  Threshold Crossed: 2 out of the last 3 datapoints") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}

	// A bare array of MetricAlarms entries with one alarm needs no --alarm-name.
	var doc struct{ MetricAlarms []json.RawMessage }
	if err := json.Unmarshal([]byte(describeAlarmsJSON), &doc); err != nil {
		t.Fatal(err)
	}
	one := writeTemp(t, "one.json", "["+string(doc.MetricAlarms[0])+"]")
	if code, _, errOut := simulate(t, "", "--alarms", one, "--data", data); code != 0 {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestSimulateRule(t *testing.T) {
	// A built-in CIS rule: Sum >= 1 over 300 s, missing data as notBreaching.
	code, out, errOut := simulate(t, "2026-01-01T00:02:10Z,1\n", "--rule", "cis-1.2:3.3", "--data", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "2026-01-01T00:03:00Z INSUFFICIENT_DATA → ALARM\n2026-01-01T00:18:00Z ALARM → OK"
	if got := strings.Join(transitionLines(out), "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.HasPrefix(out, "alarm cis-1.2:3.3: Sum >= 1 over 300 s, 1 of 1 periods, missing data: notBreaching\n") {
		t.Errorf("header:\n%s", out)
	}

	// A rule file, with a defaultValue: minutes with non-matching events publish 0.
	file := writeTemp(t, "rules.yaml", `rules:
  - id: my-root
    title: Root use
    severity: high
    pattern: '{ $.userIdentity.type = "Root" }'
    metric:
      defaultValue: 0
    alarm:
      evaluationPeriods: 2
      datapointsToAlarm: 1
      treatMissingData: missing
`)
	data := "2026-01-01T00:00:10Z,\n2026-01-01T00:06:10Z,1\n"
	code, out, errOut = simulate(t, data, "--rules", file, "--rule", "my-root", "--data", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want = "2026-01-01T00:01:00Z INSUFFICIENT_DATA → OK\n2026-01-01T00:07:00Z OK → ALARM\n2026-01-01T00:27:00Z ALARM → INSUFFICIENT_DATA"
	if got := strings.Join(transitionLines(out), "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(out, "[0.0 (31/12/25 23:56:00)]") {
		t.Errorf("the defaultValue 0 is not the first datapoint:\n%s", out)
	}
	// --default-value overrides the rule's: 5 is published for the first minute.
	code, out, _ = simulate(t, data, "--rules", file, "--rule", "my-root", "--data", "-", "--default-value", "5", "--threshold", "6")
	if code != 0 || !strings.Contains(out, "[5.0 (31/12/25 23:56:00)]") || strings.Contains(out, "→ ALARM") {
		t.Errorf("exit %d:\n%s", code, out)
	}

	code, _, errOut = simulate(t, data, "--rule", "nope", "--data", "-")
	if code != 2 || !strings.Contains(errOut, `--rule "nope": no such built-in rule`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = simulate(t, data, "--rules", file, "--rule", "nope", "--data", "-")
	if code != 2 || !strings.Contains(errOut, `no such rule in `+file) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	bad := writeTemp(t, "bad.yaml", "rules:\n  - id: x\n    pattern: '{ $.a = '\n")
	code, _, errOut = simulate(t, data, "--rules", bad, "--rule", "x", "--data", "-")
	if code != 2 || !strings.Contains(errOut, "bad.yaml:") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// Flags override the alarm of --rule and --alarms.
func TestSimulateFlagOverrides(t *testing.T) {
	data := "2026-01-01T00:02:10Z,1\n2026-01-01T00:03:10Z,1\n"
	// Threshold 2 over the rule's 300 s Sum: the two values together breach, at 00:04.
	code, out, errOut := simulate(t, data, "--rule", "cis-1.2:3.3", "--threshold", "2", "--data", "-")
	if code != 0 || !strings.Contains(out, "Sum >= 2 over 300 s") ||
		!strings.Contains(out, "2026-01-01T00:03:00Z  INSUFFICIENT_DATA → OK") ||
		!strings.Contains(out, "2026-01-01T00:04:00Z  OK → ALARM  Threshold Crossed: 1 out of the last 1 datapoints [2.0 (31/12/25 23:59:00)]") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
	// Period 60 and threshold 2: no minute has 2.
	code, out, _ = simulate(t, data, "--rule", "cis-1.2:3.3", "--threshold", "2", "--period", "60", "--data", "-")
	if code != 0 || strings.Contains(out, "→ ALARM") || !strings.Contains(out, "Sum >= 2 over 60 s") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// Percentile statistics go to ExtendedStatistic; other fields to theirs.
	code, out, errOut = simulate(t, data, "--rule", "cis-1.2:3.3", "--statistic", "p90", "--comparison-operator",
		"LessThanThreshold", "--evaluation-periods", "2", "--treat-missing-data", "breaching", "--data", "-", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{`"extendedStatistic": "p90"`, `"comparisonOperator": "LessThanThreshold"`,
		`"evaluationPeriods": 2`, `"datapointsToAlarm": 1`, `"treatMissingData": "breaching"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %s:\n%s", s, out)
		}
	}
	// --evaluation-periods below the alarm's DatapointsToAlarm resets M to N.
	alarms := writeTemp(t, "alarms.json", describeAlarmsJSON)
	code, out, errOut = simulate(t, data, "--alarms", alarms, "--alarm-name", "api-errors", "--evaluation-periods", "1", "--threshold", "0", "--data", "-")
	if code != 0 || !strings.Contains(out, "Sum > 0 over 60 s, 1 of 1 periods") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
}

func TestSimulateErrors(t *testing.T) {
	dir := t.TempDir()
	good := "2026-01-01T00:02:10Z,1\n"
	alarms := writeTemp(t, "alarms.json", describeAlarmsJSON)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        []string
	}{
		{"no data flag", "", []string{"--rule", "cis-1.2:3.3"}, []string{"--data is required"}},
		{"argument", "", []string{"x", "--data", "-"}, []string{`unexpected argument "x"`}},
		{"both sources", good, []string{"--rule", "cis-1.2:3.3", "--alarms", alarms, "--data", "-"}, []string{"either --alarms or --rule, not both"}},
		{"alarm-name alone", good, []string{"--alarm-name", "x", "--data", "-"}, []string{"--alarm-name needs --alarms"}},
		{"rules alone", good, []string{"--rules", "x.yaml", "--data", "-"}, []string{"--rules needs --rule"}},
		{"format", good, append(cisFlags, "--data", "-", "--format", "xml"), []string{`--format "xml": use text or json`}},
		{"no settings", good, []string{"--data", "-"}, []string{"invalid alarm settings", "Period is required", "Statistic or ExtendedStatistic is required",
			"ComparisonOperator is required", "EvaluationPeriods (0) must be at least 1"}},
		{"bad settings", good, append(cisFlags, "--period", "45", "--treat-missing-data", "sometimes", "--data", "-"),
			[]string{"Period (45) must be 10, 20, 30 or a multiple of 60 seconds", `TreatMissingData "sometimes" is not one of`}},
		{"m > n", good, append(cisFlags, "--datapoints-to-alarm", "2", "--data", "-"), []string{"DatapointsToAlarm (2) must not exceed EvaluationPeriods (1)"}},
		{"m = 0", good, append(cisFlags, "--datapoints-to-alarm", "0", "--data", "-"), []string{"--datapoints-to-alarm (0) must be at least 1"}},
		{"bad flag value", good, []string{"--period", "five", "--data", "-"}, []string{`invalid argument "five" for "--period"`}},
		{"missing alarms file", good, []string{"--alarms", filepath.Join(dir, "nope.json"), "--data", "-"}, []string{"--alarms:", "no such file"}},
		{"bad alarms file", good, []string{"--alarms", writeTemp(t, "bad.json", "{"), "--data", "-"}, []string{"read describe-alarms output"}},
		{"empty alarms file", good, []string{"--alarms", writeTemp(t, "empty.json", `{"MetricAlarms": []}`), "--data", "-"}, []string{"no metric alarm in the file"}},
		{"unsupported alarm", good, []string{"--alarms", writeTemp(t, "math.json", `{"MetricAlarms": [{"AlarmName": "m", "Metrics": [{}], "Threshold": 1}]}`), "--data", "-"},
			[]string{`"m"`, "metric math alarms"}},
		{"missing data file", "", append(cisFlags, "--data", filepath.Join(dir, "nope.csv")), []string{"--data:", "no such file"}},
		{"empty data", "\n# nothing\n", append(cisFlags, "--data", "-"), []string{"--data stdin: no values"}},
		{"bad time", good + "yesterday,1\n", append(cisFlags, "--data", "-"), []string{`--data stdin:2: time "yesterday" is neither RFC 3339`}},
		{"bad value", good + "\n2026-01-01T00:03:10Z,lots\n", append(cisFlags, "--data", "-"), []string{`--data stdin:3: value "lots" is not a number`}},
		{"inf value", "2026-01-01T00:03:10Z,+Inf\n", append(cisFlags, "--data", "-"), []string{`--data stdin:1: value "+Inf" is not a number`}},
		{"too many fields", "2026-01-01T00:03:10Z,1,a,b\n", append(cisFlags, "--data", "-"), []string{"--data stdin:1:", "want TIME,VALUE"}},
		{"one field", "2026-01-01T00:03:10Z\n", append(cisFlags, "--data", "-"), []string{"--data stdin:1:", "want TIME,VALUE"}},
		{"bad json", `{"t": "2026-01-01T00:03:10Z", "value": 1` + "\n", append(cisFlags, "--data", "-"), []string{"--data stdin:1: invalid JSON line"}},
		{"json unknown key", `{"time": "2026-01-01T00:03:10Z", "value": 1}` + "\n", append(cisFlags, "--data", "-"), []string{"--data stdin:1: invalid JSON line", `unknown field "time"`}},
		{"json no time", `{"value": 1}` + "\n", append(cisFlags, "--data", "-"), []string{`--data stdin:1: "t" (the time) is missing`}},
		{"json bad time", `{"t": true, "value": 1}` + "\n", append(cisFlags, "--data", "-"), []string{`--data stdin:1: "t" is true`}},
		{"json bad value", `{"t": "2026-01-01T00:03:10Z", "value": "1"}` + "\n", append(cisFlags, "--data", "-"), []string{`--data stdin:1: "value" is "1": want a number`}},
		{"json two objects", `{"t": "2026-01-01T00:03:10Z", "value": 1} {}` + "\n", append(cisFlags, "--data", "-"), []string{"--data stdin:1: one JSON object per line"}},
		{"bad from", good, append(cisFlags, "--data", "-", "--from", "soon"), []string{`--from: time "soon"`}},
		{"bad until", good, append(cisFlags, "--data", "-", "--until", "later"), []string{`--until: time "later"`}},
		{"until before from", good, append(cisFlags, "--data", "-", "--from", "2026-01-01T01:00:00Z", "--until", "2026-01-01T00:00:00Z"),
			[]string{"--until (2026-01-01T00:00:00Z) must be after --from (2026-01-01T01:00:00Z)"}},
	} {
		code, out, errOut := simulate(t, tc.stdin, tc.args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (stdout %q)", tc.name, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, errOut, w)
			}
		}
	}
}

func TestAlarmHelp(t *testing.T) {
	code, out, _ := runCLI(t, "", "alarm", "simulate", "--help")
	if code != 0 || !strings.Contains(out, "--treat-missing-data") || !strings.Contains(out, "Examples:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "alarm")
	if code != 0 || !strings.Contains(out, "simulate") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, _, errOut := runCLI(t, "", "alarm", "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
