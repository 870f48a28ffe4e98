package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailalarm/trailalarm/internal/awsconf"
)

// Report is the audit of one account in one or more regions.
type Report struct {
	Account string   `json:"account"`
	Pack    string   `json:"pack"`
	Regions []string `json:"regions"`
	Summary Summary  `json:"summary"`
	Results []Result `json:"controls"` // region by region, controls in a fixed order
}

// Summary counts the outcomes.
type Summary struct {
	Passed        int      `json:"passed"`
	Failed        int      `json:"failed"`
	NotApplicable int      `json:"notApplicable"`
	FailedIDs     []string `json:"failedControls"` // "region/control"
}

// NewReport gathers results into a report and counts them.
func NewReport(account, pack string, regions []string, rs []Result) *Report {
	r := &Report{Account: account, Pack: pack, Regions: regions, Results: rs, Summary: Summary{FailedIDs: []string{}}}
	for _, x := range rs {
		switch x.Status {
		case Pass:
			r.Summary.Passed++
		case Fail:
			r.Summary.Failed++
			r.Summary.FailedIDs = append(r.Summary.FailedIDs, x.Region+"/"+x.Control)
		default:
			r.Summary.NotApplicable++
		}
	}
	return r
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for people: one block per control, the failing ones with what
// was found and the fix.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "CIS monitoring audit of account %s, pack %s, region %s\n", clean(r.Account), r.Pack, strings.Join(r.Regions, ", "))
	region := ""
	for _, x := range r.Results {
		if x.Region != region && len(r.Regions) > 1 {
			region = x.Region
			fmt.Fprintf(bw, "\n== %s\n", region)
		}
		fmt.Fprintf(bw, "\n%-4s  %-14s %s\n", strings.ToUpper(shortStatus(x.Status)), x.Control, x.Title)
		fmt.Fprintf(bw, "      %s\n", clean(x.Reason))
		for _, n := range x.Notes {
			fmt.Fprintf(bw, "      note: %s\n", clean(n))
		}
		if x.Status != Fail {
			continue
		}
		writeEvidence(bw, x)
		if x.Fix != nil {
			writeFix(bw, x.Fix)
		}
	}
	s := r.Summary
	fmt.Fprintf(bw, "\n%d passed, %d failed, %d not applicable", s.Passed, s.Failed, s.NotApplicable)
	if s.Failed > 0 {
		fmt.Fprintf(bw, ": %s", strings.Join(s.FailedIDs, ", "))
	}
	fmt.Fprintln(bw)
	return bw.Flush()
}

// writeFix prints the trailalarm command and the AWS CLI commands, continuation lines kept.
func writeFix(w io.Writer, f *Fix) {
	if f.Apply != "" {
		fmt.Fprintf(w, "      fix: %s\n", clean(f.Apply))
	}
	if len(f.AWSCLI) > 0 {
		if f.Apply != "" {
			fmt.Fprintln(w, "      or, with the AWS CLI:")
		} else {
			fmt.Fprintln(w, "      fix, with the AWS CLI:")
		}
		for _, c := range f.AWSCLI {
			for _, line := range strings.Split(c, "\n") {
				fmt.Fprintf(w, "        %s\n", clean(line))
			}
		}
	}
	if f.Note != "" {
		fmt.Fprintf(w, "      (%s)\n", clean(f.Note))
	}
}

func shortStatus(s Status) string {
	if s == NotApplicable {
		return "n/a"
	}
	return string(s)
}

func writeEvidence(w io.Writer, x Result) {
	ev := x.Evidence
	if x.RuleID == "" || len(ev.Filters) == 0 && len(ev.LogGroups) == 0 {
		for _, t := range ev.Trails {
			fmt.Fprintf(w, "      trail %s: %s\n", clean(t.Name), trailState(t))
		}
	}
	for _, rec := range ev.Recorders {
		fmt.Fprintf(w, "      recorder %s: recording %t, all resources %t, role %s\n", clean(rec.Name), rec.Recording, rec.AllSupported, clean(rec.RoleARN))
	}
	if x.RuleID == "" {
		return
	}
	if len(ev.LogGroups) > 0 {
		fmt.Fprintf(w, "      log group: %s (trail %s)\n", clean(strings.Join(ev.LogGroups, ", ")), clean(trailNames(ev.Trails)))
	}
	for _, f := range ev.Filters {
		mark := " "
		if f.Chosen {
			mark = "*"
		}
		var metrics []string
		for _, t := range f.Transformations {
			metrics = append(metrics, t.Namespace+"/"+t.Name)
		}
		fmt.Fprintf(w, "    %s filter %s (metric %s): %s\n", mark, clean(f.Name), clean(strings.Join(metrics, ", ")), clean(f.Pattern))
		for _, e := range f.Verdict.Missed {
			fmt.Fprintf(w, "        misses %s\n", clean(e.String()))
			if e.Note != "" {
				fmt.Fprintf(w, "          (%s)\n", clean(e.Note))
			}
		}
	}
	for _, a := range ev.Alarms {
		fmt.Fprintf(w, "      alarm %s: %s %s %s per %d s, actions %s", clean(a.Name), a.Statistic, opSymbol(a.Comparison), formatNum(a.Threshold), a.Period, clean(strings.Join(a.Actions, ", ")))
		if len(a.Problems) > 0 {
			fmt.Fprintf(w, " — %s", clean(strings.Join(a.Problems, "; ")))
		}
		fmt.Fprintln(w)
	}
	for _, t := range ev.Topics {
		fmt.Fprintf(w, "      topic %s: %d subscription(s), %d confirmed\n", clean(t.ARN), len(t.Subscriptions), confirmed(t))
	}
}

