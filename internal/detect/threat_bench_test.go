package detect

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/testutil/cputime"
)

// generatedInputs is a synthetic corpus from internal/generate (gzip files as CloudTrail
// delivers them, held in memory): TRAILALARM_BENCH_MB megabytes of JSON, 64 by default.
var generatedInputs = sync.OnceValues(func() ([]Input, error) {
	size := int64(64)
	if s := os.Getenv("TRAILALARM_BENCH_MB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, err
		}
		size = n
	}
	var in []Input
	_, err := generate.Generate(context.Background(), generate.Options{Size: size << 20, Seed: 1}, func(f *generate.File) error {
		in = append(in, &memInput{name: f.Path, data: append([]byte(nil), f.Data...)})
		return nil
	})
	return in, err
})

func packRules(tb testing.TB, packs ...string) []*rules.Rule {
	rs, err := rules.Select(packs, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

func benchScan(b *testing.B, packs ...string) {
	inputs, err := generatedInputs()
	if err != nil {
		b.Fatal(err)
	}
	e := ForRules(packRules(b, packs...))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Scan(context.Background(), inputs, Options{Workers: 1}, nil, func(*FileResult) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanCIS12 and BenchmarkScanCIS12Threat compare a scan with the cis-1.2 pack alone
// and with the 65 rules of the threat pack added, on one worker over the same generated corpus.
// Goal: the threat pack costs less than 30% more time (pre-selection by eventName/eventSource).
func BenchmarkScanCIS12(b *testing.B)       { benchScan(b, "cis-1.2") }
func BenchmarkScanCIS12Threat(b *testing.B) { benchScan(b, "cis-1.2", "threat") }

// TestThreatPackCost measures the same ratio as the benchmarks above as CPU time of the process
// (less disturbed by other work on the machine than wall time), the best of 7 interleaved runs
// each, and fails above 1.30. It runs only with TRAILALARM_BENCH=1: timings are not for every
// test run.
func TestThreatPackCost(t *testing.T) {
	if os.Getenv("TRAILALARM_BENCH") == "" {
		t.Skip("set TRAILALARM_BENCH=1 to measure the threat pack's cost")
	}
	inputs, err := generatedInputs()
	if err != nil {
		t.Fatal(err)
	}
	engines := []*Engine{ForRules(packRules(t, "cis-1.2")), ForRules(packRules(t, "cis-1.2", "threat"))}
	var variants []func() error
	for _, e := range engines {
		variants = append(variants, func() error {
			return e.Scan(context.Background(), inputs, Options{Workers: 1}, nil, func(*FileResult) error { return nil })
		})
	}
	best, err := cputime.Best(7, variants...)
	if err != nil {
		t.Fatal(err)
	}
	base, both := best[0], best[1]
	ratio := float64(both) / float64(base)
	t.Log(fmt.Sprintf("cis-1.2: %v, cis-1.2 + threat: %v, ratio %.2f", base, both, ratio))
	if ratio > 1.30 {
		t.Errorf("the threat pack costs %.0f%% more time; goal: under 30%%", (ratio-1)*100)
	}
}
