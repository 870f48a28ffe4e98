package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// exampleRecords returns the records of a real CloudTrail file, one JSON document each.
func exampleRecords(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Records []json.RawMessage }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range f.Records {
		var b bytes.Buffer
		json.Compact(&b, r)
		out = append(out, b.String())
	}
	return out
}

func putEvents(t *testing.T, c *cloudwatchlogs.Client, stream string, at time.Time, msgs []string) {
	t.Helper()
	var evs []logstypes.InputLogEvent
	for i, m := range msgs {
		evs = append(evs, logstypes.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(at.Add(time.Duration(i) * time.Millisecond).UnixMilli())})
	}
	if _, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String("CloudTrail/logs"), LogStreamName: &stream, LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
}

// eventIDs reads units as detect would and returns the CloudTrail event IDs, failing on
// duplicates and bad lines.
func eventIDs(t *testing.T, units []Unit, seen map[string]bool) int {
	t.Helper()
	n := 0
	for _, u := range units {
		if recs, errs := countRecords(t, u.Input); errs != 0 || recs == 0 {
			t.Fatalf("%s: %d records, %d errors", u.Input.Name(), recs, errs)
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(readAll(t, u.Input), []byte("\n")), []byte("\n")) {
			var r struct{ EventID string }
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			if seen[r.EventID] {
				t.Fatalf("event %s handed on twice", r.EventID)
			}
			seen[r.EventID] = true
			n++
		}
	}
	return n
}

func TestLogs(t *testing.T) {
	c := awsClients(t).logs
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("CloudTrail/logs")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"111111111111_CloudTrail_us-east-1", "111111111111_CloudTrail_eu-west-1"} {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("CloudTrail/logs"), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	recs := exampleRecords(t)
	if len(recs) < 5 {
		t.Fatalf("only %d example records", len(recs))
	}
	now := time.Now()
	// Records that differ in eventID, as the example file has few.
	uniq := func(i int) string {
		var m map[string]any
		json.Unmarshal([]byte(recs[i%len(recs)]), &m)
		m["eventID"] = fmt.Sprintf("ev-%03d", i)
		b, _ := json.Marshal(m)
		return string(b)
	}
	var first []string
	for i := 0; i < 30; i++ {
		first = append(first, uniq(i))
	}
	putEvents(t, c, "111111111111_CloudTrail_us-east-1", now.Add(-2*time.Minute), first)

	cfg := LogsConfig{Client: c, Group: "CloudTrail/logs", Interval: 100 * time.Millisecond, Limit: 7, Since: now.Add(-10 * time.Minute)}
	l := NewLogs(cfg)
	seen := map[string]bool{}
	units := collect(t, l, 5, 10*time.Second) // 30 events in pages of 7
	got := eventIDs(t, units, seen)
	for got < 30 {
		more := next(t, l, 5*time.Second)
		units = append(units, more...)
		got += eventIDs(t, more, seen)
	}
	if got != 30 {
		t.Fatalf("%d events, want 30", got)
	}
	cp := checkpoints(units, nil)

	// New events in another stream, some stamped before the newest seen: each read once.
	var second []string
	for i := 30; i < 40; i++ {
		second = append(second, uniq(i))
	}
	putEvents(t, c, "111111111111_CloudTrail_eu-west-1", now.Add(-3*time.Minute), second)
	units = nil
	for got < 40 {
		more := next(t, l, 5*time.Second)
		units = append(units, more...)
		got += eventIDs(t, more, seen)
	}
	checkpoints(units, cp)
	quiet(t, l, 400*time.Millisecond)

	// Restart from the checkpoint: nothing again, then only the new event.
	l2 := NewLogs(cfg)
	if err := l2.Resume(cp); err != nil {
		t.Fatal(err)
	}
	quiet(t, l2, 500*time.Millisecond)
	putEvents(t, c, "111111111111_CloudTrail_us-east-1", now.Add(-time.Minute), []string{uniq(40)})
	if n := eventIDs(t, next(t, l2, 5*time.Second), seen); n != 1 {
		t.Fatalf("%d events after restart, want 1", n)
	}
}
