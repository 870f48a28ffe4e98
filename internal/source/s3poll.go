package source

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// S3PollConfig configures an S3Poll source.
type S3PollConfig struct {
	Client   *s3.Client
	Location S3Location
	Accounts map[string]bool // empty: all
	Regions  map[string]bool // empty: all
	// Interval between polls; 0 means 1m.
	Interval time.Duration
	// Overlap is how far before the newest file seen each poll lists again, because CloudTrail
	// delivers files of the same minutes out of key order; 0 means 15m.
	Overlap time.Duration
	// Since is where a prefix without a checkpoint starts; zero means the first poll's time
	// minus Overlap (new files only).
	Since time.Time
	// Rediscover is how often the account and region folders are listed again; 0 means 10m.
	Rediscover time.Duration
	OnError    func(*Problem) // nil: logged with slog
	Now        func() time.Time
}

// S3Poll polls a CloudTrail bucket for new log files, per account and region.
//
// Its checkpoints are per account/region prefix (Unit.Cursor), each the JSON
// {"last": KEY, "recent": [KEY…]}: the greatest key handed on and the keys handed on within
// Overlap before it. A poll lists each prefix from Overlap before "last" (keys sort by time,
// across day folders too) and skips the recent keys, so late files are found and none is read
// twice. A location without the CloudTrail layout is one prefix, listed after its last key.
type S3Poll struct {
	cfg  S3PollConfig
	name string
	problems

	mu         sync.Mutex
	prefixes   map[string]*s3Prefix // by prefix; the Cursor
	discovered time.Time
	lastPoll   time.Time
	pending    []Unit // found, not yet returned
	retry      time.Duration
}

type s3Prefix struct {
	dir    cloudtrail.LogDir // the account and region, when layout
	layout bool              // the prefix is one account/region folder of the CloudTrail layout
	Last   string            `json:"last"`
	Recent []string          `json:"recent,omitempty"`
	recent map[string]bool   // Recent as a set
	times  map[string]int64  // key → file time (unix s), for pruning
}

// NewS3Poll returns a source polling cfg.Location.
func NewS3Poll(cfg S3PollConfig) *S3Poll {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 15 * time.Minute
	}
	if cfg.Rediscover <= 0 {
		cfg.Rediscover = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &S3Poll{cfg: cfg, name: cfg.Location.String(), prefixes: map[string]*s3Prefix{}}
	p.problems.report = cfg.OnError
	return p
}

func (p *S3Poll) Name() string                     { return p.name }
func (p *S3Poll) Done(context.Context, Unit) error { return nil }
func (p *S3Poll) Close() error                     { return nil }

// Resume takes the checkpoints by prefix.
func (p *S3Poll) Resume(cp map[string]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for prefix, pos := range cp {
		st := &s3Prefix{}
		if err := json.Unmarshal([]byte(pos), st); err != nil {
			return fmt.Errorf("%s: bad checkpoint for %s: %v", p.name, prefix, err)
		}
		p.prefixes[prefix] = p.newPrefix(prefix, st.Last, st.Recent)
	}
	return nil
}

func (p *S3Poll) newPrefix(prefix, last string, recent []string) *s3Prefix {
	st := &s3Prefix{Last: last, recent: map[string]bool{}, times: map[string]int64{}}
	if dir, ok := regionDir(prefix); ok {
		st.dir, st.layout = dir, true
	}
	for _, k := range recent {
		st.remember(k)
	}
	return st
}

// regionDir recognises ".../AWSLogs/[o-…/]ACCOUNT/CloudTrail/REGION/".
func regionDir(prefix string) (cloudtrail.LogDir, bool) {
	parts := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	n := len(parts)
	if !strings.HasSuffix(prefix, "/") || n < 4 || parts[n-2] != cloudtrail.KindLog {
		return cloudtrail.LogDir{}, false
	}
	account, region := parts[n-3], parts[n-1]
	// Parse a key of this folder to reuse the layout's checks.
	k, err := cloudtrail.ParseKey(prefix + "2000/01/01/" + cloudtrail.LogFileName(account, region, time.Unix(0, 0), "x"))
	if err != nil {
		return cloudtrail.LogDir{}, false
	}
	return cloudtrail.LogDir{Prefix: k.Prefix, OrgID: k.OrgID, Account: k.Account, Region: k.Region}, true
}

func (st *s3Prefix) remember(key string) {
	st.recent[key] = true
	if k, err := cloudtrail.ParseKey(key); err == nil {
		st.times[key] = k.Time.Unix()
	}
	if key > st.Last {
		st.Last = key
	}
}

// position prunes the recent keys to the overlap window and encodes the checkpoint.
func (st *s3Prefix) position(overlap time.Duration) string {
	st.Recent = st.Recent[:0]
	if lk, err := cloudtrail.ParseKey(st.Last); err == nil {
		from := lk.Time.Add(-overlap).Unix()
		for k := range st.recent {
			if t, ok := st.times[k]; ok && t < from {
				delete(st.recent, k)
				delete(st.times, k)
			}
		}
		for k := range st.recent {
			st.Recent = append(st.Recent, k)
		}
	} else {
		clear(st.recent) // no layout: listing after Last is exact enough
	}
	sort.Strings(st.Recent)
	b, _ := json.Marshal(st)
	return string(b)
}

