package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/awssetup"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// setupFlags are the flags plan, apply and export share.
type setupFlags struct {
	regions                []string
	packs, ruleFiles       []string
	params                 []string
	logGroup               string
	topicARN, createTopic  string
	subscribe              []string
	ensureTrail            bool
	trailName, trailBucket string
	prune, yes, all        bool
	exitCode               bool
	format, output         string
	account                string
	profile, endpointURL   string
}

func (f *setupFlags) addCommon(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.packs, "pack", nil, "built-in rule `PACK` to set up (repeatable; default: the default selection)")
	fl.StringArrayVar(&f.ruleFiles, "rules", nil, "rule `FILE` to set up (repeatable)")
	fl.StringArrayVar(&f.params, "param", nil, "`NAME=VALUE`: the value of rule parameter NAME, lists comma-separated (repeatable)")
	fl.StringVar(&f.topicARN, "topic-arn", "", "existing SNS topic `ARN` the alarms notify")
	fl.StringVar(&f.createTopic, "create-topic", "", "create (and manage) the SNS topic `NAME` the alarms notify (default "+awssetup.DefaultTopicName+")")
	fl.StringArrayVar(&f.subscribe, "subscribe", nil, "subscribe `PROTO:ENDPOINT` to the topic: email:ADDRESS, https://URL, sqs:QUEUE_ARN, lambda:FUNCTION_ARN (repeatable)")
}

func (f *setupFlags) addAWS(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.regions, "region", nil, "AWS `REGION` to set up (repeatable; default: the profile's or AWS_REGION)")
	fl.StringVar(&f.logGroup, "log-group", "", "CloudWatch Logs `GROUP` for the metric filters (default: the one the region's trail sends to, else "+awssetup.DefaultLogGroup+")")
	fl.BoolVar(&f.ensureTrail, "ensure-trail", false, "also set up a multi-region trail that logs management events to the log group (with its S3 bucket and IAM role)")
	fl.StringVar(&f.trailName, "trail-name", awssetup.DefaultTrailName, "`NAME` of the trail --ensure-trail manages")
	fl.StringVar(&f.trailBucket, "trail-bucket", "", "S3 `BUCKET` for the trail's log files (default trailalarm-cloudtrail-ACCOUNT; created)")
	fl.BoolVar(&f.prune, "prune", false, "delete trailalarm's metric filters and alarms whose rules are no longer selected")
	fl.StringVar(&f.profile, "profile", "", "AWS `PROFILE` to use")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "AWS endpoint `URL` for every service, for emulators (overrides AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which the SDK reads too)")
}

const setupLong = `
Resources: for every selected rule a metric filter on the log group (the rule's pattern, with
--param values filled in, and its metric) and an alarm (the rule's alarm settings, the topic as
action); the SNS topic and its subscriptions; with --ensure-trail a multi-region trail with log
file validation that sends management events (read and write) to the log group, its S3 bucket
and the IAM role CloudTrail uses to write to CloudWatch Logs.

trailalarm's resources are named trailalarm-RULE (metric filters and alarms: "cis-1.2:3.1"
becomes trailalarm-cis-1.2-3.1) and tagged trailalarm:managed=true (alarms also
trailalarm:rule=RULE). Metric filters cannot carry tags: for them the name prefix is the mark,
so do not give your own filters that prefix. Nothing else is ever changed or deleted; a name
trailalarm wants that belongs to something else is an error that says what to do.`

func newPlanCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would create, change or delete in AWS, resource by resource",
		Long: `Compare the AWS-native monitoring of the selected rules with what the account has, per region,
and print what apply would do: each resource to create, update (with the fields that differ),
leave alone or delete (--prune). Nothing is changed.
` + setupLong,
		Example: `  trailalarm plan --pack cis-1.2 --region eu-west-1 --subscribe email:secops@example.com
  trailalarm plan --format json --region us-east-1 --region eu-west-1 --topic-arn arn:aws:sns:us-east-1:111122223333:secops`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPlanApply(cmd, f, false) },
	}
	f.addCommon(cmd)
	f.addAWS(cmd)
	cmd.Flags().StringVar(&f.format, "format", "text", "output `FORMAT`: text or json")
	cmd.Flags().BoolVar(&f.all, "all", false, "text: list unchanged resources too")
	cmd.Flags().BoolVar(&f.exitCode, "exit-code", false, "exit 1 when apply would change anything (drift, for CI)")
	return cmd
}

func newApplyCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Create or update the AWS-native monitoring of the selected rules (idempotent)",
		Long: `Make the account match the plan (see 'trailalarm plan'): print the plan, ask for confirmation
on standard input (answer yes; --yes skips the question), and carry it out. A second apply
changes nothing. Throttled calls are retried; any other failure stops apply with the
resource, the call and what to do, and what was done stays done: run apply again.
` + setupLong,
		Example: `  trailalarm apply --pack cis-1.2 --region eu-west-1 --create-topic cis-alarms --subscribe email:secops@example.com
  trailalarm apply --ensure-trail --yes
  trailalarm apply --pack securityhub --prune --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPlanApply(cmd, f, true) },
	}
	f.addCommon(cmd)
	f.addAWS(cmd)
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "apply without asking")
	return cmd
}

func newExportCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the AWS-native monitoring as CloudFormation, Terraform or AWS CLI commands",
		Long: `Print the metric filters, alarms, SNS topic and subscriptions that apply would create, as a
CloudFormation template (YAML), a Terraform module (variables log_group_name and topic_name or
topic_arn), or a POSIX shell script of AWS CLI commands (aws logs put-metric-filter and
aws cloudwatch put-metric-alarm per rule). No AWS call is made. Rules that use ${account_id}
need --account.

With --ensure-trail (and --account, which the trail's policies name) the output also holds
what apply --ensure-trail creates: the S3 bucket with the policy CloudTrail needs, the log
group, the IAM role CloudTrail assumes to write to it, and a multi-region trail with log file
validation that logs management events (read and write) to the group. The Terraform module
then creates the log group instead of taking the variable log_group_name. The script accepts
"already exists" from its create calls, so that it can run again, and stops first when the
credentials are not for --account.`,
		Example: `  trailalarm export --format cloudformation --pack cis-1.2 > cis.yaml
  trailalarm export --format cloudformation --pack cis-1.4 --ensure-trail --account 111122223333 --log-group org/trail
  trailalarm export --format terraform --pack securityhub --output trailalarm.tf
  trailalarm export --format aws-cli --topic-arn arn:aws:sns:eu-west-1:111122223333:secops --region eu-west-1 | sh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(cmd, f) },
	}
	f.addCommon(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "`FORMAT`: cloudformation, terraform or aws-cli (required)")
	fl.StringArrayVar(&f.regions, "region", nil, "AWS `REGION` (one; default: AWS_REGION, else us-east-1)")
	fl.BoolVar(&f.ensureTrail, "ensure-trail", false, "also export the multi-region trail that logs management events to the log group, its S3 bucket and IAM role (needs --account)")
	fl.StringVar(&f.trailName, "trail-name", awssetup.DefaultTrailName, "`NAME` of the trail --ensure-trail exports")
	fl.StringVar(&f.trailBucket, "trail-bucket", "", "S3 `BUCKET` for the trail's log files (default trailalarm-cloudtrail-ACCOUNT)")
	fl.StringVar(&f.logGroup, "log-group", awssetup.DefaultLogGroup, "CloudWatch Logs `GROUP` for the metric filters")
	fl.StringVar(&f.account, "account", "", "AWS account `ID`, for rules that use ${account_id} and for the topic's ARN")
	fl.StringVarP(&f.output, "output", "o", "", "write to `FILE` instead of stdout")
	return cmd
}

