package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/filterpattern"
)

// The built-in packs are generated from testdata/cis-patterns.json and the topic texts below;
// the YAML files are what the binary embeds. After changing either, run
//
//	go test ./internal/rules -run TestPacksUpToDate -update
var update = flag.Bool("update", false, "rewrite packs/*.yaml from testdata/cis-patterns.json")

// cisEntry is one record of cis-patterns.json.
type cisEntry struct {
	Benchmark        string  `json:"benchmark"`
	Control          string  `json:"control"`
	SecurityHub      *string `json:"securityhub"`
	Title            string  `json:"title"`
	Pattern          *string `json:"pattern"`
	PatternCorrected *string `json:"pattern_corrected"`
	Source           string  `json:"source"`
	Variant          string  `json:"variant"`
	Topic            string  `json:"topic"`
	BenchmarkName    string  `json:"benchmark_name"`
	Notes            *string `json:"notes"`
}

func readCISPatterns(t testing.TB) []cisEntry {
	t.Helper()
	data, err := os.ReadFile("testdata/cis-patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []cisEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	return entries
}

// packName maps a benchmark of cis-patterns.json to the pack holding it.
func packName(benchmark string) string {
	if benchmark == "aws-securityhub" {
		return "securityhub"
	}
	return benchmark
}

// chosen reports whether an entry becomes a rule: the benchmark's own remediation command for
// CIS versions (not the SSO alternative, not the audit text), the required pattern for Security
// Hub; controls without a pattern (Security Hub enabled, 4.16/5.16) are not metric filters.
func chosen(e cisEntry) bool {
	return e.Pattern != nil && (e.Variant == "remediation" || e.Variant == "securityhub-required")
}

// rulePattern is the pattern a pack rule uses: the verbatim one, except where the transcription
// cannot be parsed at all and the reference gives a correction (cis-1.3 4.4, `$eventName`):
// CloudWatch Logs rejects such a pattern, so a rule could not be deployed with it.
func rulePattern(t testing.TB, e cisEntry) (pattern string, corrected bool) {
	if e.PatternCorrected != nil {
		if _, err := filterpattern.Parse(*e.Pattern); err != nil {
			return *e.PatternCorrected, true
		}
	}
	return *e.Pattern, false
}

// topic holds what a rule says about a topic, whatever the version.
type topic struct {
	title, metric, description, remediation string
	severity                                Severity
	mitre                                   []string
}

var topics = map[string]topic{
	"root_usage": {
		title: "Root user activity", metric: "RootAccountUsage", severity: SeverityCritical,
		mitre: []string{"T1078.004"},
		description: `The account's root user made a request itself (not through an AWS service acting for it).
The root user has unrestricted access that no policy can limit; day-to-day work should never
use it, so any root activity is either one of the few tasks that require it or a sign that its
credentials are in the wrong hands.`,
		remediation: `Confirm with the account owner that the root user was used on purpose and for a task that
requires it. If not: change the root password, remove any root access keys, check the root MFA
device, and review what the root user did (CloudTrail, userIdentity.type = Root). Keep the root
user locked away with hardware MFA and no access keys.`,
	},
	"unauthorized_api_calls": {
		title: "Unauthorized API calls", metric: "UnauthorizedAPICalls", severity: SeverityMedium,
		description: `API calls refused with an authorization error (*UnauthorizedOperation, AccessDenied*). A
few are normal (misconfigured tools, least-privilege roles probing); a burst can mean someone is
exploring what stolen credentials allow, or that an application lost a permission.`,
		remediation: `Find the principals and actions behind the errors (userIdentity.arn, eventName, errorCode).
Expected noise from known tools can be tuned away; an unknown principal, an unusual source IP or
many different denied actions in a short time should be treated as credential misuse: disable the
keys or revoke the sessions and investigate.`,
	},
	"console_signin_without_mfa": {
		title: "Console sign-in without MFA", metric: "ConsoleSigninWithoutMFA", severity: SeverityHigh,
		mitre: []string{"T1078.004"},
		description: `Someone signed in to the AWS Management Console without multi-factor authentication. A
password alone is easy to phish or reuse; every console user should have MFA.`,
		remediation: `Identify the user (userIdentity.arn) and confirm the sign-in. Enforce MFA for that user (an
IAM policy that denies everything without aws:MultiFactorAuthPresent, or move the user to IAM
Identity Center), and rotate the password if the sign-in was not expected.`,
	},
	"iam_policy_changes": {
		title: "IAM policy changes", metric: "IAMPolicyChanges", severity: SeverityHigh,
		mitre: []string{"T1098"},
		description: `An IAM policy was created, changed, deleted, attached or detached (managed or inline, on a
user, group or role). Changing policies is how permissions are granted, including to an
attacker's own identities.`,
		remediation: `Check who changed which policy (userIdentity.arn, requestParameters) and whether it came from
your deployment pipeline. Review the resulting permissions; revert changes that nobody can
explain and investigate the principal that made them.`,
	},
	"cloudtrail_config_changes": {
		title: "CloudTrail configuration changes", metric: "CloudTrailChanges", severity: SeverityHigh,
		mitre: []string{"T1562.008"},
		description: `A trail was created, updated or deleted, or its logging was started or stopped. Stopping or
redirecting CloudTrail is a classic first step to act unseen.`,
		remediation: `Confirm the change was planned. If logging was stopped or a trail deleted without reason,
restore it at once (StartLogging, or re-create the trail), then investigate what the principal
did before and after; CloudTrail's event history keeps 90 days of management events even
without a trail.`,
	},
	"console_auth_failures": {
		title: "Console authentication failures", metric: "ConsoleAuthenticationFailure", severity: SeverityMedium,
		mitre: []string{"T1110"},
		description: `Console sign-in attempts failed with "Failed authentication". Occasional typos are normal;
repeated failures, for one user or from one address, suggest password guessing.`,
		remediation: `Look at the user names and source IP addresses of the failures. For a brute-force pattern,
block the addresses where possible, make sure the targeted users have MFA, and reset the
passwords of users that then signed in successfully from the same addresses.`,
	},
	"cmk_disable_or_scheduled_deletion": {
		title: "KMS key disabled or scheduled for deletion", metric: "DisableOrDeleteCMK", severity: SeverityHigh,
		mitre: []string{"T1485"},
		description: `A customer managed KMS key was disabled or scheduled for deletion. Data encrypted under a
deleted key cannot be recovered, so this can destroy data or break applications.`,
		remediation: `Confirm the change with the key's owner. If it was not intended, cancel the deletion
(CancelKeyDeletion) within the waiting period and enable the key again (EnableKey), then restrict
kms:ScheduleKeyDeletion and kms:DisableKey to the few principals that need them.`,
	},
	"s3_bucket_policy_changes": {
		title: "S3 bucket policy changes", metric: "S3BucketPolicyChanges", severity: SeverityMedium,
		description: `An S3 bucket's ACL, policy, CORS, lifecycle or replication configuration was changed or
removed. Such changes can expose a bucket publicly, copy its data elsewhere or delete it on a
schedule.`,
		remediation: `Review the new configuration of the bucket (requestParameters.bucketName): public access,
principals from other accounts, replication destinations, expiration rules. Revert what is not
intended, and keep S3 Block Public Access on at the account level.`,
	},
	"aws_config_changes": {
		title: "AWS Config configuration changes", metric: "AWSConfigChanges", severity: SeverityHigh,
		mitre: []string{"T1562.001"},
		description: `The AWS Config recorder was stopped or changed, or its delivery channel was changed or
deleted. Without Config, resource changes are no longer recorded or evaluated.`,
		remediation: `Confirm the change was planned. Otherwise restart the recorder (StartConfigurationRecorder),
restore the delivery channel, and check what changed in the account while recording was off.`,
	},
	"security_group_changes": {
		title: "Security group changes", metric: "SecurityGroupChanges", severity: SeverityMedium,
		mitre: []string{"T1562.007"},
		description: `A security group was created or deleted, or its rules changed. Security groups are the
instance-level firewall; an opened rule can expose a service to the internet.`,
		remediation: `Review the changed rules (requestParameters): anything open to 0.0.0.0/0 or ::/0, especially
on administrative ports, needs an owner and a reason. Revert unexplained changes.`,
	},
	"nacl_changes": {
		title: "Network ACL changes", metric: "NetworkACLChanges", severity: SeverityMedium,
		mitre: []string{"T1562.007"},
		description: `A network ACL or one of its entries was created, replaced or deleted, or a subnet's NACL
association changed. NACLs are the subnet-level firewall.`,
		remediation: `Review the ACL entries that changed and the subnets they apply to; revert entries that open
traffic nobody asked for.`,
	},
	"network_gateway_changes": {
		title: "Network gateway changes", metric: "NetworkGatewayChanges", severity: SeverityMedium,
		description: `An internet gateway or customer gateway was created, deleted, attached or detached. Gateways
decide what can reach a VPC from outside and where its traffic can leave.`,
		remediation: `Check that the gateway change was planned and that the VPCs concerned are meant to be
reachable from the internet or the on-premises network; detach gateways nobody owns.`,
	},
	"route_table_changes": {
		title: "Route table changes", metric: "RouteTableChanges", severity: SeverityMedium,
		description: `A route or route table was created, replaced, deleted, or (dis)associated from a subnet.
Routes decide where traffic goes; a changed route can send traffic through an unexpected path.`,
		remediation: `Review the new routes (destination, target) of the route tables concerned; revert routes that
point traffic to gateways, instances or peering connections nobody expects.`,
	},
	"vpc_changes": {
		title: "VPC changes", metric: "VPCChanges", severity: SeverityMedium,
		description: `A VPC was created, deleted or modified, or a VPC peering connection (or ClassicLink) was set up
or removed. Peering and VPC attributes change which networks can talk to each other.`,
		remediation: `Check that the VPC or peering change was planned; pay attention to peering with accounts you
do not own. Remove peering connections and VPCs nobody can account for.`,
	},
	"organizations_changes": {
		title: "AWS Organizations changes", metric: "OrganizationsChanges", severity: SeverityHigh,
		mitre: []string{"T1666"},
		description: `A change to the AWS Organization: accounts created, invited, moved or removed, organizational
units or policies (SCPs and others) created, changed, attached or detached, handshakes accepted
or declined, or the organization deleted. These changes move guardrails for every account.`,
		remediation: `Confirm the change with the organization's administrators. Re-attach service control
policies that were detached or weakened, and investigate accounts that left or were removed
from the organization without a plan.`,
	},
}

var versionRE = regexp.MustCompile(`v[0-9]+\.[0-9]+\.[0-9]+`)

// relatedRE reads "CIS v1.2.0 1.1, 3.3" out of a Security Hub entry's notes.
var relatedRE = regexp.MustCompile(`CIS (v[0-9.]+) ([0-9.]+(?:, [0-9.]+)*)`)

// ruleNotes are the known problems of a pattern, shown by 'rules show'. Provenance goes into
// the YAML comments instead.
func ruleNotes(e cisEntry, corrected bool, pack string) string {
	var notes []string
	add := func(s string) { notes = append(notes, s) }
	switch e.Topic {
	case "unauthorized_api_calls":
		switch pack {
		case "cis-1.3", "cis-1.4", "cis-1.5":
			add(`This version's pattern is broken: it ORs ($.sourceIPAddress!="delivery.logs.amazonaws.com") and
($.eventName!="HeadBucket") with the error conditions, so it matches nearly every CloudTrail
event (anything not from delivery.logs.amazonaws.com, or any event that is not HeadBucket). It is
kept verbatim because this pack is the benchmark as written; expect the alarm to fire on almost
all activity. CIS v2.0.0 joined the two exclusions with && instead.`)
		case "securityhub":
			add(`Security Hub requires the CIS v1.2.0 pattern exactly; adding the HeadBucket and
delivery.logs exclusions of later CIS versions makes CloudWatch.2 fail.`)
		case "cis-1.2":
		default:
			add(`The pattern reads A || B && C && D without brackets. && binds more tightly than || (as in
CloudWatch Logs), so it means A || (B && C && D): the delivery.logs.amazonaws.com and HeadBucket
exclusions apply only to AccessDenied* errors, not to *UnauthorizedOperation ones.`)
		}
	case "console_signin_without_mfa":
		if e.Variant == "securityhub-required" {
			add(`This is the variant that counts only successful IAM-user sign-ins. AWS's own remediation
(Automated Security Response) still deploys the two-clause CIS pattern; whether Security Hub
accepts that one too is not documented.`)
		} else {
			add(`!= does not match a missing field, so sign-ins whose record has no
additionalEventData.MFAUsed are not counted. Federated and IAM Identity Center sign-ins record
MFAUsed "No" (MFA happens at the identity provider) and make this pattern noisy; from v1.4.0 CIS
offers an alternative restricted to successful IAM-user sign-ins, which is the pattern of the
securityhub pack's CloudWatch.3.`)
		}
	case "iam_policy_changes":
		if corrected {
			add(fmt.Sprintf(`The transcription of this version writes $eventName (no dot) for DetachRolePolicy and
DetachGroupPolicy:

%s

CloudWatch Logs rejects that pattern, so this rule uses the corrected text from the reference
(the two dots restored); nothing else differs.`, *e.Pattern))
		}
	case "security_group_changes":
		if !strings.Contains(*e.Pattern, "ModifySecurityGroupRules") {
			add(`Does not include ModifySecurityGroupRules, the API that changes existing rules in place (CIS
added it in v5.0.0): rule changes made that way are not counted.`)
		}
	case "route_table_changes":
		switch pack {
		case "cis-3.0", "cis-4.0", "cis-5.0", "cis-6.0", "cis-7.0":
			add(`This is the benchmark's remediation command. Its audit step expects a different pattern,
{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ...}, in which && binds
only to the first eventName; an account set up with one fails an audit that looks for the other.`)
		}
	case "organizations_changes":
		if e.Notes != nil && strings.Contains(*e.Notes, "typo") {
			add(`The CIS v6.0.0 text has a typo, ($.eventName = AcceptHandshake") with the opening quote
missing, which CloudWatch Logs rejects; the pattern here has the quote restored, as in the
reference transcription.`)
		}
		add(`CancelHandshake, CreateOrganization and EnableAllFeatures are not in the list.`)
	}
	if pack == "securityhub" {
		add(fmt.Sprintf(`Security Hub passes %s only when a metric filter uses exactly this pattern (it compares the
text, not the meaning): do not add terms if the control must pass.`, e.Control))
	}
	return strings.Join(notes, "\n\n")
}

// generatePacks renders every pack's YAML file from the reference entries.
func generatePacks(t testing.TB, entries []cisEntry) map[string][]byte {
	t.Helper()
	byPack := map[string][]cisEntry{}
	variants := map[string][]string{} // pack + control → the variants the reference lists
	var order []string
	for _, e := range entries {
		p := packName(e.Benchmark)
		if _, ok := byPack[p]; !ok {
			order = append(order, p)
		}
		byPack[p] = append(byPack[p], e)
		variants[p+" "+e.Control] = append(variants[p+" "+e.Control], e.Variant)
	}
	out := map[string][]byte{}
	for _, p := range order {
		var b bytes.Buffer
		es := byPack[p]
		fmt.Fprintf(&b, "# Generated from testdata/cis-patterns.json by TestPacksUpToDate (gen_test.go); edit the\n")
		fmt.Fprintf(&b, "# generator and run `go test ./internal/rules -run TestPacksUpToDate -update`, not this file.\n")
		fmt.Fprintf(&b, "# Patterns are verbatim, quirks included: a pack named after a version is that version.\n")
		fmt.Fprintf(&b, "pack: %s\n", p)
		name := es[0].BenchmarkName
		if p == "securityhub" {
			fmt.Fprintf(&b, "description: AWS Security Hub CloudWatch.1–14, the metric filters its CIS v1.2.0 and v1.4.0 standards require, patterns as Security Hub documents them\n")
		} else {
			fmt.Fprintf(&b, "description: %s, monitoring section, the benchmark's remediation patterns verbatim\n", name)
		}
		fmt.Fprintf(&b, "rules:\n")
		for _, e := range es {
			if !chosen(e) {
				fmt.Fprintf(&b, "  # %s %s (%s) is not a metric filter control: %s\n", p, e.Control, e.Title, deref(e.Notes))
				continue
			}
			tp, ok := topics[e.Topic]
			if !ok {
				t.Fatalf("no topic text for %q", e.Topic)
			}
			pattern, corrected := rulePattern(t, e)
			id := p + ":" + e.Control
			version := versionRE.FindString(name)
			fmt.Fprintf(&b, "\n  # %s %s, variant %q", name, e.Control, e.Variant)
			if vs := variants[p+" "+e.Control]; len(vs) > 1 {
				fmt.Fprintf(&b, " (the benchmark's own remediation command; the reference also lists %s)", strings.Join(without(vs, e.Variant), ", "))
			}
			fmt.Fprintf(&b, ".\n  # Source: %s\n", e.Source)
			if e.Notes != nil {
				fmt.Fprintf(&b, "  # Reference note: %s\n", *e.Notes)
			}
			if corrected {
				fmt.Fprintf(&b, "  # Pattern: pattern_corrected (the verbatim pattern does not parse; see notes).\n")
			}
			fmt.Fprintf(&b, "  - id: %s\n", id)
			fmt.Fprintf(&b, "    title: %s\n", tp.title)
			desc := tp.description + "\n\n" + fmt.Sprintf("%s %s: %s.", controlName(p, name), e.Control, e.Title)
			writeBlock(&b, "description", desc)
			fmt.Fprintf(&b, "    severity: %s\n", tp.severity)
			fmt.Fprintf(&b, "    pattern: '%s'\n", strings.ReplaceAll(pattern, "'", "''"))
			fmt.Fprintf(&b, "    metric:\n      name: %s\n      namespace: CISBenchmark\n      value: \"1\"\n", tp.metric)
			fmt.Fprintf(&b, "    alarm:\n      period: 300\n      statistic: Sum\n      threshold: 1\n")
			fmt.Fprintf(&b, "      comparisonOperator: GreaterThanOrEqualToThreshold\n      evaluationPeriods: 1\n")
			fmt.Fprintf(&b, "      datapointsToAlarm: 1\n      treatMissingData: notBreaching\n")
			fmt.Fprintf(&b, "    references:\n")
			var cis, urls []string
			if p == "securityhub" {
				for _, m := range relatedRE.FindAllStringSubmatch(deref(e.Notes), -1) {
					for _, c := range strings.Split(m[2], ", ") {
						cis = append(cis, m[1]+"/"+c)
					}
				}
				urls = []string{"https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#" + strings.ToLower(strings.ReplaceAll(e.Control, ".", "-"))}
			} else {
				cis = []string{version + "/" + e.Control}
				urls = []string{"https://www.cisecurity.org/benchmark/amazon_web_services"}
			}
			writeList(&b, "cis", cis)
			if e.SecurityHub != nil {
				writeList(&b, "securityHub", []string{*e.SecurityHub})
			}
			writeList(&b, "mitre", tp.mitre)
			writeList(&b, "urls", urls)
			writeBlock(&b, "remediation", tp.remediation)
			if n := ruleNotes(e, corrected, p); n != "" {
				writeBlock(&b, "notes", n)
			}
		}
		out[p] = b.Bytes()
	}
	return out
}

func controlName(pack, benchmarkName string) string {
	if pack == "securityhub" {
		return "Security Hub control"
	}
	return benchmarkName
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func writeBlock(b *bytes.Buffer, key, text string) {
	fmt.Fprintf(b, "    %s: |-\n", key)
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(b, "      %s\n", line)
	}
}

func writeList(b *bytes.Buffer, key string, items []string) {
	if len(items) == 0 {
		return
	}
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	fmt.Fprintf(b, "      %s: [%s]\n", key, strings.Join(quoted, ", "))
}

// TestPacksUpToDate checks that packs/*.yaml are what the generator makes of the reference, and
// rewrites them with -update.
func TestPacksUpToDate(t *testing.T) {
	gen := generatePacks(t, readCISPatterns(t))
	names := make([]string, 0, len(gen))
	for name := range gen {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join("packs", name+".yaml")
		if *update {
			if err := os.WriteFile(path, gen[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go test -run TestPacksUpToDate -update)", err)
			continue
		}
		if !bytes.Equal(got, gen[name]) {
			t.Errorf("%s is not what the generator makes of testdata/cis-patterns.json; run go test -run TestPacksUpToDate -update", path)
		}
	}
}
