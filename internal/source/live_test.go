package source

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailalarm/trailalarm/internal/awsconf"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/testutil/moto"
)

// Every live source is a Live, and every unit's Input a detect.Input.
var (
	_ Live         = (*Folder)(nil)
	_ Live         = (*S3Poll)(nil)
	_ Live         = (*SQS)(nil)
	_ Live         = (*Logs)(nil)
	_ detect.Input = Input(nil)
)

type clients struct {
	s3   *s3.Client
	sqs  *sqs.Client
	sns  *sns.Client
	logs *cloudwatchlogs.Client
}

// awsClients resets moto once and returns clients of it.
func awsClients(t *testing.T) clients {
	t.Helper()
	endpoint := moto.Endpoint(t)
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return clients{
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		sqs:  sqs.NewFromConfig(cfg),
		sns:  sns.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg),
	}
}

// problemLog collects the problems a source reports.
type problemLog struct {
	mu   sync.Mutex
	list []*Problem
}

func (p *problemLog) add(pr *Problem) {
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
}

func (p *problemLog) kinds() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, pr := range p.list {
		out[pr.Kind]++
	}
	return out
}

// next calls src.Next with a bounded wait and fails the test on timeout.
func next(t *testing.T, src Live, within time.Duration) []Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	units, err := src.Next(ctx)
	if err != nil {
		t.Fatalf("%s: Next: %v", src.Name(), err)
	}
	return units
}

// collect calls Next until at least n units have come, within a bounded wait.
func collect(t *testing.T, src Live, n int, within time.Duration) []Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var all []Unit
	for len(all) < n {
		units, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("%s: after %d of %d units: %v", src.Name(), len(all), n, err)
		}
		all = append(all, units...)
	}
	return all
}

// quiet asserts that Next hands on nothing for d.
func quiet(t *testing.T, src Live, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	units, err := src.Next(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		var names []string
		for _, u := range units {
			names = append(names, u.Input.Name())
		}
		t.Fatalf("%s: want nothing, got %v %v", src.Name(), names, err)
	}
}

func readAll(t *testing.T, in Input) []byte {
	t.Helper()
	rc, err := in.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countRecords reads an input as detect would and counts its CloudTrail records.
func countRecords(t *testing.T, in Input) (records, errs int64) {
	t.Helper()
	rc, err := in.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	st, err := cloudtrail.Read(rc, in.Name(), cloudtrail.Options{}, func(*cloudtrail.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return st.Records, st.Errors
}

// checkpoints keeps the last position per cursor, as the store would.
func checkpoints(units []Unit, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for _, u := range units {
		if u.Position != "" {
			into[u.Cursor] = u.Position
		}
	}
	return into
}

var _ = aws.String
