package rules

import (
	"slices"
	"strings"
)

// StratusAWSTechniques lists the Stratus Red Team AWS attack techniques (DataDog/stratus-red-team
// at commit 7c9a7a5), the yardstick of the threat pack: `rules coverage` reports which of them a
// rule set is meant to catch.
var StratusAWSTechniques = []string{
	"aws.credential-access.ec2-get-password-data",
	"aws.credential-access.ec2-steal-instance-credentials",
	"aws.credential-access.secretsmanager-batch-retrieve-secrets",
	"aws.credential-access.secretsmanager-retrieve-secrets",
	"aws.credential-access.ssm-retrieve-securestring-parameters",
	"aws.defense-evasion.cloudtrail-delete",
	"aws.defense-evasion.cloudtrail-event-selectors",
	"aws.defense-evasion.cloudtrail-lifecycle-rule",
	"aws.defense-evasion.cloudtrail-stop",
	"aws.defense-evasion.dns-delete-logs",
	"aws.defense-evasion.organizations-leave",
	"aws.defense-evasion.vpc-remove-flow-logs",
	"aws.discovery.ec2-download-user-data",
	"aws.discovery.ec2-enumerate-from-instance",
	"aws.discovery.ses-enumerate",
	"aws.execution.ec2-launch-unusual-instances",
	"aws.execution.ec2-user-data",
	"aws.execution.sagemaker-update-lifecycle-config",
	"aws.execution.ssm-send-command",
	"aws.execution.ssm-start-session",
	"aws.exfiltration.ec2-security-group-open-port-22-ingress",
	"aws.exfiltration.ec2-share-ami",
	"aws.exfiltration.ec2-share-ebs-snapshot",
	"aws.exfiltration.rds-share-snapshot",
	"aws.exfiltration.s3-backdoor-bucket-policy",
	"aws.impact.bedrock-invoke-model",
	"aws.impact.ec2-deregister-ami",
	"aws.impact.s3-ransomware-batch-deletion",
	"aws.impact.s3-ransomware-client-side-encryption",
	"aws.impact.s3-ransomware-individual-deletion",
	"aws.initial-access.console-login-without-mfa",
	"aws.lateral-movement.ec2-instance-connect",
	"aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
	"aws.persistence.iam-backdoor-role",
	"aws.persistence.iam-backdoor-user",
	"aws.persistence.iam-create-admin-user",
	"aws.persistence.iam-create-backdoor-role",
	"aws.persistence.iam-create-user-login-profile",
	"aws.persistence.lambda-backdoor-function",
	"aws.persistence.lambda-layer-extension",
	"aws.persistence.lambda-overwrite-code",
	"aws.persistence.rolesanywhere-create-trust-anchor",
	"aws.persistence.sts-federation-token",
	"aws.privilege-escalation.iam-update-user-login-profile",
}

// Coverage is what a rule set watches: the MITRE ATT&CK and Stratus Red Team techniques its
// rules name, and the Stratus AWS techniques none of them does.
type Coverage struct {
	Rules          int                 `json:"rules"`
	MITRE          map[string][]string `json:"mitre"`          // technique id -> rule ids
	Stratus        map[string][]string `json:"stratus"`        // Stratus technique id -> rule ids
	StratusMissing []string            `json:"stratusMissing"` // Stratus AWS techniques no rule names
	StratusTotal   int                 `json:"stratusTotal"`   // len(StratusAWSTechniques)
}

// CoverageOf computes the coverage of rs from the rules' references.
func CoverageOf(rs []*Rule) Coverage {
	c := Coverage{Rules: len(rs), MITRE: map[string][]string{}, Stratus: map[string][]string{}, StratusTotal: len(StratusAWSTechniques)}
	for _, r := range rs {
		for _, m := range r.References.MITRE {
			c.MITRE[m] = append(c.MITRE[m], r.ID)
		}
		for _, s := range r.References.Stratus {
			c.Stratus[s] = append(c.Stratus[s], r.ID)
		}
	}
	c.StratusMissing = []string{}
	for _, t := range StratusAWSTechniques {
		if _, ok := c.Stratus[t]; !ok {
			c.StratusMissing = append(c.StratusMissing, t)
		}
	}
	return c
}

// SortedKeys returns the keys of m in order, for printing.
func SortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
