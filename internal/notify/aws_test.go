package notify

import (
	"context"
	"encoding/json"

	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailalarm/trailalarm/internal/alert"
	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

const motoAccount = "123456789012"

func motoConfig(t *testing.T) (string, aws.Config) {
	t.Helper()
	endpoint := moto.Endpoint(t)
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return endpoint, cfg
}

// snsToSQS creates a topic with a queue subscribed to it and returns both.
func snsToSQS(t *testing.T, cfg aws.Config, topicName string) (topicARN, queueURL string, q *sqs.Client) {
	ctx := context.Background()
	sc, q := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	attrs := map[string]string{}
	qname := "alerts"
	if strings.HasSuffix(topicName, ".fifo") {
		attrs = map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "false"}
		qname = "alerts.fifo"
	}
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	qattrs := map[string]string{}
	if strings.HasSuffix(qname, ".fifo") {
		qattrs["FifoQueue"] = "true"
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname), Attributes: qattrs})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	return *topic.TopicArn, *queue.QueueUrl, q
}

type snsEnvelope struct {
	Type, Subject, Message, TopicArn string
	MessageAttributes                map[string]struct{ Type, Value string }
}

func receive(t *testing.T, q *sqs.Client, url string, want int) []snsEnvelope {
	t.Helper()
	var out []snsEnvelope
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		r, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			var e snsEnvelope
			if err := json.Unmarshal([]byte(*m.Body), &e); err != nil {
				t.Fatalf("SNS envelope: %v\n%s", err, *m.Body)
			}
			out = append(out, e)
		}
	}
	return out
}

