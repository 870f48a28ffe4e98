// Package alert defines what trailalarm tells people: an alarm's state change with the evidence
// behind it — who did what, when, from where, in which account and region — and a stable ID
// derived from its content, so that a retried delivery is recognisable as the same alert.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// MaxEvidence is how many records an alert carries; EvidenceCount has the full count.
const MaxEvidence = 20

// Alert is one alarm state change of one rule and metric series.
type Alert struct {
	ID         string            `json:"id"`         // stable: see NewID
	Rule       Rule              `json:"rule"`       // the rule whose alarm changed state
	Dimensions map[string]string `json:"dimensions"` // the metric series, empty for none
	Time       time.Time         `json:"time"`       // the evaluation that changed the state
	From       string            `json:"from"`       // OK, ALARM or INSUFFICIENT_DATA
	To         string            `json:"to"`
	Reason     string            `json:"reason"` // worded like CloudWatch's StateReason
	// Early is set when the ALARM was raised as soon as the breaching record was seen, before
	// the period closed (a breach that no later record can undo).
	Early bool `json:"early,omitempty"`
	// Anticipates is, for an early ALARM, the evaluation time whose ALARM it raises ahead: the
	// time at which `trailalarm scan` (and CloudWatch) would report the transition.
	Anticipates time.Time `json:"anticipates,omitzero"`
	// Evidence holds the first MaxEvidence matched records of the breaching datapoints.
	Evidence      []Evidence `json:"evidence"`
	EvidenceCount int        `json:"evidenceCount"`
	Accounts      []string   `json:"accounts"` // distinct accounts of the evidence
	Regions       []string   `json:"regions"`  // distinct regions of the evidence
}

// Rule is what an alert says about its rule.
type Rule struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"` // info, low, medium, high, critical
	Pack        string   `json:"pack,omitempty"`
	Description string   `json:"description,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	References  []string `json:"references,omitempty"` // CIS, Security Hub and MITRE ids, URLs
}

// Evidence is one matched CloudTrail record: the summary people read, the request parameters
// in short, and the record itself.
type Evidence struct {
	cloudtrail.Summary
	RequestParameters string          `json:"requestParameters,omitempty"` // compact, at most 300 characters
	Record            json.RawMessage `json:"record,omitempty"`            // the CloudTrail record as it was
}

// NewEvidence builds the evidence of a raw record.
func NewEvidence(raw []byte) Evidence {
	s, err := cloudtrail.Summarize(raw)
	if err != nil {
		s = cloudtrail.Summary{Principal: "unknown"}
	}
	e := Evidence{Summary: s, Record: append(json.RawMessage(nil), raw...)}
	var r struct {
		RequestParameters json.RawMessage `json:"requestParameters"`
	}
	if json.Unmarshal(raw, &r) == nil && len(r.RequestParameters) > 0 && string(r.RequestParameters) != "null" {
		var b strings.Builder
		if err := compactTo(&b, r.RequestParameters); err == nil {
			e.RequestParameters = truncate(b.String(), 300)
		}
	}
	return e
}

func compactTo(b *strings.Builder, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// NewID derives an alert's ID from what makes it the same alert: the rule, the series, the
// evaluation time and the state change. Delivering it again (after a crash, say) gives the
// receiver the same ID.
func NewID(ruleID string, dims map[string]string, t time.Time, from, to string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(ruleID)
	for _, k := range keys {
		w(k)
		w(dims[k])
	}
	w(t.UTC().Format(time.RFC3339Nano))
	w(from)
	w(to)
	return "ta-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Finish fills ID, Accounts and Regions from the other fields.
func (a *Alert) Finish() {
	a.ID = NewID(a.Rule.ID, a.Dimensions, a.Time, a.From, a.To)
	accounts, regions := map[string]bool{}, map[string]bool{}
	for _, e := range a.Evidence {
		if e.RecipientAccountID != "" {
			accounts[e.RecipientAccountID] = true
		}
		if e.AWSRegion != "" {
			regions[e.AWSRegion] = true
		}
	}
	a.Accounts, a.Regions = sorted(accounts), sorted(regions)
	if a.Dimensions == nil {
		a.Dimensions = map[string]string{}
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Subject is a one-line summary, at most max characters (SNS allows 100): severity, state, rule
// and the first principal.
func (a *Alert) Subject(max int) string {
	s := "[" + strings.ToUpper(a.Rule.Severity) + "] " + a.To + ": " + a.Rule.Title
	if len(a.Evidence) > 0 && a.To == "ALARM" {
		s += " by " + a.Evidence[0].Principal
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return truncate(s, max)
}
