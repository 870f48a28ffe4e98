package awssetup

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The trail of --ensure-trail in the export formats: the S3 bucket and its policy, the log
// group, the role CloudTrail assumes with its inline policy, and the trail (multi-region,
// logging, log file validation, management events read and write), with the names and policy
// documents of Desired.Trail, the same ones apply creates. The policies name the account, so
// Export needs d.Account with a trail.

// trailEventSelectors are the event selectors apply puts on the trail.
var trailEventSelectors = []map[string]any{{"ReadWriteType": "All", "IncludeManagementEvents": true}}

func checkTrailExport(d *Desired) error {
	if d.Trail != nil && d.Account == "" {
		return fmt.Errorf("exporting the trail needs the account id: its bucket policy, role policy and ARNs name it (give --account)")
	}
	return nil
}

// orderedJSON is the JSON document s as YAML values, objects as MapSlices in s's key order,
// so that a policy reads in the template as it reads in AWS's documentation.
func orderedJSON(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		panic(fmt.Sprintf("policy of our own is not JSON: %v", err)) // only documents built in desired.go
	}
	return v
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var m ms
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				m = append(m, mi{Key: k.(string), Value: v})
			}
			_, err := dec.Token()
			return m, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		return t.String(), nil
	}
	return tok, nil
}

// cfnTrail is the trail's resources in a CloudFormation template. The metric filters then
// depend on TrailLogGroup.
func cfnTrail(d *Desired) ms {
	t := d.Trail
	tags := cfnTags(ManagedTags())
	return ms{
		{Key: "TrailBucket", Value: ms{{Key: "Type", Value: "AWS::S3::Bucket"}, {Key: "Properties", Value: ms{
			{Key: "BucketName", Value: t.Bucket}, {Key: "Tags", Value: tags}}}}},
		{Key: "TrailBucketPolicy", Value: ms{{Key: "Type", Value: "AWS::S3::BucketPolicy"}, {Key: "Properties", Value: ms{
			{Key: "Bucket", Value: ms{{Key: "Ref", Value: "TrailBucket"}}},
			{Key: "PolicyDocument", Value: orderedJSON(t.BucketPolicy(d.Account))}}}}},
		{Key: "TrailLogGroup", Value: ms{{Key: "Type", Value: "AWS::Logs::LogGroup"}, {Key: "Properties", Value: ms{
			{Key: "LogGroupName", Value: t.LogGroup}, {Key: "Tags", Value: tags}}}}},
		{Key: "TrailRole", Value: ms{{Key: "Type", Value: "AWS::IAM::Role"}, {Key: "Properties", Value: ms{
			{Key: "RoleName", Value: t.RoleName}, {Key: "Description", Value: t.RoleDescription()},
			{Key: "AssumeRolePolicyDocument", Value: orderedJSON(t.TrustPolicy())},
			{Key: "Policies", Value: []any{ms{{Key: "PolicyName", Value: t.PolicyName}, {Key: "PolicyDocument", Value: orderedJSON(t.RolePolicy(d.Region, d.Account))}}}},
			{Key: "Tags", Value: tags}}}}},
		// CloudTrail checks the bucket policy when the trail is created; the log group and the
		// role are dependencies through Fn::GetAtt.
		{Key: "Trail", Value: ms{{Key: "Type", Value: "AWS::CloudTrail::Trail"}, {Key: "DependsOn", Value: "TrailBucketPolicy"}, {Key: "Properties", Value: ms{
			{Key: "TrailName", Value: t.Name},
			{Key: "S3BucketName", Value: ms{{Key: "Ref", Value: "TrailBucket"}}},
			{Key: "IsLogging", Value: true},
			{Key: "IsMultiRegionTrail", Value: true},
			{Key: "IncludeGlobalServiceEvents", Value: true},
			{Key: "EnableLogFileValidation", Value: true},
			{Key: "CloudWatchLogsLogGroupArn", Value: ms{{Key: "Fn::GetAtt", Value: []any{"TrailLogGroup", "Arn"}}}},
			{Key: "CloudWatchLogsRoleArn", Value: ms{{Key: "Fn::GetAtt", Value: []any{"TrailRole", "Arn"}}}},
			{Key: "EventSelectors", Value: []any{ms{{Key: "ReadWriteType", Value: "All"}, {Key: "IncludeManagementEvents", Value: true}}}},
			{Key: "Tags", Value: tags}}}}},
	}
}