func TestSNS(t *testing.T) {
	endpoint, cfg := motoConfig(t)
	topic, queue, q := snsToSQS(t, cfg, "trailalarm")
	s, err := NewSNS(context.Background(), SNSConfig{TopicARN: topic, AWS: AWSConfig{EndpointURL: endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert(25)
	a.Rule.Title = strings.Repeat("Very long title ", 10) + "é"
	if err := s.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	msgs := receive(t, q, queue, 1)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if len(m.Subject) >= 100 || !strings.HasPrefix(m.Subject, "[HIGH] ALARM: Very long title") || !strings.HasSuffix(m.Subject, "...") {
		t.Errorf("subject %q (%d)", m.Subject, len(m.Subject))
	}
	for _, r := range m.Subject {
		if r > 0x7e || r < 0x20 {
			t.Errorf("subject has %q", r)
		}
	}
	for _, want := range []string{"Rule:      cis-1.2:3.5", "Evidence (20 of 25 records):", "user agent: <script>alert(1)</script> <!channel>", "Reason: Threshold Crossed", "Remediation: Check who", a.ID} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if strings.Contains(m.Message, "\nInjected:") || strings.Contains(m.Message, "\r") {
		t.Error("a CloudTrail value broke a line")
	}
	attr := func(k string) string { return m.MessageAttributes[k].Type + " " + m.MessageAttributes[k].Value }
	if attr("severity") != "String high" || attr("rule_id") != "String cis-1.2:3.5" || attr("state") != "String ALARM" ||
		attr("alert_id") != "String "+a.ID || attr("account") != `String.Array ["111111111111"]` || attr("region") != `String.Array ["us-east-1"]` {
		t.Errorf("attributes %+v", m.MessageAttributes)
	}
}

func TestSNSFIFO(t *testing.T) {
	endpoint, cfg := motoConfig(t)
	topic, queue, q := snsToSQS(t, cfg, "trailalarm.fifo")
	s, err := NewSNS(context.Background(), SNSConfig{TopicARN: topic, AWS: AWSConfig{EndpointURL: endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	a := hostileAlert(1)
	if err := s.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if n := len(receive(t, q, queue, 1)); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func TestSNSErrors(t *testing.T) {
	endpoint, _ := motoConfig(t)
	ctx := context.Background()
	for _, c := range []struct{ arn, want string }{
		{"", "topic_arn is required"},
		{"trailalarm", "is not an SNS topic ARN"},
		{"arn:aws:sqs:us-east-1:123456789012:q", "is not an SNS topic ARN"},
	} {
		if _, err := NewSNS(ctx, SNSConfig{TopicARN: c.arn}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.arn, err)
		}
	}
	// A topic that does not exist: permanent.
	s, err := NewSNS(ctx, SNSConfig{TopicARN: "arn:aws:sns:us-east-1:123456789012:missing", AWS: AWSConfig{EndpointURL: endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Notify(ctx, hostileAlert(1))
	mustPermanent(t, err, true)
	// An endpoint where nothing listens: retryable, explained.
	s, _ = NewSNS(ctx, SNSConfig{TopicARN: "arn:aws:sns:us-east-1:123456789012:x", AWS: AWSConfig{EndpointURL: closedURL(t)}, Timeout: 3 * time.Second})
	err = s.Notify(ctx, hostileAlert(1))
	mustPermanent(t, err, false)
	if !strings.Contains(err.Error(), "cannot reach the AWS endpoint") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestSNSSubject(t *testing.T) {
	a := &alert.Alert{Rule: alert.Rule{Title: "Ünïcode\ttitle", Severity: "low"}, To: "OK"}
	if got := snsSubject(a); got != "[LOW] OK: ?n?code title" {
		t.Errorf("%q", got)
	}
}

func TestSecurityHub(t *testing.T) {
	endpoint, cfg := motoConfig(t)
	ctx := context.Background()
	shc := securityhub.NewFromConfig(cfg)
	if _, err := shc.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}
	// No account_id: found with STS.
	sh, err := NewSecurityHub(ctx, SecurityHubConfig{AWS: AWSConfig{EndpointURL: endpoint, Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if sh.ProductARN() != "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default" {
		t.Errorf("product %s", sh.ProductARN())
	}
	a := hostileAlert(25)
	a.Rule.Title = strings.Repeat("long title ", 40)
	// Twice: a retry updates the finding rather than adding one.
	for range 2 {
		if err := sh.Notify(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	out, err := shc.GetFindings(ctx, &securityhub.GetFindingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(out.Findings))
	}
	f := out.Findings[0]
	if *f.Id != a.ID || *f.GeneratorId != "cis-1.2:3.5" || *f.AwsAccountId != motoAccount || *f.ProductArn != sh.ProductARN() ||
		f.Severity == nil || f.Severity.Label != shtypes.SeverityLabelHigh || *f.CreatedAt != "2026-01-01T00:05:00Z" ||
		len([]rune(*f.Title)) > 256 || len([]rune(*f.Description)) > 1024 || *f.SchemaVersion != "2018-10-08" {
		t.Errorf("finding %s %s %s %s %+v %s %q", aws.ToString(f.Id), aws.ToString(f.GeneratorId), aws.ToString(f.AwsAccountId), aws.ToString(f.ProductArn), f.Severity, aws.ToString(f.CreatedAt), aws.ToString(f.Title))
	}
	if len(f.Resources) != 1 || *f.Resources[0].Type != "AwsIamUser" || *f.Resources[0].Id != "arn:aws:iam::111111111111:user/eve<!here>*x*" {
		t.Errorf("resources %+v", f.Resources)
	}
	if len(f.Types) == 0 || f.Types[1] != "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark" {
		t.Errorf("types %v", f.Types)
	}
	if f.ProductFields["trailalarm/UserAgent"] == "" || strings.ContainsAny(f.ProductFields["trailalarm/UserAgent"], "\r\n") {
		t.Errorf("product fields %v", f.ProductFields)
	}
}

func TestSecurityHubBatch(t *testing.T) {
	endpoint, cfg := motoConfig(t)
	ctx := context.Background()
	shc := securityhub.NewFromConfig(cfg)
	if _, err := shc.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}
	sh, err := NewSecurityHub(ctx, SecurityHubConfig{AccountID: motoAccount, AWS: AWSConfig{EndpointURL: endpoint, Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []*alert.Alert
	for i := range 150 {
		a := hostileAlert(2)
		a.Time = a.Time.Add(time.Duration(i) * time.Minute)
		if i%3 == 0 {
			a.From, a.To = "ALARM", "OK"
		}
		a.Finish()
		alerts = append(alerts, a)
	}
	if err := sh.NotifyBatch(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	ids := map[string]shtypes.AwsSecurityFinding{}
	var token *string
	for {
		out, err := shc.GetFindings(ctx, &securityhub.GetFindingsInput{NextToken: token, MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Findings {
			ids[*f.Id] = f
		}
		if token = out.NextToken; token == nil || *token == "" {
			break
		}
	}
	if len(ids) != 150 {
		t.Fatalf("%d findings, want 150", len(ids))
	}
	ok := ids[alerts[0].ID]
	if ok.RecordState != shtypes.RecordStateArchived || ok.Severity.Label != shtypes.SeverityLabelInformational {
		t.Errorf("an OK transition: %s %s", ok.RecordState, ok.Severity.Label)
	}
	// Every finding stays far below the 240 KB limit, hostile values and all.
	for _, a := range alerts[:3] {
		b, _ := json.Marshal(sh.Finding(a))
		if len(b) > 64*1024 {
			t.Errorf("finding of %d bytes", len(b))
		}
	}
}

func TestSecurityHubErrors(t *testing.T) {
	motoConfig(t) // credentials in the environment
	ctx := context.Background()
	if _, err := NewSecurityHub(ctx, SecurityHubConfig{AccountID: "12345"}); err == nil || !strings.Contains(err.Error(), "12-digit") {
		t.Errorf("bad account: %v", err)
	}
	sh, err := NewSecurityHub(ctx, SecurityHubConfig{AccountID: motoAccount, AWS: AWSConfig{EndpointURL: closedURL(t)}, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustPermanent(t, sh.Notify(ctx, hostileAlert(1)), false)
}
