// Package audit checks an account and region against the CIS monitoring controls as Security
// Hub checks them — CloudWatch.1–14 (CIS v1.2 3.1–3.14) and AWS Organizations changes (CIS
// v1.3+ 4.15), CloudTrail.1, .4 and .5, Security Hub enabled and Config.1 — and says for each
// control pass, fail or not applicable, with the evidence and the fix.
//
// A metric filter satisfies a control when it is behaviourally at least as strict as the
// control's reference pattern: evaluated with package filterpattern on the case bank of real
// CloudTrail records shipped with the packs (rules.Cases), it must match every event the
// reference matches. How the pattern is written does not matter; a missed event is named.
package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/awssetup"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// Status is a control's outcome.
type Status string

const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	NotApplicable Status = "not_applicable"
)

// Control ids of the controls that are not metric filters.
const (
	ControlTrail            = "CloudTrail.1" // a multi-region trail, logging read and write management events
	ControlValidation       = "CloudTrail.4" // log file validation on every trail
	ControlTrailLogs        = "CloudTrail.5" // every trail sends to CloudWatch Logs
	ControlConfig           = "Config.1"     // AWS Config records all resources with its service-linked role
	ControlSecurityHub      = "SecurityHub"  // Security Hub enabled (CIS v1.5+ 4.16)
	serviceLinkedRoleConfig = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
)

// Result is one control in one region.
type Result struct {
	Control    string   `json:"control"` // CloudWatch.1, cis-5.0:4.15, CloudTrail.1, …
	Title      string   `json:"title"`
	Region     string   `json:"region"`
	Status     Status   `json:"status"`
	Reason     string   `json:"reason"` // one sentence: why it passes or fails
	Severity   string   `json:"severity"`
	RuleID     string   `json:"rule,omitempty"` // the reference rule of a metric filter control
	References []string `json:"references,omitempty"`
	Notes      []string `json:"notes,omitempty"` // passes with a remark: noisier patterns, unverifiable details
	Evidence   Evidence `json:"evidence"`
	Fix        *Fix     `json:"fix,omitempty"` // what to run when it fails
}

// Evidence is what the decision rests on.
type Evidence struct {
	Trails      []Trail         `json:"trails,omitempty"`
	LogGroups   []string        `json:"logGroups,omitempty"`
	Required    []Event         `json:"requiredEvents,omitempty"` // the case-bank events a filter must catch
	Filters     []FilterFinding `json:"filters,omitempty"`
	Alarms      []AlarmFinding  `json:"alarms,omitempty"`
	Topics      []*Topic        `json:"topics,omitempty"`
	SecurityHub *SecurityHub    `json:"securityHub,omitempty"`
	Recorders   []Recorder      `json:"configRecorders,omitempty"`
}

// FilterFinding is a metric filter that catches at least one of a control's events, and how it
// compares with the reference.
type FilterFinding struct {
	Filter
	Verdict Verdict `json:"verdict"`
	Chosen  bool    `json:"chosen,omitempty"` // the filter the control's outcome is about
}

// AlarmFinding is an alarm on a candidate filter's metric, and what keeps it from firing on one
// event (nothing when it fires).
type AlarmFinding struct {
	Alarm
	Filter   string   `json:"filter"`             // the metric filter whose metric it watches
	Problems []string `json:"problems,omitempty"` // empty: fires on one matching event and notifies a subscribed topic
}

// Fix is how to make a failing control pass.
type Fix struct {
	Apply  string   `json:"apply,omitempty"`  // the trailalarm command
	AWSCLI []string `json:"awsCli,omitempty"` // the AWS CLI commands, one per line, quoted for a POSIX shell
	Note   string   `json:"note,omitempty"`   // what the commands leave to the reader
}

// Options say which controls to check.
type Options struct {
	Pack      string    // the pack whose metric controls are checked (rules.DefaultPack if "")
	LogGroups []string  // only metric filters on these log groups count; empty: every log group a qualifying trail sends to
	Now       time.Time // for the age of CloudTrail's last delivery to CloudWatch Logs
}

