package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// SQSConfig configures an SQS source.
type SQSConfig struct {
	SQS      *sqs.Client
	S3       *s3.Client // reads the objects the notifications name
	QueueURL string
	// Visibility is the visibility timeout set on receipt and renewed while a message's units
	// are in flight; 0 means 5m.
	Visibility time.Duration
	// Wait is the long-poll wait of ReceiveMessage (at most 20s); 0 means 20s.
	Wait time.Duration
	// MaxMessages per receive, 1 to 10; 0 means 10.
	MaxMessages int32
	OnError     func(*Problem) // nil: logged with slog
}

// SQS receives S3 object notifications from a queue: S3 event notifications (direct, through
// SNS, or through EventBridge) and CloudTrail's own SNS notifications, which list the keys of
// the files delivered. Each message becomes one unit per CloudTrail log file it names.
//
// Deletion: a message is deleted only when Done has been called for all of its units, that is
// after their results are committed; until then its visibility timeout is renewed in the
// background. A message with nothing to read (an S3 test event, a subscription confirmation,
// digest files, objects that no longer exist) is deleted at once. A message that is no
// notification at all is reported as malformed; it is left in the queue when the queue has a
// redrive policy, so that it ends up in the dead-letter queue, and deleted otherwise, so that it
// does not come back forever. If HeadObject fails for another reason than a missing object, the
// message is left to come back after its visibility timeout. There is no checkpoint: the queue
// is the position.
type SQS struct {
	cfg  SQSConfig
	name string
	problems

	mu       sync.Mutex
	inflight map[string]*sqsMessage // by message ID: handed on, not yet done
	hasDLQ   *bool                  // the queue has a redrive policy; nil until asked
	retry    time.Duration
	done     chan struct{}
	closed   bool
	wg       sync.WaitGroup
}

type sqsMessage struct {
	id, receipt string
	remaining   int       // units not yet done
	received    time.Time // SQS refuses visibility beyond 12h from receipt
}

// NewSQS returns a source receiving from cfg.QueueURL; it renews visibility timeouts in the
// background until Close.
func NewSQS(cfg SQSConfig) *SQS {
	if cfg.Visibility <= 0 {
		cfg.Visibility = 5 * time.Minute
	}
	if cfg.Wait <= 0 || cfg.Wait > 20*time.Second {
		cfg.Wait = 20 * time.Second
	}
	if cfg.MaxMessages <= 0 || cfg.MaxMessages > 10 {
		cfg.MaxMessages = 10
	}
	q := &SQS{cfg: cfg, name: "sqs:" + cfg.QueueURL, inflight: map[string]*sqsMessage{}, done: make(chan struct{})}
	q.problems.report = cfg.OnError
	q.wg.Add(1)
	go q.extend()
	return q
}

func (q *SQS) Name() string                   { return q.name }
func (q *SQS) Resume(map[string]string) error { return nil }

// Close stops renewing visibility: messages not done come back after their timeout.
func (q *SQS) Close() error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
	q.wg.Wait()
	return nil
}

// InFlight is the number of messages handed on and not yet deleted.
func (q *SQS) InFlight() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.inflight)
}

// Done deletes u's message once all of its units are done.
func (q *SQS) Done(ctx context.Context, u Unit) error {
	m, ok := u.ack.(*sqsMessage)
	if !ok {
		return nil
	}
	q.mu.Lock()
	m.remaining--
	last := m.remaining == 0
	if last {
		delete(q.inflight, m.id)
	}
	q.mu.Unlock()
	if !last {
		return nil
	}
	return q.delete(ctx, m.id, m.receipt)
}

// Release gives u's message back to the queue at once (visibility 0), for a unit the caller
// will not commit; the message's other units must not be committed either.
func (q *SQS) Release(ctx context.Context, u Unit) error {
	m, ok := u.ack.(*sqsMessage)
	if !ok {
		return nil
	}
	q.mu.Lock()
	_, ok = q.inflight[m.id]
	delete(q.inflight, m.id)
	q.mu.Unlock()
	if !ok {
		return nil
	}
	_, err := q.cfg.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &q.cfg.QueueURL, ReceiptHandle: &m.receipt, VisibilityTimeout: 0})
	return err
}

func (q *SQS) delete(ctx context.Context, id, receipt string) error {
	_, err := q.cfg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.cfg.QueueURL, ReceiptHandle: &receipt})
	if err != nil {
		return fmt.Errorf("delete message %s: %w", id, err)
	}
	return nil
}

