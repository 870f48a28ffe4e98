package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// SNS limits: a subject is ASCII without line breaks and under 100 characters; a message is at
// most 256 KiB.
const (
	snsMaxSubject = 100
	snsMaxMessage = 256 * 1024
)

// SNSConfig configures the SNS notifier.
type SNSConfig struct {
	Name      string        `yaml:"name"`      // default "sns"
	TopicARN  string        `yaml:"topic_arn"` // required; a .fifo topic gets group and deduplication ids
	AWS       AWSConfig     `yaml:",inline"`
	Timeout   time.Duration `yaml:"timeout"` // per attempt; default DefaultTimeout
	MaxAlerts int           `yaml:"-"`       // evidence records in the text; default alert.MaxEvidence
}

// SNS publishes alerts to a topic: the subject line, a readable text message and message
// attributes for subscription filter policies:
//
//	severity   String        info|low|medium|high|critical
//	rule_id    String        the rule id
//	state      String        the new state: ALARM, OK or INSUFFICIENT_DATA
//	account    String.Array  the accounts of the evidence (omitted when none)
//	region     String.Array  the regions of the evidence (omitted when none)
//	alert_id   String        the alert id, the same on every retry
//
// A filter policy such as {"severity":["high","critical"],"state":["ALARM"]} routes on them.
type SNS struct {
	name    string
	topic   string
	fifo    bool
	timeout time.Duration
	maxEv   int
	client  *sns.Client
}

// NewSNS checks c and loads the AWS configuration (region from the topic ARN unless set).
func NewSNS(ctx context.Context, c SNSConfig) (*SNS, error) {
	if c.TopicARN == "" {
		return nil, fmt.Errorf("sns notifier: topic_arn is required")
	}
	a, err := arn.Parse(c.TopicARN)
	if err != nil || a.Service != "sns" || a.Resource == "" || a.Region == "" {
		return nil, fmt.Errorf("sns notifier: topic_arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", c.TopicARN)
	}
	cfg, err := loadAWS(ctx, c.AWS, a.Region)
	if err != nil {
		return nil, fmt.Errorf("sns notifier: %w", err)
	}
	return &SNS{
		name:    or(c.Name, "sns"),
		topic:   c.TopicARN,
		fifo:    strings.HasSuffix(a.Resource, ".fifo"),
		timeout: c.Timeout,
		maxEv:   or0(c.MaxAlerts, alert.MaxEvidence),
		client:  sns.NewFromConfig(cfg),
	}, nil
}

func or0(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (s *SNS) Name() string { return s.name }

func (s *SNS) Notify(ctx context.Context, a *alert.Alert) error {
	ctx, cancel := withTimeout(ctx, s.timeout)
	defer cancel()
	in := snsInput(s.topic, a, s.maxEv)
	if s.fifo {
		// FIFO topics drop a repeated deduplication id within 5 minutes: a retry is not a copy.
		in.MessageGroupId = aws.String(cut(clean(a.Rule.ID, 0), 128))
		in.MessageDeduplicationId = aws.String(a.ID)
	}
	if _, err := s.client.Publish(ctx, in); err != nil {
		return awsError(s.name+": publish to "+s.topic, err)
	}
	return nil
}

func snsInput(topic string, a *alert.Alert, maxEv int) *sns.PublishInput {
	msg := plainText(newView(a, maxEv))
	for len(msg) > snsMaxMessage && maxEv > 0 {
		maxEv /= 2
		msg = plainText(newView(a, maxEv))
	}
	attrs := map[string]types.MessageAttributeValue{}
	str := func(k, v string) {
		if v = clean(v, 256); v != "" {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	arr := func(k string, vs []string) {
		if len(vs) == 0 {
			return
		}
		cl := make([]string, len(vs))
		for i, v := range vs {
			cl[i] = clean(v, 64)
		}
		b, _ := json.Marshal(cl)
		attrs[k] = types.MessageAttributeValue{DataType: aws.String("String.Array"), StringValue: aws.String(string(b))}
	}
	str("severity", strings.ToLower(a.Rule.Severity))
	str("rule_id", a.Rule.ID)
	str("state", a.To)
	str("alert_id", a.ID)
	arr("account", a.Accounts)
	arr("region", a.Regions)
	return &sns.PublishInput{
		TopicArn:          aws.String(topic),
		Subject:           aws.String(snsSubject(a)),
		Message:           aws.String(msg),
		MessageAttributes: attrs,
	}
}

// snsSubject is alert.Subject made acceptable to SNS: printable ASCII only, under 100
// characters (SNS rejects the whole Publish otherwise).
func snsSubject(a *alert.Alert) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, a.Subject(1000))
	s = strings.TrimSpace(s)
	if len(s) > snsMaxSubject-1 {
		s = s[:snsMaxSubject-4] + "..."
	}
	if s == "" {
		s = "trailalarm alert"
	}
	return s
}
