package audit

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailalarm/trailalarm/internal/awsconf"
)

// Clients are the AWS clients of one region.
type Clients struct {
	STS         *sts.Client
	CloudTrail  *cloudtrail.Client
	Logs        *cloudwatchlogs.Client
	CloudWatch  *cloudwatch.Client
	SNS         *sns.Client
	SecurityHub *securityhub.Client
	Config      *configservice.Client
}

// NewClients makes the clients of cfg's region.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{
		STS:         sts.NewFromConfig(cfg),
		CloudTrail:  cloudtrail.NewFromConfig(cfg),
		Logs:        cloudwatchlogs.NewFromConfig(cfg),
		CloudWatch:  cloudwatch.NewFromConfig(cfg),
		SNS:         sns.NewFromConfig(cfg),
		SecurityHub: securityhub.NewFromConfig(cfg),
		Config:      configservice.NewFromConfig(cfg),
	}
}

// CallError is an AWS call that failed: which call, and the SDK's error.
type CallError struct {
	Call string // e.g. "cloudtrail DescribeTrails"
	Err  error
}

func (e *CallError) Error() string { return e.Call + ": " + e.Err.Error() }
func (e *CallError) Unwrap() error { return e.Err }

func callErr(call string, err error) error { return &CallError{Call: call, Err: err} }

// Gather reads everything the controls need from one region. logGroups restricts the metric
// filters read (empty: the log groups of the region's trails).
func Gather(ctx context.Context, c *Clients, region string, logGroups []string) (*Account, error) {
	a := &Account{Region: region, LogGroups: map[string]bool{}, Filters: map[string][]Filter{}, Topics: map[string]*Topic{}}
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, callErr("sts GetCallerIdentity", err)
	}
	a.ID = aws.ToString(id.Account)
	if err := gatherTrails(ctx, c, a); err != nil {
		return nil, err
	}
	groups := slices.Clone(logGroups)
	for _, t := range a.Trails {
		if r, name, ok := logGroupOf(t.LogGroupARN); ok && r == region && !slices.Contains(groups, name) {
			groups = append(groups, name)
		}
	}
	for _, g := range groups {
		if err := gatherLogGroup(ctx, c, a, g); err != nil {
			return nil, err
		}
	}
	if err := gatherAlarms(ctx, c, a); err != nil {
		return nil, err
	}
	if err := gatherSecurityHub(ctx, c, a); err != nil {
		return nil, err
	}
	if err := gatherConfig(ctx, c, a); err != nil {
		return nil, err
	}
	return a, nil
}

func gatherTrails(ctx context.Context, c *Clients, a *Account) error {
	out, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return callErr("cloudtrail DescribeTrails", err)
	}
	for _, t := range out.TrailList {
		tr := Trail{
			Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), HomeRegion: aws.ToString(t.HomeRegion),
			MultiRegion: aws.ToBool(t.IsMultiRegionTrail), LogFileValidation: aws.ToBool(t.LogFileValidationEnabled),
			LogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn), RoleARN: aws.ToString(t.CloudWatchLogsRoleArn),
		}
		// A multi-region trail of another region is asked about in its home region, by ARN.
		name := cmpOr(tr.ARN, tr.Name)
		home := func(o *cloudtrail.Options) {
			if tr.HomeRegion != "" {
				o.Region = tr.HomeRegion
			}
		}
		st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(name)}, home)
		if err != nil {
			return callErr("cloudtrail GetTrailStatus "+tr.Name, err)
		}
		tr.Logging = aws.ToBool(st.IsLogging)
		tr.DeliveryError = aws.ToString(st.LatestCloudWatchLogsDeliveryError)
		tr.LastDelivery = st.LatestCloudWatchLogsDeliveryTime
		sel, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(name)}, home)
		if err != nil {
			return callErr("cloudtrail GetEventSelectors "+tr.Name, err)
		}
		tr.ManagementEvents = managementEvents(sel.EventSelectors, sel.AdvancedEventSelectors)
		a.Trails = append(a.Trails, tr)
	}
	slices.SortFunc(a.Trails, func(x, y Trail) int { return strings.Compare(x.Name, y.Name) })
	return nil
}

