// Package awssetup sets up the AWS-native version of trailalarm's rules in an account and
// region — a CloudWatch Logs metric filter and a CloudWatch alarm per rule, an SNS topic and its
// subscriptions, optionally the trail itself — and exports the same resources as CloudFormation,
// Terraform or AWS CLI commands. Desired is the model all of them share: plan/apply compare it
// with what the account has, export prints it.
//
// trailalarm's resources are recognisable: every name starts with Prefix, and every resource
// that can carry tags carries TagManaged (and TagRule for alarms). Metric filters cannot carry
// tags, so for them the name prefix is the mark. Nothing unmanaged is ever changed or deleted.
package awssetup

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/trailalarm/trailalarm/internal/rules"
)

// Naming and tagging of managed resources.
const (
	Prefix            = "trailalarm-"                   // every managed resource's name starts with it
	TagManaged        = "trailalarm:managed"            // value "true" on every managed resource that takes tags
	TagRule           = "trailalarm:rule"               // the rule id, on alarms
	DefaultLogGroup   = "CloudTrail/DefaultLogGroup"    // the log group when no trail sends to one
	DefaultTopicName  = "trailalarm-alarms"             // the topic created when neither --topic-arn nor --create-topic is given
	DefaultTrailName  = "trailalarm"                    // the trail --ensure-trail creates
	TrailRoleName     = "trailalarm-cloudtrail-to-logs" // the role CloudTrail assumes to write to the log group
	TrailRolePolicy   = "trailalarm-cloudtrail-to-logs" // its inline policy
	maxDescriptionLen = 1024                            // CloudWatch's limit on AlarmDescription
)

// ResourceName is the metric filter and alarm name of a rule: Prefix and the rule id with every
// character CloudWatch Logs refuses in a filter name (':' and '*') and anything unusual
// replaced by '-'. "cis-1.2:3.1" → "trailalarm-cis-1.2-3.1".
func ResourceName(ruleID string) string {
	b := []byte(ruleID)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return Prefix + string(b)
}

// Options say where and how the rules are set up.
type Options struct {
	Region        string            // the region the resources live in
	Account       string            // the account id (for ${account_id}, ARNs); "" leaves ${account_id} and ARNs symbolic where possible
	LogGroup      string            // the log group the metric filters go on
	TopicARN      string            // an existing topic for the alarm actions; "" creates TopicName
	TopicName     string            // the topic to create when TopicARN is ""
	Subscriptions []Subscription    // subscriptions the topic must have
	EnsureTrail   bool              // also a multi-region trail sending to LogGroup
	TrailName     string            // default DefaultTrailName
	TrailBucket   string            // the trail's S3 bucket; default "trailalarm-cloudtrail-<account>"
	Params        map[string]string // rule parameter values (--param)
}

// Desired is everything trailalarm wants in one account and region.
type Desired struct {
	Region        string
	Account       string
	LogGroup      string
	Topic         Topic
	Subscriptions []Subscription
	Filters       []MetricFilter // one per rule, in rule order
	Alarms        []Alarm        // one per rule, in rule order
	Trail         *Trail         // nil without --ensure-trail
	Warnings      []string       // things that work but deserve a look (shared metrics, inexact renderings)
}

// Topic is the SNS topic the alarms notify.
type Topic struct {
	Name   string // the topic's name
	ARN    string // its ARN; known up front for an existing topic, computed from the account otherwise
	Create bool   // trailalarm creates (and manages) it
}

// MetricFilter is one metric filter, as PutMetricFilter takes it.
type MetricFilter struct {
	Name     string // Prefix + rule id
	RuleID   string
	LogGroup string
	Pattern  string // rendered, parameters and ${account_id} filled in
	Metric   Transformation
}

// Transformation is a metric filter's metric transformation.
type Transformation struct {
	Name         string
	Namespace    string
	Value        string
	DefaultValue *float64
	Dimensions   []Dimension // in the rule's order
	Unit         string      // "" or "None" when the rule gives none
}

// Dimension is one metric dimension: a name and the field reference it takes its value from.
type Dimension struct{ Name, Value string }