// Controls returns the reference rules of a pack's metric controls: the rules that have a case
// bank. A pack with none is an error.
func Controls(pack string) ([]*rules.Rule, error) {
	if pack == "" {
		pack = rules.DefaultPack
	}
	rs, err := rules.Pack(pack)
	if err != nil {
		return nil, err
	}
	var out []*rules.Rule
	for _, r := range rs {
		if _, ok := rules.TopicOf(r.ID); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pack %q has no CIS monitoring controls: use default, securityhub or a cis-* pack", pack)
	}
	return out, nil
}

// ControlID is the id a metric control is reported under: Security Hub's (CloudWatch.N) for the
// securityhub pack, the rule id otherwise.
func ControlID(r *rules.Rule) string {
	if r.Pack == "securityhub" && len(r.References.SecurityHub) > 0 {
		return r.References.SecurityHub[0]
	}
	return r.ID
}

// Evaluate decides every control for one account and region.
func Evaluate(a *Account, refs []*rules.Rule, o Options) ([]Result, error) {
	if o.Pack == "" {
		o.Pack = rules.DefaultPack
	}
	e := &evaluator{a: a, o: o}
	e.prepareTrails()
	out := []Result{e.trailControl(), e.validationControl(), e.trailLogsControl()}
	for _, r := range refs {
		b, err := NewBank(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e.metricControl(b))
	}
	out = append(out, e.configControl(), e.securityHubControl())
	for i := range out {
		out[i].Region = a.Region
	}
	return out, nil
}

type evaluator struct {
	a *Account
	o Options

	compiled map[string]compiled // filter patterns parsed once for all controls

	good      []Trail  // multi-region, logging, read and write management events
	groups    []string // log groups in the region that good trails send to (restricted by --log-group)
	elsewhere []string // "group (region)" that good trails send to in other regions
	noGroup   []string // --log-group values no good trail sends to
}

type compiled struct {
	p   *filterpattern.Pattern
	err error
}

// check is b.Check with the pattern parsed once per evaluation.
func (e *evaluator) check(b *Bank, pattern string) Verdict {
	c, ok := e.compiled[pattern]
	if !ok {
		c.p, c.err = filterpattern.Parse(pattern)
		if e.compiled == nil {
			e.compiled = map[string]compiled{}
		}
		e.compiled[pattern] = c
	}
	if c.err != nil {
		return Verdict{Error: c.err.Error()}
	}
	return b.CheckCompiled(c.p)
}

// trailProblems says why a trail does not qualify for CloudTrail.1 (nil when it does).
func trailProblems(t Trail) []string {
	var p []string
	if !t.MultiRegion {
		p = append(p, "is not multi-region")
	}
	if !t.Logging {
		p = append(p, "is not logging")
	}
	switch t.ManagementEvents {
	case "All":
	case "None", "":
		p = append(p, "records no management events")
	default:
		p = append(p, "records "+t.ManagementEvents+" management events only")
	}
	return p
}

// logGroupOf splits CloudTrail's CloudWatchLogsLogGroupArn
// (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*) into region and name.
func logGroupOf(arn string) (region, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
		return "", "", false
	}
	return parts[3], strings.TrimSuffix(parts[6], ":*"), true
}

func (e *evaluator) prepareTrails() {
	seen := map[string]bool{}
	for _, t := range e.a.Trails {
		if len(trailProblems(t)) > 0 {
			continue
		}
		e.good = append(e.good, t)
		region, name, ok := logGroupOf(t.LogGroupARN)
		if !ok {
			continue
		}
		if region != e.a.Region {
			e.elsewhere = append(e.elsewhere, fmt.Sprintf("%s (%s)", name, region))
			continue
		}
		if len(e.o.LogGroups) > 0 && !slices.Contains(e.o.LogGroups, name) {
			continue
		}
		if !seen[name] {
			seen[name] = true
			e.groups = append(e.groups, name)
		}
	}
	for _, g := range e.o.LogGroups {
		if !seen[g] {
			e.noGroup = append(e.noGroup, g)
		}
	}
}

func trailNames(ts []Trail) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

func (e *evaluator) applyCmd(extra ...string) string {
	args := []string{"trailalarm", "apply", "--region", e.a.Region}
	if e.o.Pack != rules.DefaultPack {
		args = append(args, "--pack", e.o.Pack)
	}
	args = append(args, extra...)
	for i, a := range args {
		args[i] = awssetup.ShellQuote(a)
	}
	return strings.Join(args, " ")
}

