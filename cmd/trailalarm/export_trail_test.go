package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/awssetup"
	"github.com/trailalarm/trailalarm/internal/testutil/awsemu"
)

// trailState is what describing the account shows of the trail --ensure-trail sets up and of
// what it needs.
type trailState struct {
	Trail          map[string]any // DescribeTrails' fields that apply sets
	Logging        bool           // GetTrailStatus
	Selectors      []string       // GetEventSelectors: ReadWriteType/IncludeManagementEvents
	TrailTags      []string
	Trust, Policy  string // the role's trust policy and inline policy, compact JSON
	RoleDesc       string
	RoleTags       []string
	BucketPolicy   string
	BucketTags     []string
	LogGroupExists bool
	Filters        []awssetup.MetricFilter // on the trail's log group
	Alarms         []awssetup.Alarm
}

func describeTrail(t *testing.T, c *awssetup.Clients, name, bucket, group string) trailState {
	t.Helper()
	ctx := context.Background()
	var s trailState
	tr, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{name}})
	if err != nil || len(tr.TrailList) != 1 {
		t.Fatalf("DescribeTrails(%s) = %+v, %v", name, tr, err)
	}
	got := tr.TrailList[0]
	s.Trail = map[string]any{
		"Name": aws.ToString(got.Name), "S3BucketName": aws.ToString(got.S3BucketName), "HomeRegion": aws.ToString(got.HomeRegion),
		"IsMultiRegionTrail": aws.ToBool(got.IsMultiRegionTrail), "LogFileValidationEnabled": aws.ToBool(got.LogFileValidationEnabled),
		"IncludeGlobalServiceEvents": aws.ToBool(got.IncludeGlobalServiceEvents),
		"CloudWatchLogsLogGroupArn":  aws.ToString(got.CloudWatchLogsLogGroupArn), "CloudWatchLogsRoleArn": aws.ToString(got.CloudWatchLogsRoleArn),
	}
	st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	s.Logging = aws.ToBool(st.IsLogging)
	sel, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &name})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range sel.EventSelectors {
		s.Selectors = append(s.Selectors, string(e.ReadWriteType)+"/management="+map[bool]string{true: "yes", false: "no"}[aws.ToBool(e.IncludeManagementEvents)])
	}
	tags, err := c.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{aws.ToString(got.TrailARN)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tags.ResourceTagList {
		for _, tg := range r.TagsList {
			s.TrailTags = append(s.TrailTags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
	}
	role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(awssetup.TrailRoleName)})
	if err != nil {
		t.Fatal(err)
	}
	s.Trust, s.RoleDesc = compactPolicy(t, aws.ToString(role.Role.AssumeRolePolicyDocument)), aws.ToString(role.Role.Description)
	for _, tg := range role.Role.Tags {
		s.RoleTags = append(s.RoleTags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	pol, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(awssetup.TrailRoleName), PolicyName: aws.String(awssetup.TrailRolePolicy)})
	if err != nil {
		t.Fatal(err)
	}
	s.Policy = compactPolicy(t, aws.ToString(pol.PolicyDocument))
	bp, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	s.BucketPolicy = compactPolicy(t, aws.ToString(bp.Policy))
	bt, err := c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range bt.TagSet {
		s.BucketTags = append(s.BucketTags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	groups, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &group})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.LogGroups {
		s.LogGroupExists = s.LogGroupExists || aws.ToString(g.LogGroupName) == group
	}
	if s.Filters, err = c.DescribeFilters(ctx, group); err != nil {
		t.Fatal(err)
	}
	if s.Alarms, err = c.DescribeAlarms(ctx); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]string{s.TrailTags, s.RoleTags, s.BucketTags} {
		sort.Strings(l)
	}
	return s
}

// compactPolicy is a policy document (IAM's come URL-encoded) as compact JSON.
func compactPolicy(t *testing.T, doc string) string {
	t.Helper()
	if strings.HasPrefix(doc, "%7B") {
		var err error
		if doc, err = url.QueryUnescape(doc); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(doc)); err != nil {
		t.Fatalf("policy %q: %v", doc, err)
	}
	return b.String()
}

