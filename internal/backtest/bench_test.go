package backtest

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
)

// benchCorpus is generated CloudTrail of 60 accounts (about 10,000 principals once it is
// large enough), TRAILALARM_BENCH_MB megabytes of JSON, 128 by default; 1,536 gives about
// a million matches of benchRule.
var benchCorpus = sync.OnceValues(func() ([]detect.Input, error) {
	size := int64(128)
	if s := os.Getenv("TRAILALARM_BENCH_MB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		size = n
	}
	var in []detect.Input
	_, err := generate.Generate(context.Background(), generate.Options{Size: size << 20, Seed: 1, NumAccounts: 60}, func(f *generate.File) error {
		in = append(in, &source.Memory{Label: f.Path, Data: append([]byte(nil), f.Data...)})
		return nil
	})
	return in, err
})

// benchRule matches nearly every record and publishes one series per principal: the worst
// case of the evaluator (every match a sample, thousands of series, a transition pair for
// each principal's every burst).
const benchRule = `rules:
  - id: bench:by-principal
    title: Calls by principal
    pattern: '{ $.userIdentity.arn = "arn:*" }'
    metric:
      dimensions:
        Principal: $.userIdentity.arn
    alarm: {treatMissingData: notBreaching}
`

// benchBacktest scans the corpus on one worker (CPU cost, not wall time), with or without the
// backtest, and reports matches, series and ns per match.
func benchBacktest(b *testing.B, withAlarms bool) {
	in, err := benchCorpus()
	if err != nil {
		b.Fatal(err)
	}
	rs, err := rules.Parse("bench.yaml", []byte(benchRule))
	if err != nil {
		b.Fatal(err)
	}
	e := detect.ForRules(rs)
	b.ReportAllocs()
	var matches, series int
	for b.Loop() {
		var bt *Backtest
		if withAlarms {
			if bt, err = New(rs, Overrides{}); err != nil {
				b.Fatal(err)
			}
		}
		matches = 0
		err := e.Scan(context.Background(), in, detect.Options{Workers: 1}, nil, func(res *detect.FileResult) error {
			matches += len(res.Matches)
			if bt != nil {
				bt.Add(res)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if bt != nil {
			from, until, _ := bt.Range()
			series = len(bt.Run(from, until))
		}
	}
	b.ReportMetric(float64(matches), "matches")
	if withAlarms {
		b.ReportMetric(float64(series), "series")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(matches), "ns/match")
}

// BenchmarkScanNoAlarms and BenchmarkScanBacktest are the same scan without and with the
// alarm backtest; their ratio is what evaluation adds to a scan (goal: under 1.10).
func BenchmarkScanNoAlarms(b *testing.B) { benchBacktest(b, false) }
func BenchmarkScanBacktest(b *testing.B) { benchBacktest(b, true) }