func (e *evaluator) trailControl() Result {
	r := Result{Control: ControlTrail, Title: "A multi-region trail is logging read and write management events", Severity: "high",
		References: []string{"CIS v1.2.0 2.1", "CIS v3.0.0 3.1", "Security Hub CloudTrail.1"}, Evidence: Evidence{Trails: e.a.Trails}}
	if len(e.good) > 0 {
		r.Status, r.Reason = Pass, "trail "+trailNames(e.good)+" is multi-region, logging, and records read and write management events"
		return r
	}
	r.Status = Fail
	fix := &Fix{Apply: e.applyCmd("--ensure-trail")}
	if len(e.a.Trails) == 0 {
		r.Reason = "the region has no trail"
	} else {
		var why []string
		for _, t := range e.a.Trails {
			ps := trailProblems(t)
			why = append(why, "trail "+t.Name+" "+strings.Join(ps, ", "))
			region := cmp.Or(t.HomeRegion, e.a.Region)
			if !t.Logging {
				fix.AWSCLI = append(fix.AWSCLI, cli("cloudtrail", "start-logging", "--region", region, "--name", t.Name))
			}
			if !t.MultiRegion {
				fix.AWSCLI = append(fix.AWSCLI, cli("cloudtrail", "update-trail", "--region", region, "--name", t.Name, "--is-multi-region-trail"))
			}
			if t.ManagementEvents != "All" {
				fix.AWSCLI = append(fix.AWSCLI, cli("cloudtrail", "put-event-selectors", "--region", region, "--trail-name", t.Name,
					"--event-selectors", `[{"ReadWriteType":"All","IncludeManagementEvents":true}]`))
			}
		}
		r.Reason = "no trail qualifies: " + strings.Join(why, "; ")
	}
	r.Fix = fix
	return r
}

func (e *evaluator) validationControl() Result {
	r := Result{Control: ControlValidation, Title: "CloudTrail log file validation is enabled", Severity: "low",
		References: []string{"CIS v1.2.0 2.2", "CIS v3.0.0 3.2", "Security Hub CloudTrail.4"}, Evidence: Evidence{Trails: e.a.Trails}}
	if len(e.a.Trails) == 0 {
		r.Status, r.Reason = NotApplicable, "the region has no trail"
		return r
	}
	var bad []Trail
	for _, t := range e.a.Trails {
		if !t.LogFileValidation {
			bad = append(bad, t)
		}
	}
	if len(bad) == 0 {
		r.Status, r.Reason = Pass, "every trail ("+trailNames(e.a.Trails)+") validates its log files"
		return r
	}
	r.Status, r.Reason = Fail, "trail "+trailNames(bad)+" does not validate its log files"
	r.Fix = &Fix{}
	for _, t := range bad {
		r.Fix.AWSCLI = append(r.Fix.AWSCLI, cli("cloudtrail", "update-trail", "--region", cmp.Or(t.HomeRegion, e.a.Region), "--name", t.Name, "--enable-log-file-validation"))
	}
	return r
}

