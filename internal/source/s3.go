package source

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// S3Location is s3://Bucket/Prefix.
type S3Location struct {
	Bucket, Prefix string
}

// ParseS3URL parses "s3://bucket/prefix".
func ParseS3URL(s string) (S3Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Location{}, fmt.Errorf("%q is not an S3 location: write s3://BUCKET/PREFIX", s)
	}
	return S3Location{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/")}, nil
}

func (l S3Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// S3Filter prunes a CloudTrail listing; zero fields do not restrict.
type S3Filter struct {
	Since, Until time.Time
	Accounts     map[string]bool
	Regions      map[string]bool
	// Lag is how long after an event its file may be delivered; 0 means
	// cloudtrail.DefaultDeliveryLag.
	Lag time.Duration
}

// S3Object is one object to read.
type S3Object struct {
	Client *s3.Client
	Bucket string
	Key    string
	Bytes  int64
	ETag   string
}

func (o *S3Object) Name() string { return "s3://" + o.Bucket + "/" + o.Key }
func (o *S3Object) Size() int64  { return o.Bytes }

func (o *S3Object) Open(ctx context.Context) (io.ReadCloser, error) {
	out, err := o.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.Bucket, Key: &o.Key})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", o.Name(), err)
	}
	return out.Body, nil
}

// ListCalls counts the listing requests of ListS3, so tests can see the pruning work.
type ListStats struct {
	Requests int
	Objects  int // objects listed, before filtering by name
}

// ListS3 lists the CloudTrail log files under loc that may hold events passing f. Where loc
// is at or above the AWSLogs/ folder it walks the key layout level by level — organization,
// account, region, day — and lists only the folders f allows, so that a month of one region
// costs a month of listings, not the whole bucket. Deeper prefixes, and buckets without the
// layout, are listed whole and filtered by key.
func ListS3(ctx context.Context, client *s3.Client, loc S3Location, f S3Filter) ([]*S3Object, ListStats, error) {
	l := &lister{ctx: ctx, client: client, loc: loc, f: f}
	if l.f.Lag == 0 {
		l.f.Lag = cloudtrail.DefaultDeliveryLag
	}
	err := l.run()
	sort.Slice(l.out, func(i, j int) bool { return l.out[i].Key < l.out[j].Key })
	return l.out, l.stats, err
}

type lister struct {
	ctx    context.Context
	client *s3.Client
	loc    S3Location
	f      S3Filter
	out    []*S3Object
	stats  ListStats
}

func (l *lister) run() error {
	p := l.loc.Prefix
	switch {
	case strings.HasSuffix(p, "AWSLogs/"):
		return l.root(p)
	case strings.Contains(p, "AWSLogs/"):
		return l.objects(p) // deeper than the layout's root: list it whole
	}
	// Above AWSLogs/: descend if the layout is there.
	if p != "" && !strings.HasSuffix(p, "/") {
		return l.objects(p)
	}
	dirs, _, err := l.list(p, true)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if d == p+"AWSLogs/" {
			return l.root(d)
		}
	}
	return l.objects(p)
}

// root lists accounts (and organizations) under an AWSLogs/ folder.
func (l *lister) root(prefix string) error {
	dirs, _, err := l.list(prefix, true)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		name := strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/")
		if strings.HasPrefix(name, "o-") {
			if err := l.root(d); err != nil {
				return err
			}
			continue
		}
		if len(l.f.Accounts) > 0 && !l.f.Accounts[name] {
			continue
		}
		if err := l.regions(d + cloudtrail.KindLog + "/"); err != nil {
			return err
		}
	}
	return nil
}

func (l *lister) regions(prefix string) error {
	dirs, _, err := l.list(prefix, true)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		region := strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/")
		if len(l.f.Regions) > 0 && !l.f.Regions[region] {
			continue
		}
		if l.f.Since.IsZero() || l.f.Until.IsZero() {
			if err := l.objects(d); err != nil {
				return err
			}
			continue
		}
		for _, day := range cloudtrail.Days(l.f.Since, l.f.Until, l.f.Lag) {
			if err := l.objects(d + day.Format("2006/01/02") + "/"); err != nil {
				return err
			}
		}
	}
	return nil
}

// objects lists every object under prefix and keeps the CloudTrail log files f allows.
func (l *lister) objects(prefix string) error {
	_, objs, err := l.list(prefix, false)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if cloudtrail.IsDigestPath(o.Key) || strings.HasSuffix(o.Key, "/") {
			continue
		}
		if k, err := cloudtrail.ParseKey(o.Key); err == nil {
			if k.Kind != cloudtrail.KindLog ||
				!k.MayContain(l.f.Since, l.f.Until, l.f.Lag) ||
				len(l.f.Accounts) > 0 && !l.f.Accounts[k.Account] ||
				len(l.f.Regions) > 0 && !l.f.Regions[k.Region] {
				continue
			}
		}
		l.out = append(l.out, o)
	}
	return nil
}

// list returns the sub-folders (with a delimiter) or the objects (without) under prefix.
func (l *lister) list(prefix string, folders bool) ([]string, []*S3Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: &l.loc.Bucket, Prefix: aws.String(prefix)}
	if folders {
		in.Delimiter = aws.String("/")
	}
	var dirs []string
	var objs []*S3Object
	p := s3.NewListObjectsV2Paginator(l.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(l.ctx)
		l.stats.Requests++
		if err != nil {
			return nil, nil, fmt.Errorf("list s3://%s/%s: %w", l.loc.Bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			dirs = append(dirs, aws.ToString(cp.Prefix))
		}
		if !folders {
			for _, o := range page.Contents {
				l.stats.Objects++
				objs = append(objs, &S3Object{Client: l.client, Bucket: l.loc.Bucket, Key: aws.ToString(o.Key), Bytes: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)})
			}
		}
	}
	return dirs, objs, nil
}
