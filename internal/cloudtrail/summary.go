package cloudtrail

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/trailalarm/trailalarm/internal/jsonstr"
)

// Summary is what a person needs to know about one event at a glance: who did what, from
// where, and whether it failed. It is built for events that matched a rule.
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

// summaryFields are the top-level values a Summary is made of.
type summaryFields struct {
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

// Summarize reads the summary fields of a raw record. Fields that are missing or of an
// unexpected type are left empty; a record that is not a JSON object gives an error.
//
// It walks only the record's top level and decodes the few values it needs: a scan with many
// matches summarizes every one, and decoding whole records (requestParameters and
// responseElements can be large) cost more than the scan itself.
func Summarize(raw []byte) (Summary, error) {
	var r summaryFields
	if !topLevel(raw, func(k, v []byte) { r.set(string(k), v) }) {
		return summarizeSlow(raw)
	}
	return r.summary(identityOf), nil
}

// summarizeSlow is Summarize with encoding/json, for input the top-level walk cannot read.
func summarizeSlow(raw []byte) (Summary, error) {
	var r summaryFields
	if err := json.Unmarshal(raw, &r); err != nil {
		// A field of an unexpected type: fall back to a field-by-field decode.
		var loose map[string]json.RawMessage
		if err2 := json.Unmarshal(raw, &loose); err2 != nil {
			return Summary{}, err
		}
		r = summaryFields{}
		for k, v := range loose {
			r.set(k, v)
		}
	}
	return r.summary(func(v []byte, id *rawIdentity) { _ = json.Unmarshal(v, id) }), nil
}

// set stores the value of a top-level key the summary uses; a non-string value of a string
// field leaves it empty.
func (r *summaryFields) set(key string, v []byte) {
	var field *string
	switch key {
	case "eventID":
		field = &r.EventID
	case "eventTime":
		field = &r.EventTime
	case "eventName":
		field = &r.EventName
	case "eventSource":
		field = &r.EventSource
	case "awsRegion":
		field = &r.AWSRegion
	case "recipientAccountId":
		field = &r.RecipientAccountID
	case "sourceIPAddress":
		field = &r.SourceIPAddress
	case "userAgent":
		field = &r.UserAgent
	case "errorCode":
		field = &r.ErrorCode
	case "errorMessage":
		field = &r.ErrorMessage
	case "userIdentity":
		r.UserIdentity = v
		return
	default:
		return
	}
	*field = jsonString(v)
}

// summary builds the Summary, with decode reading the userIdentity object; a missing or odd
// identity leaves the principal unknown.
func (r *summaryFields) summary(decode func([]byte, *rawIdentity)) Summary {
	var id rawIdentity
	decode(r.UserIdentity, &id)
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
	return s
}

// identityOf reads a userIdentity object as encoding/json decodes it into rawIdentity — keys
// of exact case, the last of duplicate keys winning, values of another type ignored — by
// walking it instead: Summarize runs for every match of a scan, and decoding the identity
// with encoding/json cost more than the scan itself.
func identityOf(v []byte, id *rawIdentity) {
	topLevel(v, func(k, val []byte) {
		switch string(k) {
		case "type":
			setString(&id.Type, val)
		case "principalId":
			setString(&id.PrincipalID, val)
		case "arn":
			setString(&id.ARN, val)
		case "accountId":
			setString(&id.AccountID, val)
		case "userName":
			setString(&id.UserName, val)
		case "invokedBy":
			setString(&id.InvokedBy, val)
		case "sourceIdentity":
			setString(&id.SourceIdentity, val)
		case "sessionContext":
			topLevel(val, func(k, val []byte) {
				switch string(k) {
				case "sourceIdentity":
					setString(&id.SessionContext.SourceIdentity, val)
				case "sessionIssuer":
					topLevel(val, func(k, val []byte) {
						switch string(k) {
						case "userName":
							setString(&id.SessionContext.SessionIssuer.UserName, val)
						case "arn":
							setString(&id.SessionContext.SessionIssuer.ARN, val)
						}
					})
				}
			})
		}
	})
}

// setString stores a JSON string value; any other value leaves the field as it was, as
// encoding/json does.
func setString(field *string, v []byte) {
	if len(v) >= 2 && v[0] == '"' {
		*field = jsonString(v)
	}
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

// topLevel calls fn with each key of the JSON object raw and the bytes of its value, in order.
// It reports false, having called fn for none or some keys, when raw is not an object it can
// walk; values are passed over by counting brackets outside strings, not validated.
func topLevel(raw []byte, fn func(key, value []byte)) bool {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipWS(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return skipWS(raw, i+1) == len(raw)
	}
	var keyBuf []byte
	for {
		if i >= len(raw) || raw[i] != '"' {
			return false
		}
		end, esc := stringEnd(raw, i)
		if end < 0 {
			return false
		}
		key := raw[i+1 : end-1]
		if esc {
			keyBuf = jsonstr.Unescape(keyBuf[:0], key)
			key = keyBuf
		}
		i = skipWS(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		start := skipWS(raw, i+1)
		j := valueEnd(raw, start)
		if j < 0 {
			return false
		}
		fn(key, raw[start:j])
		i = skipWS(raw, j)
		if i >= len(raw) {
			return false
		}
		switch raw[i] {
		case ',':
			i = skipWS(raw, i+1)
		case '}':
			return skipWS(raw, i+1) == len(raw)
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string starting at b[i], and
// whether it holds escapes; -1 when it does not end. It jumps from quote to quote with
// bytes.IndexByte (vectorised) and counts the backslashes before each.
func stringEnd(b []byte, i int) (int, bool) {
	esc := false
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1, false
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if !esc && bytes.IndexByte(b[i+1:j], '\\') >= 0 {
			esc = true
		}
		if n%2 == 0 {
			return j + 1, esc
		}
		j++
	}
}

// valueEnd returns the index after the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// jsonString is the text of a JSON string value, or "" for any other value.
func jsonString(v []byte) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	v = v[1 : len(v)-1]
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v) // no escape: one copy, not two
	}
	return string(jsonstr.Unescape(nil, v))
}
