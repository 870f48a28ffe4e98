package cloudtrail

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
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

// TestSummarizeAgreesWithDecoding: the top-level walk gives what decoding the whole record
// gives, on every sample record.
func TestSummarizeAgreesWithDecoding(t *testing.T) {
	files, _ := filepath.Glob("../../examples/cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json")
	more, _ := filepath.Glob("testdata/*.json*")
	n := 0
	for _, f := range append(files, more...) {
		ReadFile(f, Options{}, func(r *Record) error {
			fast, err := Summarize(r.Raw)
			slow, err2 := summarizeSlow(r.Raw)
			if err != nil || err2 != nil || fast != slow {
				t.Fatalf("%s offset %d:\nfast %+v %v\nslow %+v %v", f, r.Offset, fast, err, slow, err2)
			}
			n++
			return nil
		})
	}
	if n < 2900 {
		t.Errorf("only %d records compared", n)
	}
}

func FuzzSummarize(f *testing.F) {
	f.Add([]byte(`{"eventName":"A","userIdentity":{"type":"Root"},"x":[1,{"y":"}"}]}`))
	f.Add([]byte(`{"eventName":5,"eventName":"B"}`))
	f.Add([]byte(`{"userIdentity":{"type":"AssumedRole","arn":5,"arn":"arn:aws:sts::1:assumed-role/R/s","principalId":"A:s"}}`))
	f.Add([]byte(`{"userIdentity":{"type":"AssumedRole","principalId":"A:s","sessionContext":{"sessionIssuer":{"userName":"R"},"sessionIssuer":{"arn":null},"sourceIdentity":"x"}}}`))
	f.Add([]byte(`{"userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com","sessionContext":"odd"}}`))
	f.Add([]byte(`{"userIdentity":{"type":"Root","userName":"\u0041b","accountId":"1"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, err := Summarize(raw)
		slow, err2 := summarizeSlow(raw)
		// Records reach Summarize validated; on valid UTF-8 JSON that encoding/json decodes, both
		// must agree (keys differing only in case are matched by encoding/json alone).
		if err2 == nil && json.Valid(raw) && utf8.Valid(raw) && err == nil && fast != slow && !caseVariantKeys(raw) {
			t.Fatalf("fast %+v\nslow %+v", fast, slow)
		}
	})
}

// caseVariantKeys reports keys that encoding/json would match case-insensitively.
func caseVariantKeys(raw []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return true
	}
	if id, ok := m["userIdentity"]; ok && nestedCaseVariant(id) {
		return true
	}
	for k := range m {
		switch k {
		case "eventID", "eventTime", "eventName", "eventSource", "awsRegion", "recipientAccountId", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "userIdentity":
		default:
			for _, want := range []string{"eventID", "eventTime", "eventName", "eventSource", "awsRegion", "recipientAccountId", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "userIdentity"} {
				if strings.EqualFold(k, want) {
					return true
				}
			}
		}
	}
	return false
}

// nestedCaseVariant reports keys inside a userIdentity value that differ from the ones the
// summary reads only in case, which encoding/json alone would match.
func nestedCaseVariant(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		for _, want := range []string{"type", "principalId", "arn", "accountId", "userName", "invokedBy", "sourceIdentity", "sessionContext", "sessionIssuer"} {
			if k != want && strings.EqualFold(k, want) {
				return true
			}
		}
		if nestedCaseVariant(v) {
			return true
		}
	}
	return false
}