func (e *evaluator) trailLogsControl() Result {
	r := Result{Control: ControlTrailLogs, Title: "CloudTrail trails send to CloudWatch Logs", Severity: "low",
		References: []string{"CIS v1.2.0 2.4", "CIS v1.4.0 3.4", "Security Hub CloudTrail.5"}, Evidence: Evidence{Trails: e.a.Trails}}
	if len(e.a.Trails) == 0 {
		r.Status, r.Reason = NotApplicable, "the region has no trail"
		return r
	}
	var why []string
	fix := &Fix{}
	for _, t := range e.a.Trails {
		region, name, ok := logGroupOf(t.LogGroupARN)
		switch {
		case !ok:
			why = append(why, "trail "+t.Name+" sends to no CloudWatch Logs log group")
			fix.Apply = e.applyCmd("--ensure-trail")
			fix.AWSCLI = append(fix.AWSCLI, cli("cloudtrail", "update-trail", "--region", cmp.Or(t.HomeRegion, e.a.Region), "--name", t.Name,
				"--cloud-watch-logs-log-group-arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:CloudTrail/DefaultLogGroup:*", cmp.Or(t.HomeRegion, e.a.Region), e.a.ID),
				"--cloud-watch-logs-role-arn", fmt.Sprintf("arn:aws:iam::%s:role/trailalarm-cloudtrail-to-logs", e.a.ID)))
			fix.Note = "the log group and a role CloudTrail can assume to write to it must exist; --ensure-trail creates both"
		case t.RoleARN == "":
			why = append(why, "trail "+t.Name+" has no role to write to log group "+name)
			fix.Apply = e.applyCmd("--ensure-trail")
		case region == e.a.Region && e.a.LogGroups != nil && !e.a.LogGroups[name]:
			why = append(why, "trail "+t.Name+" sends to log group "+name+", which does not exist")
			fix.AWSCLI = append(fix.AWSCLI, cli("logs", "create-log-group", "--region", region, "--log-group-name", name))
		case t.DeliveryError != "":
			why = append(why, "CloudTrail reports an error delivering trail "+t.Name+" to CloudWatch Logs: "+t.DeliveryError)
			fix.Apply, fix.Note = e.applyCmd("--ensure-trail"), roleNote(t)
		case t.LastDelivery != nil && !e.o.Now.IsZero() && e.o.Now.Sub(*t.LastDelivery) > 24*time.Hour:
			why = append(why, fmt.Sprintf("trail %s last delivered to CloudWatch Logs at %s, more than a day ago", t.Name, t.LastDelivery.UTC().Format(time.RFC3339)))
			fix.Apply, fix.Note = e.applyCmd("--ensure-trail"), roleNote(t)
		case t.LastDelivery == nil:
			r.Notes = append(r.Notes, "CloudTrail reports no delivery of trail "+t.Name+" to CloudWatch Logs yet (a new trail, a stopped one, or an emulator)")
		}
	}
	if len(why) == 0 {
		r.Status, r.Reason = Pass, "every trail ("+trailNames(e.a.Trails)+") sends to a CloudWatch Logs log group"
		return r
	}
	r.Status, r.Reason = Fail, strings.Join(why, "; ")
	if fix.Apply != "" || len(fix.AWSCLI) > 0 {
		r.Fix = fix
	}
	return r
}

// roleNote says what to check when CloudTrail does not deliver to CloudWatch Logs.
func roleNote(t Trail) string {
	return "check that role " + t.RoleARN + " trusts cloudtrail.amazonaws.com and allows logs:CreateLogStream and logs:PutLogEvents on the log group, and that the trail is logging; --ensure-trail sets up its own role"
}

func (e *evaluator) securityHubControl() Result {
	hub := e.a.SecurityHub
	r := Result{Control: ControlSecurityHub, Title: "AWS Security Hub is enabled", Severity: "medium",
		References: []string{"CIS v1.5.0 4.16", "CIS v3.0.0 4.16"}, Evidence: Evidence{SecurityHub: &hub}}
	if hub.Enabled {
		r.Status, r.Reason = Pass, "Security Hub is enabled (hub "+hub.HubARN+")"
		return r
	}
	r.Status, r.Reason = Fail, "Security Hub is not enabled in "+e.a.Region
	r.Fix = &Fix{AWSCLI: []string{cli("securityhub", "enable-security-hub", "--region", e.a.Region)}}
	return r
}

