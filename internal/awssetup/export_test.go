package awssetup

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/trailalarm/trailalarm/internal/rules"
)

// hostile is a rule file whose patterns and names need careful quoting in every format.
const hostile = `pack: quoting
rules:
  - id: quoting:shell-hostile
    title: 'Quotes '' " $HOME ${x} %{y} ` + "`id`" + ` and \ backslashes'
    severity: low
    pattern: '{ ($.requestParameters.bucketName = "it''s-$HOME-*") || ($.userAgent = "*\"q\"*") || ($.errorMessage = "a\\b") }'
    metric:
      name: ShellHostile
      namespace: Test/Quoting
      value: "1"
      defaultValue: 0
      unit: Count
    alarm:
      period: 60
      statistic: p99
      threshold: -2.5
      comparisonOperator: LessThanThreshold
      evaluationPeriods: 3
      datapointsToAlarm: 2
      treatMissingData: breaching
  - id: quoting:bytes
    title: Dimensions
    severity: low
    pattern: '{ $.eventName = "GetObject" && $.additionalEventData.bytesTransferredOut > 1000000 }'
    metric:
      name: S3BytesOut
      namespace: Test/Quoting
      value: $.additionalEventData.bytesTransferredOut
      dimensions:
        Bucket: $.requestParameters.bucketName
`

func exportRules(t testing.TB) []*rules.Rule {
	t.Helper()
	rs, err := rules.Parse("hostile.yaml", []byte(hostile))
	if err != nil {
		t.Fatal(err)
	}
	cis, err := rules.Pack("cis-1.2")
	if err != nil {
		t.Fatal(err)
	}
	return append(cis, rs...)
}