// terraformTrail writes the trail's resources of a Terraform module. The metric filters then
// take their log group from aws_cloudwatch_log_group.trail.
func terraformTrail(p func(string, ...any), d *Desired) {
	t := d.Trail
	tags := hclMap("  ", ManagedTags())
	p("# The trail (--ensure-trail) and what it needs. The policies name account %s.\n", d.Account)
	p("resource \"aws_s3_bucket\" \"trail\" {\n  bucket = %s\n  tags = %s\n}\n\n", hclString(t.Bucket), tags)
	p("resource \"aws_s3_bucket_policy\" \"trail\" {\n  bucket = aws_s3_bucket.trail.id\n  policy = %s\n}\n\n", hclString(t.BucketPolicy(d.Account)))
	p("resource \"aws_cloudwatch_log_group\" \"trail\" {\n  name = %s\n  tags = %s\n}\n\n", hclString(t.LogGroup), tags)
	p("resource \"aws_iam_role\" \"trail\" {\n  name               = %s\n  description        = %s\n  assume_role_policy = %s\n  tags = %s\n}\n\n",
		hclString(t.RoleName), hclString(t.RoleDescription()), hclString(t.TrustPolicy()), tags)
	p("resource \"aws_iam_role_policy\" \"trail\" {\n  name   = %s\n  role   = aws_iam_role.trail.id\n  policy = %s\n}\n\n", hclString(t.PolicyName), hclString(t.RolePolicy(d.Region, d.Account)))
	p("resource \"aws_cloudtrail\" \"trail\" {\n")
	p("  name                          = %s\n", hclString(t.Name))
	p("  s3_bucket_name                = aws_s3_bucket.trail.id\n")
	p("  is_multi_region_trail         = true\n  include_global_service_events = true\n")
	p("  enable_logging                = true\n  enable_log_file_validation    = true\n")
	// The provider's log group arn lacks the ":*" CloudTrail wants.
	p("  cloud_watch_logs_group_arn    = \"${aws_cloudwatch_log_group.trail.arn}:*\"\n")
	p("  cloud_watch_logs_role_arn     = aws_iam_role.trail.arn\n")
	p("  tags = %s\n\n", tags)
	p("  event_selector {\n    read_write_type           = \"All\"\n    include_management_events = true\n  }\n\n")
	p("  depends_on = [aws_s3_bucket_policy.trail, aws_iam_role_policy.trail]\n}\n\n")
}

// shCreate is the shell function the aws-cli script runs create commands with: "already
// exists" is the one error it lets through, so that the script can run again.
const shCreate = `# create ERROR COMMAND...: run COMMAND, which creates something. Status 0 when it did, 1 when
# it failed with ERROR (the thing exists); any other failure stops the script.
create() {
    err=$1
    shift
    if out=$("$@" 2>&1); then
        return 0
    fi
    case $out in
    *"$err"*) return 1 ;;
    esac
    printf '%s\n' "$out" >&2
    exit 1
}

`

