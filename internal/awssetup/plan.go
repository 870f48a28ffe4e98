package awssetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Action is what apply does to one resource.
type Action string

// The actions.
const (
	Create Action = "create"
	Update Action = "update"
	NoOp   Action = "no-op"
	Delete Action = "delete"
)

// Resource kinds, as plans name them.
const (
	KindBucket       = "s3-bucket"
	KindRole         = "iam-role"
	KindLogGroup     = "log-group"
	KindTrail        = "trail"
	KindTopic        = "sns-topic"
	KindSubscription = "sns-subscription"
	KindFilter       = "metric-filter"
	KindAlarm        = "alarm"
)

// FieldDiff is one field that differs: what the account has and what trailalarm wants.
type FieldDiff struct {
	Field string `json:"field"`
	Have  string `json:"have"`
	Want  string `json:"want"`
}

// Change is the plan for one resource.
type Change struct {
	Kind   string      `json:"kind"`
	Name   string      `json:"name"`
	Action Action      `json:"action"`
	Diff   []FieldDiff `json:"diff,omitempty"`
	Note   string      `json:"note,omitempty"` // why, for deletes and no-ops worth explaining

	index int    // into Desired.Filters / Alarms / Subscriptions
	arn   string // an existing resource's ARN, where apply needs it
}

// Plan is what apply would do in one account and region, resource by resource, in the order
// apply does it.
type Plan struct {
	Region   string   `json:"region"`
	Account  string   `json:"account"`
	LogGroup string   `json:"logGroup"`
	TopicARN string   `json:"topicArn"`
	Changes  []Change `json:"changes"`
	Warnings []string `json:"warnings,omitempty"`

	desired *Desired
	trail   *observedTrail // nil when the trail does not exist
}

// Counts returns how many changes each action has.
func (p *Plan) Counts() map[Action]int {
	n := map[Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	return n
}

// Pending reports whether apply would change anything.
func (p *Plan) Pending() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// Summary is one line: "3 to create, 1 to update, 10 unchanged, 0 to delete".
func (p *Plan) Summary() string {
	n := p.Counts()
	return fmt.Sprintf("%d to create, %d to update, %d unchanged, %d to delete", n[Create], n[Update], n[NoOp], n[Delete])
}

// WriteText prints the plan for people: one line per resource, the differing fields under it.
func (p *Plan) WriteText(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "account %s, region %s, log group %s, topic %s\n", p.Account, p.Region, p.LogGroup, p.TopicARN)
	for _, c := range p.Changes {
		if c.Action == NoOp && !verbose {
			continue
		}
		mark := map[Action]string{Create: "+", Update: "~", NoOp: "=", Delete: "-"}[c.Action]
		line := fmt.Sprintf("  %s %-7s %-16s %s", mark, c.Action, c.Kind, c.Name)
		if c.Note != "" {
			line += "  (" + c.Note + ")"
		}
		fmt.Fprintln(w, line)
		for _, d := range c.Diff {
			fmt.Fprintf(w, "      %s: %s → %s\n", d.Field, d.Have, d.Want)
		}
	}
	for _, wn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	fmt.Fprintf(w, "  %s\n", p.Summary())
}

// CollisionError lists resources trailalarm would have to take over: names it wants that
// belong to something it does not manage.
type CollisionError struct{ Problems []string }

func (e *CollisionError) Error() string {
	return strings.Join(e.Problems, "\n")
}