func (q *SQS) Next(ctx context.Context) ([]Unit, error) {
	for {
		select {
		case <-q.done:
			return nil, errClosed
		default:
		}
		if q.retry > 0 {
			if err := sleep(ctx, q.retry); err != nil {
				return nil, err
			}
		}
		out, err := q.cfg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            &q.cfg.QueueURL,
			MaxNumberOfMessages: q.cfg.MaxMessages,
			WaitTimeSeconds:     int32(q.cfg.Wait / time.Second),
			VisibilityTimeout:   int32(q.cfg.Visibility / time.Second),
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			q.add(q.name, ProblemAWS, "ReceiveMessage", err)
			q.retry = backoff(q.retry, time.Second, time.Minute)
			continue
		}
		q.retry = 0
		var units []Unit
		for _, msg := range out.Messages {
			u, err := q.units(ctx, msg)
			if err != nil {
				return nil, err
			}
			units = append(units, u...)
		}
		if len(units) > 0 {
			return units, nil
		}
	}
}

// units turns one message into units, or deletes or leaves it; it fails only when ctx ends.
func (q *SQS) units(ctx context.Context, msg sqstypes.Message) ([]Unit, error) {
	id, receipt := aws.ToString(msg.MessageId), aws.ToString(msg.ReceiptHandle)
	refs, err := parseNotification(aws.ToString(msg.Body))
	if err != nil {
		body := aws.ToString(msg.Body)
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		if q.dlq(ctx) {
			q.add(q.name, ProblemMalformed, "message "+id, fmt.Errorf("%v (left for the dead-letter queue): %q", err, body))
			return nil, nil
		}
		q.add(q.name, ProblemMalformed, "message "+id, fmt.Errorf("%v (deleted; the queue has no dead-letter queue): %q", err, body))
		return nil, q.deleteOrReport(ctx, id, receipt)
	}
	m := &sqsMessage{id: id, receipt: receipt, received: time.Now()}
	var units []Unit
	for _, r := range refs {
		if cloudtrail.IsDigestPath(r.key) {
			continue
		}
		if k, err := cloudtrail.ParseKey(r.key); err == nil && k.Kind != cloudtrail.KindLog {
			continue
		}
		head, err := q.cfg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &r.bucket, Key: &r.key})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			name := "s3://" + r.bucket + "/" + r.key
			if isNotFound(err) {
				q.add(q.name, ProblemMissing, name, fmt.Errorf("notified in message %s but not found", id))
				continue
			}
			// Perhaps transient: leave the whole message to come back.
			q.add(q.name, ProblemAWS, name, fmt.Errorf("head (message %s left in the queue): %w", id, err))
			return nil, nil
		}
		o := &S3Object{Client: q.cfg.S3, Bucket: r.bucket, Key: r.key, Bytes: aws.ToInt64(head.ContentLength), ETag: aws.ToString(head.ETag)}
		units = append(units, Unit{Input: o, Key: o.Name() + "#" + o.ETag, ack: m})
	}
	if len(units) == 0 {
		return nil, q.deleteOrReport(ctx, id, receipt)
	}
	m.remaining = len(units)
	q.mu.Lock()
	q.inflight[id] = m
	q.mu.Unlock()
	return units, nil
}

func (q *SQS) deleteOrReport(ctx context.Context, id, receipt string) error {
	if err := q.delete(ctx, id, receipt); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q.add(q.name, ProblemAWS, "message "+id, err)
	}
	return nil
}

// dlq reports whether the queue has a redrive policy, asking once.
func (q *SQS) dlq(ctx context.Context) bool {
	q.mu.Lock()
	known := q.hasDLQ
	q.mu.Unlock()
	if known != nil {
		return *known
	}
	out, err := q.cfg.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.cfg.QueueURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		q.add(q.name, ProblemAWS, "GetQueueAttributes", err)
		return false // ask again next time
	}
	has := out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)] != ""
	q.mu.Lock()
	q.hasDLQ = &has
	q.mu.Unlock()
	return has
}

