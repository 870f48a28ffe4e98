package awsemu

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// The two emulators answer the calls plan/apply/audit make: a metric filter on moto, an alarm
// with its action on kumo.
func TestEmulators(t *testing.T) {
	e := Start(t)
	ctx := Ctx()
	logs := cloudwatchlogs.NewFromConfig(e.Config("us-east-1"))
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("g"), FilterName: aws.String("f"),
		FilterPattern: aws.String(`{ $.eventName = "ConsoleLogin" }`),
		MetricTransformations: []logstypes.MetricTransformation{{
			MetricName: aws.String("m"), MetricNamespace: aws.String("ns"), MetricValue: aws.String("1")}},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.MetricFilters) != 1 || *out.MetricFilters[0].FilterPattern != `{ $.eventName = "ConsoleLogin" }` {
		t.Fatalf("DescribeMetricFilters: %v %+v", err, out)
	}
	cw := e.CloudWatch("us-east-1")
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("a"), MetricName: aws.String("m"), Namespace: aws.String("ns"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:t"},
	}); err != nil {
		t.Fatal(err)
	}
	al, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}})
	if err != nil || len(al.MetricAlarms) != 1 || len(al.MetricAlarms[0].AlarmActions) != 1 {
		t.Fatalf("DescribeAlarms: %v %+v", err, al)
	}
}