func (e *evaluator) configControl() Result {
	r := Result{Control: ControlConfig, Title: "AWS Config records all resources", Severity: "medium",
		References: []string{"CIS v1.2.0 2.5", "CIS v3.0.0 3.3", "Security Hub Config.1"}, Evidence: Evidence{Recorders: e.a.Config}}
	var why []string
	for _, rec := range e.a.Config {
		var p []string
		if !rec.Recording {
			p = append(p, "is not recording")
		}
		if rec.LastStatus == "FAILURE" || rec.LastStatus == "Failure" {
			p = append(p, "failed its last recording")
		}
		if !rec.AllSupported {
			p = append(p, "does not record all supported resource types")
		}
		if !strings.HasSuffix(rec.RoleARN, serviceLinkedRoleConfig) {
			p = append(p, "does not use the service-linked role AWSServiceRoleForConfig (Security Hub's Config.1 requires it)")
		}
		if len(p) == 0 {
			r.Status, r.Reason = Pass, "configuration recorder "+rec.Name+" records all supported resource types"
			if !rec.IncludeGlobal {
				r.Notes = append(r.Notes, "recorder "+rec.Name+" does not record global resource types (IAM); CIS wants them recorded in one region")
			}
			return r
		}
		why = append(why, "recorder "+rec.Name+" "+strings.Join(p, ", "))
	}
	r.Status = Fail
	if len(why) == 0 {
		r.Reason = "AWS Config has no configuration recorder in " + e.a.Region
	} else {
		r.Reason = strings.Join(why, "; ")
	}
	name := "default"
	if len(e.a.Config) > 0 {
		name = e.a.Config[0].Name
	}
	r.Fix = &Fix{
		AWSCLI: []string{
			cli("configservice", "put-configuration-recorder", "--region", e.a.Region,
				"--configuration-recorder", "name="+name+",roleARN=arn:aws:iam::"+e.a.ID+":role/"+serviceLinkedRoleConfig,
				"--recording-group", "allSupported=true,includeGlobalResourceTypes=true"),
			cli("configservice", "start-configuration-recorder", "--region", e.a.Region, "--configuration-recorder-name", name),
		},
		Note: "recording needs a delivery channel (aws configservice put-delivery-channel) and the service-linked role (aws iam create-service-linked-role --aws-service-name config.amazonaws.com)",
	}
	return r
}

