package cloudtrail

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkRead measures splitting, validation and field extraction over the
// Invictus records in several shapes. MB/s is of decompressed input.
func BenchmarkRead(b *testing.B) {
	file := readTestdata(b, invictusFile)
	invC := compactAll(b, invictusRecords(b))
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"s3-plain", file},
		{"s3-gzip", gz(b, file)},
		{"ndjson", ndjson(invC)},
		{"logs-export", logsExport(b, invC)},
		{"eventbridge", eventBridge(invC)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := NewReader()
			br := bytes.NewReader(bc.in)
			var n int64
			fn := func(*Record) error { n++; return nil }
			st, _ := r.Read(br, "bench", Options{}, fn)
			b.SetBytes(st.Bytes)
			b.ReportAllocs()
			n = 0
			b.ResetTimer()
			for b.Loop() {
				br.Reset(bc.in)
				if _, err := r.Read(br, "bench", Options{Strict: true}, fn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkGunzip is the floor for gzip input: decompression alone.
func BenchmarkGunzip(b *testing.B) {
	file := readTestdata(b, invictusFile)
	in := gz(b, file)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	br := bytes.NewReader(in)
	zr, _ := gzip.NewReader(br)
	buf := make([]byte, 256<<10)
	for b.Loop() {
		br.Reset(in)
		if err := zr.Reset(br); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{zr}, buf); err != nil {
			b.Fatal(err)
		}
	}
}
