package notify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// Limits for untrusted values in messages people read: long enough for any real user agent or
// ARN, short enough that one hostile field cannot bury the rest.
const (
	maxValue  = 256  // a principal, user agent, IP, error code...
	maxParams = 300  // request parameters (alert.NewEvidence keeps 300 already)
	maxProse  = 2000 // reason, remediation, description
)

// view is an alert prepared for rendering: every CloudTrail value cleaned for one line of
// plain text and cut to a limit. Markup-specific escaping (HTML, mrkdwn) happens on top.
type view struct {
	ID, Subject, RuleID, Title, Severity, Pack string
	From, To, Time, Reason, Remediation        string
	Description                                string
	Accounts, Regions, Series                  string
	References                                 []string
	Early                                      bool
	Evidence                                   []evidenceView
	More                                       int // evidence records not shown
	Total                                      int
}

type evidenceView struct {
	Time, Principal, PrincipalARN, SourceIdentity, Event, Source    string
	Account, Region, IP, UserAgent, ErrorCode, ErrorMessage, Params string
}

// newView prepares a for rendering with at most maxEvidence evidence records.
func newView(a *alert.Alert, maxEvidence int) view {
	v := view{
		ID:          clean(a.ID, maxValue),
		Subject:     a.Subject(200),
		RuleID:      clean(a.Rule.ID, maxValue),
		Title:       clean(a.Rule.Title, maxValue),
		Severity:    strings.ToUpper(clean(or(a.Rule.Severity, "unknown"), 20)),
		Pack:        clean(a.Rule.Pack, maxValue),
		From:        clean(a.From, 40),
		To:          clean(a.To, 40),
		Time:        a.Time.UTC().Format(time.RFC3339),
		Reason:      clean(a.Reason, maxProse),
		Remediation: clean(a.Rule.Remediation, maxProse),
		Description: clean(a.Rule.Description, maxProse),
		Accounts:    clean(strings.Join(a.Accounts, ", "), maxValue),
		Regions:     clean(strings.Join(a.Regions, ", "), maxValue),
		Early:       a.Early,
		Total:       max(a.EvidenceCount, len(a.Evidence)),
	}
	if len(a.Dimensions) > 0 {
		keys := make([]string, 0, len(a.Dimensions))
		for k := range a.Dimensions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + a.Dimensions[k]
		}
		v.Series = clean(strings.Join(parts, ", "), maxValue)
	}
	for _, r := range a.Rule.References {
		v.References = append(v.References, clean(r, maxValue))
	}
	for i, e := range a.Evidence {
		if i == maxEvidence {
			break
		}
		v.Evidence = append(v.Evidence, evidenceView{
			Time:           clean(e.EventTime, 40),
			Principal:      clean(or(e.Principal, "unknown"), maxValue),
			PrincipalARN:   clean(e.PrincipalARN, maxValue),
			SourceIdentity: clean(e.SourceIdentity, maxValue),
			Event:          clean(e.EventName, maxValue),
			Source:         clean(e.EventSource, maxValue),
			Account:        clean(e.RecipientAccountID, 40),
			Region:         clean(e.AWSRegion, 40),
			IP:             clean(e.SourceIPAddress, maxValue),
			UserAgent:      clean(e.UserAgent, maxValue),
			ErrorCode:      clean(e.ErrorCode, maxValue),
			ErrorMessage:   clean(e.ErrorMessage, maxValue),
			Params:         clean(e.RequestParameters, maxParams),
		})
	}
	v.More = v.Total - len(v.Evidence)
	return v
}

// Line is one evidence record in a sentence: time, who, what, where.
func (e evidenceView) Line() string {
	s := e.Time + "  " + e.Principal
	if e.SourceIdentity != "" {
		s += " (source identity " + e.SourceIdentity + ")"
	}
	s += " called " + e.Event
	if e.Source != "" {
		s += " on " + e.Source
	}
	return s
}

// Details is the rest of an evidence record: account, region, origin, outcome.
func (e evidenceView) Details() []string {
	var d []string
	add := func(k, v string) {
		if v != "" {
			d = append(d, k+": "+v)
		}
	}
	add("account", e.Account)
	add("region", e.Region)
	add("source IP", e.IP)
	add("user agent", e.UserAgent)
	add("error", strings.TrimSpace(e.ErrorCode+" "+e.ErrorMessage))
	add("principal ARN", e.PrincipalARN)
	add("request", e.Params)
	return d
}

// plainText renders the readable message of SNS and of the email's text part: what, who,
// when, where, the evidence, the reason and the remediation.
func plainText(v view) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", v.Subject)
	fmt.Fprintf(&b, "Rule:      %s — %s\n", v.RuleID, v.Title)
	fmt.Fprintf(&b, "Severity:  %s\n", v.Severity)
	state := fmt.Sprintf("%s -> %s at %s", v.From, v.To, v.Time)
	if v.Early {
		state += " (raised early, on the breaching record)"
	}
	fmt.Fprintf(&b, "State:     %s\n", state)
	if v.Accounts != "" {
		fmt.Fprintf(&b, "Accounts:  %s\n", v.Accounts)
	}
	if v.Regions != "" {
		fmt.Fprintf(&b, "Regions:   %s\n", v.Regions)
	}
	if v.Series != "" {
		fmt.Fprintf(&b, "Series:    %s\n", v.Series)
	}
	fmt.Fprintf(&b, "Alert ID:  %s\n", v.ID)
	if v.Reason != "" {
		fmt.Fprintf(&b, "\nReason: %s\n", v.Reason)
	}
	if len(v.Evidence) > 0 {
		fmt.Fprintf(&b, "\nEvidence (%d of %d records):\n", len(v.Evidence), v.Total)
		for i, e := range v.Evidence {
			fmt.Fprintf(&b, "%d. %s\n", i+1, e.Line())
			for _, d := range e.Details() {
				fmt.Fprintf(&b, "   %s\n", d)
			}
		}
		if v.More > 0 {
			fmt.Fprintf(&b, "... and %d more records\n", v.More)
		}
	}
	if v.Description != "" {
		fmt.Fprintf(&b, "\nAbout the rule: %s\n", v.Description)
	}
	if v.Remediation != "" {
		fmt.Fprintf(&b, "\nRemediation: %s\n", v.Remediation)
	}
	if len(v.References) > 0 {
		fmt.Fprintf(&b, "References: %s\n", strings.Join(v.References, ", "))
	}
	return b.String()
}