// managementEvents says which management events the selectors record: All, ReadOnly, WriteOnly
// or None.
func managementEvents(basic []cttypes.EventSelector, advanced []cttypes.AdvancedEventSelector) string {
	var read, write bool
	for _, s := range basic {
		if !aws.ToBool(s.IncludeManagementEvents) {
			continue
		}
		switch s.ReadWriteType {
		case cttypes.ReadWriteTypeReadOnly:
			read = true
		case cttypes.ReadWriteTypeWriteOnly:
			write = true
		default: // All, or not given (CloudTrail's default is All)
			read, write = true, true
		}
	}
	for _, s := range advanced {
		mgmt, r, w := false, true, true
		for _, f := range s.FieldSelectors {
			switch aws.ToString(f.Field) {
			case "eventCategory":
				mgmt = slices.Contains(f.Equals, "Management")
			case "readOnly":
				if slices.Contains(f.Equals, "true") && !slices.Contains(f.Equals, "false") {
					w = false
				}
				if slices.Contains(f.Equals, "false") && !slices.Contains(f.Equals, "true") {
					r = false
				}
			}
		}
		if mgmt {
			read, write = read || r, write || w
		}
	}
	switch {
	case read && write:
		return "All"
	case read:
		return "ReadOnly"
	case write:
		return "WriteOnly"
	}
	return "None"
}

func gatherLogGroup(ctx context.Context, c *Clients, a *Account, g string) error {
	groups, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(g)})
	if err != nil {
		return callErr("logs DescribeLogGroups "+g, err)
	}
	for _, lg := range groups.LogGroups {
		if aws.ToString(lg.LogGroupName) == g {
			a.LogGroups[g] = true
		}
	}
	if !a.LogGroups[g] {
		a.LogGroups[g] = false
		return nil
	}
	p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c.Logs, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(g)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return callErr("logs DescribeMetricFilters "+g, err)
		}
		for _, f := range page.MetricFilters {
			fl := Filter{Name: aws.ToString(f.FilterName), LogGroup: g, Pattern: aws.ToString(f.FilterPattern)}
			for _, t := range f.MetricTransformations {
				tr := Transformation{Name: aws.ToString(t.MetricName), Namespace: aws.ToString(t.MetricNamespace), Value: aws.ToString(t.MetricValue), DefaultValue: t.DefaultValue}
				if len(t.Dimensions) > 0 {
					tr.Dimensions = t.Dimensions
				}
				fl.Transformations = append(fl.Transformations, tr)
			}
			a.Filters[g] = append(a.Filters[g], fl)
		}
	}
	return nil
}

func gatherAlarms(ctx context.Context, c *Clients, a *Account) error {
	p := cloudwatch.NewDescribeAlarmsPaginator(c.CloudWatch, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return callErr("cloudwatch DescribeAlarms", err)
		}
		for _, m := range page.MetricAlarms {
			al := Alarm{
				Name: aws.ToString(m.AlarmName), ARN: aws.ToString(m.AlarmArn),
				Namespace: aws.ToString(m.Namespace), MetricName: aws.ToString(m.MetricName),
				Statistic: cmpOr(string(m.Statistic), aws.ToString(m.ExtendedStatistic)),
				Period:    aws.ToInt32(m.Period), Threshold: aws.ToFloat64(m.Threshold),
				Comparison: string(m.ComparisonOperator), EvaluationPeriods: aws.ToInt32(m.EvaluationPeriods),
				DatapointsToAlarm: aws.ToInt32(m.DatapointsToAlarm), ActionsEnabled: aws.ToBool(m.ActionsEnabled),
				Actions: m.AlarmActions, MetricMath: len(m.Metrics) > 0,
			}
			if len(m.Dimensions) > 0 {
				al.Dimensions = map[string]string{}
				for _, d := range m.Dimensions {
					al.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
				}
			}
			a.Alarms = append(a.Alarms, al)
			for _, arn := range snsActions(al.Actions) {
				if _, done := a.Topics[arn]; done {
					continue
				}
				t, err := gatherTopic(ctx, c, arn)
				if err != nil {
					return err
				}
				a.Topics[arn] = t
			}
		}
	}
	return nil
}