// MakePlan observes the account and compares it with d. prune adds deletes for managed metric
// filters (on d's log group) and alarms that d no longer has. Names taken by resources
// trailalarm does not manage come back as a *CollisionError, all of them at once.
func MakePlan(ctx context.Context, c *Clients, d *Desired, prune bool) (*Plan, error) {
	p := &Plan{Region: d.Region, Account: d.Account, LogGroup: d.LogGroup, TopicARN: d.Topic.ARN, desired: d,
		Warnings: append([]string(nil), d.Warnings...)}
	var coll []string
	collide := func(format string, args ...any) { coll = append(coll, fmt.Sprintf(format, args...)) }
	add := func(ch Change) { p.Changes = append(p.Changes, ch) }

	if t := d.Trail; t != nil {
		// The bucket.
		_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &t.Bucket})
		switch {
		case err == nil:
			managed, err := c.bucketManaged(ctx, t.Bucket)
			if err != nil {
				return nil, err
			}
			if !managed {
				collide("S3 bucket %s exists and is not trailalarm's (no tag %s=true): give --trail-bucket another name, or tag the bucket to let trailalarm use it", t.Bucket, TagManaged)
			}
			add(Change{Kind: KindBucket, Name: t.Bucket, Action: NoOp})
		case isNotFound(err):
			add(Change{Kind: KindBucket, Name: t.Bucket, Action: Create})
		default:
			return nil, apiError(KindBucket, t.Bucket, "s3:ListBucket", err)
		}

		// The role.
		ch, err := c.planRole(ctx, d, collide)
		if err != nil {
			return nil, err
		}
		add(ch)
	}

	// The log group.
	exists, err := c.logGroupExists(ctx, d.LogGroup)
	if err != nil {
		return nil, err
	}
	switch {
	case exists:
		add(Change{Kind: KindLogGroup, Name: d.LogGroup, Action: NoOp})
	case d.Trail != nil:
		add(Change{Kind: KindLogGroup, Name: d.LogGroup, Action: Create})
	default:
		return nil, fmt.Errorf("log group %s does not exist in %s: give --log-group with the group your trail sends to, or --ensure-trail to create a trail and its group", d.LogGroup, d.Region)
	}

	if d.Trail != nil {
		ch, err := c.planTrail(ctx, d, p, collide)
		if err != nil {
			return nil, err
		}
		add(ch)
	}

	// The topic and its subscriptions.
	var subs []Subscription
	topicExists := false
	_, err = c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(d.Topic.ARN)})
	switch {
	case err == nil:
		topicExists = true
	case isCode(err, "NotFound", "NotFoundException"):
	default:
		return nil, apiError(KindTopic, d.Topic.ARN, "sns:GetTopicAttributes", err)
	}
	switch {
	case !d.Topic.Create && !topicExists:
		return nil, fmt.Errorf("SNS topic %s does not exist: check --topic-arn and --region, or use --create-topic NAME", d.Topic.ARN)
	case !d.Topic.Create:
		add(Change{Kind: KindTopic, Name: d.Topic.ARN, Action: NoOp, Note: "given by --topic-arn"})
	case topicExists:
		tags, err := c.SNS.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(d.Topic.ARN)})
		if err != nil {
			return nil, apiError(KindTopic, d.Topic.ARN, "sns:ListTagsForResource", err)
		}
		managed := false
		for _, t := range tags.Tags {
			managed = managed || aws.ToString(t.Key) == TagManaged && aws.ToString(t.Value) == "true"
		}
		if !managed {
			collide("SNS topic %s exists and is not trailalarm's (no tag %s=true): use it with --topic-arn %s, or choose another --create-topic name", d.Topic.Name, TagManaged, d.Topic.ARN)
		}
		add(Change{Kind: KindTopic, Name: d.Topic.ARN, Action: NoOp})
	default:
		add(Change{Kind: KindTopic, Name: d.Topic.ARN, Action: Create})
	}
	if topicExists {
		if subs, err = c.subscriptions(ctx, d.Topic.ARN); err != nil {
			return nil, err
		}
	}
	for i, s := range d.Subscriptions {
		a := Create
		if slices.Contains(subs, s) {
			a = NoOp
		}
		add(Change{Kind: KindSubscription, Name: s.String(), Action: a, index: i})
	}

	// Metric filters.
	have, err := c.metricFilters(ctx, d.LogGroup)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for i, f := range d.Filters {
		want[f.Name] = true
		ch := Change{Kind: KindFilter, Name: f.Name, Action: Create, index: i}
		if h, ok := have[f.Name]; ok {
			ch.Diff = diffFilter(h, f)
			ch.Action = actionFor(ch.Diff)
		}
		add(ch)
		for _, h := range have {
			if !strings.HasPrefix(h.Name, Prefix) && h.Metric.Namespace == f.Metric.Namespace && h.Metric.Name == f.Metric.Name {
				p.Warnings = append(p.Warnings, fmt.Sprintf("metric %s/%s is also published by metric filter %s, which is not trailalarm's (left as it is): alarm %s counts its matches too",
					f.Metric.Namespace, f.Metric.Name, h.Name, f.Name))
			}
		}
	}

	// Alarms.
	alarms, err := c.alarms(ctx)
	if err != nil {
		return nil, err
	}
	for i, a := range d.Alarms {
		ch := Change{Kind: KindAlarm, Name: a.Name, Action: Create, index: i}
		if h, ok := alarms[a.Name]; ok {
			if !h.managed {
				collide("CloudWatch alarm %s exists and is not trailalarm's (no tag %s=true): delete or rename it, or tag it %s=true to let trailalarm manage it", a.Name, TagManaged, TagManaged)
			}
			ch.arn = h.arn
			ch.Diff = diffAlarm(h, a)
			ch.Action = actionFor(ch.Diff)
		}
		add(ch)
	}

	if prune {
		for _, name := range sortedKeys(alarmNames(alarms)) {
			if h := alarms[name]; h.managed && !slices.ContainsFunc(d.Alarms, func(a Alarm) bool { return a.Name == name }) {
				add(Change{Kind: KindAlarm, Name: name, Action: Delete, arn: h.arn, Note: "managed by trailalarm, rule " + h.Tags[TagRule] + " no longer selected"})
			}
		}
		var names []string
		for name := range have {
			if strings.HasPrefix(name, Prefix) && !want[name] {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			add(Change{Kind: KindFilter, Name: name, Action: Delete, Note: "managed by trailalarm, no longer selected"})
		}
	}
	if len(coll) > 0 {
		return nil, &CollisionError{Problems: coll}
	}
	return p, nil
}