// The aws-cli export with --ensure-trail, run by the real AWS CLI against the emulators, sets
// up the trail, its bucket, role and log group as apply does (described both ways: trail
// settings, status, event selectors, policies, tags), and the filter on the group; run again,
// it succeeds and changes nothing; then plan finds nothing to do.
func TestExportAWSCLITrailReplaysLikeApply(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		if testing.Short() {
			t.Skip("aws CLI not on PATH")
		}
		t.Fatal("the aws CLI is not on PATH (pyenv's awscli)")
	}
	const group, bucket = "org/trail", "org-trail-logs"
	args := []string{"--rules", "testdata/setup-trail.yaml", "--ensure-trail", "--log-group", group, "--trail-name", "org-trail", "--trail-bucket", bucket}
	_, c := setupEnv(t)
	if code, out, errOut := runCLI(t, "", append([]string{"apply", "--yes"}, args...)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	applied := describeTrail(t, c, "org-trail", bucket, group)
	if !applied.Logging || applied.Trail["IsMultiRegionTrail"] != true || applied.Trail["LogFileValidationEnabled"] != true ||
		!reflect.DeepEqual(applied.Selectors, []string{"All/management=yes"}) || len(applied.Filters) != 1 || len(applied.Alarms) != 1 ||
		applied.Trail["CloudWatchLogsLogGroupArn"] != "arn:aws:logs:us-east-1:123456789012:log-group:org/trail:*" {
		t.Fatalf("apply made %+v", applied)
	}
	managed := []string{"trailalarm:managed=true"}
	if !applied.LogGroupExists || !reflect.DeepEqual(applied.TrailTags, managed) || !reflect.DeepEqual(applied.RoleTags, managed) ||
		!reflect.DeepEqual(applied.BucketTags, managed) || !strings.Contains(applied.Trust, `"Service":"cloudtrail.amazonaws.com"`) ||
		!strings.Contains(applied.BucketPolicy, "arn:aws:s3:::org-trail-logs/AWSLogs/123456789012/*") || !strings.Contains(applied.Policy, "logs:PutLogEvents") {
		t.Fatalf("apply made %+v", applied)
	}

	script := filepath.Join(t.TempDir(), "setup.sh")
	if code, _, errOut := runCLI(t, "", append([]string{"export", "--format", "aws-cli", "--account", awsemu.Account, "--output", script}, args...)...); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	_, c = setupEnv(t) // a fresh account
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	cborCloudWatch(t)
	// The script's first command checks that the CLI reaches moto's account.
	out, err := exec.Command("sh", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
	replayed := describeTrail(t, c, "org-trail", bucket, group)
	if !reflect.DeepEqual(applied, replayed) {
		t.Errorf("the replay differs from apply:\napply  %+v\nreplay %+v", applied, replayed)
	}
	// Again: the creates find their resources, the rest puts the same values.
	if out, err := exec.Command("sh", script).CombinedOutput(); err != nil {
		t.Fatalf("sh %s a second time: %v\n%s", script, err, out)
	} else if !strings.Contains(string(out), "log group org/trail exists") {
		t.Errorf("second run:\n%s", out)
	}
	if again := describeTrail(t, c, "org-trail", bucket, group); !reflect.DeepEqual(applied, again) {
		t.Errorf("the second run changed the account:\napply  %+v\nagain  %+v", applied, again)
	}
	code, planOut, errOut := runCLI(t, "", append([]string{"plan"}, args...)...)
	if code != 0 || !strings.Contains(planOut, "0 to create, 0 to update, 7 unchanged, 0 to delete") {
		t.Fatalf("plan after the replay: exit %d\n%s\n%s", code, planOut, errOut)
	}
	// Credentials of another account stop the script before it changes anything.
	wrong := filepath.Join(t.TempDir(), "wrong.sh")
	if code, _, errOut := runCLI(t, "", append([]string{"export", "--format", "aws-cli", "--account", "111122223333", "--output", wrong}, args...)...); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	out, err = exec.Command("sh", wrong).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "these credentials are not for account 111122223333") {
		t.Errorf("script for another account: %v\n%s", err, out)
	}
	_ = awsPath
}

func TestExportTrailUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--format", "aws-cli", "--ensure-trail"}, "--ensure-trail needs --account"},
		{[]string{"export", "--format", "aws-cli", "--ensure-trail", "--account", "123456789012", "--region", "us-east-1", "--region", "eu-west-1"}, "--ensure-trail takes one --region"},
		{[]string{"export", "--format", "terraform", "--region", "us-east-1", "--region", "eu-west-1"}, "export writes one region"},
		{[]string{"export", "--format", "terraform", "--trail-name", "org"}, "--trail-name and --trail-bucket go with --ensure-trail"},
		{[]string{"export", "--format", "terraform", "--trail-bucket", "b-b-b"}, "--trail-name and --trail-bucket go with --ensure-trail"},
		{[]string{"export", "--format", "cloudformation", "--ensure-trail", "--account", "123456789012", "--trail-name", "x"}, `--trail-name "x"`},
		{[]string{"export", "--format", "cloudformation", "--ensure-trail", "--account", "123456789012", "--trail-bucket", "Bad_Bucket"}, `--trail-bucket "Bad_Bucket"`},
		{[]string{"export", "--format", "cloudformation", "--ensure-trail", "--account", "1234"}, "not a 12-digit AWS account id"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tc.args, code, out, errOut, tc.want)
		}
	}
	code, out, _ := runCLI(t, "", "export", "--help")
	if code != 0 || !strings.Contains(out, "--ensure-trail") || !strings.Contains(out, "--trail-bucket") {
		t.Errorf("export --help: exit %d\n%s", code, out)
	}
	// The same trail in every format, to stdout.
	for _, f := range []string{"cloudformation", "terraform", "aws-cli"} {
		code, out, errOut := runCLI(t, "", "export", "--format", f, "--rules", "testdata/setup-trail.yaml", "--ensure-trail", "--account", "123456789012", "--region", "eu-west-1")
		if code != 0 || !strings.Contains(out, "trailalarm-cloudtrail-123456789012") || !strings.Contains(out, "arn:aws:logs:eu-west-1:123456789012:log-group:CloudTrail/DefaultLogGroup:log-stream:*") {
			t.Errorf("export --format %s --ensure-trail: exit %d\n%s\n%s", f, code, out, errOut)
		}
	}
}