// gatherTopic reads a topic's subscriptions. A subscription is confirmed when it has an ARN
// (ListSubscriptionsByTopic says "PendingConfirmation" otherwise) and GetSubscriptionAttributes
// does not say PendingConfirmation=true.
func gatherTopic(ctx context.Context, c *Clients, arn string) (*Topic, error) {
	t := &Topic{ARN: arn}
	if _, err := c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err != nil {
		if isCode(err, "NotFound", "NotFoundException") {
			return t, nil
		}
		if isCode(err, "AuthorizationError", "AccessDenied", "AccessDeniedException") {
			// Another account's topic, or a permission audit lacks: the alarm fails, the audit goes on.
			t.Error = awsconf.Explain(err).Error()
			return t, nil
		}
		return nil, callErr("sns GetTopicAttributes "+arn, err)
	}
	t.Exists = true
	p := sns.NewListSubscriptionsByTopicPaginator(c.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callErr("sns ListSubscriptionsByTopic "+arn, err)
		}
		for _, s := range page.Subscriptions {
			sub := Subscription{ARN: aws.ToString(s.SubscriptionArn), Protocol: aws.ToString(s.Protocol), Endpoint: aws.ToString(s.Endpoint)}
			if strings.HasPrefix(sub.ARN, "arn:") {
				sub.Confirmed = true
				attrs, err := c.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub.ARN)})
				switch {
				case err == nil:
					sub.Confirmed = attrs.Attributes["PendingConfirmation"] != "true"
				case isCode(err, "NotFound", "NotFoundException"):
					sub.Confirmed = false // deleted meanwhile
				default:
					return nil, callErr("sns GetSubscriptionAttributes "+sub.ARN, err)
				}
			}
			t.Subscriptions = append(t.Subscriptions, sub)
		}
	}
	return t, nil
}

func gatherSecurityHub(ctx context.Context, c *Clients, a *Account) error {
	hub, err := c.SecurityHub.DescribeHub(ctx, &securityhub.DescribeHubInput{})
	if err != nil {
		if isCode(err, "InvalidAccessException") {
			return nil // not subscribed to Security Hub
		}
		return callErr("securityhub DescribeHub", err)
	}
	a.SecurityHub = SecurityHub{Enabled: true, HubARN: aws.ToString(hub.HubArn), SubscribedAt: aws.ToString(hub.SubscribedAt)}
	return nil
}

func gatherConfig(ctx context.Context, c *Clients, a *Account) error {
	recs, err := c.Config.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
	if err != nil {
		return callErr("configservice DescribeConfigurationRecorders", err)
	}
	if len(recs.ConfigurationRecorders) == 0 {
		return nil
	}
	st, err := c.Config.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil {
		return callErr("configservice DescribeConfigurationRecorderStatus", err)
	}
	for _, r := range recs.ConfigurationRecorders {
		rec := Recorder{Name: aws.ToString(r.Name), RoleARN: aws.ToString(r.RoleARN)}
		if g := r.RecordingGroup; g != nil {
			rec.AllSupported = g.AllSupported || g.RecordingStrategy != nil && g.RecordingStrategy.UseOnly == "ALL_SUPPORTED_RESOURCE_TYPES"
			rec.IncludeGlobal = g.IncludeGlobalResourceTypes
		} else {
			rec.AllSupported, rec.IncludeGlobal = true, true // no recording group: AWS Config records everything
		}
		for _, s := range st.ConfigurationRecordersStatus {
			if aws.ToString(s.Name) == rec.Name {
				rec.Recording, rec.LastStatus = s.Recording, string(s.LastStatus)
			}
		}
		a.Config = append(a.Config, rec)
	}
	return nil
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(codes, ae.ErrorCode())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
