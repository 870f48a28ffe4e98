package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	stopMailpits()
	os.Exit(code)
}

// Hostile CloudTrail values: markup, Slack mentions and links, formatting, line breaks, and
// length. Every notifier must carry them as text.
const (
	hostileUA   = "<script>alert(1)</script> <!channel> <@U123> <https://evil.example|click> *bold* _it_ ~gone~ `code` &amp;\r\nInjected: header\n> quote"
	hostileUser = "eve<!here>*x*"
)

var longValue = strings.Repeat("A", 20000)

func record(user, ua, ip, errMsg string, i int) []byte {
	r := map[string]any{
		"eventVersion": "1.08", "eventID": fmt.Sprintf("ev-%d", i),
		"eventTime": fmt.Sprintf("2026-01-01T00:02:%02dZ", i%60), "eventName": "StopLogging",
		"eventSource": "cloudtrail.amazonaws.com", "awsRegion": "us-east-1",
		"recipientAccountId": "111111111111", "sourceIPAddress": ip, "userAgent": ua,
		"errorCode": "AccessDenied", "errorMessage": errMsg,
		"userIdentity": map[string]any{
			"type": "IAMUser", "userName": user, "accountId": "111111111111",
			"arn": "arn:aws:iam::111111111111:user/" + user,
		},
		"requestParameters": map[string]any{"name": "trail<b>" + strings.Repeat("x", 1000)},
	}
	b, _ := json.Marshal(r)
	return b
}

// hostileAlert is an ALARM of a CIS rule with n evidence records full of hostile values.
func hostileAlert(n int) *alert.Alert {
	a := &alert.Alert{
		Rule: alert.Rule{
			ID: "cis-1.2:3.5", Title: "CloudTrail configuration changes & more", Severity: "high", Pack: "cis-1.2",
			Description: "Detects changes to CloudTrail's configuration.",
			Remediation: "Check who changed the trail and why; restore logging with StartLogging.",
			References:  []string{"CIS 3.5", "CloudWatch.5"},
		},
		Dimensions: map[string]string{},
		Time:       time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC),
		From:       "OK", To: "ALARM",
		Reason:        "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/01/26 00:02:00)] was greater than or equal to the threshold (1.0).",
		EvidenceCount: n,
	}
	for i := range min(n, alert.MaxEvidence) {
		ua := hostileUA
		if i == 1 {
			ua = longValue
		}
		a.Evidence = append(a.Evidence, alert.NewEvidence(record(hostileUser, ua, "203.0.113.7", longValue, i)))
	}
	a.Finish()
	return a
}

func mustPermanent(t *testing.T, err error, want bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want permanent=%v", want)
	}
	if IsPermanent(err) != want {
		t.Fatalf("IsPermanent(%v) = %v, want %v", err, !want, want)
	}
}

func TestPermanent(t *testing.T) {
	if Permanent(nil) != nil || IsPermanent(nil) || IsPermanent(errors.New("x")) {
		t.Fatal("nil or plain errors")
	}
	err := fmt.Errorf("wrapped: %w", Permanent(errors.New("bad")))
	if !IsPermanent(err) || err.Error() != "wrapped: bad" {
		t.Fatal(err)
	}
	for code, perm := range map[int]bool{400: true, 401: true, 404: true, 410: true, 408: false, 429: false, 500: false, 503: false} {
		if permanentStatus(code) != perm {
			t.Errorf("status %d permanent=%v", code, !perm)
		}
	}
}

func TestClean(t *testing.T) {
	got := clean("a\r\nb\tc\u202ed\x00e", 0)
	if got != "a  b c d e" {
		t.Errorf("clean = %q", got)
	}
	if got := clean(strings.Repeat("é", 10), 5); got != "éééé…" {
		t.Errorf("cut = %q", got)
	}
	if got := clean("\xff\xfe", 0); got != "\uFFFD" {
		t.Errorf("invalid UTF-8 = %q", got)
	}
}

// The plain text carries every part of the alert, each value on its own line.
func TestPlainText(t *testing.T) {
	a := hostileAlert(25)
	txt := plainText(newView(a, alert.MaxEvidence))
	for _, want := range []string{
		"[HIGH] ALARM: CloudTrail configuration changes & more by arn:aws:iam::111111111111:user/eve<!here>*x*",
		"Rule:      cis-1.2:3.5", "State:     OK -> ALARM at 2026-01-01T00:05:00Z", "Accounts:  111111111111",
		"Evidence (20 of 25 records):", "1. 2026-01-01T00:02:00Z  arn:aws:iam::111111111111:user/eve<!here>*x* called StopLogging on cloudtrail.amazonaws.com",
		"source IP: 203.0.113.7", "... and 5 more records", "Reason: Threshold Crossed", "Remediation: Check who",
		"References: CIS 3.5, CloudWatch.5", "Alert ID:  " + a.ID,
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	// The injected line break must not start a line of its own.
	for _, l := range strings.Split(txt, "\n") {
		if strings.HasPrefix(l, "Injected:") || strings.HasPrefix(l, "> quote") || strings.Contains(l, "\r") {
			t.Errorf("a CloudTrail value broke the line: %q", l)
		}
		if len([]rune(l)) > 600 {
			t.Errorf("line of %d characters: a long value was not cut", len([]rune(l)))
		}
	}
}