// extend renews the visibility of the messages in flight every third of the timeout.
func (q *SQS) extend() {
	defer q.wg.Done()
	t := time.NewTicker(q.cfg.Visibility / 3)
	defer t.Stop()
	for {
		select {
		case <-q.done:
			return
		case <-t.C:
		}
		q.mu.Lock()
		var batch []sqstypes.ChangeMessageVisibilityBatchRequestEntry
		for id, m := range q.inflight {
			if time.Since(m.received)+q.cfg.Visibility > 12*time.Hour {
				continue // SQS's limit; the message comes back and is read again
			}
			batch = append(batch, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(id), ReceiptHandle: aws.String(m.receipt), VisibilityTimeout: int32(q.cfg.Visibility / time.Second)})
		}
		q.mu.Unlock()
		for len(batch) > 0 {
			n := min(len(batch), 10)
			ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Visibility/3)
			out, err := q.cfg.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
				QueueUrl: &q.cfg.QueueURL, Entries: batch[:n]})
			cancel()
			if err != nil {
				q.add(q.name, ProblemAWS, "ChangeMessageVisibilityBatch", err)
			} else {
				for _, f := range out.Failed {
					q.mu.Lock()
					_, still := q.inflight[aws.ToString(f.Id)]
					q.mu.Unlock()
					if still { // a message deleted meanwhile fails harmlessly
						q.add(q.name, ProblemAWS, "message "+aws.ToString(f.Id), fmt.Errorf("extend visibility: %s", aws.ToString(f.Message)))
					}
				}
			}
			batch = batch[n:]
		}
	}
}

// s3Ref is one object a notification names.
type s3Ref struct {
	bucket, key string
}

var errNotNotification = errors.New("not an S3 or CloudTrail notification")

// parseNotification reads a message body: an S3 event notification, an SNS envelope around
// one (or around CloudTrail's {"s3Bucket","s3ObjectKey":[…]}), an EventBridge S3 event, or a
// message to ignore (S3 test event, SNS subscription confirmation), which gives no refs.
func parseNotification(body string) ([]s3Ref, error) {
	return parseNote([]byte(body), 0)
}

func parseNote(body []byte, depth int) ([]s3Ref, error) {
	var m struct {
		// SNS envelope
		Type    string
		Message *string
		// CloudTrail's SNS message
		S3Bucket    *string  `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
		// S3 event notification
		Records []struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          struct {
				Bucket struct{ Name string } `json:"bucket"`
				Object struct{ Key string }  `json:"object"`
			} `json:"s3"`
		}
		Event string // "s3:TestEvent"
		// EventBridge
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
		Detail     struct {
			Bucket struct{ Name string } `json:"bucket"`
			Object struct{ Key string }  `json:"object"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotNotification, err)
	}
	switch {
	case m.Type == "SubscriptionConfirmation" || m.Type == "UnsubscribeConfirmation":
		return nil, nil
	case m.Type == "Notification" && m.Message != nil && depth == 0:
		return parseNote([]byte(*m.Message), 1)
	case m.Event == "s3:TestEvent":
		return nil, nil
	case m.S3Bucket != nil:
		if *m.S3Bucket == "" || len(m.S3ObjectKey) == 0 {
			return nil, fmt.Errorf("%w: CloudTrail notification without bucket or keys", errNotNotification)
		}
		refs := make([]s3Ref, 0, len(m.S3ObjectKey))
		for _, k := range m.S3ObjectKey {
			refs = append(refs, s3Ref{*m.S3Bucket, k})
		}
		return refs, nil
	case len(m.Records) > 0:
		var refs []s3Ref
		s3events := 0
		for _, r := range m.Records {
			if r.EventSource != "aws:s3" {
				continue
			}
			s3events++
			// "ObjectCreated:Put" from S3 (and moto), "s3:ObjectCreated:Put" from some emulators.
			if !strings.HasPrefix(strings.TrimPrefix(r.EventName, "s3:"), "ObjectCreated:") {
				continue
			}
			// S3 event keys are URL-encoded, with "+" for spaces.
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil || r.S3.Bucket.Name == "" || key == "" {
				return nil, fmt.Errorf("%w: bad bucket or key in S3 event", errNotNotification)
			}
			refs = append(refs, s3Ref{r.S3.Bucket.Name, key})
		}
		if s3events == 0 {
			return nil, fmt.Errorf("%w: records without aws:s3 events", errNotNotification)
		}
		return refs, nil
	case m.Source == "aws.s3" && m.DetailType != "":
		if m.DetailType != "Object Created" {
			return nil, nil
		}
		if m.Detail.Bucket.Name == "" || m.Detail.Object.Key == "" {
			return nil, fmt.Errorf("%w: EventBridge event without bucket or key", errNotNotification)
		}
		return []s3Ref{{m.Detail.Bucket.Name, m.Detail.Object.Key}}, nil
	}
	return nil, errNotNotification
}

// isNotFound recognises HeadObject's answer for a missing object or bucket.
func isNotFound(err error) bool {
	var nf *s3types.NotFound
	var nsk *s3types.NoSuchKey
	var nsb *s3types.NoSuchBucket
	if errors.As(err, &nf) || errors.As(err, &nsk) || errors.As(err, &nsb) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchBucket", "404":
			return true
		}
	}
	return false
}
