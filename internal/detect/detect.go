// Package detect evaluates a compiled rule set over CloudTrail records: every record against
// every rule, in one pass over its bytes, files in parallel on all cores, results delivered in
// input order so that reports are deterministic.
package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// Engine is a compiled rule set. It is immutable and safe for concurrent use (its per-account
// cache fills itself under a lock).
type Engine struct {
	set    *filterpattern.Set
	values []*filterpattern.Ref // per pattern: its metric value, or nil for 1

	// Allow-lists: allow holds every allow-list pattern of every rule; allowRule[j] is the rule
	// allow pattern j exempts. hasAllow[i] says whether rule i has any.
	allow     *filterpattern.Set
	allowRule []int
	hasAllow  []bool

	// ${account_id}: the patterns of the rules that use it are compiled once per distinct
	// recipientAccountId, into a Set of all rules for that account (the others shared as they
	// are), so that a record is still scanned once and rules without it cost nothing extra.
	patterns []*filterpattern.Pattern
	bind     map[int]*rules.Rule // rule index -> the rule, whose pattern uses ${account_id}
	mu       sync.Mutex
	accounts map[string]*filterpattern.Set // account -> the Set with its patterns bound
}

// maxAccountSets bounds the per-account cache; beyond it, sets are compiled for the record and
// not kept (an organization trail with thousands of accounts still works, more slowly).
const maxAccountSets = 4096

// NewEngine compiles patterns into one set. values[i], when not nil, is pattern i's metric
// value reference (a metric filter's metricValue); values may be nil or shorter than patterns.
func NewEngine(patterns []*filterpattern.Pattern, values []*filterpattern.Ref) *Engine {
	v := make([]*filterpattern.Ref, len(patterns))
	copy(v, values)
	return &Engine{set: filterpattern.NewSet(patterns...), values: v, patterns: patterns}
}

// setFor returns the Set whose ${account_id} patterns are bound to account.
func (e *Engine) setFor(account string) *filterpattern.Set {
	e.mu.Lock()
	s, ok := e.accounts[account]
	e.mu.Unlock()
	if ok {
		return s
	}
	ps := slices.Clone(e.patterns)
	for i, src := range e.bind {
		// A pattern that does not parse once bound (it was validated with a 12-digit account, so
		// only an odd recipientAccountId can do that) keeps the placeholder, which then matches
		// as the literal text "${account_id}".
		if p, err := src.CompileFor(account); err == nil {
			ps[i] = p
		}
	}
	s = filterpattern.NewSet(ps...)
	e.mu.Lock()
	if prev, ok := e.accounts[account]; ok {
		s = prev
	} else if len(e.accounts) < maxAccountSets {
		e.accounts[account] = s
	}
	e.mu.Unlock()
	return s
}

// Len is the number of patterns.
func (e *Engine) Len() int { return e.set.Len() }

// Match is one record matched by one rule.
type Match struct {
	Rule     int               // index of the pattern in the Engine
	Record   cloudtrail.Record // a copy that the match owns
	Value    float64           // the metric value the rule's filter would publish
	HasValue bool              // false when the value reference found no number
}

// Evaluator evaluates records one at a time; one per goroutine.
type Evaluator struct {
	e     *Engine
	m     *filterpattern.Matcher
	known []filterpattern.Known // scratch: the record's fields the reader has read

	am     *filterpattern.Matcher            // allow-list patterns, run only on matched records
	exempt []int                             // scratch: rules exempted for the current record
	byAcct map[string]*filterpattern.Matcher // ${account_id}: a Matcher per account seen
	acct   string                            // the account of lastM
	lastM  *filterpattern.Matcher            // the Matcher of the previous record's account
}

// NewEvaluator returns an Evaluator of e.
func (e *Engine) NewEvaluator() *Evaluator {
	ev := &Evaluator{e: e, m: e.set.NewMatcher(), known: make([]filterpattern.Known, 0, len(knownFields))}
	if e.allow != nil {
		ev.am = e.allow.NewMatcher()
	}
	if len(e.bind) > 0 {
		ev.byAcct = map[string]*filterpattern.Matcher{}
	}
	return ev
}

// matcher returns the Matcher for rec: the one of rec's account when rules use ${account_id}.
func (ev *Evaluator) matcher(rec *cloudtrail.Record) *filterpattern.Matcher {
	if ev.byAcct == nil {
		return ev.m
	}
	if ev.lastM != nil && ev.acct == rec.RecipientAccountID {
		return ev.lastM
	}
	m, ok := ev.byAcct[rec.RecipientAccountID]
	if !ok {
		m = ev.e.setFor(rec.RecipientAccountID).NewMatcher()
		if len(ev.byAcct) < maxAccountSets {
			ev.byAcct[rec.RecipientAccountID] = m
		}
	}
	ev.acct, ev.lastM = rec.RecipientAccountID, m
	return m
}

