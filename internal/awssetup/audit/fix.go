package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trailalarm/trailalarm/internal/awssetup"
)

// metricFix is the fix of a metric control: trailalarm apply, or the AWS CLI commands that put
// the rule's metric filter (what == "filter") and its alarm in place.
func (e *evaluator) metricFix(b *Bank, logGroup, what string) *Fix {
	fix := &Fix{Apply: e.applyCmd(logGroupFlag(logGroup)...)}
	f, _, _, err := awssetup.FilterFor(b.Rule, logGroup, e.a.ID, nil)
	if err != nil {
		fix.Note = err.Error()
		return fix
	}
	topic := e.topicForFix()
	if what == "filter" {
		fix.AWSCLI = append(fix.AWSCLI, f.PutCommand(e.a.Region))
	}
	fix.AWSCLI = append(fix.AWSCLI, awssetup.AlarmFor(b.Rule, f, topic, e.a.Region).PutCommand(e.a.Region, ""))
	if _, ok := e.a.Topics[topic]; !ok {
		fix.Note = "the topic " + topic + " must exist and have a confirmed subscription: aws sns create-topic --name " +
			awssetup.DefaultTopicName + ", then aws sns subscribe (or let trailalarm apply --subscribe do it)"
	}
	return fix
}

func logGroupFlag(g string) []string {
	if g == awssetup.DefaultLogGroup {
		return nil
	}
	return []string{"--log-group", g}
}

// topicForFix is the topic a new alarm should notify: one that already has a confirmed
// subscription, else trailalarm's default topic.
func (e *evaluator) topicForFix() string {
	for _, arn := range sortedTopicARNs(e.a.Topics) {
		if t := e.a.Topics[arn]; t.Exists && confirmed(t) > 0 {
			return arn
		}
	}
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", e.a.Region, e.a.ID, awssetup.DefaultTopicName)
}

// subscribeFix is the fix for alarms whose topics reach no one.
func (e *evaluator) subscribeFix(alarms []AlarmFinding) *Fix {
	fix := &Fix{Apply: e.applyCmd("--subscribe", "email:security@example.com"), Note: "replace security@example.com with the address (or https:, sqs:, lambda: endpoint) that must be told; an email subscription counts once confirmed"}
	seen := map[string]bool{}
	for _, al := range alarms {
		for _, arn := range snsActions(al.Actions) {
			if seen[arn] {
				continue
			}
			seen[arn] = true
			if t := e.a.Topics[arn]; t == nil || !t.Exists {
				fix.AWSCLI = append(fix.AWSCLI, cli("sns", "create-topic", "--region", e.a.Region, "--name", arn[strings.LastIndex(arn, ":")+1:]))
			}
			fix.AWSCLI = append(fix.AWSCLI, cli("sns", "subscribe", "--region", e.a.Region, "--topic-arn", arn, "--protocol", "email", "--notification-endpoint", "security@example.com"))
		}
	}
	return fix
}

// cli is an AWS CLI command line, every argument quoted for a POSIX shell where it needs it.
func cli(service, op string, args ...string) string {
	parts := []string{"aws", service, op}
	for _, a := range args {
		parts = append(parts, awssetup.ShellQuote(a))
	}
	return strings.Join(parts, " ")
}

func sortedTopicARNs(m map[string]*Topic) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
