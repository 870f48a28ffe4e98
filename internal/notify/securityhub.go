package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/awsconf"
)

// ASFF and BatchImportFindings limits.
const (
	asffMaxTitle        = 256
	asffMaxDescription  = 1024
	asffMaxRemediation  = 512
	asffMaxField        = 2048 // a ProductFields value
	asffMaxResources    = 32
	asffMaxFindingBytes = 240 * 1024 // one finding
	asffMaxBatch        = 100        // findings per BatchImportFindings call
	asffMaxRequestBytes = 6 * 1024 * 1024
)

// SecurityHubConfig configures the Security Hub notifier.
type SecurityHubConfig struct {
	Name string `yaml:"name"` // default "securityhub"
	// AccountID is the account whose Security Hub receives the findings: the caller's own
	// (BatchImportFindings with the default product requires AwsAccountId = the caller).
	// Default: STS GetCallerIdentity at start-up.
	AccountID string        `yaml:"account_id"`
	AWS       AWSConfig     `yaml:",inline"`
	Timeout   time.Duration `yaml:"timeout"` // per attempt; default DefaultTimeout
}

// SecurityHub imports each alert as one ASFF finding under the account's default product.
// The finding Id is the alert ID, so a retried import updates the finding instead of adding a
// second one. Transitions to OK or INSUFFICIENT_DATA are imported as INFORMATIONAL, archived
// and resolved, so the active findings list holds only alarms.
type SecurityHub struct {
	name, account, region, partition string
	timeout                          time.Duration
	client                           *securityhub.Client
}

// NewSecurityHub checks c and loads the AWS configuration.
func NewSecurityHub(ctx context.Context, c SecurityHubConfig) (*SecurityHub, error) {
	if c.AccountID != "" && !isAccountID(c.AccountID) {
		return nil, fmt.Errorf("securityhub notifier: account_id %q is not a 12-digit AWS account id", c.AccountID)
	}
	cfg, err := loadAWS(ctx, c.AWS, "")
	if err != nil {
		return nil, fmt.Errorf("securityhub notifier: %w", err)
	}
	account := c.AccountID
	if account == "" {
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("securityhub notifier: find the account (or set account_id): %w", awsError("GetCallerIdentity", err))
		}
		account = aws.ToString(out.Account)
	}
	return &SecurityHub{
		name:      or(c.Name, "securityhub"),
		account:   account,
		region:    cfg.Region,
		partition: awsconf.Partition(cfg.Region),
		timeout:   c.Timeout,
		client:    securityhub.NewFromConfig(cfg),
	}, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func (s *SecurityHub) Name() string { return s.name }

// ProductARN is the account's default product, which accepts findings from the account itself.
func (s *SecurityHub) ProductARN() string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", s.partition, s.region, s.account, s.account)
}

// Notify imports the alert's finding. A finding that Security Hub rejects (FailedFindings)
// is a permanent error: it would be rejected again.
func (s *SecurityHub) Notify(ctx context.Context, a *alert.Alert) error {
	return s.NotifyBatch(ctx, []*alert.Alert{a})
}

// NotifyBatch imports several alerts in as few calls as the limits allow (100 findings and
// 6 MB a call). It stops at the first failed call; findings imported before it stay imported,
// and importing them again only updates them.
func (s *SecurityHub) NotifyBatch(ctx context.Context, alerts []*alert.Alert) error {
	ctx, cancel := withTimeout(ctx, s.timeout)
	defer cancel()
	var batch []types.AwsSecurityFinding
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := s.client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
		batch, size = batch[:0], 0
		if err != nil {
			return awsError(s.name+": BatchImportFindings", err)
		}
		if n := aws.ToInt32(out.FailedCount); n > 0 || len(out.FailedFindings) > 0 {
			msg := fmt.Sprintf("%d findings rejected", max(int(n), len(out.FailedFindings)))
			if len(out.FailedFindings) > 0 {
				f := out.FailedFindings[0]
				msg += fmt.Sprintf(", %s: %s: %s", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
			}
			return Permanent(fmt.Errorf("%s: BatchImportFindings: %s", s.name, msg))
		}
		return nil
	}
	for _, a := range alerts {
		f := s.Finding(a)
		b, err := json.Marshal(f)
		if err != nil {
			return Permanent(fmt.Errorf("%s: encode finding: %w", s.name, err))
		}
		if len(b) > asffMaxFindingBytes {
			return Permanent(fmt.Errorf("%s: finding %s is %d bytes, over Security Hub's %d", s.name, a.ID, len(b), asffMaxFindingBytes))
		}
		if len(batch) == asffMaxBatch || size+len(b) > asffMaxRequestBytes-64*1024 {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, f)
		size += len(b)
	}
	return flush()
}

// severityLabel maps a rule severity to ASFF's labels.
func severityLabel(s string) types.SeverityLabel {
	switch strings.ToLower(s) {
	case "critical":
		return types.SeverityLabelCritical
	case "high":
		return types.SeverityLabelHigh
	case "medium":
		return types.SeverityLabelMedium
	case "low":
		return types.SeverityLabelLow
	}
	return types.SeverityLabelInformational
}

