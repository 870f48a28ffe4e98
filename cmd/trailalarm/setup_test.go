package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailalarm/trailalarm/internal/awssetup"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/testutil/awsemu"
)

// setupEnv starts the emulators, points the SDK's environment at them, empties kumo's alarms
// (kumo keeps one store per process, and alarm tags after DeleteAlarms) and creates the log
// group a trail would send to.
func setupEnv(t *testing.T) (*awsemu.Env, *awssetup.Clients) {
	t.Helper()
	env := awsemu.Start(t)
	env.Setenv(t, "us-east-1")
	// With the command's retryer: kumo now and then drops a connection under -race.
	cfg := env.Config("us-east-1")
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer { return awssetup.Retryer() }
	c := awssetup.NewClients(cfg, env.CloudWatchOptions)
	resetAlarms(t, env)
	if _, err := c.Logs.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(awssetup.DefaultLogGroup)}); err != nil {
		t.Fatal(err)
	}
	return env, c
}

type setupState struct {
	Filters []awssetup.MetricFilter
	Alarms  []awssetup.Alarm
	Subs    []string
}

func describeSetup(t *testing.T, c *awssetup.Clients) setupState {
	t.Helper()
	ctx := context.Background()
	fs, err := c.DescribeFilters(ctx, awssetup.DefaultLogGroup)
	if err != nil {
		t.Fatal(err)
	}
	as, err := c.DescribeAlarms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	topics, err := c.SNS.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics.Topics {
		out, err := c.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Subscriptions {
			subs = append(subs, aws.ToString(s.TopicArn)+" "+aws.ToString(s.Protocol)+":"+aws.ToString(s.Endpoint))
		}
	}
	return setupState{fs, as, subs}
}

func TestApplyCLIIdempotent(t *testing.T) {
	_, c := setupEnv(t)
	args := []string{"--pack", "cis-1.2", "--subscribe", "email:secops@example.com", "--subscribe", "email:secops@example.com"}

	// A "no" changes nothing.
	code, out, errOut := runCLI(t, "no\n", append([]string{"apply"}, args...)...)
	if code != exitError || !strings.Contains(errOut, "apply cancelled: nothing was changed") || !strings.Contains(out, "+ create  metric-filter    trailalarm-cis-1.2-3.1") {
		t.Fatalf("apply answered no: exit %d\n%s\n%s", code, out, errOut)
	}
	if s := describeSetup(t, c); len(s.Filters)+len(s.Alarms)+len(s.Subs) != 0 {
		t.Fatalf("a cancelled apply changed the account: %+v", s)
	}

	if code, _, _ := runCLI(t, "", append([]string{"plan", "--exit-code"}, args...)...); code != exitFound {
		t.Errorf("plan --exit-code before apply: exit %d, want 1", code)
	}
	code, out, errOut = runCLI(t, "yes\n", append([]string{"apply"}, args...)...)
	if code != 0 || !strings.Contains(out, "us-east-1: applied (30 to create, 0 to update, 1 unchanged, 0 to delete)") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	before := describeSetup(t, c)
	if len(before.Filters) != 14 || len(before.Alarms) != 14 || len(before.Subs) != 1 {
		t.Fatalf("after apply: %d filters, %d alarms, subscriptions %v", len(before.Filters), len(before.Alarms), before.Subs)
	}

	code, out, errOut = runCLI(t, "", append([]string{"plan", "--format", "json"}, args...)...)
	var doc struct{ Plans []awssetup.Plan }
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Plans) != 1 {
		t.Fatalf("plan --format json: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if p := doc.Plans[0]; p.Account != awsemu.Account || p.LogGroup != awssetup.DefaultLogGroup || len(p.Changes) != 31 || p.Pending() {
		t.Fatalf("plan after apply: %+v", p)
	}

	if code, _, _ := runCLI(t, "", append([]string{"plan", "--exit-code"}, args...)...); code != 0 {
		t.Errorf("plan --exit-code after apply: exit %d, want 0", code)
	}
	code, out, _ = runCLI(t, "", append([]string{"apply", "--prune"}, args...)...)
	if code != 0 || !strings.Contains(out, "Nothing to do") {
		t.Fatalf("second apply: exit %d\n%s", code, out)
	}
	if after := describeSetup(t, c); !reflect.DeepEqual(before, after) {
		t.Fatalf("second apply changed the account:\n%+v\n%+v", before, after)
	}

	// Fewer rules with --prune: the plan says what goes, and why.
	code, out, _ = runCLI(t, "", "plan", "--rules", "../../internal/rules/packs/cis-1.2.yaml", "--prune", "--subscribe", "email:secops@example.com")
	if code != 0 || !strings.Contains(out, "0 to create, 0 to update, 31 unchanged, 0 to delete") {
		t.Fatalf("plan with the same rules from a file: exit %d\n%s", code, out)
	}
}

