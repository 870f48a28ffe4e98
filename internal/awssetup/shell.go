package awssetup

import (
	"encoding/json"
	"strconv"
	"strings"
)

// ShellQuote quotes s for a POSIX shell: as it is when it is made only of characters no shell
// treats specially, else in single quotes, each embedded ' written as '\”.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command builds one AWS CLI command line, one option per continuation line.
type command struct{ parts []string }

func newCommand(service, op, region string) *command {
	c := &command{parts: []string{"aws " + service + " " + op}}
	if region != "" {
		c.opt("--region", region)
	}
	return c
}

// opt adds "--name value", the value quoted.
func (c *command) opt(name, value string) { c.parts = append(c.parts, name+" "+ShellQuote(value)) }

// optEq adds "--name=value": for values that may start with '-' (patterns, negative numbers),
// which the CLI would otherwise take for an option.
func (c *command) optEq(name, value string) { c.parts = append(c.parts, name+"="+ShellQuote(value)) }

// raw adds text as it is (a shell expression such as "$TOPIC_ARN").
func (c *command) raw(text string) { c.parts = append(c.parts, text) }

func (c *command) String() string { return strings.Join(c.parts, " \\\n    ") }

// jsonText is v as compact JSON, for CLI options that take JSON.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps, slices and strings of our own
	}
	return string(b)
}

// transformationJSON is the metric transformation as PutMetricFilter's JSON spells it.
func (m Transformation) transformationJSON() map[string]any {
	t := map[string]any{"metricName": m.Name, "metricNamespace": m.Namespace, "metricValue": m.Value}
	if m.DefaultValue != nil {
		t["defaultValue"] = *m.DefaultValue
	}
	if len(m.Dimensions) > 0 {
		dims := map[string]string{}
		for _, d := range m.Dimensions {
			dims[d.Name] = d.Value
		}
		t["dimensions"] = dims
	}
	if m.Unit != "" {
		t["unit"] = m.Unit
	}
	return t
}

// PutCommand is the AWS CLI command that creates or updates the metric filter in region.
func (f MetricFilter) PutCommand(region string) string {
	c := newCommand("logs", "put-metric-filter", region)
	c.opt("--log-group-name", f.LogGroup)
	c.opt("--filter-name", f.Name)
	c.optEq("--filter-pattern", f.Pattern)
	c.opt("--metric-transformations", jsonText([]any{f.Metric.transformationJSON()}))
	return c.String()
}

// PutCommand is the AWS CLI command that creates or updates the alarm in region. topicExpr, when
// not "", replaces the alarm actions by a shell expression (such as "$TOPIC_ARN") in a script
// that creates the topic first. The command carries the alarm's tags, but PutMetricAlarm applies
// tags only when it creates an alarm: TagCommand tags an existing one.
func (a Alarm) PutCommand(region, topicExpr string) string {
	c := newCommand("cloudwatch", "put-metric-alarm", region)
	c.opt("--alarm-name", a.Name)
	c.opt("--alarm-description", a.Description)
	c.opt("--namespace", a.Namespace)
	c.opt("--metric-name", a.MetricName)
	if a.ExtendedStatistic != "" {
		c.opt("--extended-statistic", a.ExtendedStatistic)
	} else {
		c.opt("--statistic", a.Statistic)
	}
	c.opt("--period", strconv.Itoa(a.Period))
	c.opt("--evaluation-periods", strconv.Itoa(a.EvaluationPeriods))
	c.opt("--datapoints-to-alarm", strconv.Itoa(a.DatapointsToAlarm))
	c.optEq("--threshold", formatFloat(a.Threshold))
	c.opt("--comparison-operator", a.ComparisonOperator)
	c.opt("--treat-missing-data", a.TreatMissingData)
	switch {
	case topicExpr != "":
		c.raw("--alarm-actions " + topicExpr)
	case len(a.Actions) > 0:
		c.parts = append(c.parts, "--alarm-actions "+quoteAll(a.Actions))
	}
	if len(a.Tags) > 0 {
		c.opt("--tags", tagsJSON(a.Tags))
	}
	return c.String()
}

// TagCommand is the AWS CLI command that tags the alarm as trailalarm's. arnExpr is the alarm's
// ARN, quoted, or a shell expression.
func (a Alarm) TagCommand(region, arnExpr string) string {
	c := newCommand("cloudwatch", "tag-resource", region)
	c.raw("--resource-arn " + arnExpr)
	c.opt("--tags", tagsJSON(a.Tags))
	return c.String()
}

// tagsJSON is a tag map as the CLI's --tags takes it in JSON: [{"Key":…,"Value":…}, …].
func tagsJSON(m map[string]string) string {
	var tags []map[string]string
	for _, k := range sortedKeys(m) {
		tags = append(tags, map[string]string{"Key": k, "Value": m[k]})
	}
	return jsonText(tags)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = ShellQuote(s)
	}
	return strings.Join(q, " ")
}

// formatFloat writes f as CloudWatch's documentation does: 1, 0.5, 1e+21.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
