package source

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// ctKey is the key CloudTrail gives a file of account and region delivered at ts.
func ctKey(account, region, ts, unique string) string {
	t, err := time.Parse("2006-01-02T15:04", ts)
	if err != nil {
		panic(err)
	}
	dir := cloudtrail.LogDir{Prefix: "trail", OrgID: "o-abc123", Account: account, Region: region}
	return dir.Day(t) + cloudtrail.LogFileName(account, region, t, unique)
}

func put(t *testing.T, c *s3.Client, bucket string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
}

func unitKeys(units []Unit) string {
	var out []string
	for _, u := range units {
		k := u.Input.(*S3Object).Key
		out = append(out, k[strings.LastIndexByte(k, '/')+1:])
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestS3Poll(t *testing.T) {
	c := awsClients(t).s3
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("ct-bucket")}); err != nil {
		t.Fatal(err)
	}
	a1e := ctKey("111111111111", "us-east-1", "2024-05-01T10:00", "a1e")
	a1w := ctKey("111111111111", "eu-west-1", "2024-05-01T10:05", "a1w")
	a2e := ctKey("222222222222", "us-east-1", "2024-05-01T10:10", "a2e")
	tooOld := ctKey("111111111111", "us-east-1", "2024-04-30T23:00", "old")
	digest := "trail/AWSLogs/o-abc123/111111111111/CloudTrail-Digest/us-east-1/2024/05/01/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T100000Z.json.gz"
	put(t, c, "ct-bucket", a1e, a1w, a2e, tooOld, digest)

	pl := &problemLog{}
	cfg := S3PollConfig{Client: c, Location: S3Location{Bucket: "ct-bucket", Prefix: "trail/"},
		Interval: 100 * time.Millisecond, Rediscover: 100 * time.Millisecond,
		Since: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), OnError: pl.add}
	p := NewS3Poll(cfg)
	units := next(t, p, 10*time.Second)
	if got := unitKeys(units); !strings.Contains(got, "a1e") || !strings.Contains(got, "a1w") || !strings.Contains(got, "a2e") || len(units) != 3 {
		t.Fatalf("first poll: %s", got)
	}
	cursors := map[string]bool{}
	for _, u := range units {
		cursors[u.Cursor] = true
		if !strings.HasPrefix(u.Input.(*S3Object).Key, u.Cursor) || !strings.HasSuffix(u.Cursor, "-1/") {
			t.Errorf("unit %s under cursor %s", u.Input.Name(), u.Cursor)
		}
		if !strings.HasPrefix(u.Key, u.Input.Name()+"#") {
			t.Errorf("key %s", u.Key)
		}
	}
	if len(cursors) != 3 {
		t.Errorf("cursors %v, want one per account and region", cursors)
	}
	if string(readAll(t, units[0].Input)) != units[0].Input.(*S3Object).Key {
		t.Error("object content")
	}
	cp := checkpoints(units, nil)

	// Between polls: a later file, a file of the next day, a late file stamped before the
	// newest one seen (within the overlap), and a new account.
	later := ctKey("111111111111", "us-east-1", "2024-05-01T23:55", "later")
	nextDay := ctKey("111111111111", "us-east-1", "2024-05-02T00:05", "nextday")
	late := ctKey("222222222222", "us-east-1", "2024-05-01T10:05", "late")
	newAcct := ctKey("333333333333", "us-east-1", "2024-05-01T11:00", "newacct")
	put(t, c, "ct-bucket", later, nextDay, late, newAcct)
	units = collect(t, p, 4, 10*time.Second)
	if got := unitKeys(units); got != unitKeys([]Unit{{Input: &S3Object{Key: later}}, {Input: &S3Object{Key: nextDay}}, {Input: &S3Object{Key: late}}, {Input: &S3Object{Key: newAcct}}}) {
		t.Fatalf("second poll: %s", got)
	}
	checkpoints(units, cp)
	quiet(t, p, 400*time.Millisecond)

	// Restart from the checkpoints: nothing again, then only what is new.
	p2 := NewS3Poll(cfg)
	if err := p2.Resume(cp); err != nil {
		t.Fatal(err)
	}
	quiet(t, p2, 500*time.Millisecond)
	newest := ctKey("222222222222", "us-east-1", "2024-05-01T10:07", "after-restart")
	put(t, c, "ct-bucket", newest)
	units = next(t, p2, 10*time.Second)
	if got := unitKeys(units); got != "222222222222_CloudTrail_us-east-1_20240501T1007Z_after-restart.json.gz" {
		t.Fatalf("after restart: %s", got)
	}
	if len(pl.list) != 0 {
		t.Errorf("problems: %v", pl.list)
	}
}

// A location without the CloudTrail layout is polled by key order.
func TestS3PollNoLayout(t *testing.T) {
	c := awsClients(t).s3
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	put(t, c, "plain", "logs/a.json", "logs/b.json")
	p := NewS3Poll(S3PollConfig{Client: c, Location: S3Location{Bucket: "plain", Prefix: "logs/"}, Interval: 100 * time.Millisecond})
	if got := unitKeys(next(t, p, 10*time.Second)); got != "a.json,b.json" {
		t.Fatalf("got %s", got)
	}
	put(t, c, "plain", "logs/c.json")
	if got := unitKeys(next(t, p, 10*time.Second)); got != "c.json" {
		t.Fatalf("got %s", got)
	}
}

// A poll that fails is reported and retried, not fatal.
func TestS3PollMissingBucket(t *testing.T) {
	c := awsClients(t).s3
	pl := &problemLog{}
	p := NewS3Poll(S3PollConfig{Client: c, Location: S3Location{Bucket: "nope"}, Interval: 100 * time.Millisecond, OnError: pl.add})
	quiet(t, p, 1500*time.Millisecond)
	if pl.kinds()[ProblemAWS] == 0 || p.Problems()[ProblemAWS] == 0 {
		t.Errorf("problems %v", pl.kinds())
	}
}
