package cloudtrail

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name, raw, principal string
	}{
		{"root", `{"userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root"}}`, "root"},
		{"iam user", `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123837392027:user/bert-jan","userName":"bert-jan"}}`, "arn:aws:iam::123837392027:user/bert-jan"},
		{"assumed role", `{"userIdentity":{"type":"AssumedRole","principalId":"AROA:SLRManagement","arn":"arn:aws:sts::123837392027:assumed-role/AWSServiceRoleForRDS/SLRManagement"}}`, "AWSServiceRoleForRDS/SLRManagement"},
		{"assumed role without arn", `{"userIdentity":{"type":"AssumedRole","principalId":"AROA:sess","sessionContext":{"sessionIssuer":{"userName":"Admin"}}}}`, "Admin/sess"},
		{"service", `{"userIdentity":{"type":"AWSService","invokedBy":"rds.amazonaws.com"}}`, "rds.amazonaws.com"},
		{"no type", `{"userIdentity":{"accountId":"123837392027","invokedBy":"secretsmanager.amazonaws.com"}}`, "secretsmanager.amazonaws.com"},
		{"no identity", `{"eventName":"X"}`, "unknown"},
		{"odd types", `{"eventName":"X","readOnly":"yes","userIdentity":{"type":"IAMUser","arn":"a"},"sourceIPAddress":1}`, "a"},
	}
	for _, tt := range tests {
		s, err := Summarize([]byte(tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s.Principal != tt.principal {
			t.Errorf("%s: principal %q, want %q", tt.name, s.Principal, tt.principal)
		}
	}
	s, err := Summarize([]byte(`{"eventID":"e1","eventTime":"2023-07-10T12:00:00Z","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"1","sourceIPAddress":"1.2.3.4","userAgent":"aws-cli","errorCode":"AccessDenied","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/R/s","sessionContext":{"sourceIdentity":"alice"}}}`))
	if err != nil || s.EventName != "StopLogging" || s.SourceIPAddress != "1.2.3.4" || s.ErrorCode != "AccessDenied" || s.SourceIdentity != "alice" || s.Principal != "R/s" {
		t.Errorf("summary %+v, %v", s, err)
	}
	if _, err := Summarize([]byte(`[1]`)); err == nil {
		t.Error("array accepted")
	}
}

func TestExactFields(t *testing.T) {
	for raw, want := range map[string]Fields{
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventSource":"s","awsRegion":"r","recipientAccountId":"1","errorCode":"X"}`: FieldEventName | FieldEventSource | FieldAWSRegion | FieldRecipientAccountID | FieldErrorCode,
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventName":"B"}`:                                                            0,
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":5,"eventSource":"s"}`:                                                            FieldEventSource,
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A\u0042"}`:                                                                      FieldEventName,
	} {
		n := 0
		_, err := Read(strings.NewReader(raw), "t", Options{}, func(r *Record) error {
			n++
			if r.Exact != want {
				t.Errorf("%s: Exact = %b, want %b", raw, r.Exact, want)
			}
			return nil
		})
		if err != nil || n != 1 {
			t.Errorf("%s: %v, %d records", raw, err, n)
		}
	}
	_, err := Read(strings.NewReader(`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","awsRegion":null}`), "t", Options{}, func(r *Record) error {
		if want := FieldEventSource | FieldRecipientAccountID | FieldErrorCode | FieldUserAgent | FieldSourceIPAddress; r.Missing != want {
			t.Errorf("Missing = %b, want %b", r.Missing, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
