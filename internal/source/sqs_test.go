package source

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const exampleFile = "../../examples/cloudtrail/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json"

func queue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl, a.Attributes["QueueArn"]
}

// visible counts the messages a plain receive gets now (and hides them for 1s).
func visible(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 1})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Messages)
}

func TestSQSBucketNotifications(t *testing.T) {
	cl := awsClients(t)
	ctx := context.Background()
	url, arn := queue(t, cl.sqs, "ct-events", nil)
	bucket := "ct-bucket"
	if _, err := cl.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: &bucket,
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: &arn, Events: []s3types.Event{"s3:ObjectCreated:*"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	key := "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json"
	digest := "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/218007301253_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T122000Z.json.gz"
	for _, k := range []string{key, digest} {
		if _, err := cl.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(string(data))}); err != nil {
			t.Fatal(err)
		}
	}
	// An S3 test event, as S3 sends when notifications are configured.
	send(t, cl.sqs, url, `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T00:00:00.000Z","Bucket":"ct-bucket","RequestId":"x","HostId":"y"}`)

	pl := &problemLog{}
	q := NewSQS(SQSConfig{SQS: cl.sqs, S3: cl.s3, QueueURL: url, Visibility: 3 * time.Second, Wait: time.Second, OnError: pl.add})
	defer q.Close()
	units := next(t, q, 10*time.Second)
	if len(units) != 1 || units[0].Input.Name() != "s3://ct-bucket/"+key || units[0].Input.Size() != int64(len(data)) {
		t.Fatalf("units %+v", units)
	}
	if n, errs := countRecords(t, units[0].Input); n == 0 || errs != 0 {
		t.Errorf("%d records, %d errors", n, errs)
	}
	// Not done yet: the message stays hidden past its visibility timeout, because the source
	// renews it.
	time.Sleep(4 * time.Second)
	if n := visible(t, cl.sqs, url); n != 0 || q.InFlight() != 1 {
		t.Fatalf("%d messages visible, %d in flight, before Done", n, q.InFlight())
	}
	if err := q.Done(ctx, units[0]); err != nil {
		t.Fatal(err)
	}
	if q.InFlight() != 0 {
		t.Error("still in flight after Done")
	}
	// The digest's and the test event's messages were deleted too: the queue is empty.
	attrs, err := cl.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("queue not empty: %v", attrs.Attributes)
	}
	if len(pl.list) != 0 {
		t.Errorf("problems: %v", pl.list)
	}
}

func send(t *testing.T, c *sqs.Client, url, body string) {
	t.Helper()
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
}