func exportDesired(t testing.TB, mod func(*Options)) *Desired {
	t.Helper()
	o := Options{Region: "eu-west-1", LogGroup: "trail/logs", Subscriptions: []Subscription{{"email", "a@example.com"}, {"https", "https://h.example.com/x?y='z'"}}}
	if mod != nil {
		mod(&o)
	}
	d, err := Build(exportRules(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "''",
		"plain-word_1.2/x":  "plain-word_1.2/x",
		"two words":         "'two words'",
		"it's":              `'it'\''s'`,
		"$HOME":             `'$HOME'`,
		`{ $.a = "b" }`:     `'{ $.a = "b" }'`,
		"''":                `''\'''\'''`,
		"arn:aws:sns:x:1:t": "arn:aws:sns:x:1:t",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	for _, r := range exportRules(t) {
		checkShellRoundTrip(t, r.Pattern)
		checkShellRoundTrip(t, r.Title)
	}
}

// checkShellRoundTrip has sh print the quoted s back.
func checkShellRoundTrip(t testing.TB, s string) {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(s)).Output()
	if err != nil {
		t.Fatalf("sh -c printf %%s %s: %v", ShellQuote(s), err)
	}
	if string(out) != s {
		t.Fatalf("sh printed %q for %q (quoted %s)", out, s, ShellQuote(s))
	}
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", `'"'"'`, "$(id)`id`${x}\\\n\t", "-n", "%s%d", "\x01é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return // no argument can hold a NUL
		}
		checkShellRoundTrip(t, s)
	})
}

func TestParseSubscription(t *testing.T) {
	for in, want := range map[string]Subscription{
		"email:secops@example.com":                                {"email", "secops@example.com"},
		"EMAIL:secops@example.com":                                {"email", "secops@example.com"},
		"https://hooks.example.com/x?y=1":                         {"https", "https://hooks.example.com/x?y=1"},
		"https:hooks.example.com/x":                               {"https", "https://hooks.example.com/x"},
		"sqs:arn:aws:sqs:eu-west-1:123456789012:alerts":           {"sqs", "arn:aws:sqs:eu-west-1:123456789012:alerts"},
		"lambda:arn:aws:lambda:eu-west-1:123456789012:function:f": {"lambda", "arn:aws:lambda:eu-west-1:123456789012:function:f"},
	} {
		got, err := ParseSubscription(in)
		if err != nil || got != want {
			t.Errorf("ParseSubscription(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                             "use email:ADDRESS",
		"email":                        "use email:ADDRESS",
		"email:":                       "use email:ADDRESS",
		"email:Bob <bob@example.com>":  "not an email address",
		"http://insecure.example.com":  "unknown protocol",
		"https://":                     "not an https URL",
		"https://user:pw@example.com/": "not an https URL",
		"sqs:arn:aws:sns:eu-west-1:123456789012:t":             "not an SQS queue ARN",
		"sqs:arn:aws:sqs:eu-west-1:1234:q":                     "not an SQS queue ARN",
		"lambda:arn:aws:lambda:eu-west-1:123456789012:layer:x": "not a Lambda function ARN",
		"sms:+15555550100":                                     `unknown protocol "sms"`,
	} {
		if _, err := ParseSubscription(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSubscription(%q) = %v, want an error with %q", in, err, want)
		}
	}
	subs, err := ParseSubscriptions([]string{"email:a@example.com", "EMAIL:a@example.com", "email:b@example.com"})
	if err != nil || len(subs) != 2 {
		t.Errorf("ParseSubscriptions kept duplicates: %v, %v", subs, err)
	}
}

func FuzzParseSubscription(f *testing.F) {
	for _, s := range []string{"email:a@example.com", "https://x.example.com/h", "sqs:arn:aws:sqs:us-east-1:123456789012:q",
		"lambda:arn:aws:lambda:us-east-1:123456789012:function:f", "https:", ":", "email:<a@b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, err := ParseSubscription(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--subscribe ") {
				t.Fatalf("error %q does not name the flag", err)
			}
			return
		}
		// What was accepted reads back the same, and has no blank an endpoint cannot hold.
		again, err := ParseSubscription(sub.String())
		if err != nil || again != sub {
			t.Fatalf("%q → %+v, which reads back as %+v, %v", s, sub, again, err)
		}
		if sub.Protocol != "email" && strings.ContainsAny(sub.Endpoint, " \t\r\n") {
			t.Fatalf("%q → endpoint with blanks %q", s, sub.Endpoint)
		}
	})
}

func TestResourceNameAndDescription(t *testing.T) {
	if got := ResourceName("cis-1.2:3.1"); got != "trailalarm-cis-1.2-3.1" {
		t.Errorf("ResourceName = %s", got)
	}
	if got := ResourceName("a*b c"); got != "trailalarm-a-b-c" {
		t.Errorf("ResourceName = %s", got)
	}
	r := &rules.Rule{ID: "x", Title: strings.Repeat("long title ", 200)}
	f := MetricFilter{Name: "trailalarm-x", LogGroup: "aws/cloudtrail/my group"}
	d := AlarmDescription(r, f, "eu-west-1")
	if len(d) > 1024 || !strings.HasSuffix(d, "log-group/aws$252Fcloudtrail$252Fmy+group)") || !strings.Contains(d, "...") {
		t.Errorf("AlarmDescription = %q (%d bytes)", d, len(d))
	}
}

func TestBuildErrorsAndWarnings(t *testing.T) {
	rs := exportRules(t)
	d := exportDesired(t, nil)
	if len(d.Filters) != len(rs) || len(d.Alarms) != len(rs) || d.Topic.ARN != "" || !d.Topic.Create || d.Topic.Name != DefaultTopicName {
		t.Fatalf("Desired = %+v", d)
	}
	if a := d.Alarms[len(rs)-2]; a.ExtendedStatistic != "p99" || a.Statistic != "" || a.Threshold != -2.5 || a.DatapointsToAlarm != 2 {
		t.Errorf("percentile alarm = %+v", a)
	}
	if w := strings.Join(d.Warnings, "\n"); !strings.Contains(w, "rule quoting:bytes: its metric has dimensions") {
		t.Errorf("warnings = %q", d.Warnings)
	}
	both, _ := rules.Select([]string{"cis-1.2", "cis-1.4"}, nil)
	d, err := Build(both, Options{Region: "eu-west-1"})
	if err != nil || !strings.Contains(strings.Join(d.Warnings, "\n"), "rules cis-1.2:3.1 and cis-1.4:4.1 publish the same metric CISBenchmark/UnauthorizedAPICalls") {
		t.Errorf("Build(cis-1.2 + cis-1.4) = %v, warnings %q", err, d.Warnings)
	}
	if _, err := Build(rs, Options{Region: "eu-west-1", TopicARN: "arn:aws:sqs:eu-west-1:123456789012:q"}); err == nil || !strings.Contains(err.Error(), "not an SNS topic ARN") {
		t.Errorf("Build with an SQS ARN as topic = %v", err)
	}
	if _, err := Build(rs, Options{Region: "eu-west-1", EnsureTrail: true}); err == nil || !strings.Contains(err.Error(), "--trail-bucket") {
		t.Errorf("Build --ensure-trail without account = %v", err)
	}
	// ${account_id} needs the account; parameters without values are errors.
	rb, _ := rules.Pack("runbook")
	if _, err := Build(rb, Options{Region: "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "has no value and no default") {
		t.Errorf("Build(runbook) without params = %v", err)
	}
	d, err = Build(rb[:1], Options{Region: "eu-west-1", Params: map[string]string{"home_cidrs": "203.0.113.0/24"}})
	if err != nil || !strings.Contains(d.Filters[0].Pattern, `"203.0.113.*"`) {
		t.Errorf("Build(runbook) with home_cidrs = %+v, %v", d, err)
	}
}

func TestExportUnknownFormat(t *testing.T) {
	if err := Export(&bytes.Buffer{}, exportDesired(t, nil), "pulumi"); err == nil || !strings.Contains(err.Error(), "use cloudformation, terraform, aws-cli") {
		t.Errorf("Export(pulumi) = %v", err)
	}
}

// The CloudFormation template, parsed back, holds one filter and one alarm per rule with the
// rule's pattern, metric and alarm settings, the alarms notifying the topic it creates.
func TestExportCloudFormation(t *testing.T) {
	d := exportDesired(t, nil)
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatCloudFormation); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AWSTemplateFormatVersion string `yaml:"AWSTemplateFormatVersion"`
		Resources                map[string]struct {
			Type       string         `yaml:"Type"`
			DependsOn  string         `yaml:"DependsOn"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the template is not YAML: %v\n%s", err, buf.String())
	}
	filters, alarms := map[string]map[string]any{}, map[string]map[string]any{}
	for id, r := range doc.Resources {
		switch r.Type {
		case "AWS::Logs::MetricFilter":
			filters[r.Properties["FilterName"].(string)] = r.Properties
		case "AWS::CloudWatch::Alarm":
			alarms[r.Properties["AlarmName"].(string)] = r.Properties
			if dep := doc.Resources[r.DependsOn]; dep.Type != "AWS::Logs::MetricFilter" {
				t.Errorf("%s depends on %q", id, r.DependsOn)
			}
		case "AWS::SNS::Topic":
			if r.Properties["TopicName"] != DefaultTopicName || id != "AlarmTopic" {
				t.Errorf("topic %s: %v", id, r.Properties)
			}
		case "AWS::SNS::Subscription":
			if fmt.Sprint(r.Properties["TopicArn"]) != "map[Ref:AlarmTopic]" {
				t.Errorf("subscription %s: %v", id, r.Properties)
			}
		default:
			t.Errorf("unexpected resource %s of type %s", id, r.Type)
		}
	}
	if doc.AWSTemplateFormatVersion != "2010-09-09" || len(filters) != len(d.Filters) || len(alarms) != len(d.Alarms) || len(doc.Resources) != 2*len(d.Filters)+3 {
		t.Fatalf("%d resources, %d filters, %d alarms; want %d rules", len(doc.Resources), len(filters), len(alarms), len(d.Filters))
	}
	for i, want := range d.Filters {
		f := filters[want.Name]
		mt := f["MetricTransformations"].([]any)[0].(map[string]any)
		if f["FilterPattern"] != want.Pattern || f["LogGroupName"] != "trail/logs" || mt["MetricName"] != want.Metric.Name ||
			mt["MetricNamespace"] != want.Metric.Namespace || mt["MetricValue"] != want.Metric.Value {
			t.Errorf("filter %s = %v, want %+v", want.Name, f, want)
		}
		a, wa := alarms[want.Name], d.Alarms[i]
		stat := a["Statistic"]
		if wa.ExtendedStatistic != "" {
			stat = a["ExtendedStatistic"]
		}
		if toFloat(a["Threshold"]) != wa.Threshold || toFloat(a["Period"]) != float64(wa.Period) || a["ComparisonOperator"] != wa.ComparisonOperator ||
			toFloat(a["EvaluationPeriods"]) != float64(wa.EvaluationPeriods) || toFloat(a["DatapointsToAlarm"]) != float64(wa.DatapointsToAlarm) ||
			stat != wa.Statistic+wa.ExtendedStatistic || a["TreatMissingData"] != wa.TreatMissingData || a["AlarmDescription"] != wa.Description ||
			fmt.Sprint(a["AlarmActions"]) != "[map[Ref:AlarmTopic]]" || a["MetricName"] != want.Metric.Name {
			t.Errorf("alarm %s = %v, want %+v", want.Name, a, wa)
		}
	}
	// An existing topic is referred to by its ARN.
	buf.Reset()
	arn := "arn:aws:sns:eu-west-1:123456789012:secops"
	if err := Export(&buf, exportDesired(t, func(o *Options) { o.TopicARN = arn }), FormatCloudFormation); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "AWS::SNS::Topic") || strings.Count(buf.String(), "- "+arn) != len(d.Alarms) {
		t.Errorf("template with --topic-arn:\n%s", buf.String())
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return -1e300
}