func trailState(t Trail) string {
	return fmt.Sprintf("multi-region %t, logging %t, management events %s, validation %t, log group %s",
		t.MultiRegion, t.Logging, t.ManagementEvents, t.LogFileValidation, cmpOr(t.LogGroupARN, "none"))
}

func opSymbol(op string) string {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return ">="
	case "GreaterThanThreshold":
		return ">"
	case "LessThanThreshold":
		return "<"
	case "LessThanOrEqualToThreshold":
		return "<="
	}
	return op
}

// clean makes a value read from the account safe for one line of a terminal.
func clean(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if isControl(c) {
			fmt.Fprintf(&b, "\\x%02x", c)
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 }

// ASFF is a Security Hub finding in the AWS Security Finding Format, with the fields audit
// fills; the document WriteASFF writes is BatchImportFindings' input ({"Findings": […]}).
type ASFF struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Types         []string          `json:"Types"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      asffSeverity      `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	Remediation   asffRemediation   `json:"Remediation"`
	ProductFields map[string]string `json:"ProductFields"`
	Resources     []asffResource    `json:"Resources"`
	Compliance    asffCompliance    `json:"Compliance"`
	RecordState   string            `json:"RecordState"`
	Workflow      asffWorkflow      `json:"Workflow"`
}

type asffSeverity struct {
	Label string `json:"Label"`
}

type asffRemediation struct {
	Recommendation struct {
		Text string `json:"Text"`
		URL  string `json:"Url,omitempty"`
	} `json:"Recommendation"`
}

type asffResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition"`
	Region    string `json:"Region"`
}

type asffCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
	SecurityControlID   string   `json:"SecurityControlId,omitempty"`
}

type asffWorkflow struct {
	Status string `json:"Status"`
}

// Findings turns the report into one ASFF finding per control and region; now is their time.
func (r *Report) Findings(now time.Time) []ASFF {
	ts := now.UTC().Format(time.RFC3339)
	var out []ASFF
	for _, x := range r.Results {
		partition := awsconf.Partition(x.Region)
		f := ASFF{
			SchemaVersion: "2018-10-08",
			ID:            fmt.Sprintf("trailalarm/audit/%s/%s/%s", r.Account, x.Region, x.Control),
			ProductArn:    fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, x.Region, r.Account, r.Account),
			GeneratorID:   "trailalarm-audit/" + x.Control,
			AwsAccountID:  r.Account,
			Types:         []string{"Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"},
			CreatedAt:     ts,
			UpdatedAt:     ts,
			Title:         cut(x.Control+" "+x.Title, 256),
			Description:   cut(x.Reason, 1024),
			ProductFields: map[string]string{"trailalarm/Control": x.Control, "trailalarm/Pack": r.Pack, "trailalarm/Status": string(x.Status)},
			Resources:     []asffResource{{Type: "AwsAccount", ID: fmt.Sprintf("AWS::::Account:%s", r.Account), Partition: partition, Region: x.Region}},
			RecordState:   "ACTIVE",
		}
		if x.RuleID != "" {
			f.ProductFields["trailalarm/Rule"] = x.RuleID
		}
		if strings.Contains(x.Control, ".") && !strings.Contains(x.Control, ":") {
			f.Compliance.SecurityControlID = x.Control
		}
		f.Compliance.RelatedRequirements = x.References
		switch x.Status {
		case Pass:
			f.Compliance.Status, f.Severity.Label, f.Workflow.Status = "PASSED", "INFORMATIONAL", "RESOLVED"
		case Fail:
			f.Compliance.Status, f.Severity.Label, f.Workflow.Status = "FAILED", asffLabel(x.Severity), "NEW"
		default:
			f.Compliance.Status, f.Severity.Label, f.Workflow.Status = "NOT_AVAILABLE", "INFORMATIONAL", "SUPPRESSED"
		}
		text := "No action needed."
		if x.Fix != nil {
			lines := []string{}
			if x.Fix.Apply != "" {
				lines = append(lines, x.Fix.Apply)
			}
			lines = append(lines, x.Fix.AWSCLI...)
			if x.Fix.Note != "" {
				lines = append(lines, "("+x.Fix.Note+")")
			}
			text = strings.Join(lines, "\n")
		}
		f.Remediation.Recommendation.Text = cut(text, 512)
		if strings.HasPrefix(x.Control, "CloudWatch.") {
			f.Remediation.Recommendation.URL = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#" + strings.ToLower(strings.ReplaceAll(x.Control, ".", "-"))
		}
		out = append(out, f)
	}
	return out
}

// WriteASFF writes the findings as BatchImportFindings' input.
func (r *Report) WriteASFF(w io.Writer, now time.Time) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Findings []ASFF `json:"Findings"`
	}{r.Findings(now)})
}

func asffLabel(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "CRITICAL"
	case "high":
		return "HIGH"
	case "medium":
		return "MEDIUM"
	case "low":
		return "LOW"
	}
	return "INFORMATIONAL"
}

// cut shortens s to at most n bytes, at a rune boundary, as ASFF limits fields.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= 3
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