func actionFor(diff []FieldDiff) Action {
	if len(diff) > 0 {
		return Update
	}
	return NoOp
}

func alarmNames(m map[string]observedAlarm) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = k
	}
	return out
}

// isNotFound recognises the not-found errors of HeadBucket, GetRole and friends.
func isNotFound(err error) bool {
	if isCode(err, "NotFound", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException", "TrailNotFoundException", "404") {
		return true
	}
	var nf interface{ ErrorCode() string }
	return errors.As(err, &nf) && strings.Contains(nf.ErrorCode(), "NotFound")
}

func (c *Clients) bucketManaged(ctx context.Context, bucket string) (bool, error) {
	out, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if isCode(err, "NoSuchTagSet", "NoSuchTagSetError") {
		return false, nil
	}
	if err != nil {
		return false, apiError(KindBucket, bucket, "s3:GetBucketTagging", err)
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == TagManaged && aws.ToString(t.Value) == "true" {
			return true, nil
		}
	}
	return false, nil
}

func (c *Clients) planRole(ctx context.Context, d *Desired, collide func(string, ...any)) (Change, error) {
	t := d.Trail
	ch := Change{Kind: KindRole, Name: t.RoleName, Action: Create}
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: &t.RoleName})
	if isNotFound(err) {
		return ch, nil
	}
	if err != nil {
		return ch, apiError(KindRole, t.RoleName, "iam:GetRole", err)
	}
	tags, err := c.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: &t.RoleName})
	if err != nil {
		return ch, apiError(KindRole, t.RoleName, "iam:ListRoleTags", err)
	}
	managed := false
	for _, tg := range tags.Tags {
		managed = managed || aws.ToString(tg.Key) == TagManaged && aws.ToString(tg.Value) == "true"
	}
	if !managed {
		collide("IAM role %s exists and is not trailalarm's (no tag %s=true): delete it or tag it to let trailalarm manage it", t.RoleName, TagManaged)
	}
	ch.Action = NoOp
	if !samePolicy(aws.ToString(out.Role.AssumeRolePolicyDocument), t.TrustPolicy()) {
		ch.Diff = append(ch.Diff, FieldDiff{Field: "AssumeRolePolicyDocument", Have: decodePolicy(aws.ToString(out.Role.AssumeRolePolicyDocument)), Want: t.TrustPolicy()})
	}
	pol, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &t.RoleName, PolicyName: &t.PolicyName})
	want := t.RolePolicy(d.Region, d.Account)
	switch {
	case isNotFound(err):
		ch.Diff = append(ch.Diff, FieldDiff{Field: "policy " + t.PolicyName, Have: "(none)", Want: want})
	case err != nil:
		return ch, apiError(KindRole, t.RoleName, "iam:GetRolePolicy", err)
	case !samePolicy(aws.ToString(pol.PolicyDocument), want):
		ch.Diff = append(ch.Diff, FieldDiff{Field: "policy " + t.PolicyName, Have: decodePolicy(aws.ToString(pol.PolicyDocument)), Want: want})
	}
	ch.Action = actionFor(ch.Diff)
	return ch, nil
}

// decodePolicy undoes IAM's URL encoding of policy documents.
func decodePolicy(doc string) string {
	if s, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s
	}
	return doc
}