// metricControl decides a CIS metric filter control: a filter on a qualifying log group that
// catches every event of the reference, and an alarm on its metric that fires on one event and
// notifies a topic with a confirmed subscription.
func (e *evaluator) metricControl(b *Bank) Result {
	ref := b.Rule
	r := Result{Control: ControlID(ref), Title: ref.Title, Severity: ref.Severity.String(), RuleID: ref.ID}
	for _, c := range ref.References.CIS {
		r.References = append(r.References, "CIS "+strings.TrimSuffix(strings.Replace(c, "/", " ", 1), "."))
	}
	for _, c := range ref.References.SecurityHub {
		r.References = append(r.References, "Security Hub "+c)
	}
	r.Evidence.Required = b.Required()
	switch {
	case len(e.good) == 0:
		r.Status, r.Reason = Fail, "no multi-region trail is logging read and write management events (see "+ControlTrail+"), so no metric filter sees every event"
		r.Evidence.Trails = e.a.Trails
		r.Fix = &Fix{Apply: e.applyCmd("--ensure-trail")}
		return r
	case len(e.groups) == 0 && len(e.noGroup) > 0:
		r.Status, r.Reason = Fail, "no multi-region logging trail sends to log group "+strings.Join(e.noGroup, ", ")
		r.Evidence.Trails = e.good
		r.Fix = &Fix{Apply: e.applyCmd("--ensure-trail", "--log-group", e.noGroup[0])}
		return r
	case len(e.groups) == 0 && len(e.elsewhere) > 0:
		r.Status, r.Reason = NotApplicable, "the trail's log group "+strings.Join(e.elsewhere, ", ")+" is in another region: audit that region"
		r.Evidence.Trails = e.good
		return r
	case len(e.groups) == 0:
		r.Status, r.Reason = Fail, "trail "+trailNames(e.good)+" sends to no CloudWatch Logs log group (see "+ControlTrailLogs+")"
		r.Evidence.Trails = e.good
		r.Fix = &Fix{Apply: e.applyCmd("--ensure-trail")}
		return r
	}
	r.Evidence.Trails = e.good
	r.Evidence.LogGroups = e.groups
	if !slices.ContainsFunc(e.groups, func(g string) bool { return e.a.LogGroups == nil || e.a.LogGroups[g] }) {
		r.Status, r.Reason = Fail, "log group "+strings.Join(e.groups, ", ")+", which trail "+trailNames(e.good)+" sends to, does not exist (see "+ControlTrailLogs+")"
		r.Fix = &Fix{Apply: e.applyCmd(append([]string{"--ensure-trail"}, logGroupFlag(e.groups[0])...)...)}
		return r
	}

	// Every filter that catches at least one of the control's events is a candidate.
	type candidate struct {
		f      FilterFinding
		alarms []AlarmFinding
		rank   int // 0 misses events, 1 no alarm, 2 an alarm with problems, 3 passes
	}
	var cands []candidate
	for _, g := range e.groups {
		for _, f := range e.a.Filters[g] {
			v := e.check(b, f.Pattern)
			if v.Matched == 0 && v.Error == "" {
				continue
			}
			c := candidate{f: FilterFinding{Filter: f, Verdict: v}}
			if v.OK {
				c.rank = 1
				for _, t := range f.Transformations {
					for _, al := range e.a.Alarms {
						if al.MetricMath || al.Namespace != t.Namespace || al.MetricName != t.Name || !sameDimensions(al.Dimensions, t.Dimensions) {
							continue
						}
						af := AlarmFinding{Alarm: al, Filter: f.Name, Problems: e.alarmProblems(al, t)}
						c.alarms = append(c.alarms, af)
						c.rank = max(c.rank, 2)
						if len(af.Problems) == 0 {
							c.rank = 3
						}
					}
				}
			}
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		r.Status = Fail
		r.Reason = fmt.Sprintf("no metric filter on log group %s catches any of the %d CIS events of this control", strings.Join(e.groups, ", "), len(r.Evidence.Required))
		r.Fix = e.metricFix(b, e.groups[0], "filter")
		return r
	}
	best := 0
	for i, c := range cands {
		if c.rank > cands[best].rank || c.rank == 0 && cands[best].rank == 0 && c.f.Verdict.Matched > cands[best].f.Verdict.Matched {
			best = i
		}
	}
	cands[best].f.Chosen = true
	for _, c := range cands {
		if cands[best].rank > 0 && c.rank == 0 {
			continue // a filter passes: partial matches are beside the point
		}
		r.Evidence.Filters = append(r.Evidence.Filters, c.f)
		r.Evidence.Alarms = append(r.Evidence.Alarms, c.alarms...)
	}
	chosen := cands[best]
	for _, al := range chosen.alarms {
		for _, a := range al.Actions {
			if t := e.a.Topics[a]; t != nil && !slices.ContainsFunc(r.Evidence.Topics, func(x *Topic) bool { return x.ARN == t.ARN }) {
				r.Evidence.Topics = append(r.Evidence.Topics, t)
			}
		}
	}
	f := chosen.f
	where := fmt.Sprintf("metric filter %s on %s", f.Name, f.LogGroup)
	v := f.Verdict
	switch chosen.rank {
	case 3:
		var good AlarmFinding
		for _, al := range chosen.alarms {
			if len(al.Problems) == 0 {
				good = al
				break
			}
		}
		r.Status = Pass
		var notified []string
		for _, arn := range snsActions(good.Actions) {
			if t := e.a.Topics[arn]; t != nil && confirmed(t) > 0 {
				notified = append(notified, fmt.Sprintf("%s (%d confirmed subscription%s)", arn, confirmed(t), plural(confirmed(t))))
			}
		}
		r.Reason = fmt.Sprintf("%s %s, and alarm %s notifies %s", where, v.Summary(), good.Name, strings.Join(notified, ", "))
		if len(v.Noisier) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("the filter is noisier than the CIS pattern: it also matches %d near-miss(es), e.g. %s", len(v.Noisier), v.Noisier[0]))
		}
		if len(v.Broader) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("the filter also catches %d event(s) the CIS pattern misses, e.g. %s", len(v.Broader), v.Broader[0]))
		}
		return r
	case 2:
		var ps []string
		for _, al := range chosen.alarms {
			ps = append(ps, "alarm "+al.Name+" "+strings.Join(al.Problems, ", "))
		}
		r.Status, r.Reason = Fail, fmt.Sprintf("%s catches the CIS events, but %s", where, strings.Join(ps, "; "))
		r.Fix = e.metricFix(b, f.LogGroup, "alarm")
		if strings.Contains(r.Reason, "subscription") {
			r.Fix = e.subscribeFix(chosen.alarms)
		}
	case 1:
		var metrics []string
		for _, t := range f.Transformations {
			metrics = append(metrics, t.Namespace+"/"+t.Name)
		}
		r.Status, r.Reason = Fail, fmt.Sprintf("%s catches the CIS events, but no alarm watches its metric %s", where, strings.Join(metrics, ", "))
		r.Fix = e.metricFix(b, f.LogGroup, "alarm")
	default:
		r.Status = Fail
		sep := " "
		if v.Error != "" {
			sep = ": "
		}
		r.Reason = fmt.Sprintf("no metric filter on %s catches every CIS event of this control; the closest (%s)%s%s",
			strings.Join(e.groups, ", "), f.Name, sep, v.Summary())
		r.Fix = e.metricFix(b, f.LogGroup, "filter")
	}
	return r
}

