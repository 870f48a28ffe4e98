package awssetup

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Apply carries out p, change by change in plan order, printing one line per change done to
// progress (nil: quiet). It stops at the first error, which names the resource and the call;
// what was done before stays done, and a new plan picks up from there.
func Apply(ctx context.Context, c *Clients, p *Plan, progress io.Writer) error {
	d := p.desired
	say := func(ch Change) {
		if progress != nil {
			fmt.Fprintf(progress, "%s: %s %s %s\n", d.Region, ch.Action, ch.Kind, ch.Name)
		}
	}
	topicARN := d.Topic.ARN
	var alarmTags []int // desired alarms put, to tag once their ARNs are known
	arns := map[string]string{}
	for _, ch := range p.Changes {
		if ch.Action == NoOp {
			continue
		}
		var err error
		switch ch.Kind {
		case KindBucket:
			err = c.createBucket(ctx, d)
		case KindRole:
			err = c.putRole(ctx, d, ch.Action == Create)
		case KindLogGroup:
			_, err = c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &d.LogGroup, Tags: ManagedTags()})
			if err != nil && !isCode(err, "ResourceAlreadyExistsException") {
				err = apiError(KindLogGroup, d.LogGroup, "logs:CreateLogGroup", err)
			} else {
				err = nil
			}
		case KindTrail:
			err = c.putTrail(ctx, d, p.trail)
		case KindTopic:
			var out *sns.CreateTopicOutput
			out, err = c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: &d.Topic.Name, Tags: snsTags(ManagedTags())})
			if err != nil {
				err = apiError(KindTopic, d.Topic.Name, "sns:CreateTopic", err)
			} else {
				topicARN = aws.ToString(out.TopicArn)
			}
		case KindSubscription:
			s := d.Subscriptions[ch.index]
			_, err = c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topicARN, Protocol: &s.Protocol, Endpoint: &s.Endpoint})
			if err != nil {
				err = apiError(KindSubscription, s.String(), "sns:Subscribe", err)
			}
		case KindFilter:
			if ch.Action == Delete {
				_, err = c.Logs.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{FilterName: aws.String(ch.Name), LogGroupName: &d.LogGroup})
				if err != nil {
					err = apiError(KindFilter, ch.Name, "logs:DeleteMetricFilter", err)
				}
				break
			}
			f := d.Filters[ch.index]
			_, err = c.Logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{FilterName: &f.Name, LogGroupName: &f.LogGroup,
				FilterPattern: &f.Pattern, MetricTransformations: []logtypes.MetricTransformation{f.Metric.sdk()}})
			if err != nil {
				err = apiError(KindFilter, f.Name, "logs:PutMetricFilter", err)
			}
		case KindAlarm:
			if ch.Action == Delete {
				_, err = c.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{ch.Name}})
				if err != nil {
					err = apiError(KindAlarm, ch.Name, "cloudwatch:DeleteAlarms", err)
				}
				break
			}
			a := d.Alarms[ch.index]
			if topicARN != d.Topic.ARN {
				a.Actions = []string{topicARN}
			}
			_, err = c.CloudWatch.PutMetricAlarm(ctx, a.sdk())
			if err != nil {
				err = apiError(KindAlarm, a.Name, "cloudwatch:PutMetricAlarm", err)
			}
			alarmTags = append(alarmTags, ch.index)
			if ch.arn != "" {
				arns[a.Name] = ch.arn
			}
		}
		if err != nil {
			return err
		}
		say(ch)
	}
	// PutMetricAlarm tags an alarm only when it creates it; TagResource makes sure every alarm
	// put carries the tags that mark it as trailalarm's.
	return c.tagAlarms(ctx, d, alarmTags, arns)
}

func (c *Clients) tagAlarms(ctx context.Context, d *Desired, idx []int, arns map[string]string) error {
	var missing []string
	for _, i := range idx {
		if arns[d.Alarms[i].Name] == "" {
			missing = append(missing, d.Alarms[i].Name)
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), 100)
		out, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: missing[:n], MaxRecords: aws.Int32(100)})
		if err != nil {
			return apiError(KindAlarm, missing[0], "cloudwatch:DescribeAlarms", err)
		}
		for _, a := range out.MetricAlarms {
			arns[aws.ToString(a.AlarmName)] = aws.ToString(a.AlarmArn)
		}
		missing = missing[n:]
	}
	for _, i := range idx {
		a := d.Alarms[i]
		arn := arns[a.Name]
		if arn == "" {
			return fmt.Errorf("alarm %s: cloudwatch:DescribeAlarms does not show it right after PutMetricAlarm: run apply again", a.Name)
		}
		var tags []cwtypes.Tag
		for _, k := range sortedKeys(a.Tags) {
			tags = append(tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(a.Tags[k])})
		}
		if _, err := c.CloudWatch.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: &arn, Tags: tags}); err != nil {
			return apiError(KindAlarm, a.Name, "cloudwatch:TagResource", err)
		}
	}
	return nil
}

