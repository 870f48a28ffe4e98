package source

import (
	"bytes"
	"context"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

func s3Client(t *testing.T) *s3.Client {
	t.Helper()
	endpoint := moto.Endpoint(t)
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
}

// layoutKeys is a small organization trail: two accounts, two regions, three days, with digest
// files and an unrelated object beside them.
var layoutKeys = []string{
	"AWSLogs/o-abc123/111111111111/CloudTrail/us-east-1/2024/05/01/111111111111_CloudTrail_us-east-1_20240501T0005Z_aaaa.json.gz",
	"AWSLogs/o-abc123/111111111111/CloudTrail/us-east-1/2024/05/02/111111111111_CloudTrail_us-east-1_20240502T1200Z_bbbb.json.gz",
	"AWSLogs/o-abc123/111111111111/CloudTrail/us-east-1/2024/05/03/111111111111_CloudTrail_us-east-1_20240503T2355Z_cccc.json.gz",
	"AWSLogs/o-abc123/111111111111/CloudTrail/eu-west-1/2024/05/02/111111111111_CloudTrail_eu-west-1_20240502T1200Z_dddd.json.gz",
	"AWSLogs/o-abc123/222222222222/CloudTrail/us-east-1/2024/05/02/222222222222_CloudTrail_us-east-1_20240502T1200Z_eeee.json.gz",
	"AWSLogs/o-abc123/222222222222/CloudTrail-Digest/us-east-1/2024/05/02/222222222222_CloudTrail-Digest_us-east-1_trail_us-east-1_20240502T120000Z.json.gz",
	"AWSLogs/o-abc123/111111111111/CloudTrail/us-east-1/2024/05/02/notes.txt",
	"other/readme.txt",
}

func putLayout(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	for _, k := range layoutKeys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestListS3Pruning(t *testing.T) {
	c := s3Client(t)
	putLayout(t, c, "trail")
	tests := []struct {
		name   string
		prefix string
		filter S3Filter
		want   []string // the unique part of each key
		maxReq int      // listing requests at most
	}{
		{"everything", "", S3Filter{}, []string{"aaaa", "bbbb", "cccc", "dddd", "eeee", "notes.txt"}, 10},
		{"one account", "AWSLogs/", S3Filter{Accounts: map[string]bool{"222222222222": true}}, []string{"eeee"}, 4},
		{"one region", "", S3Filter{Regions: map[string]bool{"eu-west-1": true}}, []string{"dddd"}, 7},
		{"one day", "", S3Filter{Since: day("2024-05-02T10:00:00Z"), Until: day("2024-05-02T14:00:00Z"), Lag: time.Hour},
			[]string{"bbbb", "dddd", "eeee", "notes.txt"}, 10},
		{"deep prefix", "AWSLogs/o-abc123/111111111111/CloudTrail/us-east-1/2024/05/", S3Filter{Until: day("2024-05-02T00:00:00Z")},
			[]string{"aaaa", "notes.txt"}, 1},
		{"no layout", "other/", S3Filter{}, []string{"readme.txt"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, st, err := ListS3(context.Background(), c, S3Location{Bucket: "trail", Prefix: tt.prefix}, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				name := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
				if parts := strings.Split(strings.TrimSuffix(name, ".json.gz"), "_"); len(parts) == 5 {
					name = parts[4]
				}
				got = append(got, name)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if st.Requests > tt.maxReq {
				t.Errorf("%d listing requests, want at most %d", st.Requests, tt.maxReq)
			}
		})
	}
}

func TestS3ObjectOpen(t *testing.T) {
	c := s3Client(t)
	putLayout(t, c, "trail2")
	objs, _, err := ListS3(context.Background(), c, S3Location{Bucket: "trail2"}, S3Filter{Accounts: map[string]bool{"222222222222": true}})
	if err != nil || len(objs) != 1 {
		t.Fatalf("%v %v", objs, err)
	}
	rc, err := objs[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	if !bytes.Equal(data, []byte(objs[0].Key)) || objs[0].Size() != int64(len(data)) {
		t.Errorf("read %q (size %d)", data, objs[0].Size())
	}
	if _, _, err := ListS3(context.Background(), c, S3Location{Bucket: "no-such-bucket"}, S3Filter{}); err == nil ||
		!strings.Contains(awsconf.Explain(err).Error(), "bucket does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	for in, want := range map[string]S3Location{
		"s3://b":              {Bucket: "b"},
		"s3://b/":             {Bucket: "b"},
		"s3://b/AWSLogs/1/x/": {Bucket: "b", Prefix: "AWSLogs/1/x/"},
	} {
		got, err := ParseS3URL(in)
		if err != nil || got != want {
			t.Errorf("ParseS3URL(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"b/x", "s3:/b", "http://b/x", "s3:///x"} {
		if _, err := ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q) accepted", bad)
		}
	}
}