func TestApplyCLIUnmanagedCollision(t *testing.T) {
	_, c := setupEnv(t)
	ctx := context.Background()
	if _, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("secops")}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "apply", "--yes", "--pack", "cis-1.2", "--create-topic", "secops")
	if code != exitError || !strings.Contains(errOut, "SNS topic secops exists and is not trailalarm's") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if s := describeSetup(t, c); len(s.Filters)+len(s.Alarms) != 0 {
		t.Fatalf("a failed plan changed the account: %+v", s)
	}
}

func TestPlanApplyAWSErrors(t *testing.T) {
	env, _ := setupEnv(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, nil, "no AWS credentials found"},
		{"unreachable endpoint", nil, []string{"--endpoint-url", "http://127.0.0.1:1"}, "cannot reach the AWS endpoint"},
		{"endpoint of another service", map[string]string{"AWS_ENDPOINT_URL_CLOUDWATCH": ""}, nil, "alarm trailalarm-*: cloudwatch:DescribeAlarms failed: the endpoint answered HTTP 404 with something other than CloudWatch's answer: check --endpoint-url and AWS_ENDPOINT_URL"},
		{"unreachable CloudWatch", map[string]string{"AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:1"}, nil, "alarm trailalarm-*: cloudwatch:DescribeAlarms failed: cannot reach the AWS endpoint"},
		{"unknown region", map[string]string{"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_CLOUDWATCH": ""}, []string{"--region", "xx-nowhere-9"}, "cannot resolve"},
		{"missing log group", nil, []string{"--log-group", "nope"}, "log group nope does not exist in us-east-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, cmd := range [][]string{{"plan"}, {"apply", "--yes"}} {
				code, out, errOut := runCLI(t, "", append(append(cmd, "--pack", "cis-1.2"), tc.args...)...)
				if code != exitError || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "operation error") {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want one line with %q", cmd, code, out, errOut, tc.want)
				}
			}
		})
	}
	_ = env
}

func TestSetupUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--nope"}, "unknown flag: --nope"},
		{[]string{"plan", "extra"}, "unknown command"},
		{[]string{"plan", "--pack", "cis-9"}, `unknown pack "cis-9"`},
		{[]string{"plan", "--rules", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{[]string{"plan", "--subscribe", "pigeon:coo"}, `unknown protocol "pigeon"`},
		{[]string{"plan", "--subscribe", "email:not-an-address"}, "not an email address"},
		{[]string{"plan", "--subscribe", "sqs:queue"}, "not an SQS queue ARN"},
		{[]string{"plan", "--format", "xml"}, `--format "xml": use text or json`},
		{[]string{"plan", "--region", "Mars"}, `--region "Mars" is not an AWS region name`},
		{[]string{"plan", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:t", "--create-topic", "x"}, "not both"},
		{[]string{"plan", "--param", "oops"}, "use NAME=VALUE"},
		{[]string{"apply", "--ensure-trail", "--region", "us-east-1", "--region", "eu-west-1"}, "--ensure-trail takes one --region"},
		{[]string{"plan", "--log-group", "bad group"}, `--log-group "bad group"`},
		{[]string{"apply", "--ensure-trail", "--trail-name", "x"}, `--trail-name "x"`},
		{[]string{"apply", "--ensure-trail", "--trail-bucket", "Bad_Bucket"}, `--trail-bucket "Bad_Bucket"`},
		{[]string{"export"}, "--format is required"},
		{[]string{"export", "--format", "pulumi"}, `--format "pulumi"`},
		{[]string{"export", "--format", "terraform", "--account", "12"}, "not a 12-digit AWS account id"},
		{[]string{"export", "--format", "terraform", "--topic-arn", "arn:aws:sqs:us-east-1:123456789012:q"}, "is not an SNS topic ARN"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tc.args, code, out, errOut, tc.want)
		}
	}
	code, out, _ := runCLI(t, "", "apply", "--help")
	if code != 0 || !strings.Contains(out, "--ensure-trail") || !strings.Contains(out, "trailalarm:managed=true") {
		t.Errorf("apply --help: exit %d\n%s", code, out)
	}
}

// The aws-cli export, run by the real AWS CLI against the emulators, makes the same filters,
// alarms (tags included) and subscriptions as apply.
func TestExportAWSCLIReplaysLikeApply(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		if testing.Short() {
			t.Skip("aws CLI not on PATH")
		}
		t.Fatal("the aws CLI is not on PATH (pyenv's awscli)")
	}
	_, c := setupEnv(t)
	// Few rules, as every aws command takes seconds to start: patterns hostile to shell quoting,
	// a metric with a default value and unit, and a parameter rendered as CIDR wildcards.
	args := []string{"--rules", "testdata/setup-quoting.yaml", "--pack", "runbook", "--param", "home_cidrs=203.0.113.0/24,10.1.0.0/20",
		"--subscribe", "email:secops@example.com", "--subscribe", "https://hooks.example.com/a?b='c'"}
	if code, out, errOut := runCLI(t, "", append([]string{"apply", "--yes"}, args...)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	applied := describeSetup(t, c)

	script := filepath.Join(t.TempDir(), "setup.sh")
	if code, _, errOut := runCLI(t, "", append([]string{"export", "--format", "aws-cli", "--output", script}, args...)...); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	_, c = setupEnv(t)                          // a fresh account
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1") // AWS CLI v1 reads this one, not AWS_REGION
	version, err := exec.Command(awsPath, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, version)
	}
	// The CLI must reach moto through AWS_ENDPOINT_URL, or the replay proves nothing.
	who, err := exec.Command(awsPath, "sts", "get-caller-identity", "--query", "Account", "--output", "text").CombinedOutput()
	if err != nil || strings.TrimSpace(string(who)) != awsemu.Account {
		t.Fatalf("%s does not honour AWS_ENDPOINT_URL: %v\n%s", strings.TrimSpace(string(version)), err, who)
	}
	cborCloudWatch(t)
	out, err := exec.Command("sh", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
	replayed := describeSetup(t, c)
	if len(replayed.Alarms) != 3 || len(replayed.Filters) != 3 || len(replayed.Subs) != 2 {
		t.Fatalf("replay made %d filters, %d alarms and %d subscriptions, want 3, 3, 2 (%s)", len(replayed.Filters), len(replayed.Alarms), len(replayed.Subs), strings.TrimSpace(string(version)))
	}
	if !reflect.DeepEqual(applied, replayed) {
		for i := range applied.Filters {
			if !reflect.DeepEqual(applied.Filters[i], replayed.Filters[i]) {
				t.Errorf("filter %d:\napply  %+v\nreplay %+v", i, applied.Filters[i], replayed.Filters[i])
			}
		}
		for i := range applied.Alarms {
			if !reflect.DeepEqual(applied.Alarms[i], replayed.Alarms[i]) {
				t.Errorf("alarm %d:\napply  %+v\nreplay %+v", i, applied.Alarms[i], replayed.Alarms[i])
			}
		}
		if !reflect.DeepEqual(applied.Subs, replayed.Subs) {
			t.Errorf("subscriptions: apply %v, replay %v", applied.Subs, replayed.Subs)
		}
	}
	// And what the CLI made, trailalarm takes as its own: nothing to do.
	code, planOut, errOut := runCLI(t, "", append([]string{"plan"}, args...)...)
	if code != 0 || !strings.Contains(planOut, "0 to create, 0 to update, 10 unchanged, 0 to delete") {
		t.Fatalf("plan after the replay: exit %d\n%s\n%s", code, planOut, errOut)
	}
	_ = os.Remove(script)
}

// cborCloudWatch makes the AWS CLI speak CBOR to CloudWatch, as the Go SDK does: botocore
// prefers JSON 1.0 for CloudWatch, which kumo does not serve (it serves CBOR and query). The
// CLI loads service models from AWS_DATA_PATH first; this one is botocore's own model with
// CBOR as its only protocol. The exported script is not changed.
func cborCloudWatch(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	model := filepath.Join(dir, "cloudwatch", "2010-08-01", "service-2.json")
	if err := os.MkdirAll(filepath.Dir(model), 0o755); err != nil {
		t.Fatal(err)
	}
	py := `import botocore.session, json, sys
m = botocore.session.get_session().get_service_data("cloudwatch")
m["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
m["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
json.dump(m, open(sys.argv[1], "w"))`
	// The python of the aws CLI on PATH (pyenv's), where botocore is.
	if out, err := exec.Command("python3", "-c", py, model).CombinedOutput(); err != nil {
		t.Fatalf("write the CloudWatch model: %v\n%s", err, out)
	}
	t.Setenv("AWS_DATA_PATH", dir)
}

// --ensure-trail through the command line; then plan finds the trail's log group by itself.
func TestApplyCLIEnsureTrail(t *testing.T) {
	_, c := setupEnv(t)
	code, out, errOut := runCLI(t, "", "apply", "--yes", "--ensure-trail", "--log-group", "org/trail", "--pack", "cis-1.2")
	if code != 0 || !strings.Contains(out, "create trail trailalarm") || !strings.Contains(out, "create iam-role trailalarm-cloudtrail-to-logs") ||
		!strings.Contains(out, "create s3-bucket trailalarm-cloudtrail-123456789012") {
		t.Fatalf("apply --ensure-trail: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "plan", "--pack", "cis-1.2", "--ensure-trail")
	if code != 0 || !strings.Contains(out, "log group org/trail,") || !strings.Contains(out, "0 to create, 0 to update, 33 unchanged") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	fs, err := c.DescribeFilters(context.Background(), "org/trail")
	if err != nil || len(fs) != 14 {
		t.Fatalf("filters on the trail's group: %d, %v", len(fs), err)
	}
}

// Throttled calls are retried: a proxy in front of moto answers the first PutMetricFilter calls
// with CloudWatch Logs' ThrottlingException, and apply still sets everything up.
func TestApplyRetriesThrottling(t *testing.T) {
	env, c := setupEnv(t)
	target, err := url.Parse(env.Moto)
	if err != nil {
		t.Fatal(err)
	}
	var throttled atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutMetricFilter") && throttled.Add(1) <= 3 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", srv.URL)
	code, out, errOut := runCLI(t, "", "apply", "--yes", "--pack", "cis-1.2")
	if code != 0 || throttled.Load() < 4 {
		t.Fatalf("apply through a throttling endpoint: exit %d, %d PutMetricFilter calls\n%s\n%s", code, throttled.Load(), out, errOut)
	}
	if s := describeSetup(t, c); len(s.Filters) != 14 || len(s.Alarms) != 14 {
		t.Fatalf("after apply: %d filters, %d alarms", len(s.Filters), len(s.Alarms))
	}
}

// resetAlarms empties kumo's CloudWatch (its store is the process's), with the tags of every
// alarm name trailalarm could have given.
func resetAlarms(t *testing.T, env *awsemu.Env) {
	t.Helper()
	var names []string
	for _, r := range rules.AllBuiltin() {
		names = append(names, awssetup.ResourceName(r.ID))
	}
	env.ResetCloudWatch(t, "us-east-1", names...)
}
