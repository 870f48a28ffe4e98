package awssetup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const trailAccount = "111122223333"

func trailDesired(t *testing.T) *Desired {
	t.Helper()
	return exportDesired(t, func(o *Options) {
		o.EnsureTrail, o.Account, o.TrailName, o.TrailBucket = true, trailAccount, "org-trail", "org-trail-logs"
	})
}

// sameJSON says whether the YAML or JSON value got is the JSON document want.
func sameJSON(t *testing.T, got any, want string) bool {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%v: %v", got, err)
	}
	var g, w any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(g, w)
}

// The template with --ensure-trail, parsed back, holds the bucket and its policy, the log
// group, the role with its trust and inline policy, and the trail with apply's settings, each
// with the names and policies of Desired.Trail; the metric filters wait for the log group.
func TestExportCloudFormationTrail(t *testing.T) {
	d := trailDesired(t)
	tr := d.Trail
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatCloudFormation); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			DependsOn  string         `yaml:"DependsOn"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the template is not YAML: %v\n%s", err, buf.String())
	}
	byType := map[string]string{}
	filters := 0
	for id, r := range doc.Resources {
		if r.Type == "AWS::Logs::MetricFilter" {
			filters++
			if r.DependsOn != "TrailLogGroup" {
				t.Errorf("filter %s depends on %q, not the log group", id, r.DependsOn)
			}
			continue
		}
		if prev, dup := byType[r.Type]; dup && r.Type != "AWS::CloudWatch::Alarm" && r.Type != "AWS::SNS::Subscription" {
			t.Errorf("two %s: %s and %s", r.Type, prev, id)
		}
		byType[r.Type] = id
	}
	if filters != len(d.Filters) || len(doc.Resources) != 2*len(d.Filters)+3+5 {
		t.Fatalf("%d resources, %d filters; want %d", len(doc.Resources), filters, 2*len(d.Filters)+8)
	}
	res := func(typ string) map[string]any {
		id, ok := byType[typ]
		if !ok {
			t.Fatalf("no %s in the template:\n%s", typ, buf.String())
		}
		return doc.Resources[id].Properties
	}
	ref := func(id string) string { return "map[Ref:" + id + "]" }
	getAtt := func(id string) string { return "map[Fn::GetAtt:[" + id + " Arn]]" }
	tags := "[map[Key:trailalarm:managed Value:true]]"

	if b := res("AWS::S3::Bucket"); b["BucketName"] != "org-trail-logs" || byType["AWS::S3::Bucket"] != "TrailBucket" || fmt.Sprint(b["Tags"]) != tags {
		t.Errorf("bucket %v", b)
	}
	if bp := res("AWS::S3::BucketPolicy"); fmt.Sprint(bp["Bucket"]) != ref("TrailBucket") || !sameJSON(t, bp["PolicyDocument"], tr.BucketPolicy(trailAccount)) {
		t.Errorf("bucket policy %v", bp)
	}
	if lg := res("AWS::Logs::LogGroup"); lg["LogGroupName"] != "trail/logs" || byType["AWS::Logs::LogGroup"] != "TrailLogGroup" || fmt.Sprint(lg["Tags"]) != tags {
		t.Errorf("log group %v", lg)
	}
	role := res("AWS::IAM::Role")
	pols, _ := role["Policies"].([]any)
	if role["RoleName"] != TrailRoleName || role["Description"] != tr.RoleDescription() || !sameJSON(t, role["AssumeRolePolicyDocument"], tr.TrustPolicy()) ||
		len(pols) != 1 || fmt.Sprint(role["Tags"]) != tags {
		t.Fatalf("role %v", role)
	}
	pol := pols[0].(map[string]any)
	if pol["PolicyName"] != TrailRolePolicy || !sameJSON(t, pol["PolicyDocument"], tr.RolePolicy("eu-west-1", trailAccount)) ||
		!strings.Contains(tr.RolePolicy("eu-west-1", trailAccount), `"Resource":"arn:aws:logs:eu-west-1:111122223333:log-group:trail/logs:log-stream:*"`) {
		t.Errorf("role policy %v", pol)
	}
	trail := res("AWS::CloudTrail::Trail")
	if doc.Resources[byType["AWS::CloudTrail::Trail"]].DependsOn != "TrailBucketPolicy" {
		t.Errorf("the trail does not wait for the bucket policy")
	}
	for k, want := range map[string]string{
		"TrailName": "org-trail", "S3BucketName": ref("TrailBucket"), "IsLogging": "true", "IsMultiRegionTrail": "true",
		"IncludeGlobalServiceEvents": "true", "EnableLogFileValidation": "true",
		"CloudWatchLogsLogGroupArn": getAtt("TrailLogGroup"), "CloudWatchLogsRoleArn": getAtt("TrailRole"),
		"EventSelectors": "[map[IncludeManagementEvents:true ReadWriteType:All]]", "Tags": tags,
	} {
		if got := fmt.Sprint(trail[k]); got != want {
			t.Errorf("trail %s = %s, want %s", k, got, want)
		}
	}
	// Without --ensure-trail none of it, and no filter waits for a group.
	buf.Reset()
	if err := Export(&buf, exportDesired(t, nil), FormatCloudFormation); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "TrailLogGroup") || strings.Contains(s, "AWS::CloudTrail") || strings.Contains(s, "AWS::S3") || strings.Contains(s, "AWS::IAM") {
		t.Errorf("template without --ensure-trail mentions the trail:\n%s", s)
	}
}

// The module with --ensure-trail holds the trail's resources with apply's settings and
// policies; the filters take their log group from the module's aws_cloudwatch_log_group.
func TestExportTerraformTrail(t *testing.T) {
	d := trailDesired(t)
	tr := d.Trail
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatTerraform); err != nil {
		t.Fatal(err)
	}
	blocks, err := parseTerraform(buf.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	res := map[string]*tfBlock{}
	filters := 0
	for _, b := range blocks {
		if b.Type == "variable" && b.Labels[0] == "log_group_name" {
			t.Errorf("a log_group_name variable, while the module creates the group its role policy names")
		}
		if b.Type != "resource" {
			continue
		}
		if b.Labels[0] == "aws_cloudwatch_log_metric_filter" {
			filters++
			if b.Attrs["log_group_name"] != "aws_cloudwatch_log_group.trail.name" {
				t.Errorf("filter %v: log_group_name %s", b.Labels, b.Attrs["log_group_name"])
			}
			continue
		}
		res[b.Labels[0]+"."+b.Labels[1]] = b
	}
	if filters != len(d.Filters) {
		t.Errorf("%d filters, want %d", filters, len(d.Filters))
	}
	str := func(b *tfBlock, k string) string {
		v, err := unquoteHCL(b.Attrs[k])
		if err != nil {
			t.Errorf("%v %s = %s: %v", b.Labels, k, b.Attrs[k], err)
		}
		return v
	}
	get := func(name string) *tfBlock {
		b := res[name]
		if b == nil {
			t.Fatalf("no resource %s in the module:\n%s", name, buf.String())
		}
		if name != "aws_s3_bucket_policy.trail" && name != "aws_iam_role_policy.trail" && !strings.Contains(b.Attrs["tags"], `"trailalarm:managed" = "true"`) {
			t.Errorf("%s: tags %q", name, b.Attrs["tags"])
		}
		return b
	}
	if b := get("aws_s3_bucket.trail"); str(b, "bucket") != "org-trail-logs" {
		t.Errorf("bucket %v", b.Attrs)
	}
	if b := get("aws_s3_bucket_policy.trail"); b.Attrs["bucket"] != "aws_s3_bucket.trail.id" || str(b, "policy") != tr.BucketPolicy(trailAccount) {
		t.Errorf("bucket policy %v", b.Attrs)
	}
	if b := get("aws_cloudwatch_log_group.trail"); str(b, "name") != "trail/logs" {
		t.Errorf("log group %v", b.Attrs)
	}
	if b := get("aws_iam_role.trail"); str(b, "name") != TrailRoleName || str(b, "assume_role_policy") != tr.TrustPolicy() || str(b, "description") != tr.RoleDescription() {
		t.Errorf("role %v", b.Attrs)
	}
	if b := get("aws_iam_role_policy.trail"); str(b, "name") != TrailRolePolicy || b.Attrs["role"] != "aws_iam_role.trail.id" ||
		str(b, "policy") != tr.RolePolicy("eu-west-1", trailAccount) {
		t.Errorf("role policy %v", b.Attrs)
	}
	ct := get("aws_cloudtrail.trail")
	for k, want := range map[string]string{
		"s3_bucket_name": "aws_s3_bucket.trail.id", "is_multi_region_trail": "true", "include_global_service_events": "true",
		"enable_logging": "true", "enable_log_file_validation": "true",
		"cloud_watch_logs_group_arn": `"${aws_cloudwatch_log_group.trail.arn}:*"`, "cloud_watch_logs_role_arn": "aws_iam_role.trail.arn",
		"depends_on": "[aws_s3_bucket_policy.trail, aws_iam_role_policy.trail]",
	} {
		if ct.Attrs[k] != want {
			t.Errorf("aws_cloudtrail %s = %s, want %s", k, ct.Attrs[k], want)
		}
	}
	if str(ct, "name") != "org-trail" || len(ct.Blocks) != 1 || ct.Blocks[0].Type != "event_selector" ||
		ct.Blocks[0].Attrs["read_write_type"] != `"All"` || ct.Blocks[0].Attrs["include_management_events"] != "true" {
		t.Errorf("aws_cloudtrail %v, blocks %+v", ct.Attrs, ct.Blocks)
	}
}

// The script with --ensure-trail is valid sh, checks the account first, and runs apply's
// calls in apply's order, each create accepting only its own "already exists" error.
func TestExportAWSCLIScriptTrail(t *testing.T) {
	d := trailDesired(t)
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatAWSCLI); err != nil {
		t.Fatal(err)
	}
	script := buf.String()
	if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	order := []string{
		"aws sts get-caller-identity --query Account --output text)\" = 111122223333 ||",
		"aws s3api head-bucket", "aws s3api create-bucket", "--create-bucket-configuration LocationConstraint=eu-west-1",
		"aws s3api put-bucket-tagging", "aws s3api put-bucket-policy",
		"create EntityAlreadyExists aws iam create-role", "aws iam update-assume-role-policy", "aws iam put-role-policy",
		"create ResourceAlreadyExistsException aws logs create-log-group",
		"create TrailAlreadyExistsException aws cloudtrail create-trail", "aws cloudtrail update-trail",
		"aws cloudtrail put-event-selectors", "aws cloudtrail start-logging",
		"aws sns create-topic", "aws logs put-metric-filter",
	}
	at := 0
	for _, s := range order {
		i := strings.Index(script[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order after byte %d:\n%s", s, at, script)
		}
		at += i + len(s)
	}
	for _, want := range []string{
		"--policy " + ShellQuote(d.Trail.BucketPolicy(trailAccount)),
		"--policy-document " + ShellQuote(d.Trail.RolePolicy("eu-west-1", trailAccount)),
		"--assume-role-policy-document " + ShellQuote(d.Trail.TrustPolicy()),
		"--cloud-watch-logs-log-group-arn " + ShellQuote(LogGroupARN("eu-west-1", trailAccount, "trail/logs")),
		"--cloud-watch-logs-role-arn " + ShellQuote("arn:aws:iam::111122223333:role/"+TrailRoleName),
		`--event-selectors '[{"IncludeManagementEvents":true,"ReadWriteType":"All"}]'`,
	} {
		if strings.Count(script, want) < 1 {
			t.Errorf("script lacks %s", want)
		}
	}
	// us-east-1 takes no location constraint.
	buf.Reset()
	d = exportDesired(t, func(o *Options) { o.EnsureTrail, o.Account, o.Region = true, trailAccount, "us-east-1" })
	if err := Export(&buf, d, FormatAWSCLI); err != nil || strings.Contains(buf.String(), "LocationConstraint") ||
		!strings.Contains(buf.String(), "--bucket trailalarm-cloudtrail-111122223333") {
		t.Errorf("us-east-1 script: %v\n%s", err, buf.String())
	}
}

// The shell function create lets only the error it is given through.
func TestExportAWSCLICreateFunction(t *testing.T) {
	for _, tc := range []struct {
		cmd, want string
		fail      bool
	}{
		{"create Exists true && echo created", "created\n", false},
		{"create Exists sh -c 'echo An error occurred Exists >&2; exit 254' || echo exists", "exists\n", false},
		{"create Exists sh -c 'echo An error occurred AccessDenied >&2; exit 254' || echo exists; echo after", "An error occurred AccessDenied\n", true},
	} {
		out, err := exec.Command("sh", "-c", "set -eu\n"+shCreate+tc.cmd).CombinedOutput()
		if string(out) != tc.want || (err != nil) != tc.fail {
			t.Errorf("%s: %q, %v; want %q, failure %v", tc.cmd, out, err, tc.want, tc.fail)
		}
	}
}

func TestExportTrailNeedsAccount(t *testing.T) {
	d := exportDesired(t, func(o *Options) { o.EnsureTrail, o.TrailBucket = true, "my-bucket" })
	for _, f := range ExportFormats {
		if err := Export(&bytes.Buffer{}, d, f); err == nil || !strings.Contains(err.Error(), "give --account") {
			t.Errorf("Export(%s) of a trail without account = %v", f, err)
		}
	}
}

// lookTool finds a checker on PATH; only -short runs may go without it.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s not on PATH", name)
		}
		t.Fatalf("%s is not on PATH", name)
	}
	return p
}

// cfn-lint, which checks every resource's properties against CloudFormation's schemas, finds
// nothing in the templates, with and without the trail.
func TestExportCloudFormationLint(t *testing.T) {
	lint := lookTool(t, "cfn-lint")
	dir := t.TempDir()
	var files []string
	for name, d := range map[string]*Desired{"trail.yaml": trailDesired(t), "plain.yaml": exportDesired(t, func(o *Options) { o.TopicARN = "arn:aws:sns:eu-west-1:111122223333:secops" })} {
		var buf bytes.Buffer
		if err := Export(&buf, d, FormatCloudFormation); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if out, err := exec.Command(lint, files...).CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

// The modules are as terraform fmt writes them (which also parses them as HCL), with and
// without the trail.
func TestExportTerraformFmt(t *testing.T) {
	tf := lookTool(t, "terraform")
	for name, d := range map[string]*Desired{"trail": trailDesired(t), "plain": exportDesired(t, nil)} {
		var buf bytes.Buffer
		if err := Export(&buf, d, FormatTerraform); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tf, "fmt", "-no-color", "-")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: terraform fmt: %v\n%s", name, err, errOut.String())
		}
		if out.String() != buf.String() {
			t.Errorf("%s: terraform fmt changes the module:\n%s", name, lineDiff(buf.String(), out.String()))
		}
	}
}

// lineDiff lists the lines of a and b that differ, position by position.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d strings.Builder
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&d, "%d: -%s\n%d: +%s\n", i+1, x, i+1, y)
		}
	}
	return d.String()
}