func sameDimensions(alarm, filter map[string]string) bool {
	if len(alarm) != len(filter) {
		return false
	}
	for k := range filter {
		if _, ok := alarm[k]; !ok {
			return false
		}
	}
	return true
}

func snsActions(actions []string) []string {
	var out []string
	for _, a := range actions {
		if strings.HasPrefix(a, "arn:aws:sns:") || strings.HasPrefix(a, "arn:aws-") && strings.Contains(a, ":sns:") {
			out = append(out, a)
		}
	}
	return out
}

// formatNum prints a threshold as CloudWatch shows it.
func formatNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// alarmProblems says what keeps an alarm on metric t from firing on one matching event within
// one period and notifying a subscribed topic.
func (e *evaluator) alarmProblems(a Alarm, t Transformation) []string {
	var p []string
	if !a.ActionsEnabled {
		p = append(p, "has its actions disabled")
	}
	// The datapoint of a period holding one matching event, in the worst case.
	v, numeric := strconv.ParseFloat(t.Value, 64)
	known := numeric == nil
	x := v
	switch a.Statistic {
	case "SampleCount":
		x, known = 1, true
	case "Sum", "Maximum":
		if t.DefaultValue != nil && a.Statistic == "Maximum" {
			x = max(v, *t.DefaultValue)
		}
	case "Minimum", "Average":
		if t.DefaultValue != nil {
			x = min(v, *t.DefaultValue)
		}
	default:
		p = append(p, "uses the statistic "+cmp.Or(a.Statistic, "(none)")+", which one event does not decide")
		known = false
	}
	if !known && a.Statistic != "" && a.Statistic != "SampleCount" && len(p) == 0 {
		p = append(p, fmt.Sprintf("uses %s of metric value %q, which comes from the event: use SampleCount or a numeric metric value", a.Statistic, t.Value))
	}
	if known {
		ok := false
		switch a.Comparison {
		case "GreaterThanOrEqualToThreshold":
			ok = x >= a.Threshold
		case "GreaterThanThreshold":
			ok = x > a.Threshold
		default:
			p = append(p, "compares with "+cmp.Or(a.Comparison, "(none)")+", which does not fire when an event happens")
		}
		if !ok && (a.Comparison == "GreaterThanOrEqualToThreshold" || a.Comparison == "GreaterThanThreshold") {
			op := map[string]string{"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">"}[a.Comparison]
			p = append(p, fmt.Sprintf("needs %s %s %s, and one event gives %s", a.Statistic, op, formatNum(a.Threshold), formatNum(x)))
		}
	}
	if m := cmp.Or(a.DatapointsToAlarm, a.EvaluationPeriods); m > 1 {
		p = append(p, fmt.Sprintf("needs %d breaching periods, and one event fills one", m))
	}
	topics := snsActions(a.Actions)
	if len(topics) == 0 {
		p = append(p, "has no SNS topic among its alarm actions")
		return p
	}
	var subscribed bool
	var why []string
	for _, arn := range topics {
		t := e.a.Topics[arn]
		switch {
		case t != nil && t.Error != "":
			why = append(why, "topic "+arn+" could not be read: "+t.Error)
		case t == nil || !t.Exists:
			why = append(why, "topic "+arn+" does not exist")
		case confirmed(t) == 0 && len(t.Subscriptions) > 0:
			why = append(why, "topic "+arn+" has only unconfirmed subscriptions")
		case confirmed(t) == 0:
			why = append(why, "topic "+arn+" has no subscription")
		default:
			subscribed = true
		}
	}
	if !subscribed {
		p = append(p, "notifies no one: "+strings.Join(why, ", "))
	}
	return p
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func confirmed(t *Topic) int {
	n := 0
	for _, s := range t.Subscriptions {
		if s.Confirmed {
			n++
		}
	}
	return n
}

// Failed lists the controls that failed, in order.
func Failed(rs []Result) []string {
	var out []string
	for _, r := range rs {
		if r.Status == Fail {
			out = append(out, r.Control)
		}
	}
	return out
}
