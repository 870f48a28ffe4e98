package awssetup

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

// Export formats.
const (
	FormatCloudFormation = "cloudformation"
	FormatTerraform      = "terraform"
	FormatAWSCLI         = "aws-cli"
)

// ExportFormats lists the formats Export writes.
var ExportFormats = []string{FormatCloudFormation, FormatTerraform, FormatAWSCLI}

// Export writes d in format: the same metric filters, alarms, topic and subscriptions that
// apply creates and, when d has a trail (--ensure-trail), the trail with its bucket, log group
// and role, which needs d.Account.
func Export(w io.Writer, d *Desired, format string) error {
	if err := checkTrailExport(d); err != nil {
		return err
	}
	switch format {
	case FormatCloudFormation:
		return exportCloudFormation(w, d)
	case FormatTerraform:
		return exportTerraform(w, d)
	case FormatAWSCLI:
		return exportAWSCLI(w, d)
	}
	return fmt.Errorf("unknown export format %q: use %s", format, strings.Join(ExportFormats, ", "))
}

// logicalID is a CloudFormation logical id (letters and digits) or Terraform name (plus '_')
// for a rule, unique within seen.
func logicalID(prefix, ruleID string, seen map[string]bool, sep string) string {
	var b strings.Builder
	b.WriteString(prefix)
	up := sep == ""
	for _, c := range ruleID {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if up && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteRune(c)
			up = false
		default:
			if sep != "" && !strings.HasSuffix(b.String(), sep) {
				b.WriteString(sep)
			}
			up = sep == ""
		}
	}
	id := strings.TrimSuffix(b.String(), sep)
	for n := 2; seen[id]; n++ {
		id = strings.TrimSuffix(b.String(), sep) + sep + strconv.Itoa(n)
	}
	seen[id] = true
	return id
}

type ms = yaml.MapSlice
type mi = yaml.MapItem

func cfnTags(m map[string]string) []any {
	var out []any
	for _, k := range sortedKeys(m) {
		out = append(out, ms{{Key: "Key", Value: k}, {Key: "Value", Value: m[k]}})
	}
	return out
}

func exportCloudFormation(w io.Writer, d *Desired) error {
	var res ms
	if d.Trail != nil {
		res = append(res, cfnTrail(d)...)
	}
	var topic any = d.Topic.ARN
	if d.Topic.Create {
		res = append(res, mi{Key: "AlarmTopic", Value: ms{{Key: "Type", Value: "AWS::SNS::Topic"}, {Key: "Properties", Value: ms{
			{Key: "TopicName", Value: d.Topic.Name}, {Key: "Tags", Value: cfnTags(ManagedTags())}}}}})
		topic = ms{{Key: "Ref", Value: "AlarmTopic"}}
	}
	for i, s := range d.Subscriptions {
		res = append(res, mi{Key: fmt.Sprintf("AlarmSubscription%d", i+1), Value: ms{{Key: "Type", Value: "AWS::SNS::Subscription"}, {Key: "Properties", Value: ms{
			{Key: "TopicArn", Value: topic}, {Key: "Protocol", Value: s.Protocol}, {Key: "Endpoint", Value: s.Endpoint}}}}})
	}
	seen := map[string]bool{}
	for i, f := range d.Filters {
		a := d.Alarms[i]
		id := logicalID("", f.RuleID, seen, "")
		t := ms{{Key: "MetricName", Value: f.Metric.Name}, {Key: "MetricNamespace", Value: f.Metric.Namespace}, {Key: "MetricValue", Value: f.Metric.Value}}
		if f.Metric.DefaultValue != nil {
			t = append(t, mi{Key: "DefaultValue", Value: *f.Metric.DefaultValue})
		}
		if len(f.Metric.Dimensions) > 0 {
			var dims []any
			for _, dm := range f.Metric.Dimensions {
				dims = append(dims, ms{{Key: "Key", Value: dm.Name}, {Key: "Value", Value: dm.Value}})
			}
			t = append(t, mi{Key: "Dimensions", Value: dims})
		}
		if f.Metric.Unit != "" {
			t = append(t, mi{Key: "Unit", Value: f.Metric.Unit})
		}
		filter := ms{{Key: "Type", Value: "AWS::Logs::MetricFilter"}}
		if d.Trail != nil {
			filter = append(filter, mi{Key: "DependsOn", Value: "TrailLogGroup"}) // the template creates the group
		}
		filter = append(filter, mi{Key: "Properties", Value: ms{
			{Key: "FilterName", Value: f.Name}, {Key: "LogGroupName", Value: f.LogGroup}, {Key: "FilterPattern", Value: f.Pattern},
			{Key: "MetricTransformations", Value: []any{t}}}})
		res = append(res, mi{Key: "Filter" + id, Value: filter})
		p := ms{{Key: "AlarmName", Value: a.Name}, {Key: "AlarmDescription", Value: a.Description},
			{Key: "Namespace", Value: a.Namespace}, {Key: "MetricName", Value: a.MetricName}}
		if a.ExtendedStatistic != "" {
			p = append(p, mi{Key: "ExtendedStatistic", Value: a.ExtendedStatistic})
		} else {
			p = append(p, mi{Key: "Statistic", Value: a.Statistic})
		}
		p = append(p, ms{{Key: "Period", Value: a.Period}, {Key: "EvaluationPeriods", Value: a.EvaluationPeriods},
			{Key: "DatapointsToAlarm", Value: a.DatapointsToAlarm}, {Key: "Threshold", Value: a.Threshold},
			{Key: "ComparisonOperator", Value: a.ComparisonOperator}, {Key: "TreatMissingData", Value: a.TreatMissingData},
			{Key: "AlarmActions", Value: []any{topic}}, {Key: "Tags", Value: cfnTags(a.Tags)}}...)
		res = append(res, mi{Key: "Alarm" + id, Value: ms{{Key: "Type", Value: "AWS::CloudWatch::Alarm"},
			{Key: "DependsOn", Value: "Filter" + id}, {Key: "Properties", Value: p}}})
	}
	desc := fmt.Sprintf("trailalarm: CloudWatch Logs metric filters and alarms for %d rules on log group %s", len(d.Filters), d.LogGroup)
	if d.Trail != nil {
		desc += fmt.Sprintf(", and trail %s (multi-region, log file validation, management events) sending to it", d.Trail.Name)
	}
	doc := ms{
		{Key: "AWSTemplateFormatVersion", Value: "2010-09-09"},
		{Key: "Description", Value: desc},
		{Key: "Resources", Value: res},
	}
	b, err := yaml.MarshalWithOptions(doc, yaml.IndentSequence(true))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// hclString quotes s as an HCL string literal: backslash escapes, and ${ and %{ doubled so
// that Terraform does not read a template.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hclMap writes m as an HCL object, keys aligned as terraform fmt aligns them.
func hclMap(indent string, m map[string]string) string {
	var b strings.Builder
	b.WriteString("{\n")
	width := 0
	for k := range m {
		width = max(width, utf8.RuneCountInString(hclString(k))) // %-*s pads to code points
	}
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&b, "%s  %-*s = %s\n", indent, width, hclString(k), hclString(m[k]))
	}
	b.WriteString(indent + "}")
	return b.String()
}