// tfBlock is a block of the Terraform this package writes: `TYPE "LABEL"… {`, attributes
// `name = value` one per line, nested blocks.
type tfBlock struct {
	Type   string
	Labels []string
	Attrs  map[string]string // raw expressions
	Blocks []*tfBlock
}

// parseTerraform is a small parser of the HCL subset export writes (blocks, one attribute per
// line, maps and lists on one or several lines); it fails on anything else.
func parseTerraform(src string) ([]*tfBlock, error) {
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var stack []*tfBlock
	var top []*tfBlock
	line := 0
	var pendingKey string
	var pending []string
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if pendingKey != "" {
			pending = append(pending, s)
			if s == "}" || s == "]" {
				stack[len(stack)-1].Attrs[pendingKey] = strings.Join(pending, "\n")
				pendingKey, pending = "", nil
			}
			continue
		}
		switch {
		case s == "" || strings.HasPrefix(s, "#"):
		case s == "}":
			if len(stack) == 0 {
				return nil, fmt.Errorf("line %d: } without a block", line)
			}
			stack = stack[:len(stack)-1]
		case strings.HasSuffix(s, "{") && !strings.Contains(s, "="):
			fields := strings.Fields(strings.TrimSuffix(s, "{"))
			b := &tfBlock{Type: fields[0], Attrs: map[string]string{}}
			for _, l := range fields[1:] {
				u, err := unquoteHCL(l)
				if err != nil {
					return nil, fmt.Errorf("line %d: label %s: %v", line, l, err)
				}
				b.Labels = append(b.Labels, u)
			}
			if len(stack) == 0 {
				top = append(top, b)
			} else {
				stack[len(stack)-1].Blocks = append(stack[len(stack)-1].Blocks, b)
			}
			stack = append(stack, b)
		case strings.Contains(s, "="):
			k, v, _ := strings.Cut(s, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if len(stack) == 0 {
				return nil, fmt.Errorf("line %d: attribute outside a block", line)
			}
			if v == "{" || v == "[" {
				pendingKey, pending = k, []string{v}
				continue
			}
			stack[len(stack)-1].Attrs[k] = v
		default:
			return nil, fmt.Errorf("line %d: cannot read %q", line, s)
		}
	}
	if len(stack) != 0 || pendingKey != "" {
		return nil, fmt.Errorf("unclosed block at the end")
	}
	return top, nil
}