// sdk is the transformation as PutMetricFilter takes it.
func (m Transformation) sdk() logtypes.MetricTransformation {
	t := logtypes.MetricTransformation{MetricName: aws.String(m.Name), MetricNamespace: aws.String(m.Namespace), MetricValue: aws.String(m.Value), DefaultValue: m.DefaultValue}
	if m.Unit != "" {
		t.Unit = logtypes.StandardUnit(m.Unit)
	}
	if len(m.Dimensions) > 0 {
		t.Dimensions = map[string]string{}
		for _, d := range m.Dimensions {
			t.Dimensions[d.Name] = d.Value
		}
	}
	return t
}

// sdk is the alarm as PutMetricAlarm takes it.
func (a Alarm) sdk() *cloudwatch.PutMetricAlarmInput {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(a.Name), AlarmDescription: aws.String(a.Description),
		Namespace: aws.String(a.Namespace), MetricName: aws.String(a.MetricName),
		Period: aws.Int32(int32(a.Period)), EvaluationPeriods: aws.Int32(int32(a.EvaluationPeriods)), DatapointsToAlarm: aws.Int32(int32(a.DatapointsToAlarm)),
		Threshold: aws.Float64(a.Threshold), ComparisonOperator: cwtypes.ComparisonOperator(a.ComparisonOperator),
		TreatMissingData: aws.String(a.TreatMissingData), ActionsEnabled: aws.Bool(true), AlarmActions: a.Actions,
	}
	if a.ExtendedStatistic != "" {
		in.ExtendedStatistic = aws.String(a.ExtendedStatistic)
	} else {
		in.Statistic = cwtypes.Statistic(a.Statistic)
	}
	for _, k := range sortedKeys(a.Tags) {
		in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(a.Tags[k])})
	}
	return in
}

func snsTags(m map[string]string) []snstypes.Tag {
	var out []snstypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, snstypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (c *Clients) createBucket(ctx context.Context, d *Desired) error {
	t := d.Trail
	in := &s3.CreateBucketInput{Bucket: &t.Bucket}
	if d.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(d.Region)}
	}
	if _, err := c.S3.CreateBucket(ctx, in); err != nil {
		return apiError(KindBucket, t.Bucket, "s3:CreateBucket", err)
	}
	if _, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &t.Bucket,
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}}}}); err != nil {
		return apiError(KindBucket, t.Bucket, "s3:PutBucketTagging", err)
	}
	if _, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &t.Bucket, Policy: aws.String(t.BucketPolicy(d.Account))}); err != nil {
		return apiError(KindBucket, t.Bucket, "s3:PutBucketPolicy", err)
	}
	return nil
}

func (c *Clients) putRole(ctx context.Context, d *Desired, create bool) error {
	t := d.Trail
	if create {
		if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &t.RoleName, AssumeRolePolicyDocument: aws.String(t.TrustPolicy()),
			Description: aws.String(t.RoleDescription()),
			Tags:        []iamtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}}}); err != nil {
			return apiError(KindRole, t.RoleName, "iam:CreateRole", err)
		}
	} else if _, err := c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &t.RoleName, PolicyDocument: aws.String(t.TrustPolicy())}); err != nil {
		return apiError(KindRole, t.RoleName, "iam:UpdateAssumeRolePolicy", err)
	}
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &t.RoleName, PolicyName: &t.PolicyName,
		PolicyDocument: aws.String(t.RolePolicy(d.Region, d.Account))}); err != nil {
		return apiError(KindRole, t.RoleName, "iam:PutRolePolicy", err)
	}
	return nil
}

// putTrail creates the trail (have == nil) or brings it in line, then starts logging and sets
// the event selectors.
func (c *Clients) putTrail(ctx context.Context, d *Desired, have *observedTrail) error {
	t := d.Trail
	groupARN, roleARN := LogGroupARN(d.Region, d.Account, t.LogGroup), t.RoleARN(d.Account)
	// By name, not ARN: the trail lives in this region, and moto takes names only.
	name := t.Name
	if have == nil {
		out, err := c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: &t.Name, S3BucketName: &t.Bucket,
			IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
			CloudWatchLogsLogGroupArn: &groupARN, CloudWatchLogsRoleArn: &roleARN,
			TagsList: []cttypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}}})
		if err != nil {
			return apiError(KindTrail, t.Name, "cloudtrail:CreateTrail", err)
		}
		_ = out
	} else {
		if !have.multiRegion || !have.validation || have.logGroupARN != groupARN || have.roleARN != roleARN || have.bucket != t.Bucket {
			if _, err := c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &name, S3BucketName: &t.Bucket,
				IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
				CloudWatchLogsLogGroupArn: &groupARN, CloudWatchLogsRoleArn: &roleARN}); err != nil {
				return apiError(KindTrail, t.Name, "cloudtrail:UpdateTrail", err)
			}
		}
	}
	if have == nil || have.managementReadWrite != "All" {
		if _, err := c.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: &name,
			EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeAll}}}); err != nil {
			return apiError(KindTrail, t.Name, "cloudtrail:PutEventSelectors", err)
		}
	}
	if have == nil || !have.logging {
		if _, err := c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &name}); err != nil {
			return apiError(KindTrail, t.Name, "cloudtrail:StartLogging", err)
		}
	}
	return nil
}