// Alarm is one metric alarm, as PutMetricAlarm takes it.
type Alarm struct {
	Name               string
	RuleID             string
	Description        string
	Namespace          string
	MetricName         string
	Statistic          string // Sum, Average, …; "" when ExtendedStatistic is set
	ExtendedStatistic  string // a percentile such as p99
	Period             int
	EvaluationPeriods  int
	DatapointsToAlarm  int
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string
	Actions            []string // the topic ARN
	Tags               map[string]string
}

// Trail is the trail --ensure-trail sets up: multi-region, logging, log file validation,
// management events read and write, delivering to LogGroup through Role.
type Trail struct {
	Name       string
	Bucket     string // S3 bucket for the log files (CloudTrail requires one)
	LogGroup   string
	RoleName   string
	PolicyName string
}

// LogGroupARN is the form CloudTrail's CloudWatchLogsLogGroupArn takes.
func LogGroupARN(region, account, group string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, group)
}

// RoleARN is the ARN of the trail's role in account.
func (t *Trail) RoleARN(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, t.RoleName)
}

// TrustPolicy lets CloudTrail assume the trail's role.
func (t *Trail) TrustPolicy() string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
}

// RolePolicy is the inline policy CloudTrail needs to write to the log group.
func (t *Trail) RolePolicy(region, account string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:%s:%s:log-group:%s:log-stream:*"}]}`,
		region, account, t.LogGroup)
}

// BucketPolicy lets CloudTrail check the bucket's ACL and write log files under AWSLogs/account/.
func (t *Trail) BucketPolicy(account string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::%[1]s"},`+
		`{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%[1]s/AWSLogs/%[2]s/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`,
		t.Bucket, account)
}

// RoleDescription is the description of the trail's role.
func (t *Trail) RoleDescription() string {
	return "CloudTrail writes trail " + t.Name + " to CloudWatch Logs group " + t.LogGroup + " (trailalarm)"
}

// ManagedTags are the tags of every managed resource but alarms.
func ManagedTags() map[string]string { return map[string]string{TagManaged: "true"} }

// Build computes the desired state for rs (bound with o.Params as rules.Bind does, rules whose
// parameters have no value are an error here: a metric filter cannot be half-configured).
func Build(rs []*rules.Rule, o Options) (*Desired, error) {
	if o.Region == "" {
		return nil, fmt.Errorf("no region: give --region")
	}
	if o.LogGroup == "" {
		o.LogGroup = DefaultLogGroup
	}
	d := &Desired{Region: o.Region, Account: o.Account, LogGroup: o.LogGroup, Subscriptions: o.Subscriptions}
	switch {
	case o.TopicARN != "":
		name, err := topicNameOf(o.TopicARN)
		if err != nil {
			return nil, err
		}
		d.Topic = Topic{Name: name, ARN: o.TopicARN}
	default:
		name := o.TopicName
		if name == "" {
			name = DefaultTopicName
		}
		d.Topic = Topic{Name: name, Create: true}
		if o.Account != "" {
			d.Topic.ARN = fmt.Sprintf("arn:aws:sns:%s:%s:%s", o.Region, o.Account, name)
		}
	}
	if o.EnsureTrail {
		t := &Trail{Name: o.TrailName, Bucket: o.TrailBucket, LogGroup: o.LogGroup, RoleName: TrailRoleName, PolicyName: TrailRolePolicy}
		if t.Name == "" {
			t.Name = DefaultTrailName
		}
		if t.Bucket == "" {
			if o.Account == "" {
				return nil, fmt.Errorf("--ensure-trail needs the account id for the bucket name, or --trail-bucket")
			}
			t.Bucket = "trailalarm-cloudtrail-" + o.Account
		}
		d.Trail = t
	}
	seenMetric := map[string]string{}
	seenName := map[string]string{}
	for _, r := range rs {
		f, exact, why, err := FilterFor(r, o.LogGroup, o.Account, o.Params)
		if err != nil {
			return nil, err
		}
		if prev, dup := seenName[f.Name]; dup {
			return nil, fmt.Errorf("rules %s and %s both become %s: rename one of them", prev, r.ID, f.Name)
		}
		seenName[f.Name] = r.ID
		if !exact {
			d.Warnings = append(d.Warnings, fmt.Sprintf("rule %s: the metric filter is not exactly the rule: %s", r.ID, why))
		}
		key := f.Metric.Namespace + "/" + f.Metric.Name
		if prev, dup := seenMetric[key]; dup {
			d.Warnings = append(d.Warnings, fmt.Sprintf("rules %s and %s publish the same metric %s: each alarm counts the matches of both", prev, r.ID, key))
		} else {
			seenMetric[key] = r.ID
		}
		if len(f.Metric.Dimensions) > 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("rule %s: its metric has dimensions, and the alarm watches the metric without them, which the filter never publishes; alarm per dimension value instead", r.ID))
		}
		d.Filters = append(d.Filters, f)
		d.Alarms = append(d.Alarms, AlarmFor(r, f, d.Topic.ARN, o.Region))
	}
	return d, nil
}