var (
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	logGroupRE  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	trailNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
	bucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// setupRules checks the flags plan, apply and export share and returns the selected rules,
// bound, with the parameter values and the subscriptions.
func setupRules(cmd *cobra.Command, f *setupFlags) ([]*rules.Rule, map[string]string, []awssetup.Subscription, error) {
	for _, r := range f.regions {
		if !regionRE.MatchString(r) {
			return nil, nil, nil, usageError(cmd, fmt.Sprintf("--region %q is not an AWS region name such as eu-west-1", r))
		}
	}
	if f.topicARN != "" && f.createTopic != "" {
		return nil, nil, nil, usageError(cmd, "give --topic-arn or --create-topic, not both")
	}
	if f.createTopic != "" && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`).MatchString(f.createTopic) {
		return nil, nil, nil, usageError(cmd, fmt.Sprintf("--create-topic %q: a topic name has 1 to 256 letters, digits, '-' or '_'", f.createTopic))
	}
	if f.logGroup != "" && !logGroupRE.MatchString(f.logGroup) {
		return nil, nil, nil, usageError(cmd, fmt.Sprintf("--log-group %q: a log group name has 1 to 512 letters, digits and . - _ / #", f.logGroup))
	}
	if f.ensureTrail && !trailNameRE.MatchString(f.trailName) {
		return nil, nil, nil, usageError(cmd, fmt.Sprintf("--trail-name %q: a trail name has 3 to 128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit", f.trailName))
	}
	if f.ensureTrail && f.trailBucket != "" && !bucketRE.MatchString(f.trailBucket) {
		return nil, nil, nil, usageError(cmd, fmt.Sprintf("--trail-bucket %q: a bucket name has 3 to 63 lowercase letters, digits, '.' or '-'", f.trailBucket))
	}
	if f.account != "" && (len(f.account) != 12 || strings.Trim(f.account, "0123456789") != "") {
		return nil, nil, nil, usageError(cmd, fmt.Sprintf("--account %q is not a 12-digit AWS account id", f.account))
	}
	subs, err := awssetup.ParseSubscriptions(f.subscribe)
	if err != nil {
		return nil, nil, nil, usageError(cmd, err.Error())
	}
	params, err := rules.ParseParamFlags(f.params)
	if err != nil {
		return nil, nil, nil, usageError(cmd, err.Error())
	}
	selected, err := selectRules(f.packs, f.ruleFiles)
	if err != nil {
		return nil, nil, nil, usageError(cmd, err.Error())
	}
	bound, err := bindParams(cmd.ErrOrStderr(), selected, params, "--param")
	if err != nil {
		return nil, nil, nil, &exitCodeError{code: exitError, err: err}
	}
	return bound, params, subs, nil
}

func (f *setupFlags) options(region, account, logGroup string, params map[string]string, subs []awssetup.Subscription) awssetup.Options {
	return awssetup.Options{Region: region, Account: account, LogGroup: logGroup, TopicARN: f.topicARN, TopicName: f.createTopic,
		Subscriptions: subs, EnsureTrail: f.ensureTrail, TrailName: f.trailName, TrailBucket: f.trailBucket, Params: params}
}

func runPlanApply(cmd *cobra.Command, f setupFlags, doApply bool) error {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	if !doApply && f.format != "text" && f.format != "json" {
		return usageError(cmd, fmt.Sprintf("--format %q: use text or json", f.format))
	}
	if f.ensureTrail && len(f.regions) > 1 {
		return usageError(cmd, "--ensure-trail takes one --region: a multi-region trail lives in one home region, whose log group carries the filters")
	}
	rs, params, subs, err := setupRules(cmd, &f)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	regions := f.regions
	if len(regions) == 0 {
		regions = []string{""} // the profile's or AWS_REGION
	}
	type regionPlan struct {
		clients *awssetup.Clients
		plan    *awssetup.Plan
	}
	var plans []regionPlan
	for _, region := range regions {
		c, p, err := planRegion(ctx, f, region, rs, params, subs)
		if err != nil {
			return fail(err)
		}
		plans = append(plans, regionPlan{c, p})
	}
	out := cmd.OutOrStdout()
	if !doApply && f.format == "json" {
		doc := struct {
			Plans []*awssetup.Plan `json:"plans"`
		}{}
		for _, rp := range plans {
			doc.Plans = append(doc.Plans, rp.plan)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return fail(err)
		}
	}
	pending := false
	for _, rp := range plans {
		if doApply || f.format == "text" {
			rp.plan.WriteText(out, f.all)
		}
		pending = pending || rp.plan.Pending()
	}
	if !doApply {
		if pending && f.exitCode {
			return &exitCodeError{code: exitFound}
		}
		return nil
	}
	if !pending {
		fmt.Fprintln(out, "Nothing to do: AWS matches the plan.")
		return nil
	}
	if !f.yes {
		fmt.Fprint(cmd.ErrOrStderr(), "Apply these changes? Only 'yes' is accepted: ")
		line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			return fail(fmt.Errorf("apply cancelled: nothing was changed (answer yes, or pass --yes)"))
		}
	}
	for _, rp := range plans {
		if !rp.plan.Pending() {
			continue
		}
		if err := awssetup.Apply(ctx, rp.clients, rp.plan, out); err != nil {
			return fail(err)
		}
		fmt.Fprintf(out, "%s: applied (%s)\n", rp.plan.Region, rp.plan.Summary())
	}
	return nil
}

// planRegion loads the configuration of one region and plans it.
func planRegion(ctx context.Context, f setupFlags, region string, rs []*rules.Rule, params map[string]string, subs []awssetup.Subscription) (*awssetup.Clients, *awssetup.Plan, error) {
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: region, Profile: f.profile, EndpointURL: f.endpointURL})
	if err != nil {
		return nil, nil, awsconf.Explain(err)
	}
	cfg.Retryer = func() aws.Retryer { return awssetup.Retryer() }
	c := awssetup.NewClients(cfg)
	account, err := c.AccountID(ctx)
	if err != nil {
		return nil, nil, err
	}
	logGroup := f.logGroup
	if logGroup == "" {
		if logGroup, err = c.TrailLogGroup(ctx); err != nil {
			return nil, nil, err
		}
	}
	d, err := awssetup.Build(rs, f.options(cfg.Region, account, logGroup, params, subs))
	if err != nil {
		return nil, nil, err
	}
	p, err := awssetup.MakePlan(ctx, c, d, f.prune)
	if err != nil {
		return nil, nil, fmt.Errorf("region %s: %w", cfg.Region, err)
	}
	return c, p, nil
}

func runExport(cmd *cobra.Command, f setupFlags) error {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	if f.format == "" {
		return usageError(cmd, "--format is required: cloudformation, terraform or aws-cli")
	}
	if !slices.Contains(awssetup.ExportFormats, f.format) {
		return usageError(cmd, fmt.Sprintf("--format %q: use cloudformation, terraform or aws-cli", f.format))
	}
	if f.logGroup == "" {
		return usageError(cmd, "--log-group is empty")
	}
	switch {
	case f.ensureTrail && len(f.regions) > 1:
		return usageError(cmd, "--ensure-trail takes one --region: a multi-region trail lives in one home region, whose log group carries the filters")
	case len(f.regions) > 1:
		return usageError(cmd, "export writes one region: give --region once, and run export again for another region")
	case !f.ensureTrail && (cmd.Flags().Changed("trail-name") || cmd.Flags().Changed("trail-bucket")):
		return usageError(cmd, "--trail-name and --trail-bucket go with --ensure-trail")
	case f.ensureTrail && f.account == "":
		return usageError(cmd, "--ensure-trail needs --account: the trail's bucket policy, role policy and ARNs name the account")
	}
	rs, params, subs, err := setupRules(cmd, &f)
	if err != nil {
		return err
	}
	region := os.Getenv("AWS_REGION")
	if len(f.regions) > 0 {
		region = f.regions[0]
	}
	if region == "" {
		region = "us-east-1"
	}
	d, err := awssetup.Build(rs, f.options(region, f.account, f.logGroup, params, subs))
	if err != nil {
		return fail(err)
	}
	var w io.Writer = cmd.OutOrStdout()
	var file *os.File
	if f.output != "" {
		if file, err = os.Create(f.output); err != nil {
			return fail(err)
		}
		w = file
	}
	if err := awssetup.Export(w, d, f.format); err != nil {
		if file != nil {
			file.Close()
		}
		return fail(err)
	}
	for _, wn := range d.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "trailalarm: warning:", wn)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fail(err)
		}
	}
	return nil
}
