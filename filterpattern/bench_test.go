package filterpattern

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// invictusRecords loads the real CloudTrail records of the bundled Invictus dataset, each
// compacted as CloudTrail writes it to CloudWatch Logs.
func invictusRecords(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob("../examples/cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no sample CloudTrail files (%v)", err)
	}
	var records [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &doc); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for _, r := range doc.Records {
			var b bytes.Buffer
			if err := json.Compact(&b, r); err != nil {
				tb.Fatal(err)
			}
			records = append(records, b.Bytes())
		}
	}
	return records
}

type cisPattern struct {
	Control string `json:"control"`
	Title   string `json:"title"`
	Pattern string `json:"pattern"`
}

func cis12(tb testing.TB) []*Pattern {
	tb.Helper()
	data, err := os.ReadFile("testdata/cis-1.2-patterns.json")
	if err != nil {
		tb.Fatal(err)
	}
	var rows []cisPattern
	if err := json.Unmarshal(data, &rows); err != nil {
		tb.Fatal(err)
	}
	var ps []*Pattern
	for _, r := range rows {
		p, err := Parse(r.Pattern)
		if err != nil {
			tb.Fatalf("CIS %s: %v", r.Control, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func totalBytes(records [][]byte) int64 {
	var n int64
	for _, r := range records {
		n += int64(len(r))
	}
	return n
}

// BenchmarkCIS12Set evaluates the 14 CIS v1.2 patterns as one Set over the Invictus records;
// one op is the whole dataset.
func BenchmarkCIS12Set(b *testing.B) {
	records := invictusRecords(b)
	m := NewSet(cis12(b)...).NewMatcher()
	b.SetBytes(totalBytes(records))
	b.ReportAllocs()
	matches := 0
	for b.Loop() {
		for _, r := range records {
			matches += len(m.Match(r))
		}
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	_ = matches
}

// BenchmarkCIS12SetTrusted is the same over records known to be valid JSON, as trailalarm's
// CloudTrail reader delivers them.
func BenchmarkCIS12SetTrusted(b *testing.B) {
	records := invictusRecords(b)
	m := NewSet(cis12(b)...).NewMatcher()
	b.SetBytes(totalBytes(records))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range records {
			m.MatchTrusted(r)
		}
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCIS12SetKnown is the same with eventName and eventSource known in advance, as the CloudTrail reader
// provides it: most records are ruled out without a scan.
func BenchmarkCIS12SetKnown(b *testing.B) {
	records := invictusRecords(b)
	names := make([]string, len(records))
	sources := make([]string, len(records))
	for i, r := range records {
		var v struct{ EventName, EventSource string }
		json.Unmarshal(r, &v)
		names[i], sources[i] = v.EventName, v.EventSource
	}
	m := NewSet(cis12(b)...).NewMatcher()
	known := []Known{{Selector: "$.eventName"}, {Selector: "$.eventSource"}}
	b.SetBytes(totalBytes(records))
	b.ReportAllocs()
	for b.Loop() {
		for i, r := range records {
			known[0].Value, known[1].Value = names[i], sources[i]
			m.MatchKnown(r, known...)
		}
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCIS12SetNoMatch is the same Set over the records that match none of its patterns:
// the common case, which must not allocate.
func BenchmarkCIS12SetNoMatch(b *testing.B) {
	set := NewSet(cis12(b)...)
	m := set.NewMatcher()
	var records [][]byte
	for _, r := range invictusRecords(b) {
		if len(m.Match(r)) == 0 {
			records = append(records, r)
		}
	}
	b.SetBytes(totalBytes(records))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range records {
			m.Match(r)
		}
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBaselineDecode is the baseline: decoding the same records with encoding/json into
// map[string]any, which is what evaluating them the obvious way costs before any rule runs.
func BenchmarkBaselineDecode(b *testing.B) {
	records := invictusRecords(b)
	b.SetBytes(totalBytes(records))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range records {
			var v map[string]any
			if err := json.Unmarshal(r, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestNoAllocOnNoMatch guards the zero-allocation promise of the hot path.
func TestNoAllocOnNoMatch(t *testing.T) {
	m := NewSet(cis12(t)...).NewMatcher()
	var quiet [][]byte
	for _, r := range invictusRecords(t) {
		if len(m.Match(r)) == 0 {
			quiet = append(quiet, r)
		}
	}
	if len(quiet) < 1000 {
		t.Fatalf("only %d records match nothing", len(quiet))
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, r := range quiet {
			m.Match(r)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass over records that match nothing; want 0", allocs)
	}
}