// samePolicy compares two policy documents as JSON values.
func samePolicy(have, want string) bool {
	var a, b any
	if json.Unmarshal([]byte(decodePolicy(have)), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func (c *Clients) logGroupExists(ctx context.Context, name string) (bool, error) {
	pg := cloudwatchlogs.NewDescribeLogGroupsPaginator(c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &name})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return false, apiError(KindLogGroup, name, "logs:DescribeLogGroups", err)
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// observedTrail is the trail as CloudTrail describes it.
type observedTrail struct {
	arn                 string
	multiRegion         bool
	validation          bool
	logGroupARN         string
	roleARN             string
	bucket              string
	logging             bool
	managementReadWrite string // the ReadWriteType of management events, "" when none are logged
}

func (c *Clients) planTrail(ctx context.Context, d *Desired, p *Plan, collide func(string, ...any)) (Change, error) {
	t := d.Trail
	ch := Change{Kind: KindTrail, Name: t.Name, Action: Create}
	out, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{t.Name}})
	if err != nil {
		return ch, apiError(KindTrail, t.Name, "cloudtrail:DescribeTrails", err)
	}
	var tr *cttypes.Trail
	for i := range out.TrailList {
		if aws.ToString(out.TrailList[i].Name) == t.Name {
			tr = &out.TrailList[i]
		}
	}
	if tr == nil {
		return ch, nil
	}
	o := &observedTrail{arn: aws.ToString(tr.TrailARN), multiRegion: aws.ToBool(tr.IsMultiRegionTrail), validation: aws.ToBool(tr.LogFileValidationEnabled),
		logGroupARN: aws.ToString(tr.CloudWatchLogsLogGroupArn), roleARN: aws.ToString(tr.CloudWatchLogsRoleArn), bucket: aws.ToString(tr.S3BucketName)}
	if home := aws.ToString(tr.HomeRegion); home != "" && home != d.Region {
		return ch, fmt.Errorf("trail %s lives in %s, not %s: run with --region %s to manage it", t.Name, home, d.Region, home)
	}
	tags, err := c.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{o.arn}})
	if err != nil {
		return ch, apiError(KindTrail, t.Name, "cloudtrail:ListTags", err)
	}
	managed := false
	for _, rt := range tags.ResourceTagList {
		for _, tg := range rt.TagsList {
			managed = managed || aws.ToString(tg.Key) == TagManaged && aws.ToString(tg.Value) == "true"
		}
	}
	if !managed {
		collide("trail %s exists and is not trailalarm's (no tag %s=true): pass --trail-name with another name, or tag the trail to let trailalarm manage it", t.Name, TagManaged)
	}
	st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &t.Name})
	if err != nil {
		return ch, apiError(KindTrail, t.Name, "cloudtrail:GetTrailStatus", err)
	}
	o.logging = aws.ToBool(st.IsLogging)
	sel, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &t.Name})
	if err != nil {
		return ch, apiError(KindTrail, t.Name, "cloudtrail:GetEventSelectors", err)
	}
	o.managementReadWrite = managementEvents(sel)
	p.trail = o

	b := func(v bool) string { return strconv.FormatBool(v) }
	var diff []FieldDiff
	cmp := func(field, have, want string) {
		if have != want {
			diff = append(diff, FieldDiff{Field: field, Have: orNone(have), Want: want})
		}
	}
	cmp("IsMultiRegionTrail", b(o.multiRegion), "true")
	cmp("LogFileValidationEnabled", b(o.validation), "true")
	cmp("IsLogging", b(o.logging), "true")
	cmp("CloudWatchLogsLogGroupArn", o.logGroupARN, LogGroupARN(d.Region, d.Account, t.LogGroup))
	cmp("CloudWatchLogsRoleArn", o.roleARN, t.RoleARN(d.Account))
	cmp("S3BucketName", o.bucket, t.Bucket)
	cmp("management events", o.managementReadWrite, "All")
	ch.Diff, ch.Action, ch.arn = diff, actionFor(diff), o.arn
	return ch, nil
}

