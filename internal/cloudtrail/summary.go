package cloudtrail

import (
	"encoding/json"
	"strings"
)

// Summary is what a person needs to know about one event at a glance: who did what, from
// where, and whether it failed. It is built only for events that matched a rule, so it may
// decode the record the ordinary way.
type Summary struct {
	EventID            string `json:"eventID"`
	EventTime          string `json:"eventTime"`
	EventName          string `json:"eventName"`
	EventSource        string `json:"eventSource"`
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	Principal          string `json:"principal"`
	PrincipalType      string `json:"principalType,omitempty"`
	PrincipalARN       string `json:"principalArn,omitempty"`
	SourceIdentity     string `json:"sourceIdentity,omitempty"`
	SourceIPAddress    string `json:"sourceIPAddress"`
	UserAgent          string `json:"userAgent"`
	ErrorCode          string `json:"errorCode"`
	ErrorMessage       string `json:"errorMessage,omitempty"`
}

type rawIdentity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SourceIdentity string `json:"sourceIdentity"`
	SessionContext struct {
		SourceIdentity string `json:"sourceIdentity"`
		SessionIssuer  struct {
			UserName string `json:"userName"`
			ARN      string `json:"arn"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

// Summarize reads the summary fields of a raw record. Fields that are missing or of an
// unexpected type are left empty; a record that is not a JSON object gives an error.
func Summarize(raw []byte) (Summary, error) {
	var r struct {
		EventID            string          `json:"eventID"`
		EventTime          string          `json:"eventTime"`
		EventName          string          `json:"eventName"`
		EventSource        string          `json:"eventSource"`
		AWSRegion          string          `json:"awsRegion"`
		RecipientAccountID string          `json:"recipientAccountId"`
		SourceIPAddress    string          `json:"sourceIPAddress"`
		UserAgent          string          `json:"userAgent"`
		ErrorCode          string          `json:"errorCode"`
		ErrorMessage       string          `json:"errorMessage"`
		UserIdentity       json.RawMessage `json:"userIdentity"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		// A field of an unexpected type: fall back to a field-by-field decode.
		var loose map[string]json.RawMessage
		if err2 := json.Unmarshal(raw, &loose); err2 != nil {
			return Summary{}, err
		}
		str := func(k string) string {
			var s string
			json.Unmarshal(loose[k], &s)
			return s
		}
		r.EventID, r.EventTime, r.EventName, r.EventSource = str("eventID"), str("eventTime"), str("eventName"), str("eventSource")
		r.AWSRegion, r.RecipientAccountID, r.SourceIPAddress = str("awsRegion"), str("recipientAccountId"), str("sourceIPAddress")
		r.UserAgent, r.ErrorCode, r.ErrorMessage = str("userAgent"), str("errorCode"), str("errorMessage")
		r.UserIdentity = loose["userIdentity"]
	}
	var id rawIdentity
	_ = json.Unmarshal(r.UserIdentity, &id) // a missing or odd identity leaves the principal unknown
	s := Summary{
		EventID: r.EventID, EventTime: r.EventTime, EventName: r.EventName, EventSource: r.EventSource,
		AWSRegion: r.AWSRegion, RecipientAccountID: r.RecipientAccountID,
		SourceIPAddress: r.SourceIPAddress, UserAgent: r.UserAgent, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		PrincipalType: id.Type, PrincipalARN: id.ARN,
	}
	s.SourceIdentity = id.SourceIdentity
	if s.SourceIdentity == "" {
		s.SourceIdentity = id.SessionContext.SourceIdentity
	}
	s.Principal = principal(&id)
	return s, nil
}

// principal names who acted, the way people say it: "root", an IAM user's ARN, an assumed
// role's "role/session", a service's name.
func principal(id *rawIdentity) string {
	switch id.Type {
	case "Root":
		return "root"
	case "AssumedRole":
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
		if i := strings.Index(id.ARN, ":assumed-role/"); i >= 0 {
			return id.ARN[i+len(":assumed-role/"):]
		}
		if role := id.SessionContext.SessionIssuer.UserName; role != "" {
			if _, session, ok := strings.Cut(id.PrincipalID, ":"); ok {
				return role + "/" + session
			}
			return role
		}
	case "AWSService":
		if id.InvokedBy != "" {
			return id.InvokedBy
		}
	case "AWSAccount":
		if id.AccountID != "" {
			return "account/" + id.AccountID
		}
	}
	switch {
	case id.ARN != "":
		return id.ARN
	case id.InvokedBy != "":
		return id.InvokedBy
	case id.UserName != "":
		return id.UserName
	case id.PrincipalID != "":
		return id.PrincipalID
	case id.AccountID != "":
		return "account/" + id.AccountID
	}
	return "unknown"
}
