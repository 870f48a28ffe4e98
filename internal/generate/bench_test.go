package generate

import (
	"context"
	"testing"
)

// BenchmarkGenerate measures the whole pipeline: records built and gzipped on
// all cores, files handed to a callback that drops them. MB/s is of
// uncompressed output.
func BenchmarkGenerate(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	var records int64
	for i := 0; i < b.N; i++ {
		sum, err := Generate(context.Background(), Options{Size: size, Seed: uint64(i)}, func(*File) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		records += sum.Records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkBuild measures writing records alone, on one core.
func BenchmarkBuild(b *testing.B) {
	o := Options{Size: 1 << 30, Seed: 1}
	if err := o.normalize(); err != nil {
		b.Fatal(err)
	}
	accts := []*account{newAccount(1, o.Accounts[0])}
	pl := newPlanner(&o, accts, o.Regions)
	w := newWorker()
	var n int64
	for i := 0; i < b.N; i++ {
		s := pl.next()
		w.raw, _, _ = w.build(s, w.raw[:0], 0)
		n += int64(len(w.raw))
	}
	b.SetBytes(n / int64(b.N))
}