// unquoteHCL reads an HCL string literal as hclString writes it.
func unquoteHCL(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("not a string literal: %s", s)
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("trailing backslash")
			}
			i++
			switch s[i] {
			case '"', '\\':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if i+4 >= len(s) {
					return "", fmt.Errorf("short \\u escape")
				}
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return "", err
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				return "", fmt.Errorf("unknown escape \\%c", s[i])
			}
		case c == '"':
			return "", fmt.Errorf("unescaped quote")
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			return "", fmt.Errorf("template sequence %c{ would be interpolated", c)
		case (c == '$' || c == '%') && i+2 < len(s) && s[i+1] == c && s[i+2] == '{':
			b.WriteByte(c) // $${ is a literal ${
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func FuzzHCLString(f *testing.F) {
	for _, s := range []string{"", `a"b\c`, "${x} %{y} $${z}", "\x01\n\t", "é$", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // rule files are UTF-8
		}
		q := hclString(s)
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("hclString(%q) = %s spans lines", s, q)
		}
		got, err := unquoteHCL(q)
		if err != nil || got != s {
			t.Fatalf("hclString(%q) = %s, which reads back as %q, %v", s, q, got, err)
		}
	})
}

// The Terraform module, parsed back, holds one filter and one alarm per rule with the right
// pattern, metric, threshold, period, operator and action.
func TestExportTerraform(t *testing.T) {
	d := exportDesired(t, nil)
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatTerraform); err != nil {
		t.Fatal(err)
	}
	blocks, err := parseTerraform(buf.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	filters, alarms := map[string]*tfBlock{}, map[string]*tfBlock{}
	vars := map[string]*tfBlock{}
	subs := 0
	str := func(b *tfBlock, k string) string {
		v, err := unquoteHCL(b.Attrs[k])
		if err != nil {
			t.Errorf("%s %v: %s: %v", b.Type, b.Labels, k, err)
		}
		return v
	}
	for _, b := range blocks {
		switch {
		case b.Type == "variable":
			vars[b.Labels[0]] = b
		case b.Type == "resource" && b.Labels[0] == "aws_cloudwatch_log_metric_filter":
			filters[str(b, "name")] = b
		case b.Type == "resource" && b.Labels[0] == "aws_cloudwatch_metric_alarm":
			alarms[str(b, "alarm_name")] = b
		case b.Type == "resource" && b.Labels[0] == "aws_sns_topic_subscription":
			subs++
			if b.Attrs["topic_arn"] != "local.topic_arn" {
				t.Errorf("subscription %v", b.Attrs)
			}
		}
	}
	if len(filters) != len(d.Filters) || len(alarms) != len(d.Alarms) || subs != 2 {
		t.Fatalf("%d filters, %d alarms, %d subscriptions; want %d rules and 2", len(filters), len(alarms), subs, len(d.Filters))
	}
	if v := vars["log_group_name"]; v == nil || str(v, "default") != "trail/logs" || vars["topic_name"] == nil {
		t.Errorf("variables: %v", vars)
	}
	for i, want := range d.Filters {
		f, a, wa := filters[want.Name], alarms[want.Name], d.Alarms[i]
		if len(f.Blocks) != 1 || f.Blocks[0].Type != "metric_transformation" {
			t.Fatalf("filter %s blocks %v", want.Name, f.Blocks)
		}
		mt := f.Blocks[0]
		if str(f, "pattern") != want.Pattern || f.Attrs["log_group_name"] != "var.log_group_name" || str(mt, "name") != want.Metric.Name ||
			str(mt, "namespace") != want.Metric.Namespace || str(mt, "value") != want.Metric.Value {
			t.Errorf("filter %s: %v %v, want %+v", want.Name, f.Attrs, mt.Attrs, want)
		}
		if want.Metric.DefaultValue != nil && str(mt, "default_value") != formatFloat(*want.Metric.DefaultValue) {
			t.Errorf("filter %s default_value %v", want.Name, mt.Attrs)
		}
		if len(want.Metric.Dimensions) > 0 && !strings.Contains(mt.Attrs["dimensions"], `"Bucket" = "$.requestParameters.bucketName"`) {
			t.Errorf("filter %s dimensions %q", want.Name, mt.Attrs["dimensions"])
		}
		label := f.Labels[1]
		stat := "statistic"
		if wa.ExtendedStatistic != "" {
			stat = "extended_statistic"
		}
		if a.Labels[1] != label || a.Attrs["metric_name"] != "aws_cloudwatch_log_metric_filter."+label+".metric_transformation[0].name" ||
			a.Attrs["threshold"] != formatFloat(wa.Threshold) || a.Attrs["period"] != strconv.Itoa(wa.Period) ||
			a.Attrs["evaluation_periods"] != strconv.Itoa(wa.EvaluationPeriods) || a.Attrs["datapoints_to_alarm"] != strconv.Itoa(wa.DatapointsToAlarm) ||
			str(a, "comparison_operator") != wa.ComparisonOperator || str(a, stat) != wa.Statistic+wa.ExtendedStatistic ||
			str(a, "treat_missing_data") != wa.TreatMissingData || a.Attrs["alarm_actions"] != "[local.topic_arn]" ||
			str(a, "alarm_description") != wa.Description || !strings.Contains(a.Attrs["tags"], `"trailalarm:rule"    = `+hclString(wa.RuleID)) {
			t.Errorf("alarm %s: %v, want %+v", want.Name, a.Attrs, wa)
		}
	}
	// An existing topic becomes a variable.
	buf.Reset()
	arn := "arn:aws:sns:eu-west-1:123456789012:secops"
	if err := Export(&buf, exportDesired(t, func(o *Options) { o.TopicARN = arn }), FormatTerraform); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "aws_sns_topic\"") || !strings.Contains(buf.String(), `default     = "`+arn+`"`) {
		t.Errorf("module with --topic-arn:\n%s", buf.String())
	}
}

