package backtest

import (
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alarm"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
)

func rule(t *testing.T, yaml string) *rules.Rule {
	t.Helper()
	rs, err := rules.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

func rec(t *testing.T, raw string) cloudtrail.Record {
	t.Helper()
	var r cloudtrail.Record
	if err := cloudtrail.ParseRecord([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	return r.Clone()
}

func at(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// The CIS case of alarm-stream-cases (s-cis-single-missing), fed through matches: ALARM at the
// first minute boundary after the event, INSUFFICIENT_DATA 15 minutes later.
func TestCISAlarmFromMatches(t *testing.T) {
	r := rule(t, `rules:
  - id: t:root
    title: Root
    pattern: '{ $.userIdentity.type = "Root" }'
    alarm: {treatMissingData: missing}
`)
	b, err := New([]*rules.Rule{r}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	m := detect.Match{Rule: 0, Value: 1, HasValue: true,
		Record: rec(t, `{"eventTime":"2026-01-01T00:02:10Z","eventID":"e1","eventName":"ConsoleLogin","userIdentity":{"type":"Root"}}`)}
	b.Add(&detect.FileResult{Minutes: []int64{at("2026-01-01T00:02:00Z").Unix() / 60}, Matches: []detect.Match{m}})
	res := b.Run(at("2026-01-01T00:00:30Z"), at("2026-01-01T00:30:00Z"))
	if len(res) != 1 || len(res[0].Transitions) != 2 {
		t.Fatalf("results %+v", res)
	}
	tr := res[0].Transitions
	if tr[0].To != alarm.StateAlarm || !tr[0].Time.Equal(at("2026-01-01T00:03:00Z")) || tr[0].Evidence[0] != "e1" {
		t.Errorf("first transition %+v", tr[0])
	}
	if tr[1].To != alarm.StateInsufficientData || !tr[1].Time.Equal(at("2026-01-01T00:18:00Z")) {
		t.Errorf("second transition %+v", tr[1])
	}
	from, until, ok := b.Range()
	if !ok || !from.Equal(at("2026-01-01T00:02:00Z")) || !until.Equal(at("2026-01-01T00:03:00Z")) {
		t.Errorf("range %s %s %v", from, until, ok)
	}
}

// One series per dimension value; a record without the dimension publishes nothing; a metric
// value that is not a number publishes nothing.
func TestDimensionsAndValues(t *testing.T) {
	r := rule(t, `rules:
  - id: t:denied
    title: Denied
    pattern: '{ $.errorCode = "AccessDenied" }'
    metric: {name: Denied, namespace: T, dimensions: {Principal: $.userIdentity.arn}}
    alarm: {threshold: 2}
`)
	b, err := New([]*rules.Rule{r}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	var ms []detect.Match
	for _, raw := range []string{
		`{"eventTime":"2026-01-01T00:01:00Z","eventID":"a1","errorCode":"AccessDenied","userIdentity":{"arn":"alice"}}`,
		`{"eventTime":"2026-01-01T00:01:30Z","eventID":"a2","errorCode":"AccessDenied","userIdentity":{"arn":"alice"}}`,
		`{"eventTime":"2026-01-01T00:01:40Z","eventID":"b1","errorCode":"AccessDenied","userIdentity":{"arn":"bob"}}`,
		`{"eventTime":"2026-01-01T00:01:50Z","eventID":"n1","errorCode":"AccessDenied","userIdentity":{}}`,
	} {
		ms = append(ms, detect.Match{Rule: 0, Value: 1, HasValue: true, Record: rec(t, raw)})
	}
	ms = append(ms, detect.Match{Rule: 0, HasValue: false, Record: rec(t, `{"eventTime":"2026-01-01T00:01:55Z","eventID":"x","errorCode":"AccessDenied","userIdentity":{"arn":"bob"}}`)})
	b.Add(&detect.FileResult{Minutes: []int64{at("2026-01-01T00:01:00Z").Unix() / 60}, Matches: ms})
	res := b.Run(at("2026-01-01T00:00:00Z"), at("2026-01-01T00:10:00Z"))
	if len(res) != 2 {
		t.Fatalf("%d series, want alice and bob", len(res))
	}
	got := map[string]int{}
	for _, s := range res {
		for _, tr := range s.Transitions {
			if tr.To == alarm.StateAlarm {
				got[s.Dimensions[0].Value]++
			}
		}
	}
	if got["alice"] != 1 || got["bob"] != 0 {
		t.Errorf("ALARMs per principal %v: alice had 2 denials (threshold 2), bob 1", got)
	}
}

func TestOverridesAndInvalidSettings(t *testing.T) {
	r := rule(t, `rules:
  - id: t:x
    title: X
    pattern: '{ $.eventName = "X" }'
`)
	th := 5.0
	s := Settings(r.Alarm, Overrides{Period: 60, Threshold: &th, EvaluationPeriods: 3, Statistic: "p99", TreatMissingData: "breaching"})
	if s.Period != 60 || s.Threshold != 5 || s.EvaluationPeriods != 3 || s.DatapointsToAlarm != 1 || s.ExtendedStatistic != "p99" || s.Statistic != "" || s.TreatMissingData != "breaching" {
		t.Errorf("settings %+v", s)
	}
	_, err := New([]*rules.Rule{r}, Overrides{Period: 7})
	if err == nil || !strings.Contains(err.Error(), "rule t:x") || !strings.Contains(err.Error(), "Period") {
		t.Errorf("invalid period: %v", err)
	}
}

// A defaultValue turns minutes with records but no match into datapoints.
func TestDefaultValue(t *testing.T) {
	r := rule(t, `rules:
  - id: t:quiet
    title: Quiet
    pattern: '{ $.eventName = "Never" }'
    metric: {name: Q, namespace: T, defaultValue: 0}
    alarm: {comparisonOperator: LessThanOrEqualToThreshold, threshold: 0, treatMissingData: missing}
`)
	b, _ := New([]*rules.Rule{r}, Overrides{})
	b.Add(&detect.FileResult{Minutes: []int64{at("2026-01-01T00:01:00Z").Unix() / 60}})
	res := b.Run(at("2026-01-01T00:00:00Z"), at("2026-01-01T00:03:00Z"))
	if len(res) != 1 || len(res[0].Transitions) == 0 || res[0].Transitions[0].To != alarm.StateAlarm {
		t.Errorf("default value 0 <= 0 should alarm: %+v", res)
	}
}