// cliTrail writes the AWS CLI commands apply's trail changes make, in apply's order: bucket,
// role, log group, trail, event selectors, logging.
func cliTrail(p func(string, ...any), d *Desired) {
	t := d.Trail
	tags := []map[string]string{{"Key": TagManaged, "Value": "true"}}
	p("# The trail (--ensure-trail) and what it needs. The policies name account %s: check the credentials are for it.\n", d.Account)
	p("test \"$(aws sts get-caller-identity --query Account --output text)\" = %s || {\n    echo %s >&2\n    exit 1\n}\n\n",
		ShellQuote(d.Account), ShellQuote("these credentials are not for account "+d.Account+": the trail's policies name it"))
	p("%s", shCreate)

	// The bucket: head-bucket first, as CreateBucket on a bucket one owns fails in some regions
	// and not in us-east-1; a bucket of someone else's fails head-bucket, then create-bucket.
	head := newCommand("s3api", "head-bucket", d.Region)
	head.opt("--bucket", t.Bucket)
	create := newCommand("s3api", "create-bucket", d.Region)
	create.opt("--bucket", t.Bucket)
	if d.Region != "us-east-1" {
		create.opt("--create-bucket-configuration", "LocationConstraint="+d.Region)
	}
	create.raw("--output text")
	p("%s 2>/dev/null ||\n%s\n", head, create)
	tag := newCommand("s3api", "put-bucket-tagging", d.Region)
	tag.opt("--bucket", t.Bucket)
	tag.opt("--tagging", jsonText(map[string]any{"TagSet": tags}))
	p("%s\n", tag)
	pol := newCommand("s3api", "put-bucket-policy", d.Region)
	pol.opt("--bucket", t.Bucket)
	pol.opt("--policy", t.BucketPolicy(d.Account))
	p("%s\n\n", pol)

	role := newCommand("iam", "create-role", d.Region)
	role.opt("--role-name", t.RoleName)
	role.opt("--assume-role-policy-document", t.TrustPolicy())
	role.opt("--description", t.RoleDescription())
	role.opt("--tags", jsonText(tags))
	trust := newCommand("iam", "update-assume-role-policy", d.Region)
	trust.opt("--role-name", t.RoleName)
	trust.opt("--policy-document", t.TrustPolicy())
	p("create EntityAlreadyExists %s ||\n%s\n", role, trust)
	rp := newCommand("iam", "put-role-policy", d.Region)
	rp.opt("--role-name", t.RoleName)
	rp.opt("--policy-name", t.PolicyName)
	rp.opt("--policy-document", t.RolePolicy(d.Region, d.Account))
	p("%s\n\n", rp)

	lg := newCommand("logs", "create-log-group", d.Region)
	lg.opt("--log-group-name", t.LogGroup)
	lg.opt("--tags", jsonText(ManagedTags()))
	p("create ResourceAlreadyExistsException %s ||\n    echo %s\n\n", lg, ShellQuote("log group "+t.LogGroup+" exists"))

	settings := func(c *command) {
		c.opt("--s3-bucket-name", t.Bucket)
		c.raw("--is-multi-region-trail")
		c.raw("--enable-log-file-validation")
		c.raw("--include-global-service-events")
		c.opt("--cloud-watch-logs-log-group-arn", LogGroupARN(d.Region, d.Account, t.LogGroup))
		c.opt("--cloud-watch-logs-role-arn", t.RoleARN(d.Account))
	}
	tr := newCommand("cloudtrail", "create-trail", d.Region)
	tr.opt("--name", t.Name)
	settings(tr)
	tr.opt("--tags-list", jsonText(tags))
	up := newCommand("cloudtrail", "update-trail", d.Region)
	up.opt("--name", t.Name)
	settings(up)
	up.raw("--query TrailARN --output text")
	p("create TrailAlreadyExistsException %s ||\n%s\n", tr, up)
	sel := newCommand("cloudtrail", "put-event-selectors", d.Region)
	sel.opt("--trail-name", t.Name)
	sel.opt("--event-selectors", jsonText(trailEventSelectors))
	sel.raw("--query TrailARN --output text")
	p("%s\n", sel)
	start := newCommand("cloudtrail", "start-logging", d.Region)
	start.opt("--name", t.Name)
	p("%s\n\n", start)
}