func exportTerraform(w io.Writer, d *Desired) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Generated by trailalarm export --format terraform: %d rules, region %s.\n", len(d.Filters), d.Region)
	if d.Trail != nil {
		p("# A module for the provider of region %s and account %s, which the trail's policies name.\n\n", d.Region, d.Account)
	} else {
		p("# A module: the provider (and so the region and account) is the caller's.\n\n")
	}
	p("terraform {\n  required_providers {\n    aws = {\n      source = \"hashicorp/aws\"\n    }\n  }\n}\n\n")
	logGroup := "var.log_group_name"
	if d.Trail != nil {
		// The module creates the group, named as the trail's role policy says.
		terraformTrail(p, d)
		logGroup = "aws_cloudwatch_log_group.trail.name"
	} else {
		p("variable \"log_group_name\" {\n  description = \"The CloudWatch Logs group the trail sends to.\"\n  type        = string\n  default     = %s\n}\n\n", hclString(d.LogGroup))
	}
	if d.Topic.Create {
		p("variable \"topic_name\" {\n  description = \"The SNS topic the alarms notify (created).\"\n  type        = string\n  default     = %s\n}\n\n", hclString(d.Topic.Name))
		p("resource \"aws_sns_topic\" \"alarms\" {\n  name = var.topic_name\n  tags = %s\n}\n\n", hclMap("  ", ManagedTags()))
		p("locals {\n  topic_arn = aws_sns_topic.alarms.arn\n}\n\n")
	} else {
		p("variable \"topic_arn\" {\n  description = \"The SNS topic the alarms notify (existing).\"\n  type        = string\n  default     = %s\n}\n\n", hclString(d.Topic.ARN))
		p("locals {\n  topic_arn = var.topic_arn\n}\n\n")
	}
	for i, s := range d.Subscriptions {
		p("resource \"aws_sns_topic_subscription\" \"subscription_%d\" {\n  topic_arn = local.topic_arn\n  protocol  = %s\n  endpoint  = %s\n}\n\n", i+1, hclString(s.Protocol), hclString(s.Endpoint))
	}
	seen := map[string]bool{}
	for i, f := range d.Filters {
		a := d.Alarms[i]
		id := logicalID("", f.RuleID, seen, "_")
		p("# rule %s\n", strings.ReplaceAll(f.RuleID, "\n", " "))
		p("resource \"aws_cloudwatch_log_metric_filter\" %s {\n", hclString(id))
		p("  name           = %s\n  log_group_name = %s\n  pattern        = %s\n\n", hclString(f.Name), logGroup, hclString(f.Pattern))
		// One-line attributes first, aligned as terraform fmt aligns them; the map last.
		attrs := [][2]string{{"name", hclString(f.Metric.Name)}, {"namespace", hclString(f.Metric.Namespace)}, {"value", hclString(f.Metric.Value)}}
		if f.Metric.DefaultValue != nil {
			attrs = append(attrs, [2]string{"default_value", hclString(formatFloat(*f.Metric.DefaultValue))})
		}
		if f.Metric.Unit != "" {
			attrs = append(attrs, [2]string{"unit", hclString(f.Metric.Unit)})
		}
		width := 0
		for _, kv := range attrs {
			width = max(width, len(kv[0]))
		}
		p("  metric_transformation {\n")
		for _, kv := range attrs {
			p("    %-*s = %s\n", width, kv[0], kv[1])
		}
		if len(f.Metric.Dimensions) > 0 {
			dims := map[string]string{}
			for _, dm := range f.Metric.Dimensions {
				dims[dm.Name] = dm.Value
			}
			p("    dimensions = %s\n", hclMap("    ", dims))
		}
		p("  }\n}\n\n")
		p("resource \"aws_cloudwatch_metric_alarm\" %s {\n", hclString(id))
		p("  alarm_name          = %s\n  alarm_description   = %s\n", hclString(a.Name), hclString(a.Description))
		p("  namespace           = aws_cloudwatch_log_metric_filter.%s.metric_transformation[0].namespace\n", id)
		p("  metric_name         = aws_cloudwatch_log_metric_filter.%s.metric_transformation[0].name\n", id)
		if a.ExtendedStatistic != "" {
			p("  extended_statistic  = %s\n", hclString(a.ExtendedStatistic))
		} else {
			p("  statistic           = %s\n", hclString(a.Statistic))
		}
		p("  period              = %d\n  evaluation_periods  = %d\n  datapoints_to_alarm = %d\n", a.Period, a.EvaluationPeriods, a.DatapointsToAlarm)
		p("  threshold           = %s\n  comparison_operator = %s\n  treat_missing_data  = %s\n", formatFloat(a.Threshold), hclString(a.ComparisonOperator), hclString(a.TreatMissingData))
		p("  alarm_actions       = [local.topic_arn]\n  tags = %s\n}\n\n", hclMap("  ", a.Tags))
	}
	_, err := io.WriteString(w, strings.TrimSuffix(b.String(), "\n"))
	return err
}