// knownFields are the record fields the reader reads, with the selectors that name them.
var knownFields = [...]struct {
	flag     cloudtrail.Fields
	selector string
	value    func(*cloudtrail.Record) string
}{
	{cloudtrail.FieldEventName, "$.eventName", func(r *cloudtrail.Record) string { return r.EventName }},
	{cloudtrail.FieldEventSource, "$.eventSource", func(r *cloudtrail.Record) string { return r.EventSource }},
	{cloudtrail.FieldAWSRegion, "$.awsRegion", func(r *cloudtrail.Record) string { return r.AWSRegion }},
	{cloudtrail.FieldRecipientAccountID, "$.recipientAccountId", func(r *cloudtrail.Record) string { return r.RecipientAccountID }},
	{cloudtrail.FieldErrorCode, "$.errorCode", func(r *cloudtrail.Record) string { return r.ErrorCode }},
	{cloudtrail.FieldUserAgent, "$.userAgent", func(r *cloudtrail.Record) string { return bstr(r.UserAgent) }},
	{cloudtrail.FieldSourceIPAddress, "$.sourceIPAddress", func(r *cloudtrail.Record) string { return bstr(r.SourceIPAddress) }},
}

// bstr views b as a string without copying: the matcher uses the value only during Eval.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Eval evaluates one record and calls fn for each rule it matches, in rule order. rec is not
// retained; the Match given to fn holds its own copy.
func (ev *Evaluator) Eval(rec *cloudtrail.Record, fn func(Match)) {
	// The CloudTrail reader validates every record it delivers and has read its eventName and
	// eventSource: most rules are ruled out by those, and most records need no second scan.
	ev.known = ev.known[:0]
	for _, f := range knownFields {
		switch {
		case rec.Exact&f.flag != 0:
			ev.known = append(ev.known, filterpattern.Known{Selector: f.selector, Value: f.value(rec)})
		case rec.Missing&f.flag != 0:
			ev.known = append(ev.known, filterpattern.Known{Selector: f.selector, Missing: true})
		}
	}
	matched := ev.matcher(rec).MatchKnown(rec.Raw, ev.known...)
	if len(matched) == 0 {
		return
	}
	if ev.am != nil && ev.exempted(rec.Raw, matched) && len(ev.exempt) == len(matched) {
		return
	}
	clone := rec.Clone()
	for _, i := range matched {
		if slices.Contains(ev.exempt, i) {
			continue
		}
		m := Match{Rule: i, Record: clone, Value: 1, HasValue: true}
		if ref := ev.e.values[i]; ref != nil {
			m.Value, m.HasValue = ref.FloatMatched(clone.Raw) // the record matched: read the value only
		}
		fn(m)
	}
}

// exempted evaluates the allow-lists of the matched rules that have one, leaving in ev.exempt
// the rules that an allow-list entry exempts the record from; it reports whether there are any.
func (ev *Evaluator) exempted(raw []byte, matched []int) bool {
	ev.exempt = ev.exempt[:0]
	need := false
	for _, i := range matched {
		if ev.e.hasAllow[i] {
			need = true
			break
		}
	}
	if !need {
		return false
	}
	for _, j := range ev.am.MatchTrusted(raw) {
		i := ev.e.allowRule[j]
		if slices.Contains(matched, i) && !slices.Contains(ev.exempt, i) {
			ev.exempt = append(ev.exempt, i)
		}
	}
	return len(ev.exempt) > 0
}

// Input is one file, object or stream of CloudTrail to read.
type Input interface {
	Name() string
	Size() int64 // in bytes as stored, -1 when unknown
	Open(ctx context.Context) (io.ReadCloser, error)
}

// Filter limits which records are evaluated; the zero Filter lets every record through.
type Filter struct {
	Since, Until time.Time // event time in [Since, Until); zero means unbounded
	Accounts     map[string]bool
	Regions      map[string]bool
}

func (f *Filter) allows(r *cloudtrail.Record) bool {
	if !f.Since.IsZero() && r.EventTime.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !r.EventTime.Before(f.Until) {
		return false
	}
	if len(f.Accounts) > 0 && !f.Accounts[r.RecipientAccountID] {
		return false
	}
	if len(f.Regions) > 0 && !f.Regions[r.AWSRegion] {
		return false
	}
	return true
}

// Options control a Scan.
type Options struct {
	Workers int // files read at once; 0 means one per core
	Strict  bool
	Filter  Filter
}

// FileResult is everything one input produced.
type FileResult struct {
	Input    Input
	Index    int // position in the inputs given to Scan
	Stats    cloudtrail.Stats
	Filtered int64 // records skipped by the Filter
	// Minutes are the minutes (Unix time / 60) of the records evaluated, without consecutive
	// repeats: when a metric filter's defaultValue applies, and how far a backtest runs.
	Minutes []int64
	Matches []Match
	Errors  []*cloudtrail.ReadError
	Err     error // the input could not be opened or read at all
}

// Progress counts work done so far; its fields are updated atomically while a Scan runs.
type Progress struct {
	Files   atomic.Int64
	Records atomic.Int64
	Bytes   atomic.Int64 // stored (compressed) bytes of finished inputs
}

