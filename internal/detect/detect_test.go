package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/filterpattern"
	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// memInput is an input held in memory.
type memInput struct {
	name string
	data []byte
	err  error
}

func (m *memInput) Name() string { return m.name }
func (m *memInput) Size() int64  { return int64(len(m.data)) }
func (m *memInput) Open(ctx context.Context) (io.ReadCloser, error) {
	if m.err != nil {
		return nil, m.err
	}
	return io.NopCloser(bytes.NewReader(m.data)), nil
}

func sampleInputs(t testing.TB) []Input {
	t.Helper()
	files, err := filepath.Glob("../../examples/cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json")
	if err != nil || len(files) < 50 {
		t.Fatalf("sample data: %v %d", err, len(files))
	}
	var in []Input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, &memInput{name: f, data: data})
	}
	return in
}

func engine(patterns ...string) *Engine {
	var ps []*filterpattern.Pattern
	for _, p := range patterns {
		ps = append(ps, filterpattern.MustParse(p))
	}
	return NewEngine(ps, nil)
}

// collect runs a scan and returns one line per match, in emitted order.
func collect(t *testing.T, e *Engine, inputs []Input, opts Options) ([]string, []*FileResult) {
	t.Helper()
	var lines []string
	var results []*FileResult
	err := e.Scan(context.Background(), inputs, opts, nil, func(r *FileResult) error {
		results = append(results, r)
		for _, m := range r.Matches {
			lines = append(lines, fmt.Sprintf("%d %s %d %s", m.Rule, filepath.Base(m.Record.File), m.Record.Index, m.Record.EventName))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines, results
}

func TestScanOrderIndependentOfWorkers(t *testing.T) {
	e := engine(`{ $.eventName = "StopLogging" || $.eventName = "DeleteTrail" }`, `{ $.errorCode = "AccessDenied*" }`, `{ $.userIdentity.type = "AssumedRole" }`)
	inputs := sampleInputs(t)
	one, results := collect(t, e, inputs, Options{Workers: 1})
	if len(one) < 50 {
		t.Fatalf("only %d matches", len(one))
	}
	for i, r := range results {
		if r.Index != i || r.Input != inputs[i] {
			t.Fatalf("result %d is input %d", i, r.Index)
		}
	}
	for _, w := range []int{2, 3, 8} {
		many, _ := collect(t, e, inputs, Options{Workers: w})
		if strings.Join(many, "\n") != strings.Join(one, "\n") {
			t.Errorf("%d workers give other results than 1", w)
		}
	}
	var records int64
	for _, r := range results {
		records += r.Stats.Records
	}
	if records != 2900 {
		t.Errorf("%d records, want 2900", records)
	}
}

func TestScanFilter(t *testing.T) {
	e := engine(`{ $.eventName = * }`)
	since := time.Date(2023, 7, 10, 12, 0, 0, 0, time.UTC)
	until := time.Date(2023, 7, 10, 12, 10, 0, 0, time.UTC)
	_, results := collect(t, e, sampleInputs(t), Options{Filter: Filter{Since: since, Until: until}})
	var matched, filtered int64
	for _, r := range results {
		filtered += r.Filtered
		for _, m := range r.Matches {
			matched++
			if m.Record.EventTime.Before(since) || !m.Record.EventTime.Before(until) {
				t.Fatalf("event at %s outside the filter", m.Record.EventTime)
			}
		}
	}
	if matched == 0 || filtered == 0 || matched+filtered != 2900 {
		t.Errorf("matched %d, filtered %d", matched, filtered)
	}
	_, results = collect(t, e, sampleInputs(t), Options{Filter: Filter{Regions: map[string]bool{"eu-west-3": true}}})
	for _, r := range results {
		if len(r.Matches) > 0 {
			t.Fatal("region filter let a us-east-1 event through")
		}
	}
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestScanBadInputGoesOn(t *testing.T) {
	good := []byte(`{"Records":[{"eventTime":"2024-01-01T00:00:00Z","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com"}]}`)
	truncated := gz(good)
	truncated = truncated[:len(truncated)/2]
	inputs := []Input{
		&memInput{name: "good1", data: good},
		&memInput{name: "truncated.gz", data: truncated},
		&memInput{name: "half", data: good[:60]},
		&memInput{name: "missing", err: errors.New("open missing: no such file")},
		&memInput{name: "notct", data: []byte(`{"hello":"world"}`)},
		&memInput{name: "good2", data: gz(good)},
	}
	e := engine(`{ $.eventName = StopLogging }`)
	lines, results := collect(t, e, inputs, Options{Workers: 2})
	if len(lines) != 2 {
		t.Errorf("matches %v, want one from each good file", lines)
	}
	bad := 0
	for _, r := range results {
		bad += len(r.Errors)
		if r.Err != nil {
			bad++
		}
	}
	if bad < 4 {
		t.Errorf("%d errors reported, want one for each bad input", bad)
	}
	// Strict: the first bad input stops the scan.
	err := e.Scan(context.Background(), inputs, Options{Strict: true}, nil, func(*FileResult) error { return nil })
	if !errors.Is(err, ErrStrict) || !strings.Contains(err.Error(), "truncated.gz") {
		t.Errorf("strict scan: %v", err)
	}
}

func TestScanStopsOnEmitError(t *testing.T) {
	e := engine(`{ $.eventName = * }`)
	stop := errors.New("disk full")
	n := 0
	err := e.Scan(context.Background(), sampleInputs(t), Options{Workers: 2}, nil, func(*FileResult) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err %v after %d results", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Scan(ctx, sampleInputs(t), Options{}, nil, func(*FileResult) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: %v", err)
	}
}

func TestEvalValue(t *testing.T) {
	p := filterpattern.MustParse(`{ $.requestParameters.maxResults > 0 }`)
	ref, err := p.Ref("$.requestParameters.maxResults")
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine([]*filterpattern.Pattern{p}, []*filterpattern.Ref{ref})
	var rec cloudtrail.Record
	if err := cloudtrail.ParseRecord([]byte(`{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","requestParameters":{"maxResults":50}}`), &rec); err != nil {
		t.Fatal(err)
	}
	var got []Match
	e.NewEvaluator().Eval(&rec, func(m Match) { got = append(got, m) })
	if len(got) != 1 || got[0].Value != 50 || !got[0].HasValue {
		t.Errorf("got %+v", got)
	}
}

// BenchmarkScanSample measures the whole pipeline — split, field extraction, the CIS-like
// rule set — over the sample data held in memory.
func BenchmarkScanSample(b *testing.B) {
	e := engine(
		`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
		`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`,
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
		`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`,
	)
	inputs := sampleInputs(b)
	var total int64
	for _, in := range inputs {
		total += in.Size()
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Scan(context.Background(), inputs, Options{}, nil, func(*FileResult) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKnownFieldsAgreeWithFullMatch checks that ruling rules out by the fields the reader has
// read gives exactly the results of evaluating every rule on the whole record, for every
// built-in rule over every sample record.
func TestKnownFieldsAgreeWithFullMatch(t *testing.T) {
	all := rules.AllBuiltin()
	e := ForRules(all)
	ev := e.NewEvaluator()
	full := map[string]*filterpattern.Matcher{} // per account: rules with ${account_id} bound to it
	n := 0
	for _, in := range sampleInputs(t) {
		rc, _ := in.Open(context.Background())
		_, err := cloudtrail.Read(rc, in.Name(), cloudtrail.Options{}, func(rec *cloudtrail.Record) error {
			var got []int
			ev.Eval(rec, func(m Match) { got = append(got, m.Rule) })
			fm, ok := full[rec.RecipientAccountID]
			if !ok {
				fm = e.setFor(rec.RecipientAccountID).NewMatcher()
				full[rec.RecipientAccountID] = fm
			}
			want := fm.Match(rec.Raw)
			if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("record %s: known-field evaluation %v, full %v", rec.EventID, got, want)
			}
			n += len(want)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 1000 {
		t.Errorf("only %d matches: the check proves little", n)
	}
}