func exportAWSCLI(w io.Writer, d *Desired) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("#!/bin/sh\n")
	p("# Generated by trailalarm export --format aws-cli: %d rules, region %s, log group %s.\n", len(d.Filters), d.Region, d.LogGroup)
	p("# Run with credentials for the target account. Every command creates or updates in place,\n# or accepts that the thing exists, so the script can be run again.\nset -eu\n\n")
	if d.Trail != nil {
		cliTrail(p, d)
	}
	if d.Topic.Create {
		c := newCommand("sns", "create-topic", d.Region)
		c.opt("--name", d.Topic.Name)
		c.opt("--tags", jsonText([]map[string]string{{"Key": TagManaged, "Value": "true"}}))
		c.raw("--query TopicArn --output text")
		p("TOPIC_ARN=$(%s)\n", c)
	} else {
		p("TOPIC_ARN=%s\n", ShellQuote(d.Topic.ARN))
	}
	for _, s := range d.Subscriptions {
		c := newCommand("sns", "subscribe", d.Region)
		c.raw(`--topic-arn "$TOPIC_ARN"`)
		c.opt("--protocol", s.Protocol)
		c.opt("--notification-endpoint", s.Endpoint)
		c.raw("--output text")
		p("%s\n", c)
	}
	for i, f := range d.Filters {
		a := d.Alarms[i]
		p("\n# rule %s\n", strings.ReplaceAll(f.RuleID, "\n", " "))
		p("%s\n", f.PutCommand(d.Region))
		p("%s\n", a.PutCommand(d.Region, `"$TOPIC_ARN"`))
		desc := newCommand("cloudwatch", "describe-alarms", d.Region)
		desc.opt("--alarm-names", a.Name)
		desc.raw("--query 'MetricAlarms[0].AlarmArn' --output text")
		p("ALARM_ARN=$(%s)\n", desc)
		p("%s\n", a.TagCommand(d.Region, `"$ALARM_ARN"`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