// ErrStrict is wrapped by the error Scan returns when Options.Strict stops it.
var ErrStrict = errors.New("stopped at the first bad input (--strict)")

// Scan reads every input on opts.Workers goroutines, evaluates every record, and hands each
// input's result to emit in input order. A bad record is reported in its FileResult and the
// scan goes on, unless opts.Strict. An error from emit, a strict failure or ctx ending stop the
// scan and are returned.
func (e *Engine) Scan(ctx context.Context, inputs []Input, opts Options, progress *Progress, emit func(*FileResult) error) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if progress == nil {
		progress = &Progress{}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Workers may run ahead of the next input to emit by at most this many inputs, which bounds
	// the memory held by results waiting for their turn.
	window := make(chan struct{}, 2*workers)
	results := make(chan *FileResult, workers)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := e.NewEvaluator()
			rd := cloudtrail.NewReader()
			for {
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(inputs) {
					<-window
					return
				}
				res := e.scanOne(ctx, ev, rd, inputs[i], opts, progress)
				res.Index = i
				select {
				case results <- res:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	pending := map[int]*FileResult{}
	want := 0
	var firstErr error
	for res := range results {
		if firstErr != nil {
			continue // drain
		}
		pending[res.Index] = res
		for {
			r, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			<-window
			if opts.Strict && (r.Err != nil || len(r.Errors) > 0) {
				firstErr = strictError(r)
			} else if err := emit(r); err != nil {
				firstErr = err
			}
			if firstErr != nil {
				cancel(firstErr)
				break
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return context.Cause(ctx)
}

func strictError(r *FileResult) error {
	if r.Err != nil {
		return fmt.Errorf("%w: %s: %v", ErrStrict, r.Input.Name(), r.Err)
	}
	return fmt.Errorf("%w: %v", ErrStrict, r.Errors[0])
}

// scanOne reads one input; bad records are collected, never fatal here.
func (e *Engine) scanOne(ctx context.Context, ev *Evaluator, rd *cloudtrail.Reader, in Input, opts Options, progress *Progress) *FileResult {
	res := &FileResult{Input: in}
	defer func() {
		progress.Files.Add(1)
		if n := in.Size(); n > 0 {
			progress.Bytes.Add(n)
		}
	}()
	rc, err := in.Open(ctx)
	if err != nil {
		res.Err = err
		return res
	}
	defer rc.Close()
	ropts := cloudtrail.Options{OnError: func(re *cloudtrail.ReadError) { res.Errors = append(res.Errors, re) }}
	n := 0
	res.Stats, err = rd.Read(rc, in.Name(), ropts, func(rec *cloudtrail.Record) error {
		if n++; n&1023 == 0 {
			progress.Records.Add(1024)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if !opts.Filter.allows(rec) {
			res.Filtered++
			return nil
		}
		if m := rec.EventTime.Unix() / 60; len(res.Minutes) == 0 || res.Minutes[len(res.Minutes)-1] != m {
			res.Minutes = append(res.Minutes, m)
		}
		ev.Eval(rec, func(m Match) { res.Matches = append(res.Matches, m) })
		return nil
	})
	progress.Records.Add(int64(n & 1023))
	if err != nil && ctx.Err() == nil {
		res.Err = err
	}
	return res
}

// ForRules compiles the patterns of rules, with their metric values, allow-lists and
// ${account_id} bindings, into an Engine whose pattern i is rules[i]. A record that an entry of
// a rule's allow-list exempts does not match that rule.
func ForRules(rs []*rules.Rule) *Engine {
	patterns := make([]*filterpattern.Pattern, len(rs))
	values := make([]*filterpattern.Ref, len(rs))
	var allow []*filterpattern.Pattern
	var allowRule []int
	hasAllow := make([]bool, len(rs))
	bind := map[int]*rules.Rule{}
	for i, r := range rs {
		patterns[i] = r.Compiled
		if !r.Bound() {
			// A rule whose parameters have no values is never evaluated (rules.Bind leaves it
			// out; this guards callers that did not bind).
			patterns[i] = neverMatches
		}
		if ref := r.Metric.ValueRef; ref != nil && !isOne(r.Metric.Value) {
			values[i] = ref
		}
		for _, a := range r.Allow {
			for _, p := range a.Compiled {
				allow = append(allow, p)
				allowRule = append(allowRule, i)
				hasAllow[i] = true
			}
		}
		if r.UsesAccountID() && r.Bound() {
			bind[i] = r
		}
	}
	e := NewEngine(patterns, values)
	if len(allow) > 0 {
		e.allow, e.allowRule, e.hasAllow = filterpattern.NewSet(allow...), allowRule, hasAllow
	}
	if len(bind) > 0 {
		e.bind, e.accounts = bind, map[string]*filterpattern.Set{}
	}
	return e
}

// neverMatches stands in for a rule that must not be evaluated.
var neverMatches = filterpattern.MustParse(`{ $.eventVersion = 1 && $.eventVersion != 1 }`)

func isOne(v string) bool { return v == "" || v == "1" }
