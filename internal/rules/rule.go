package rules

import (
	"fmt"
	"strings"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// Rule is one detection: a filter pattern and the metric filter and alarm built from it.
type Rule struct {
	ID          string   // unique across the rules in use, e.g. "cis-1.2:3.3"
	Title       string   // one line, for tables and alert subjects
	Description string   // what the rule detects and why it matters
	Severity    Severity // how urgent a match is
	Pattern     string   // the CloudWatch Logs filter pattern, as written

	Compiled    *filterpattern.Pattern // Pattern, compiled
	Metric      Metric                 // the metric filter's metric transformation
	Alarm       AlarmSettings          // the alarm on that metric; defaults filled in
	References  References             // CIS, Security Hub, MITRE ATT&CK, links
	Remediation string                 // what to do when the rule fires
	Notes       string                 // known problems, provenance; printed by 'rules show'

	FalsePositives string   // when the rule fires on legitimate activity, and how to tell
	AllowFields    []string // selectors an allow-list for this rule should key on, e.g. $.userIdentity.arn
	Allow          []Allow  // records that match any of these do not match the rule

	// Params are the parameters the pattern refers to as ${name}. A rule with parameters is
	// evaluated only once Bind has given them values; until then Compiled holds the pattern with
	// example values (so that metric references can be checked) and Bound reports false.
	Params []Param
	Values map[string]string // after Bind: each parameter's value as text (lists comma-separated)

	binding *binding // after Bind: the pattern with the values filled in

	Pack   string // the pack the rule came from ("" for a file without `pack:`)
	File   string // where the rule was defined: a path, or "packs/NAME.yaml" for built-ins
	Line   int    // line of the rule's first key in File
	Column int    // column of the rule's first key in File
}

// Position returns "file:line:col" for messages.
func (r *Rule) Position() string { return fmt.Sprintf("%s:%d:%d", r.File, r.Line, r.Column) }

// Metric is a metric filter's metric transformation.
type Metric struct {
	Name         string             // metricName
	Namespace    string             // metricNamespace
	Value        string             // metricValue: "1", or a reference such as "$.bytes"
	ValueRef     *filterpattern.Ref // Value, compiled against the rule's pattern
	DefaultValue *float64           // published for a minute with events but no match; nil: none
	Dimensions   []Dimension        // at most 3, in the order of the file
	Unit         string             // a CloudWatch standard unit; "None" by default
}

// Dimension is one metric dimension: a name and a reference to a value of the matching event.
type Dimension struct {
	Name  string             // the dimension's name
	Value string             // the reference as written, e.g. "$.recipientAccountId"
	Ref   *filterpattern.Ref // Value, compiled against the rule's pattern
}

// AlarmSettings are the PutMetricAlarm fields a rule may set. Their CloudWatch semantics (which
// periods are allowed, M of N, …) are checked by package alarm; here they are plain values.
type AlarmSettings struct {
	Period             int     // seconds
	Statistic          string  // SampleCount, Average, Sum, Minimum, Maximum or a percentile (p99)
	Threshold          float64 // compared with the statistic
	ComparisonOperator string  // e.g. GreaterThanOrEqualToThreshold
	EvaluationPeriods  int     // N
	DatapointsToAlarm  int     // M of N
	TreatMissingData   string  // missing, notBreaching, breaching or ignore
}

// DefaultAlarm is the alarm the CIS benchmark prescribes for every monitoring control (Sum over
// 300 s, ≥ 1, one period) with missing data as not breaching, since a metric filter publishes
// nothing for a quiet minute. A rule's alarm fields that are not given take these values.
func DefaultAlarm() AlarmSettings {
	return AlarmSettings{
		Period:             300,
		Statistic:          "Sum",
		Threshold:          1,
		ComparisonOperator: "GreaterThanOrEqualToThreshold",
		EvaluationPeriods:  1,
		DatapointsToAlarm:  1,
		TreatMissingData:   "notBreaching",
	}
}

// References link a rule to the controls and techniques it covers.
type References struct {
	CIS         []string // CIS AWS Foundations Benchmark controls, as "v1.2.0/3.3"
	SecurityHub []string // Security Hub control ids, e.g. "CloudWatch.1"
	MITRE       []string // MITRE ATT&CK technique ids, e.g. "T1078.004"
	Stratus     []string // Stratus Red Team technique ids the rule catches, e.g. "aws.defense-evasion.cloudtrail-stop"
	URLs        []string // further reading
}

// Severity says how urgent a match of a rule is. Severities are ordered: Info < … < Critical.
type Severity uint8

// The severities, in increasing order.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the severity as rule files spell it: "info", "low", "medium", "high", "critical".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// ParseSeverity reads a severity name, in any case.
func ParseSeverity(s string) (Severity, error) {
	for i, name := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use one of %s", s, strings.Join(severityNames[:], ", "))
}

// MarshalText makes a Severity print as its name in JSON.
func (s Severity) MarshalText() ([]byte, error) {
	if int(s) >= len(severityNames) {
		return nil, fmt.Errorf("invalid severity %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