// Finding is the ASFF finding of an alert; every string is cleaned and cut to ASFF's limits.
func (s *SecurityHub) Finding(a *alert.Alert) types.AwsSecurityFinding {
	v := newView(a, alert.MaxEvidence)
	ts := a.Time.UTC().Format(time.RFC3339Nano)
	f := types.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(a.ID),
		ProductArn:    aws.String(s.ProductARN()),
		ProductName:   aws.String("trailalarm"),
		CompanyName:   aws.String("trailalarm"),
		GeneratorId:   aws.String(cut(clean(or(a.Rule.ID, "trailalarm"), 0), 512)),
		AwsAccountId:  aws.String(s.account),
		Region:        aws.String(s.region),
		Types:         findingTypes(a),
		CreatedAt:     aws.String(ts),
		UpdatedAt:     aws.String(ts), // the alert's time, not now: a retry is the same finding
		Severity:      &types.Severity{Label: severityLabel(a.Rule.Severity), Original: aws.String(cut(clean(a.Rule.Severity, 0), 64))},
		Title:         aws.String(cut(a.Subject(1000), asffMaxTitle)),
		Description:   aws.String(cut(description(v), asffMaxDescription)),
		RecordState:   types.RecordStateActive,
		Workflow:      &types.Workflow{Status: types.WorkflowStatusNew},
	}
	if a.To != "ALARM" {
		f.Severity.Label = types.SeverityLabelInformational
		f.RecordState = types.RecordStateArchived
		f.Workflow.Status = types.WorkflowStatusResolved
	}
	if v.Remediation != "" {
		f.Remediation = &types.Remediation{Recommendation: &types.Recommendation{Text: aws.String(cut(v.Remediation, asffMaxRemediation))}}
	}
	var first, last string
	for _, e := range a.Evidence {
		if t, err := time.Parse(time.RFC3339, e.EventTime); err == nil {
			s := t.UTC().Format(time.RFC3339)
			if first == "" || s < first {
				first = s
			}
			if s > last {
				last = s
			}
		}
	}
	if first != "" {
		f.FirstObservedAt, f.LastObservedAt = aws.String(first), aws.String(last)
	}
	f.Resources = s.resources(a)
	pf := map[string]string{
		"trailalarm/AlertId":       a.ID,
		"trailalarm/RuleId":        a.Rule.ID,
		"trailalarm/Pack":          a.Rule.Pack,
		"trailalarm/Transition":    a.From + " -> " + a.To,
		"trailalarm/Reason":        a.Reason,
		"trailalarm/Accounts":      strings.Join(a.Accounts, ","),
		"trailalarm/Regions":       strings.Join(a.Regions, ","),
		"trailalarm/EvidenceCount": strconv.Itoa(v.Total),
		"trailalarm/References":    strings.Join(a.Rule.References, " "),
	}
	if len(a.Evidence) > 0 {
		e := a.Evidence[0]
		pf["trailalarm/Principal"] = e.Principal
		pf["trailalarm/SourceIPAddress"] = e.SourceIPAddress
		pf["trailalarm/UserAgent"] = e.UserAgent
		pf["trailalarm/EventName"] = e.EventName
		pf["trailalarm/ErrorCode"] = e.ErrorCode
		f.Action = apiCallAction(e)
	}
	f.ProductFields = map[string]string{}
	for k, val := range pf {
		if val = cut(clean(val, 0), asffMaxField); val != "" {
			f.ProductFields[k] = val
		}
	}
	return f
}

func description(v view) string {
	var b strings.Builder
	if v.Reason != "" {
		b.WriteString(v.Reason + " ")
	}
	for i, e := range v.Evidence {
		if i == 3 {
			fmt.Fprintf(&b, "(%d records in all) ", v.Total)
			break
		}
		b.WriteString(e.Line())
		if e.IP != "" {
			b.WriteString(" from " + e.IP)
		}
		b.WriteString(". ")
	}
	if b.Len() == 0 {
		b.WriteString(v.Title)
	}
	return strings.TrimSpace(b.String())
}

// findingTypes: CIS packs are compliance checks; every rule also flags unusual user activity.
func findingTypes(a *alert.Alert) []string {
	t := []string{"Unusual Behaviors/User"}
	if strings.HasPrefix(strings.ToLower(a.Rule.Pack), "cis") {
		t = append(t, "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark")
	}
	return t
}

// resources are the distinct principals of the evidence, by ARN where CloudTrail has one.
func (s *SecurityHub) resources(a *alert.Alert) []types.Resource {
	seen := map[string]bool{}
	var out []types.Resource
	for _, e := range a.Evidence {
		id := or(e.PrincipalARN, e.Principal)
		id = cut(clean(id, 0), 512)
		if id == "" || seen[id] || len(out) == asffMaxResources {
			continue
		}
		seen[id] = true
		typ := "Other"
		switch {
		case strings.Contains(id, ":user/"):
			typ = "AwsIamUser"
		case strings.Contains(id, ":role/") || strings.Contains(id, ":assumed-role/"):
			typ = "AwsIamRole"
		}
		out = append(out, types.Resource{
			Type:      aws.String(typ),
			Id:        aws.String(id),
			Partition: types.Partition(s.partition),
			Region:    aws.String(or(clean(e.AWSRegion, 32), s.region)),
		})
	}
	if len(out) == 0 {
		// ASFF requires at least one resource: the account itself.
		out = append(out, types.Resource{Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:" + s.account), Partition: types.Partition(s.partition), Region: aws.String(s.region)})
	}
	return out
}

func apiCallAction(e alert.Evidence) *types.Action {
	call := &types.AwsApiCallAction{
		Api:         aws.String(cut(clean(e.EventName, 0), 128)),
		ServiceName: aws.String(cut(clean(e.EventSource, 0), 128)),
		CallerType:  aws.String("remoteip"),
	}
	if ip := net.ParseIP(e.SourceIPAddress); ip != nil && ip.To4() != nil {
		call.RemoteIpDetails = &types.ActionRemoteIpDetails{IpAddressV4: aws.String(ip.String())}
	} else {
		call.CallerType = aws.String("domain")
		call.DomainDetails = &types.AwsApiCallActionDomainDetails{Domain: aws.String(cut(clean(e.SourceIPAddress, 0), 128))}
	}
	return &types.Action{ActionType: aws.String("AWS_API_CALL"), AwsApiCallAction: call}
}
