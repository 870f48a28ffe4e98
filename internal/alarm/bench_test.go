package alarm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

const (
	benchSeries  = 10_000
	benchSamples = 1_000_000
)

// benchInput is benchSamples samples over one day, in time order, spread over benchSeries series.
func benchInput() ([]string, []keyed) {
	r := rand.New(rand.NewPCG(7, 8))
	keys := make([]string, benchSeries)
	for i := range keys {
		keys[i] = fmt.Sprintf("series-%05d", i)
	}
	in := make([]keyed, benchSamples)
	step := 24 * time.Hour / benchSamples
	for i := range in {
		in[i] = keyed{keys[r.IntN(benchSeries)], Sample{Time: t0.Add(time.Duration(i) * step), Value: 1, ID: "e"}}
	}
	return keys, in
}

// BenchmarkStream: one op is 10,000 series receiving 1,000,000 samples over a day, evaluated
// every minute as the watermark advances (a CIS alarm: Sum >= 1, 300 s, 1 of 1).
func BenchmarkStream(b *testing.B) {
	a, err := New(cis)
	if err != nil {
		b.Fatal(err)
	}
	_, in := benchInput()
	b.ReportAllocs()
	var transitions int
	for b.Loop() {
		st := NewStream(a, nil, t0, time.Minute)
		for i, k := range in {
			if err := st.Add(k.key, k.Sample); err != nil {
				b.Fatal(err)
			}
			if i%1000 == 999 {
				transitions += len(st.Advance(k.Time))
			}
		}
		transitions += len(st.Flush(t0.Add(24 * time.Hour)))
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/op")
}

// BenchmarkEvaluate: one op backtests the same day, series by series, with the batch evaluator.
func BenchmarkEvaluate(b *testing.B) {
	a, err := New(cis)
	if err != nil {
		b.Fatal(err)
	}
	keys, in := benchInput()
	bykey := make(map[string][]Sample, len(keys))
	for _, k := range in {
		bykey[k.key] = append(bykey[k.key], k.Sample)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			a.Evaluate(Series{Samples: bykey[k]}, t0, t0.Add(24*time.Hour))
		}
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkDecide is one evaluation of a 3-of-5 range; it must not allocate.
func BenchmarkDecide(b *testing.B) {
	a, err := New(with(func(s *Settings) { s.EvaluationPeriods, s.DatapointsToAlarm = 5, 3 }))
	if err != nil {
		b.Fatal(err)
	}
	rng := rangeOf(f(0), nil, f(3), f(0), nil, f(3), f(3))
	b.ReportAllocs()
	for b.Loop() {
		a.Decide(rng, StateOK)
	}
}

// BenchmarkBuilder is what a backtest does: one op is 10,000 series (looked up by key, one per
// principal) receiving 1,000,000 samples over a day, then evaluated. It reports ns per sample
// and the heap the built series hold before evaluation.
func BenchmarkBuilder(b *testing.B) {
	a, err := New(cis)
	if err != nil {
		b.Fatal(err)
	}
	_, in := benchInput()
	id := []byte("00000000-0000-0000-0000-000000000000")
	b.ReportAllocs()
	var held uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var ar Arena
		series := make(map[string]*Builder, benchSeries)
		for _, k := range in {
			s := series[k.key]
			if s == nil {
				s = a.NewBuilder(&ar)
				series[k.key] = s
			}
			s.Add(k.Time, k.Value, id)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - before.HeapAlloc
		for _, s := range series {
			a.EvaluateBuilt(s, nil, t0, t0.Add(24*time.Hour))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchSamples, "ns/sample")
	b.ReportMetric(float64(held)/(1<<20), "MiB-held")
}
