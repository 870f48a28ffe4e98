package alarm

import (
	"testing"
	"time"
)

// BenchmarkStreamEarly is BenchmarkStream with AddEarly and `run`'s default lateness of 15
// minutes: each sample also looks for an ALARM it makes certain among the pending evaluations.
func BenchmarkStreamEarly(b *testing.B) {
	a, err := New(cis)
	if err != nil {
		b.Fatal(err)
	}
	_, in := benchInput()
	b.ReportAllocs()
	var transitions, early int
	for b.Loop() {
		st := NewStream(a, nil, t0, 15*time.Minute)
		for i, k := range in {
			ts, err := st.AddEarly(k.key, k.Sample)
			if err != nil {
				b.Fatal(err)
			}
			for _, tr := range ts {
				if tr.Early {
					early++
				}
			}
			transitions += len(ts)
			if i%1000 == 999 {
				transitions += len(st.Advance(k.Time))
			}
		}
		transitions += len(st.Flush(t0.Add(24 * time.Hour)))
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/op")
	b.ReportMetric(float64(early)/float64(b.N), "early/op")
}
