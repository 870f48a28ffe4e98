package generate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Defaults of Options.
const (
	DefaultEventsPerFile = 700 // about 900 KB per file, like a busy account's deliveries
	DefaultInjectRate    = 4   // per control, account and day
	DefaultAccounts      = 3
	MinSize              = 64 << 10 // the last record is cut off whole: keep that under a few percent
	MaxEventsPerFile     = 200_000
)

// DefaultStart is the default first window: fixed, so that output never
// depends on the clock.
var DefaultStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultRegions are used when Options.Regions is empty.
var DefaultRegions = []string{"us-east-1", "us-west-2"}

// Options say what to generate. The zero value of a field means its default,
// except where noted.
type Options struct {
	Size          int64     // uncompressed bytes of JSON to write (required, at least MinSize)
	Seed          uint64    // same seed and options, same bytes
	Start         time.Time // start of the first window, rounded down to 5 minutes; zero: DefaultStart
	Accounts      []string  // 12-digit account IDs; empty: NumAccounts IDs derived from the seed
	NumAccounts   int       // used when Accounts is empty; zero: DefaultAccounts
	Regions       []string  // zero: DefaultRegions. Global services (IAM, Organizations, sign-in) log to us-east-1, or to the first region without it
	EventsPerFile int       // mean records per file (each file is within ±30%); zero: DefaultEventsPerFile
	InjectRate    float64   // CIS events (and as many near-misses) per control, account and day; zero: DefaultInjectRate
	NoInject      bool      // background only: no injected events, no near-misses
	Workers       int       // files built at once; zero: GOMAXPROCS. Output does not depend on it
}

// File is one generated CloudTrail log file.
type File struct {
	Path    string    // AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/NAME.json.gz, slash-separated
	Account string    // the account of every record
	Region  string    // the region of every record
	Stamp   time.Time // the time in the name; events are in [Stamp-Window, Stamp)
	Records int
	RawSize int64  // bytes of JSON before compression
	Data    []byte // the gzip file; valid only during the emit callback
}

// Injected is an event written for a CIS control: a hit, which the control's
// filter matches, or a near-miss, which it must not match.
type Injected struct {
	Control     string    `json:"control"` // Control.ID
	CIS         string    `json:"cis"`     // Control.CIS
	NearMiss    bool      `json:"nearMiss,omitempty"`
	EventID     string    `json:"eventID"`
	EventName   string    `json:"eventName"`
	EventSource string    `json:"eventSource"`
	Time        time.Time `json:"eventTime"`
	Account     string    `json:"account"`
	Region      string    `json:"region"`
	File        string    `json:"file"`  // File.Path
	Index       int       `json:"index"` // position in the file's Records
}

// Summary describes what Generate wrote.
type Summary struct {
	Files      int
	Records    int64
	Bytes      int64 // uncompressed
	Compressed int64
	Accounts   []string
	Regions    []string
	Principals int
	First      time.Time // start of the first window
	Last       time.Time // end of the last window
	Injected   []Injected
}

