// Package awsemu gives integration tests one emulated AWS account: moto server for every
// service it emulates, and kumo in-process for CloudWatch, because moto has no CBOR route
// and the current SDK speaks only CBOR to CloudWatch (../shared/reference/emulators.md).
package awsemu

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/sivchari/kumo"

	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

// Account is moto's identity.
const Account = "123456789012"

// Env is one emulated account: moto (reset for this test) and a kumo server. kumo's services
// share one store per process: tests that use CloudWatch call ResetCloudWatch.
type Env struct {
	Moto string // moto server URL: Logs, SNS, SQS, S3, CloudTrail, IAM, STS, Security Hub, Config
	Kumo string // kumo URL: CloudWatch alarms
}

// Start resets moto and starts a kumo server that stops when the test ends (its state is the
// process's: see ResetCloudWatch).
func Start(t testing.TB) *Env {
	t.Helper()
	m := moto.Endpoint(t)
	k := kumo.NewServer()
	t.Cleanup(k.Close)
	return &Env{Moto: m, Kumo: k.URL}
}

// Config is an SDK configuration for region whose every client reaches moto; give CloudWatch
// clients CloudWatchOptions as well.
func (e *Env) Config(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(e.Moto),
		// A few attempts: kumo in-process now and then drops a connection under -race, and a
		// test must not fail on that; an emulator's API error still comes back at once unless
		// it is one the SDK retries (throttling, 5xx).
		RetryMaxAttempts: 3,
	}
}

// CloudWatchOptions points a CloudWatch client at kumo.
func (e *Env) CloudWatchOptions(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(e.Kumo) }

// CloudWatch is a CloudWatch client on kumo.
func (e *Env) CloudWatch(region string) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(e.Config(region), e.CloudWatchOptions)
}

// Setenv makes the standard SDK configuration chain (and so a trailalarm command run in-process
// or as a child) reach the emulators: AWS_ENDPOINT_URL for moto, AWS_ENDPOINT_URL_CLOUDWATCH
// for kumo, static credentials, and region. Tests that call it cannot run in parallel.
func (e *Env) Setenv(t testing.TB, region string) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", e.Moto)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", e.Kumo)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

// Ctx is a context for emulator calls.
func Ctx() context.Context { return context.Background() }

// ResetCloudWatch empties kumo's CloudWatch: kumo keeps one store per process whatever the
// server, so a test would see the alarms of the tests before it; and it keeps an alarm's tags
// after DeleteAlarms (AWS deletes them with the alarm), so the tags of every alarm deleted here
// and of the alarms named (deleted earlier, by the code under test) are removed too. kumo now
// and then drops a connection under -race: each call is tried a few times.
func (e *Env) ResetCloudWatch(t testing.TB, region string, alarmNames ...string) {
	t.Helper()
	ctx := context.Background()
	cw := e.CloudWatch(region)
	retry := func(what string, call func() error) {
		t.Helper()
		var err error
		for try := 0; try < 4; try++ {
			if err = call(); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("reset kumo's CloudWatch: %s: %v", what, err)
	}
	arns := map[string]bool{}
	for _, n := range alarmNames {
		arns["arn:aws:cloudwatch:"+region+":000000000000:alarm:"+n] = true
	}
	for {
		var out *cloudwatch.DescribeAlarmsOutput
		retry("DescribeAlarms", func() (err error) {
			out, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(100)})
			return err
		})
		if len(out.MetricAlarms) == 0 {
			break
		}
		var names []string
		for _, a := range out.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
			arns[aws.ToString(a.AlarmArn)] = true
		}
		retry("DeleteAlarms", func() error {
			_, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: names})
			return err
		})
	}
	for arn := range arns {
		var tags *cloudwatch.ListTagsForResourceOutput
		retry("ListTagsForResource", func() (err error) {
			tags, err = cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
			return err
		})
		var keys []string
		for _, tg := range tags.Tags {
			keys = append(keys, aws.ToString(tg.Key))
		}
		if len(keys) == 0 {
			continue
		}
		retry("UntagResource", func() error {
			_, err := cw.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: keys})
			return err
		})
	}
}