// The aws-cli script is valid sh (sh -n), quotes every pattern so that sh hands it to the CLI
// unchanged, and has one put-metric-filter and one put-metric-alarm per rule.
func TestExportAWSCLIScript(t *testing.T) {
	d := exportDesired(t, nil)
	var buf bytes.Buffer
	if err := Export(&buf, d, FormatAWSCLI); err != nil {
		t.Fatal(err)
	}
	script := buf.String()
	if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	if n := strings.Count(script, "aws logs put-metric-filter"); n != len(d.Filters) {
		t.Errorf("%d put-metric-filter, want %d", n, len(d.Filters))
	}
	if n := strings.Count(script, "aws cloudwatch put-metric-alarm"); n != len(d.Alarms) {
		t.Errorf("%d put-metric-alarm, want %d", n, len(d.Alarms))
	}
	// Each pattern is quoted so that sh hands it over unchanged (the real CLI replays the
	// script in cmd/trailalarm's TestExportAWSCLIReplaysLikeApply).
	for _, f := range d.Filters {
		if !strings.Contains(script, "--filter-pattern="+ShellQuote(f.Pattern)+" ") {
			t.Errorf("pattern of %s not quoted as ShellQuote does", f.Name)
		}
		checkShellRoundTrip(t, f.Pattern)
	}
}
