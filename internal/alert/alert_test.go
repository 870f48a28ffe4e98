package alert

import (
	"strings"
	"testing"
	"time"
)

func TestIDStable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 3, 0, 0, time.UTC)
	a := NewID("cis-1.2:3.3", map[string]string{"b": "2", "a": "1"}, t0, "OK", "ALARM")
	b := NewID("cis-1.2:3.3", map[string]string{"a": "1", "b": "2"}, t0.In(time.FixedZone("x", 3600)), "OK", "ALARM")
	if a != b || !strings.HasPrefix(a, "ta-") || len(a) != 35 {
		t.Errorf("IDs %s %s", a, b)
	}
	for _, other := range []string{
		NewID("cis-1.2:3.4", map[string]string{"a": "1", "b": "2"}, t0, "OK", "ALARM"),
		NewID("cis-1.2:3.3", map[string]string{"a": "1"}, t0, "OK", "ALARM"),
		NewID("cis-1.2:3.3", map[string]string{"a": "1", "b": "2"}, t0.Add(time.Minute), "OK", "ALARM"),
		NewID("cis-1.2:3.3", map[string]string{"a": "1", "b": "2"}, t0, "ALARM", "OK"),
		NewID("cis-1.2:3.3", map[string]string{"a1": "", "b": "2"}, t0, "OK", "ALARM"),
	} {
		if other == a {
			t.Errorf("different alerts share the ID %s", a)
		}
	}
}

func TestEvidenceAndSubject(t *testing.T) {
	e := NewEvidence([]byte(`{"eventTime":"2026-01-01T00:02:10Z","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"111111111111","sourceIPAddress":"1.2.3.4","userIdentity":{"type":"Root"},"requestParameters":{"name":"` + strings.Repeat("x", 400) + `"}}`))
	if e.Principal != "root" || e.EventName != "StopLogging" || len([]rune(e.RequestParameters)) != 300 {
		t.Errorf("evidence %+v", e.Summary)
	}
	a := Alert{Rule: Rule{ID: "r", Title: "CloudTrail changed\n<b>", Severity: "high"}, To: "ALARM", Evidence: []Evidence{e}}
	a.Finish()
	if s := a.Subject(100); s != "[HIGH] ALARM: CloudTrail changed <b> by root" || a.Accounts[0] != "111111111111" || a.Regions[0] != "us-east-1" {
		t.Errorf("subject %q, %v %v", s, a.Accounts, a.Regions)
	}
	a.Rule.Title = strings.Repeat("long ", 40)
	if len([]rune(a.Subject(100))) != 100 {
		t.Error("subject not cut to 100 characters")
	}
}