// managementEvents is the ReadWriteType with which a trail logs management events, from its
// basic or advanced event selectors; "" when it logs none.
func managementEvents(out *cloudtrail.GetEventSelectorsOutput) string {
	best := ""
	for _, s := range out.EventSelectors {
		if aws.ToBool(s.IncludeManagementEvents) {
			if s.ReadWriteType == cttypes.ReadWriteTypeAll {
				return "All"
			}
			best = string(s.ReadWriteType)
		}
	}
	for _, s := range out.AdvancedEventSelectors {
		management, readOnly := false, ""
		for _, f := range s.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				management = slices.Contains(f.Equals, "Management")
			case "readOnly":
				if len(f.Equals) == 1 {
					readOnly = f.Equals[0]
				}
			}
		}
		if management {
			switch readOnly {
			case "":
				return "All"
			case "true":
				best = "ReadOnly"
			default:
				best = "WriteOnly"
			}
		}
	}
	return best
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (c *Clients) subscriptions(ctx context.Context, topicARN string) ([]Subscription, error) {
	var out []Subscription
	pg := sns.NewListSubscriptionsByTopicPaginator(c.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: &topicARN})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, apiError(KindTopic, topicARN, "sns:ListSubscriptionsByTopic", err)
		}
		for _, s := range page.Subscriptions {
			out = append(out, Subscription{Protocol: aws.ToString(s.Protocol), Endpoint: aws.ToString(s.Endpoint)})
		}
	}
	return out, nil
}

// metricFilters returns the metric filters of a log group by name.
func (c *Clients) metricFilters(ctx context.Context, group string) (map[string]MetricFilter, error) {
	out := map[string]MetricFilter{}
	pg := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c.Logs, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: &group})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			if isNotFound(err) {
				return out, nil // a log group to be created has none
			}
			return nil, apiError(KindFilter, "(on "+group+")", "logs:DescribeMetricFilters", err)
		}
		for _, f := range page.MetricFilters {
			m := MetricFilter{Name: aws.ToString(f.FilterName), LogGroup: aws.ToString(f.LogGroupName), Pattern: aws.ToString(f.FilterPattern)}
			if len(f.MetricTransformations) > 0 {
				t := f.MetricTransformations[0]
				m.Metric = Transformation{Name: aws.ToString(t.MetricName), Namespace: aws.ToString(t.MetricNamespace), Value: aws.ToString(t.MetricValue),
					DefaultValue: t.DefaultValue, Unit: string(t.Unit)}
				for _, k := range sortedKeys(t.Dimensions) {
					m.Metric.Dimensions = append(m.Metric.Dimensions, Dimension{Name: k, Value: t.Dimensions[k]})
				}
			}
			out[m.Name] = m // the last one wins, should a name ever come back twice
		}
	}
	return out, nil
}

// DescribeFilters returns the metric filters of a log group, sorted by name (for tests and audit).
func (c *Clients) DescribeFilters(ctx context.Context, group string) ([]MetricFilter, error) {
	m, err := c.metricFilters(ctx, group)
	if err != nil {
		return nil, err
	}
	var out []MetricFilter
	for _, k := range sortedKeys(filterNames(m)) {
		out = append(out, m[k])
	}
	return out, nil
}

func filterNames(m map[string]MetricFilter) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = k
	}
	return out
}

// diffFilter lists the fields of have that differ from want.
func diffFilter(have, want MetricFilter) []FieldDiff {
	var diff []FieldDiff
	cmp := func(field, h, w string) {
		if h != w {
			diff = append(diff, FieldDiff{Field: field, Have: orNone(h), Want: w})
		}
	}
	cmp("filterPattern", have.Pattern, want.Pattern)
	cmp("metricName", have.Metric.Name, want.Metric.Name)
	cmp("metricNamespace", have.Metric.Namespace, want.Metric.Namespace)
	cmp("metricValue", have.Metric.Value, want.Metric.Value)
	cmp("defaultValue", optFloat(have.Metric.DefaultValue), optFloat(want.Metric.DefaultValue))
	cmp("dimensions", dimsText(have.Metric.Dimensions), dimsText(want.Metric.Dimensions))
	unit := func(u string) string {
		if u == "" {
			return "None"
		}
		return u
	}
	cmp("unit", unit(have.Metric.Unit), unit(want.Metric.Unit))
	return diff
}

func optFloat(f *float64) string {
	if f == nil {
		return "(none)"
	}
	return formatFloat(*f)
}

func dimsText(ds []Dimension) string {
	m := map[string]string{}
	for _, d := range ds {
		m[d.Name] = d.Value
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ",")
}

// observedAlarm is an alarm as DescribeAlarms and ListTagsForResource show it.
type observedAlarm struct {
	Alarm
	arn            string
	managed        bool
	actionsEnabled bool
	dimensions     int
}