func TestSQSCloudTrailSNS(t *testing.T) {
	cl := awsClients(t)
	ctx := context.Background()
	url, arn := queue(t, cl.sqs, "ct-sns", nil)
	topic, err := cl.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("cloudtrail")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: &arn}); err != nil {
		t.Fatal(err)
	}
	bucket := "ct-bucket"
	if _, err := cl.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	k1 := ctKey("111111111111", "us-east-1", "2024-05-01T10:00", "one")
	k2 := ctKey("111111111111", "us-east-1", "2024-05-01T10:05", "two")
	missing := ctKey("111111111111", "us-east-1", "2024-05-01T10:10", "missing")
	put(t, cl.s3, bucket, k1, k2)
	// CloudTrail's own notification, published through SNS: keys listed, one of them missing.
	msg, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": []string{k1, missing, k2}})
	if _, err := cl.sns.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(string(msg))}); err != nil {
		t.Fatal(err)
	}
	// Malformed messages, and a notification for a missing object only.
	send(t, cl.sqs, url, "not json at all")
	send(t, cl.sqs, url, `{"hello":"world"}`)
	send(t, cl.sqs, url, `{"Type":"Notification","Message":"{\"s3Bucket\":\"ct-bucket\",\"s3ObjectKey\":[\"`+missing+`\"]}"}`)

	pl := &problemLog{}
	q := NewSQS(SQSConfig{SQS: cl.sqs, S3: cl.s3, QueueURL: url, Visibility: 2 * time.Second, Wait: time.Second, OnError: pl.add})
	units := next(t, q, 10*time.Second)
	if got := unitKeys(units); got != unitKeys([]Unit{{Input: &S3Object{Key: k1}}, {Input: &S3Object{Key: k2}}}) {
		t.Fatalf("units %s", got)
	}
	// Wait until every other message has been handled.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (pl.kinds()[ProblemMalformed] < 2 || pl.kinds()[ProblemMissing] < 2) {
		ctx2, cancel := context.WithTimeout(ctx, time.Second)
		if more, _ := q.Next(ctx2); len(more) > 0 {
			t.Fatalf("unexpected units %s", unitKeys(more))
		}
		cancel()
	}
	if k := pl.kinds(); k[ProblemMalformed] != 2 || k[ProblemMissing] != 2 || len(k) != 2 {
		t.Fatalf("problems %v", pl.list)
	}
	// One unit done, the other not; the source stops (as a crashed worker would): the message
	// comes back after its visibility timeout, to another worker.
	if err := q.Done(ctx, units[0]); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q2 := NewSQS(SQSConfig{SQS: cl.sqs, S3: cl.s3, QueueURL: url, Visibility: 2 * time.Second, Wait: time.Second})
	defer q2.Close()
	start := time.Now()
	again := next(t, q2, 10*time.Second)
	if unitKeys(again) != unitKeys(units) {
		t.Fatalf("redelivered %s", unitKeys(again))
	}
	if time.Since(start) < time.Second {
		t.Errorf("redelivered after %v, before the visibility timeout", time.Since(start))
	}
	for _, u := range again {
		if err := q2.Done(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2500 * time.Millisecond)
	if n := visible(t, cl.sqs, url); n != 0 {
		t.Errorf("%d messages left after Done", n)
	}
}

// With a dead-letter queue, a malformed message is left for it.
func TestSQSMalformedToDLQ(t *testing.T) {
	cl := awsClients(t)
	_, dlqArn := queue(t, cl.sqs, "dlq", nil)
	url, _ := queue(t, cl.sqs, "main", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":"1"}`})
	send(t, cl.sqs, url, "garbage")
	pl := &problemLog{}
	q := NewSQS(SQSConfig{SQS: cl.sqs, S3: cl.s3, QueueURL: url, Visibility: 2 * time.Second, Wait: time.Second, OnError: pl.add})
	defer q.Close()
	quiet(t, q, 1500*time.Millisecond)
	if pl.kinds()[ProblemMalformed] != 1 || !strings.Contains(pl.list[0].Error(), "dead-letter") {
		t.Fatalf("problems %v", pl.list)
	}
	attrs, err := cl.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("malformed message not left in the queue: %v", attrs.Attributes)
	}
}

func TestParseNotification(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // bucket/key,… or "error"
	}{
		{"s3 event", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a/my+file%3D.json.gz"}}}]}`, "b/a/my file=.json.gz"},
		{"s3 delete ignored", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, ""},
		{"sns s3 event", `{"Type":"Notification","Message":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"}`, "b/k"},
		{"cloudtrail sns", `{"Type":"Notification","Message":"{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"k1\",\"k2\"]}"}`, "b/k1,b/k2"},
		{"eventbridge", `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, "b/k"},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent"}`, ""},
		{"subscription", `{"Type":"SubscriptionConfirmation","SubscribeURL":"https://x"}`, ""},
		{"not json", `hello`, "error"},
		{"other json", `{"a":1}`, "error"},
		{"other records", `{"Records":[{"eventSource":"aws:dynamodb"}]}`, "error"},
		{"cloudtrail no keys", `{"s3Bucket":"b","s3ObjectKey":[]}`, "error"},
		{"sns of garbage", `{"Type":"Notification","Message":"garbage"}`, "error"},
	}
	for _, tt := range tests {
		refs, err := parseNotification(tt.body)
		var got []string
		for _, r := range refs {
			got = append(got, r.bucket+"/"+r.key)
		}
		g := strings.Join(got, ",")
		if err != nil {
			g = "error"
		}
		if g != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.name, g, err, tt.want)
		}
	}
}