// topicNameOf returns the name of an SNS topic ARN (arn:aws:sns:region:account:name).
func topicNameOf(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5] == "" {
		return "", fmt.Errorf("--topic-arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn)
	}
	return parts[5], nil
}

// FilterFor is the metric filter of rule r on logGroup: the rule's pattern rendered with params
// (rules.Render) and, when account is known, ${account_id} filled in. exact and why are
// rules.Render's.
func FilterFor(r *rules.Rule, logGroup, account string, params map[string]string) (f MetricFilter, exact bool, why string, err error) {
	pattern, exact, why, err := rules.Render(r, params)
	if err != nil {
		return MetricFilter{}, false, "", err
	}
	if r.UsesAccountID() {
		if account == "" {
			return MetricFilter{}, false, "", fmt.Errorf("rule %s uses ${account_id}: the account id is needed (give --account)", r.ID)
		}
		pattern = rules.BindAccountID(pattern, account)
	}
	m := Transformation{Name: r.Metric.Name, Namespace: r.Metric.Namespace, Value: r.Metric.Value, DefaultValue: r.Metric.DefaultValue, Unit: r.Metric.Unit}
	for _, d := range r.Metric.Dimensions {
		m.Dimensions = append(m.Dimensions, Dimension{Name: d.Name, Value: d.Value})
	}
	return MetricFilter{Name: ResourceName(r.ID), RuleID: r.ID, LogGroup: logGroup, Pattern: pattern, Metric: m}, exact, why, nil
}

// AlarmFor is the alarm of rule r on the metric of f, notifying topicARN.
func AlarmFor(r *rules.Rule, f MetricFilter, topicARN, region string) Alarm {
	s := r.Alarm
	a := Alarm{
		Name: f.Name, RuleID: r.ID,
		Namespace: f.Metric.Namespace, MetricName: f.Metric.Name,
		Period: s.Period, EvaluationPeriods: s.EvaluationPeriods, DatapointsToAlarm: s.DatapointsToAlarm,
		Threshold: s.Threshold, ComparisonOperator: s.ComparisonOperator, TreatMissingData: s.TreatMissingData,
		Tags: map[string]string{TagManaged: "true", TagRule: r.ID},
	}
	if strings.HasPrefix(s.Statistic, "p") {
		a.ExtendedStatistic = s.Statistic
	} else {
		a.Statistic = s.Statistic
	}
	if a.DatapointsToAlarm == 0 {
		a.DatapointsToAlarm = a.EvaluationPeriods
	}
	if topicARN != "" {
		a.Actions = []string{topicARN}
	}
	a.Description = AlarmDescription(r, f, region)
	return a
}

// AlarmDescription names the rule and links to the metric filter's log group in the console.
func AlarmDescription(r *rules.Rule, f MetricFilter, region string) string {
	link := fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s",
		region, region, consoleEscape(f.LogGroup))
	tail := fmt.Sprintf(". Managed by trailalarm: metric filter %s on log group %s (%s)", f.Name, f.LogGroup, link)
	head := "trailalarm rule " + r.ID + ": " + r.Title
	if room := maxDescriptionLen - len(tail); len(head) > room {
		head = head[:max(room-3, 0)] + "..."
	}
	return head + tail
}

// consoleEscape writes a log group name as the CloudWatch console's URL fragment expects it:
// percent-encoded, then the '%' itself encoded as "$25".
func consoleEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%", "$25")
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