// alarms returns the alarms whose names start with Prefix, by name, with their tags.
func (c *Clients) alarms(ctx context.Context) (map[string]observedAlarm, error) {
	out := map[string]observedAlarm{}
	in := &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(Prefix), AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(100)}
	pg := cloudwatch.NewDescribeAlarmsPaginator(c.CloudWatch, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, apiError(KindAlarm, Prefix+"*", "cloudwatch:DescribeAlarms", err)
		}
		for _, a := range page.MetricAlarms {
			o := observedAlarm{arn: aws.ToString(a.AlarmArn), actionsEnabled: a.ActionsEnabled == nil || *a.ActionsEnabled, dimensions: len(a.Dimensions)}
			o.Alarm = Alarm{Name: aws.ToString(a.AlarmName), Description: aws.ToString(a.AlarmDescription), Namespace: aws.ToString(a.Namespace),
				MetricName: aws.ToString(a.MetricName), Statistic: string(a.Statistic), ExtendedStatistic: aws.ToString(a.ExtendedStatistic),
				Period: int(aws.ToInt32(a.Period)), EvaluationPeriods: int(aws.ToInt32(a.EvaluationPeriods)), DatapointsToAlarm: int(aws.ToInt32(a.DatapointsToAlarm)),
				Threshold: aws.ToFloat64(a.Threshold), ComparisonOperator: string(a.ComparisonOperator), TreatMissingData: aws.ToString(a.TreatMissingData),
				Actions: a.AlarmActions, Tags: map[string]string{}}
			tags, err := c.CloudWatch.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
			if err != nil {
				return nil, apiError(KindAlarm, o.Name, "cloudwatch:ListTagsForResource", err)
			}
			for _, t := range tags.Tags {
				o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			o.managed = o.Tags[TagManaged] == "true"
			out[o.Name] = o
		}
	}
	return out, nil
}

// DescribeAlarms returns the alarms whose names start with Prefix, sorted by name, tags
// included (for tests and audit).
func (c *Clients) DescribeAlarms(ctx context.Context) ([]Alarm, error) {
	m, err := c.alarms(ctx)
	if err != nil {
		return nil, err
	}
	var out []Alarm
	for _, k := range sortedKeys(alarmNames(m)) {
		out = append(out, m[k].Alarm)
	}
	return out, nil
}

// diffAlarm lists the fields of have that differ from want. DatapointsToAlarm missing from
// DescribeAlarms means "equal to EvaluationPeriods", as in CloudWatch; TreatMissingData missing
// is not compared, since some services (and emulators) omit it.
func diffAlarm(have observedAlarm, want Alarm) []FieldDiff {
	var diff []FieldDiff
	cmp := func(field, h, w string) {
		if h != w {
			diff = append(diff, FieldDiff{Field: field, Have: orNone(h), Want: w})
		}
	}
	cmp("AlarmDescription", have.Description, want.Description)
	cmp("Namespace", have.Namespace, want.Namespace)
	cmp("MetricName", have.MetricName, want.MetricName)
	cmp("Statistic", have.Statistic, want.Statistic)
	cmp("ExtendedStatistic", have.ExtendedStatistic, want.ExtendedStatistic)
	cmp("Period", strconv.Itoa(have.Period), strconv.Itoa(want.Period))
	cmp("EvaluationPeriods", strconv.Itoa(have.EvaluationPeriods), strconv.Itoa(want.EvaluationPeriods))
	dp := have.DatapointsToAlarm
	if dp == 0 {
		dp = have.EvaluationPeriods
	}
	cmp("DatapointsToAlarm", strconv.Itoa(dp), strconv.Itoa(want.DatapointsToAlarm))
	cmp("Threshold", formatFloat(have.Threshold), formatFloat(want.Threshold))
	cmp("ComparisonOperator", have.ComparisonOperator, want.ComparisonOperator)
	if have.TreatMissingData != "" {
		cmp("TreatMissingData", have.TreatMissingData, want.TreatMissingData)
	}
	ha, wa := slices.Clone(have.Actions), slices.Clone(want.Actions)
	slices.Sort(ha)
	slices.Sort(wa)
	cmp("AlarmActions", strings.Join(ha, ","), strings.Join(wa, ","))
	cmp("ActionsEnabled", strconv.FormatBool(have.actionsEnabled), "true")
	if have.dimensions > 0 {
		cmp("Dimensions", strconv.Itoa(have.dimensions)+" dimension(s)", "(none)")
	}
	for _, k := range sortedKeys(want.Tags) {
		cmp("tag "+k, have.Tags[k], want.Tags[k])
	}
	return diff
}
