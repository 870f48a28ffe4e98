package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/awssetup/audit"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// auditRegionRE is what a region name looks like (us-east-1, ap-southeast-2, us-gov-west-1).
var auditRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func newAuditCmd() *cobra.Command {
	var (
		regions     []string
		profile     string
		endpointURL string
		pack        string
		logGroups   []string
		format      string
	)
	cmd := &cobra.Command{
		Use:   "audit [--region REGION ...] [--pack PACK] [--format text|json|asff]",
		Short: "Check an account against the CIS monitoring controls, as Security Hub does but by behaviour",
		Long: `Check an account and region against the CIS AWS Foundations monitoring controls, as AWS
Security Hub checks them: CloudWatch.1–14 (CIS v1.2 3.1–3.14) and AWS Organizations changes
(CIS 4.15 since v1.3), each a metric filter and an alarm; CloudTrail.1 (a multi-region trail logging
read and write management events), CloudTrail.4 (log file validation), CloudTrail.5 (trails
send to CloudWatch Logs), Security Hub enabled and Config.1 (AWS Config recording all
resources with its service-linked role).

A metric filter satisfies a control when it is behaviourally at least as strict as the CIS
pattern: trailalarm evaluates the account's pattern on the real CloudTrail records of that
control shipped with its rule packs, and the pattern must match every record the CIS pattern
matches. Spacing, quoting, clause order and parentheses do not matter; a pattern that misses an
event fails, and the report names the event (eventName, eventSource, eventID). The filter must
be on a log group a multi-region, logging trail sends to, and an alarm on its metric must fire
on one matching event within one period (for example Sum >= 1 or SampleCount > 0, one
datapoint to alarm), with an SNS topic action whose topic has a confirmed subscription.

For each control: pass, fail or not applicable, the evidence (trail, log group, filter, metric,
alarm, topic, subscriptions) and the fix: the 'trailalarm apply' command and the AWS CLI
commands.

--pack chooses the benchmark version of the metric controls: default (Security Hub's
CloudWatch.1–14 plus CIS 4.15), securityhub, or a CIS version such as cis-1.2 or cis-5.0.

Formats: text (for people), json (one document), asff (Security Hub findings, one per control
and region, as BatchImportFindings takes them).

Exit status: 0 when no control fails, 1 when one fails (for CI), 2 on errors (no credentials,
an unreachable endpoint, a missing permission).`,
		Example: `  trailalarm audit --region us-east-1
  trailalarm audit --region eu-west-1 --region us-east-1 --format json
  trailalarm audit --pack cis-1.2 --log-group CloudTrail/DefaultLogGroup
  trailalarm audit --format asff > findings.json &&
      aws securityhub batch-import-findings --cli-input-json file://findings.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Sprintf("unexpected argument %q", args[0]))
			}
			if !slices.Contains([]string{"text", "json", "asff"}, format) {
				return usageError(cmd, fmt.Sprintf("unknown --format %q: use text, json or asff", format))
			}
			for i, r := range regions {
				if !auditRegionRE.MatchString(r) {
					return usageError(cmd, fmt.Sprintf("invalid region %q: want a region name such as us-east-1", r))
				}
				if slices.Contains(regions[:i], r) {
					return usageError(cmd, fmt.Sprintf("region %s given twice", r))
				}
			}
			for _, g := range logGroups {
				if g == "" {
					return usageError(cmd, "--log-group is empty")
				}
			}
			refs, err := audit.Controls(pack)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			ctx := cmd.Context()
			if len(regions) == 0 {
				regions = []string{""} // the profile's or AWS_REGION
			}
			var (
				results []audit.Result
				account string
				done    []string
			)
			now := time.Now()
			for _, region := range regions {
				cfg, err := awsconf.Load(ctx, awsconf.Options{Region: region, Profile: profile, EndpointURL: endpointURL})
				if err != nil {
					return &exitCodeError{code: exitError, err: awsconf.Explain(err)}
				}
				a, err := audit.Gather(ctx, audit.NewClients(cfg), cfg.Region, logGroups)
				if err != nil {
					return &exitCodeError{code: exitError, err: explainAudit(cfg.Region, err)}
				}
				rs, err := audit.Evaluate(a, refs, audit.Options{Pack: pack, LogGroups: logGroups, Now: now})
				if err != nil {
					return &exitCodeError{code: exitError, err: err}
				}
				account = a.ID
				done = append(done, cfg.Region)
				results = append(results, rs...)
			}
			rep := audit.NewReport(account, pack, done, results)
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				err = rep.WriteJSON(out)
			case "asff":
				err = rep.WriteASFF(out, now)
			default:
				err = rep.WriteText(out)
			}
			if err != nil {
				return &exitCodeError{code: exitError, err: err}
			}
			if rep.Summary.Failed > 0 {
				return &exitCodeError{code: exitFound}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&regions, "region", nil, "AWS `REGION` to audit (repeatable; default: the profile's or AWS_REGION)")
	f.StringVar(&profile, "profile", "", "AWS `PROFILE` to use")
	f.StringVar(&endpointURL, "endpoint-url", "", "AWS endpoint `URL`, for emulators")
	f.StringVar(&pack, "pack", rules.DefaultPack, "the CIS version whose metric controls are checked: `PACK` default, securityhub, cis-1.2 … cis-7.0")
	f.StringArrayVar(&logGroups, "log-group", nil, "only metric filters on log group `NAME` count (repeatable; default: every log group a qualifying trail sends to)")
	f.StringVar(&format, "format", "text", "output `FORMAT`: text, json or asff")
	return cmd
}

// explainAudit turns an error of reading the account into one sentence naming the region and
// the call.
func explainAudit(region string, err error) error {
	var ce *audit.CallError
	if errors.As(err, &ce) {
		return fmt.Errorf("audit of %s, %s: %w", region, ce.Call, awsconf.Explain(ce.Err))
	}
	return fmt.Errorf("audit of %s: %w", region, awsconf.Explain(err))
}
