package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// LogsConfig configures a Logs source.
type LogsConfig struct {
	Client *cloudwatchlogs.Client
	Group  string // the log group CloudTrail sends to
	// Interval between polls once caught up; 0 means 30s.
	Interval time.Duration
	// Overlap is how far before the newest event seen each poll asks again, because events
	// reach the group out of timestamp order; 0 means 5m.
	Overlap time.Duration
	// Since is where to start without a checkpoint; zero means the first poll's time minus
	// Overlap (new events only).
	Since time.Time
	// Limit is the number of events per FilterLogEvents page, and so per unit; 0 means 10000.
	Limit   int32
	OnError func(*Problem) // nil: logged with slog
	Now     func() time.Time
}

// Logs polls a CloudWatch Logs group with FilterLogEvents. Each page of new events becomes one
// unit whose input is the events' messages as NDJSON (one CloudTrail record per line).
//
// Its checkpoint is the JSON {"max": MS, "seen": [HASH…]}: the newest event timestamp handed
// on, and 64-bit hashes of the event IDs handed on within Overlap before it. A poll asks from
// max−Overlap and skips the events seen, so events that arrive late are read once.
type Logs struct {
	cfg  LogsConfig
	name string
	problems

	mu        sync.Mutex
	max       int64            // newest event timestamp handed on, ms; 0: none
	seen      map[uint64]int64 // event ID hash → timestamp, within the overlap
	token     *string          // the next page of the query in progress
	queryFrom int64            // start time of the query in progress, ms
	lastPoll  time.Time
	retry     time.Duration
}

type logsPosition struct {
	Max  int64    `json:"max"`
	Seen []string `json:"seen,omitempty"`
}

// NewLogs returns a source polling cfg.Group.
func NewLogs(cfg LogsConfig) *Logs {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 5 * time.Minute
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Logs{cfg: cfg, name: "logs:" + cfg.Group, seen: map[uint64]int64{}}
	l.problems.report = cfg.OnError
	return l
}

func (l *Logs) Name() string                     { return l.name }
func (l *Logs) Done(context.Context, Unit) error { return nil }
func (l *Logs) Close() error                     { return nil }

func (l *Logs) Resume(cp map[string]string) error {
	pos := cp[""]
	if pos == "" {
		return nil
	}
	var p logsPosition
	if err := json.Unmarshal([]byte(pos), &p); err != nil {
		return fmt.Errorf("%s: bad checkpoint %q: %v", l.name, pos, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max = p.Max
	for _, h := range p.Seen {
		n, err := strconv.ParseUint(h, 36, 64)
		if err != nil {
			return fmt.Errorf("%s: bad checkpoint %q", l.name, pos)
		}
		l.seen[n] = p.Max // pruned with the first events after max−overlap
	}
	return nil
}

func (l *Logs) Next(ctx context.Context) ([]Unit, error) {
	overlap := l.cfg.Overlap.Milliseconds()
	for {
		if l.token == nil {
			// A new query: wait for the interval, then ask from before the newest event.
			if !l.lastPoll.IsZero() {
				wait := time.Until(l.lastPoll.Add(l.cfg.Interval))
				if l.retry > 0 {
					wait = l.retry
				}
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
			}
			l.mu.Lock()
			switch {
			case l.max > 0:
				l.queryFrom = l.max - overlap
			case !l.cfg.Since.IsZero():
				l.queryFrom = l.cfg.Since.UnixMilli()
			default:
				l.queryFrom = l.cfg.Now().UnixMilli() - overlap
			}
			l.mu.Unlock()
			l.lastPoll = time.Now()
		}
		out, err := l.cfg.Client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName: &l.cfg.Group, StartTime: aws.Int64(l.queryFrom), NextToken: l.token, Limit: aws.Int32(l.cfg.Limit)})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			l.add(l.name, ProblemAWS, l.cfg.Group, fmt.Errorf("filter log events: %w", err))
			l.token = nil // start the query again
			l.retry = backoff(l.retry, time.Second, l.cfg.Interval)
			continue
		}
		l.retry = 0
		l.token = out.NextToken
		if l.token != nil && aws.ToString(l.token) == "" {
			l.token = nil
		}

		l.mu.Lock()
		var buf bytes.Buffer
		var first, last string
		var minTs, maxTs int64
		n := 0
		for _, ev := range out.Events {
			id, ts := aws.ToString(ev.EventId), aws.ToInt64(ev.Timestamp)
			h := hashID(id)
			if _, dup := l.seen[h]; dup {
				continue
			}
			l.seen[h] = ts
			if ts > l.max {
				l.max = ts
			}
			if n == 0 || ts < minTs {
				minTs = ts
			}
			maxTs = max(maxTs, ts)
			if n == 0 {
				first = id
			}
			last = id
			n++
			// One record per line: newlines between JSON tokens are only whitespace.
			msg := bytes.ReplaceAll([]byte(aws.ToString(ev.Message)), []byte{'\n'}, []byte{' '})
			buf.Write(bytes.ReplaceAll(msg, []byte{'\r'}, []byte{' '}))
			buf.WriteByte('\n')
		}
		if n == 0 {
			l.mu.Unlock()
			continue
		}
		pos := l.position()
		l.mu.Unlock()
		name := fmt.Sprintf("logs:%s [%s, %s]", l.cfg.Group,
			time.UnixMilli(minTs).UTC().Format(time.RFC3339), time.UnixMilli(maxTs).UTC().Format(time.RFC3339))
		return []Unit{{
			Input:    &Memory{Label: name, Data: buf.Bytes()},
			Key:      fmt.Sprintf("logs:%s#%s..%s#%d", l.cfg.Group, first, last, n),
			Position: pos,
		}}, nil
	}
}

// position prunes the seen IDs to the overlap window (and, while a query runs, to its start,
// so that its later pages are still recognised) and encodes the checkpoint. l.mu is held.
func (l *Logs) position() string {
	floor := l.max - l.cfg.Overlap.Milliseconds()
	if l.token != nil {
		floor = min(floor, l.queryFrom)
	}
	p := logsPosition{Max: l.max}
	for h, ts := range l.seen {
		if ts < floor {
			delete(l.seen, h)
			continue
		}
		p.Seen = append(p.Seen, strconv.FormatUint(h, 36))
	}
	sort.Strings(p.Seen)
	b, _ := json.Marshal(p)
	return string(b)
}

func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