// startAfter is the key a listing of the prefix starts after.
func (p *S3Poll) startAfter(prefix string, st *s3Prefix) string {
	if !st.layout {
		return st.Last
	}
	var from time.Time
	if lk, err := cloudtrail.ParseKey(st.Last); err == nil {
		from = lk.Time.Add(-p.cfg.Overlap)
	} else if !p.cfg.Since.IsZero() {
		from = p.cfg.Since
	} else {
		from = p.cfg.Now().Add(-p.cfg.Overlap)
	}
	from = from.UTC().Truncate(time.Minute)
	// The key of a file stamped one minute before from, without its unique part, sorts
	// before every file stamped from on.
	name := strings.TrimSuffix(cloudtrail.LogFileName(st.dir.Account, st.dir.Region, from.Add(-time.Minute), ""), "_.json.gz")
	return st.dir.Day(from.Add(-time.Minute)) + name + "~"
}

func (p *S3Poll) Next(ctx context.Context) ([]Unit, error) {
	for {
		p.mu.Lock()
		if len(p.pending) > 0 {
			u := p.pending
			p.pending = nil
			p.mu.Unlock()
			return u, nil
		}
		wait := time.Until(p.lastPoll.Add(p.cfg.Interval))
		if p.retry > 0 {
			wait = p.retry
		}
		p.mu.Unlock()
		if !p.lastPoll.IsZero() && wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		if err := p.poll(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.add(p.name, ProblemAWS, p.cfg.Location.String(), err)
			p.retry = backoff(p.retry, time.Second, p.cfg.Interval)
			p.lastPoll = time.Now()
			continue
		}
		p.retry = 0
	}
}

// poll lists every prefix once and queues what is new.
func (p *S3Poll) poll(ctx context.Context) error {
	p.lastPoll = time.Now()
	l := &lister{ctx: ctx, client: p.cfg.Client, loc: p.cfg.Location,
		f: S3Filter{Accounts: p.cfg.Accounts, Regions: p.cfg.Regions}}
	if p.discovered.IsZero() || time.Since(p.discovered) >= p.cfg.Rediscover {
		prefixes, err := p.discover(l)
		if err != nil {
			return err
		}
		p.mu.Lock()
		for _, pr := range prefixes {
			if p.prefixes[pr] == nil {
				p.prefixes[pr] = p.newPrefix(pr, "", nil)
			}
		}
		p.mu.Unlock()
		p.discovered = time.Now()
	}
	p.mu.Lock()
	names := make([]string, 0, len(p.prefixes))
	for pr := range p.prefixes {
		names = append(names, pr)
	}
	p.mu.Unlock()
	sort.Strings(names)
	var units []Unit
	for _, pr := range names {
		p.mu.Lock()
		st := p.prefixes[pr]
		after := p.startAfter(pr, st)
		p.mu.Unlock()
		objs, err := p.list(ctx, pr, after)
		if err != nil {
			return err
		}
		p.mu.Lock()
		for _, o := range objs {
			if st.recent[o.Key] || !st.layout && o.Key <= st.Last {
				continue
			}
			st.remember(o.Key)
			units = append(units, Unit{Input: o, Key: o.Name() + "#" + o.ETag, Cursor: pr, Position: st.position(p.cfg.Overlap)})
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.pending = append(p.pending, units...)
	p.mu.Unlock()
	return nil
}

// discover returns the account/region prefixes under the location, or the location itself
// where it has no CloudTrail layout.
func (p *S3Poll) discover(l *lister) ([]string, error) {
	loc := p.cfg.Location.Prefix
	if _, ok := regionDir(loc); ok {
		return []string{loc}, nil
	}
	var root string
	switch {
	case strings.HasSuffix(loc, "AWSLogs/"):
		root = loc
	case strings.Contains(loc, "AWSLogs/"), loc != "" && !strings.HasSuffix(loc, "/"):
		return []string{loc}, nil
	default:
		dirs, _, err := l.list(loc, true)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			if d == loc+"AWSLogs/" {
				root = d
			}
		}
		if root == "" {
			return []string{loc}, nil
		}
	}
	var out []string
	var walk func(prefix string) error
	walk = func(prefix string) error {
		dirs, _, err := l.list(prefix, true)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			name := strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/")
			if strings.HasPrefix(name, "o-") {
				if err := walk(d); err != nil {
					return err
				}
				continue
			}
			if len(p.cfg.Accounts) > 0 && !p.cfg.Accounts[name] {
				continue
			}
			regions, _, err := l.list(d+cloudtrail.KindLog+"/", true)
			if err != nil {
				return err
			}
			for _, r := range regions {
				region := strings.TrimSuffix(strings.TrimPrefix(r, d+cloudtrail.KindLog+"/"), "/")
				if len(p.cfg.Regions) == 0 || p.cfg.Regions[region] {
					out = append(out, r)
				}
			}
		}
		return nil
	}
	return out, walk(root)
}

// list returns the log files under prefix after the key after, in key order.
func (p *S3Poll) list(ctx context.Context, prefix, after string) ([]*S3Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: &p.cfg.Location.Bucket, Prefix: aws.String(prefix)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	var out []*S3Object
	pg := s3.NewListObjectsV2Paginator(p.cfg.Client, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", p.cfg.Location.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") || cloudtrail.IsDigestPath(key) || isDocumentation(key) {
				continue
			}
			if k, err := cloudtrail.ParseKey(key); err == nil && k.Kind != cloudtrail.KindLog {
				continue
			}
			out = append(out, &S3Object{Client: p.cfg.Client, Bucket: p.cfg.Location.Bucket, Key: key,
				Bytes: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