// Hits counts injected events that are not near-misses.
func (s *Summary) Hits() int {
	n := 0
	for _, e := range s.Injected {
		if !e.NearMiss {
			n++
		}
	}
	return n
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// normalize validates o and fills in defaults.
func (o *Options) normalize() error {
	if o.Size < MinSize {
		return fmt.Errorf("size %d is too small: want at least %s", o.Size, FormatSize(MinSize))
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(Window)
	if o.EventsPerFile == 0 {
		o.EventsPerFile = DefaultEventsPerFile
	}
	if o.EventsPerFile < 1 || o.EventsPerFile > MaxEventsPerFile {
		return fmt.Errorf("events per file %d out of range: want 1 to %d", o.EventsPerFile, MaxEventsPerFile)
	}
	if o.InjectRate < 0 || o.InjectRate > 10000 {
		return fmt.Errorf("inject rate %g out of range: want 0 to 10000 events per control, account and day", o.InjectRate)
	}
	if o.InjectRate == 0 {
		o.InjectRate = DefaultInjectRate
	}
	if len(o.Regions) == 0 {
		o.Regions = DefaultRegions
	}
	seen := map[string]bool{}
	for _, r := range o.Regions {
		if !regionRE.MatchString(r) {
			return fmt.Errorf("invalid region %q: want a region name such as us-east-1", r)
		}
		if seen[r] {
			return fmt.Errorf("region %s given twice", r)
		}
		seen[r] = true
	}
	if len(o.Accounts) == 0 {
		if o.NumAccounts == 0 {
			o.NumAccounts = DefaultAccounts
		}
		if o.NumAccounts < 1 || o.NumAccounts > 1000 {
			return fmt.Errorf("number of accounts %d out of range: want 1 to 1000", o.NumAccounts)
		}
		o.Accounts = accountIDs(o.Seed, o.NumAccounts)
	}
	seen = map[string]bool{}
	for _, a := range o.Accounts {
		if len(a) != 12 || !allDigits(a) {
			return fmt.Errorf("invalid account ID %q: want 12 digits", a)
		}
		if seen[a] {
			return fmt.Errorf("account %s given twice", a)
		}
		seen[a] = true
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func accountIDs(seed uint64, n int) []string {
	r := newRNG(seed, 3)
	seen := map[string]bool{}
	var ids []string
	for len(ids) < n {
		id := strconv.FormatUint(100_000_000_000+r.next()%900_000_000_000, 10)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// homeFirst orders regions so that the home region, which receives global
// services' events, comes first.
func homeFirst(regions []string) []string {
	out := append([]string(nil), regions...)
	for i, r := range out {
		if r == "us-east-1" {
			copy(out[1:i+1], out[:i])
			out[0] = r
		}
	}
	return out
}

// job is a file in flight between the coordinator and a worker.
type job struct {
	spec     *fileSpec
	file     File
	injected []Injected
	gz       *bytes.Buffer
	err      error
	done     chan struct{}
}

// Generate writes a corpus of o.Size bytes and calls emit for each file, in
// order and from one goroutine. Files are built and compressed by o.Workers
// goroutines; at most 2×Workers files are held at once. The output depends
// only on the options, not on Workers or timing.
func Generate(ctx context.Context, o Options, emit func(*File) error) (*Summary, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	accts := make([]*account, len(o.Accounts))
	sum := &Summary{Accounts: o.Accounts, Regions: o.Regions, First: o.Start}
	for i, id := range o.Accounts {
		accts[i] = newAccount(o.Seed, id)
		sum.Principals += accts[i].principalCount()
	}
	pl := newPlanner(&o, accts, homeFirst(o.Regions))

	jobs := make(chan *job)
	var wg sync.WaitGroup
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker()
			for j := range jobs {
				j.err = w.run(j, 0)
				close(j.done)
			}
		}()
	}
	var pending []*job
	defer func() {
		for _, j := range pending {
			<-j.done
		}
		close(jobs)
		wg.Wait()
	}()
	submit := func() {
		j := &job{spec: pl.next(), gz: bufs.Get().(*bytes.Buffer), done: make(chan struct{})}
		jobs <- j
		pending = append(pending, j)
	}
	var last *worker // rebuilds the last file, cut to size
	for {
		for len(pending) < 2*o.Workers {
			submit()
		}
		j := pending[0]
		select {
		case <-j.done:
		case <-ctx.Done():
			return sum, ctx.Err()
		}
		pending = pending[1:]
		if j.err != nil {
			return sum, j.err
		}
		final := false
		if left := o.Size - sum.Bytes; j.file.RawSize >= left {
			final = true
			if j.file.RawSize > left {
				if last == nil {
					last = newWorker()
				}
				if err := last.run(j, int(left)); err != nil {
					return sum, err
				}
			}
		}
		if j.file.Records > 0 {
			if err := emit(&j.file); err != nil {
				return sum, err
			}
			sum.Files++
			sum.Records += int64(j.file.Records)
			sum.Bytes += j.file.RawSize
			sum.Compressed += int64(len(j.file.Data))
			sum.Injected = append(sum.Injected, j.injected...)
			sum.Last = j.file.Stamp
		}
		j.gz.Reset()
		bufs.Put(j.gz)
		if final {
			return sum, nil
		}
	}
}

// worker owns the buffers for building one file at a time.
type worker struct {
	raw  []byte
	offs []int32
	gzw  *gzip.Writer
	c    call
}

func newWorker() *worker {
	gzw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return &worker{gzw: gzw}
}

// run builds and compresses j's file; limit > 0 cuts it to at most limit
// bytes of JSON, at a record boundary.
func (w *worker) run(j *job, limit int) error {
	s := j.spec
	var n int
	w.raw, n, j.injected = w.build(s, w.raw[:0], limit)
	j.file = File{Path: s.path, Account: s.acct.id, Region: s.region, Stamp: s.stamp, Records: n, RawSize: int64(len(w.raw))}
	j.gz.Reset()
	w.gzw.Reset(j.gz)
	if _, err := w.gzw.Write(w.raw); err != nil {
		return fmt.Errorf("compress %s: %w", s.path, err)
	}
	if err := w.gzw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", s.path, err)
	}
	j.file.Data = j.gz.Bytes()
	return nil
}

// WriteDir generates into dir, creating it and the key layout below it.
func WriteDir(ctx context.Context, dir string, o Options) (*Summary, error) {
	made := map[string]bool{}
	return Generate(ctx, o, func(f *File) error {
		name := filepath.Join(dir, filepath.FromSlash(f.Path))
		d := filepath.Dir(name)
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			return err
		}
		return nil
	})
}
