package awssetup

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/testutil/awsemu"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

const region = "us-east-1"

// setup starts the emulators with the trail's log group in place and returns clients on them.
func setup(t *testing.T) (*awsemu.Env, *Clients) {
	t.Helper()
	env := awsemu.Start(t)
	c := NewClients(testConfig(env), env.CloudWatchOptions)
	resetCloudWatch(t, env)
	if _, err := c.Logs.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(DefaultLogGroup)}); err != nil {
		t.Fatal(err)
	}
	return env, c
}

// testConfig is the emulators' configuration with the retryer the command uses: an emulator
// connection now and then dropped under -race is retried as in production.
func testConfig(env *awsemu.Env) aws.Config {
	cfg := env.Config(region)
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer { return Retryer() }
	return cfg
}

func pack(t *testing.T, name string) []*rules.Rule {
	t.Helper()
	rs, err := rules.Pack(name)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func desired(t *testing.T, rs []*rules.Rule, mod func(*Options)) *Desired {
	t.Helper()
	o := Options{Region: region, Account: awsemu.Account, LogGroup: DefaultLogGroup,
		Subscriptions: []Subscription{{Protocol: "email", Endpoint: "secops@example.com"}}}
	if mod != nil {
		mod(&o)
	}
	d, err := Build(rs, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func plan(t *testing.T, c *Clients, d *Desired, prune bool) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), c, d, prune)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func apply(t *testing.T, c *Clients, d *Desired, prune bool) *Plan {
	t.Helper()
	p := plan(t, c, d, prune)
	if err := Apply(context.Background(), c, p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot is what describing the account shows of trailalarm's resources.
type snapshot struct {
	Filters []MetricFilter
	Alarms  []Alarm
	Subs    []Subscription
}

func describe(t *testing.T, c *Clients, topicARN string) snapshot {
	t.Helper()
	ctx := context.Background()
	fs, err := c.DescribeFilters(ctx, DefaultLogGroup)
	if err != nil {
		t.Fatal(err)
	}
	as, err := c.DescribeAlarms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := c.subscriptions(ctx, topicARN)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{fs, as, subs}
}

func TestApplyEmptyAccountThenNoOp(t *testing.T) {
	_, c := setup(t)
	rs := pack(t, "cis-1.2")
	d := desired(t, rs, nil)
	p := apply(t, c, d, false)
	n := p.Counts()
	// topic, subscription, one filter and one alarm per rule; the log group exists.
	if n[Create] != 2+2*len(rs) || n[NoOp] != 1 || n[Update] != 0 {
		t.Fatalf("first plan: %s, want %d to create", p.Summary(), 2+2*len(rs))
	}
	before := describe(t, c, d.Topic.ARN)
	if len(before.Filters) != len(rs) || len(before.Alarms) != len(rs) || len(before.Subs) != 1 {
		t.Fatalf("after apply: %d filters, %d alarms, %d subscriptions; want %d, %d, 1", len(before.Filters), len(before.Alarms), len(before.Subs), len(rs), len(rs))
	}
	byName := map[string]int{}
	for i, f := range before.Filters {
		byName[f.Name] = i
	}
	for _, r := range rs {
		i := byName[ResourceName(r.ID)]
		f, a := before.Filters[i], before.Alarms[i]
		if f.Name != ResourceName(r.ID) || f.Pattern != r.Pattern || f.Metric.Name != r.Metric.Name || f.Metric.Namespace != r.Metric.Namespace || f.Metric.Value != "1" {
			t.Errorf("filter %d = %+v, want rule %s", i, f, r.ID)
		}
		if a.Name != f.Name || a.MetricName != r.Metric.Name || a.Threshold != r.Alarm.Threshold || a.Period != r.Alarm.Period ||
			a.ComparisonOperator != r.Alarm.ComparisonOperator || !reflect.DeepEqual(a.Actions, []string{d.Topic.ARN}) ||
			a.Tags[TagManaged] != "true" || a.Tags[TagRule] != r.ID || !strings.Contains(a.Description, DefaultLogGroup) {
			t.Errorf("alarm %d = %+v", i, a)
		}
	}

	again := plan(t, c, d, true)
	if again.Pending() {
		var w strings.Builder
		again.WriteText(&w, false)
		t.Fatalf("second plan is not all no-op:\n%s", w.String())
	}
	if err := Apply(context.Background(), c, again, nil); err != nil {
		t.Fatal(err)
	}
	if after := describe(t, c, d.Topic.ARN); !reflect.DeepEqual(before, after) {
		t.Fatalf("a second apply changed the account:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestPlanShowsDiffAndApplyFixesIt(t *testing.T) {
	_, c := setup(t)
	rs := pack(t, "cis-1.2")
	d := desired(t, rs, nil)
	apply(t, c, d, false)
	ctx := context.Background()
	// Someone loosens the threshold and removes the alarm's action.
	a := d.Alarms[0]
	a.Threshold, a.Actions = 5, nil
	if _, err := c.CloudWatch.PutMetricAlarm(ctx, a.sdk()); err != nil {
		t.Fatal(err)
	}
	// And someone rewrites a pattern so that it misses root sign-ins by the API.
	f := d.Filters[2]
	f.Pattern = `{ $.userIdentity.type = "Root" && $.eventType = "AwsConsoleSignIn" }`
	if _, err := c.Logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{FilterName: &f.Name, LogGroupName: &f.LogGroup,
		FilterPattern: &f.Pattern, MetricTransformations: []logtypes.MetricTransformation{f.Metric.sdk()}}); err != nil {
		t.Fatal(err)
	}
	p := plan(t, c, d, false)
	var changed []Change
	for _, ch := range p.Changes {
		if ch.Action != NoOp {
			changed = append(changed, ch)
		}
	}
	if len(changed) != 2 || changed[0].Name != f.Name || changed[0].Kind != KindFilter || changed[1].Name != a.Name || changed[1].Action != Update {
		t.Fatalf("plan after tampering: %+v", changed)
	}
	if diff := changed[0].Diff; len(diff) != 1 || diff[0] != (FieldDiff{Field: "filterPattern", Have: f.Pattern, Want: d.Filters[2].Pattern}) {
		t.Errorf("filter diff = %+v", diff)
	}
	fields := map[string]FieldDiff{}
	for _, f := range changed[1].Diff {
		fields[f.Field] = f
	}
	if f := fields["Threshold"]; f.Have != "5" || f.Want != "1" {
		t.Errorf("Threshold diff = %+v", f)
	}
	if f := fields["AlarmActions"]; f.Have != "(none)" || f.Want != d.Topic.ARN {
		t.Errorf("AlarmActions diff = %+v", f)
	}
	var text strings.Builder
	p.WriteText(&text, false)
	if !strings.Contains(text.String(), "~ update  alarm            "+a.Name) || !strings.Contains(text.String(), "Threshold: 5 → 1") {
		t.Errorf("text plan:\n%s", text.String())
	}
	if err := Apply(ctx, c, p, nil); err != nil {
		t.Fatal(err)
	}
	if plan(t, c, d, false).Pending() {
		t.Fatal("apply did not repair the alarm")
	}
}

func TestUnmanagedCollisionsAndPrune(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	rs := pack(t, "cis-1.2")
	// An alarm someone made by hand with the name trailalarm wants, and a filter and an alarm of
	// their own on the same metric.
	name := ResourceName(rs[0].ID)
	hand := &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("Mine"), MetricName: aws.String("M"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(9),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}
	if _, err := c.CloudWatch.PutMetricAlarm(ctx, hand); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{FilterName: aws.String("my-root-usage"), LogGroupName: aws.String(DefaultLogGroup),
		FilterPattern: aws.String(rs[2].Pattern), MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String(rs[2].Metric.Name),
			MetricNamespace: aws.String(rs[2].Metric.Namespace), MetricValue: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	d := desired(t, rs, nil)
	_, err := MakePlan(ctx, c, d, true)
	var ce *CollisionError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.Contains(err.Error(), "CloudWatch alarm "+name+" exists and is not trailalarm's") ||
		!strings.Contains(err.Error(), "tag it "+TagManaged+"=true") {
		t.Fatalf("MakePlan = %v, want the collision named with what to do", err)
	}
	as, _ := c.DescribeAlarms(ctx)
	if len(as) != 1 || as[0].Namespace != "Mine" || as[0].Threshold != 9 {
		t.Fatalf("the unmanaged alarm was touched: %+v", as)
	}

	// Without the colliding rule: apply works, warns about the shared metric; pruning down to
	// one rule deletes only trailalarm's own.
	d = desired(t, rs[1:], nil)
	p := apply(t, c, d, true)
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "also published by metric filter my-root-usage") {
		t.Errorf("warnings = %q", p.Warnings)
	}
	d = desired(t, rs[1:2], nil)
	p = apply(t, c, d, true)
	if n := p.Counts(); n[Delete] != 2*(len(rs)-2) {
		t.Fatalf("prune plan: %s", p.Summary())
	}
	fs, _ := c.DescribeFilters(ctx, DefaultLogGroup)
	as, _ = c.DescribeAlarms(ctx)
	var fnames, anames []string
	for _, f := range fs {
		fnames = append(fnames, f.Name)
	}
	for _, a := range as {
		anames = append(anames, a.Name)
	}
	if want := []string{"my-root-usage", ResourceName(rs[1].ID)}; !reflect.DeepEqual(fnames, want) {
		t.Errorf("filters after prune = %v, want %v", fnames, want)
	}
	if want := []string{name, ResourceName(rs[1].ID)}; !reflect.DeepEqual(anames, want) {
		t.Errorf("alarms after prune = %v, want %v", anames, want)
	}
}

func TestTopicCollisionAndExistingTopic(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("secops")})
	if err != nil {
		t.Fatal(err)
	}
	rs := pack(t, "cis-1.2")[:2]
	_, err = MakePlan(ctx, c, desired(t, rs, func(o *Options) { o.TopicName = "secops" }), false)
	if err == nil || !strings.Contains(err.Error(), "SNS topic secops exists and is not trailalarm's") || !strings.Contains(err.Error(), "--topic-arn "+aws.ToString(out.TopicArn)) {
		t.Fatalf("MakePlan = %v", err)
	}
	d := desired(t, rs, func(o *Options) { o.TopicARN = aws.ToString(out.TopicArn) })
	apply(t, c, d, false)
	// The same subscription asked twice, and again on a second apply: one subscription.
	d.Subscriptions = append(d.Subscriptions, d.Subscriptions[0])
	apply(t, c, d, false)
	subs, _ := c.subscriptions(ctx, aws.ToString(out.TopicArn))
	if len(subs) != 1 {
		t.Fatalf("subscriptions = %+v", subs)
	}
	_, err = MakePlan(ctx, c, desired(t, rs, func(o *Options) { o.TopicARN = "arn:aws:sns:us-east-1:123456789012:nope" }), false)
	if err == nil || !strings.Contains(err.Error(), "SNS topic arn:aws:sns:us-east-1:123456789012:nope does not exist") {
		t.Fatalf("MakePlan with a missing topic = %v", err)
	}
}

func TestEnsureTrail(t *testing.T) {
	env := awsemu.Start(t)
	c := NewClients(testConfig(env), env.CloudWatchOptions)
	resetCloudWatch(t, env)
	ctx := context.Background()
	d := desired(t, pack(t, "cis-1.2"), func(o *Options) { o.EnsureTrail = true; o.LogGroup = "trailalarm/cloudtrail" })
	p := apply(t, c, d, false)
	if n := p.Counts(); n[Create] != 4+2+2*14 {
		t.Fatalf("plan: %s", p.Summary())
	}
	tr, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{DefaultTrailName}})
	if err != nil || len(tr.TrailList) != 1 {
		t.Fatalf("DescribeTrails = %+v, %v", tr, err)
	}
	got := tr.TrailList[0]
	if !aws.ToBool(got.IsMultiRegionTrail) || !aws.ToBool(got.LogFileValidationEnabled) ||
		aws.ToString(got.CloudWatchLogsLogGroupArn) != LogGroupARN(region, awsemu.Account, "trailalarm/cloudtrail") ||
		aws.ToString(got.CloudWatchLogsRoleArn) != "arn:aws:iam::123456789012:role/"+TrailRoleName {
		t.Errorf("trail = %+v", got)
	}
	st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: got.Name})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Errorf("GetTrailStatus = %+v, %v", st, err)
	}
	sel, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: got.Name})
	if err != nil || managementEvents(sel) != "All" {
		t.Errorf("GetEventSelectors = %+v, %v", sel, err)
	}
	role, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(TrailRoleName), PolicyName: aws.String(TrailRolePolicy)})
	if err != nil || !strings.Contains(decodePolicy(aws.ToString(role.PolicyDocument)), "logs:PutLogEvents") {
		t.Errorf("GetRolePolicy = %v", err)
	}
	if ok, _ := c.logGroupExists(ctx, "trailalarm/cloudtrail"); !ok {
		t.Error("the log group was not created")
	}
	if g, _ := c.TrailLogGroup(ctx); g != "trailalarm/cloudtrail" {
		t.Errorf("TrailLogGroup = %q", g)
	}
	// Logging stopped: the plan says so and apply starts it again; then all is no-op.
	if _, err := c.CloudTrail.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: got.Name}); err != nil {
		t.Fatal(err)
	}
	p = plan(t, c, d, false)
	if n := p.Counts(); n[Update] != 1 {
		t.Fatalf("plan after StopLogging: %s", p.Summary())
	}
	if err := Apply(ctx, c, p, nil); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, c, d, false); p.Pending() {
		var w strings.Builder
		p.WriteText(&w, false)
		t.Fatalf("not all no-op after repair:\n%s", w.String())
	}
}
