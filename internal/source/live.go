package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Input is what detect reads: the same method set as detect.Input, declared here so that
// sources do not import the detector (any Input is a detect.Input).
type Input interface {
	Name() string
	Size() int64 // bytes as stored, -1 when unknown
	Open(ctx context.Context) (io.ReadCloser, error)
}

// Unit is one piece of work a live source hands on: a file, an S3 object, or a batch of
// CloudWatch Logs events.
type Unit struct {
	Input Input
	// Key identifies the content for idempotence (the same Key means the same bytes):
	// "s3://bucket/key#etag", "path#size#mtime", "logs:group#firstId..lastId".
	Key string
	// Cursor names the checkpoint Position belongs to within the source: "" for sources with
	// one checkpoint, the account/region prefix for S3 polling.
	Cursor string
	// Position is the checkpoint to store under (source name, Cursor) in the transaction that
	// commits this unit's results. It is valid once every earlier unit of the same Cursor is
	// committed too, so commit units in the order Next returned them. "" means nothing to store.
	Position string

	ack any // source-private: the SQS message this unit came from
}

// Live is a source that runs forever: `trailalarm run` reads units from it, commits each
// unit's results together with its Position, then calls Done.
type Live interface {
	// Name identifies the source in checkpoints, logs and metrics; it is stable across restarts.
	Name() string
	// Resume sets the positions stored for this source (Cursor → Position) before the first Next.
	Resume(checkpoints map[string]string) error
	// Next blocks until units are available or ctx ends, and returns them in order. Bad input
	// and transient AWS errors are reported through the source's OnError and retried or skipped;
	// Next returns an error only when ctx ends or the source cannot work at all.
	Next(ctx context.Context) ([]Unit, error)
	// Done is called once the unit's results and Position are committed. SQS deletes the
	// message when all of its units are done; the other sources do nothing.
	Done(ctx context.Context, u Unit) error
	// Close releases watchers and background work.
	Close() error
}

// Problem kinds, for counting in metrics.
const (
	ProblemMalformed = "malformed_message" // an SQS message that is no notification we know
	ProblemMissing   = "missing_object"    // a notification for an object that does not exist
	ProblemAWS       = "aws_error"         // a failed AWS call, retried
	ProblemFile      = "file_error"        // a file that cannot be listed or stat'ed
)

// Problem is bad input or a failed call a live source reported and went on from.
type Problem struct {
	Source string // the source's Name
	Kind   string // one of the Problem* constants
	Input  string // the object, file, message ID or call concerned
	Err    error
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%s: %s: %s: %v", p.Source, p.Kind, p.Input, p.Err)
}

func (p *Problem) Unwrap() error { return p.Err }

// problems counts and reports the problems of one source.
type problems struct {
	mu     sync.Mutex
	counts map[string]int64 // by kind
	report func(*Problem)   // nil: logged with slog
}

func (ps *problems) add(source, kind, input string, err error) {
	p := &Problem{Source: source, Kind: kind, Input: input, Err: err}
	ps.mu.Lock()
	if ps.counts == nil {
		ps.counts = map[string]int64{}
	}
	ps.counts[kind]++
	report := ps.report
	ps.mu.Unlock()
	if report != nil {
		report(p)
		return
	}
	slog.Warn("source problem", "source", source, "kind", kind, "input", input, "err", err)
}

// Problems returns how many problems of each kind the source reported so far.
func (ps *problems) Problems() map[string]int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make(map[string]int64, len(ps.counts))
	for k, v := range ps.counts {
		out[k] = v
	}
	return out
}

// Memory is an input held in memory: a batch of CloudWatch Logs events as NDJSON, or, in tests
// and benchmarks, generated files.
type Memory struct {
	Label string
	Data  []byte
}

func (m *Memory) Name() string { return m.Label }
func (m *Memory) Size() int64  { return int64(len(m.Data)) }
func (m *Memory) Open(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.Data)), nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff doubles a retry delay from min up to max.
func backoff(cur, min, max time.Duration) time.Duration {
	if cur < min {
		return min
	}
	if cur *= 2; cur > max {
		return max
	}
	return cur
}

var errClosed = errors.New("source closed")
