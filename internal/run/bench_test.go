package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/config"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/generate"
	"github.com/trailalarm/trailalarm/internal/notify"
	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/source"
	"github.com/trailalarm/trailalarm/internal/store"
)

// pipelineCorpus writes a generated corpus (TRAILALARM_BENCH_MB megabytes, 100 by default).
func pipelineCorpus(tb testing.TB) (string, int64) {
	tb.Helper()
	size := int64(100_000_000)
	if s := os.Getenv("TRAILALARM_BENCH_MB"); s != "" {
		var mb int64
		fmt.Sscan(s, &mb)
		size = mb * 1_000_000
	}
	dir := tb.TempDir()
	sum, err := generate.WriteDir(context.Background(), dir, generate.Options{Size: size, Seed: 3})
	if err != nil {
		tb.Fatal(err)
	}
	return dir, int64(sum.Records)
}

// runPipeline runs the whole service path — folder source, detection, alarm evaluation, one
// SQLite commit per file, delivery to a writer — until every file is committed.
func runPipeline(tb testing.TB, dir string, files int) time.Duration {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "bench.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	src, err := source.NewFolder(source.FolderConfig{Path: dir, Settle: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default()
	cfg.Server.Listen = "off"
	r, err := New(context.Background(), Options{Config: cfg, Rules: rules.DefaultSelection(), Store: st,
		Sources: []source.Live{src}, Notifiers: []notify.Notifier{notify.NewWriter("stdout", io.Discard)}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	start := time.Now()
	go func() { done <- r.Run(ctx) }()
	for {
		var n float64
		if mf, err := r.m.reg.Gather(); err == nil {
			for _, f := range mf {
				if f.GetName() == "trailalarm_units_total" {
					for _, m := range f.GetMetric() {
						n += m.GetCounter().GetValue()
					}
				}
			}
		}
		if int(n) >= files {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return elapsed
}

// scanFiles is `trailalarm scan` over the same files with the same rules, on all cores.
func scanFiles(tb testing.TB, dir string) (time.Duration, int) {
	tb.Helper()
	files, err := source.Files([]string{dir}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	inputs := make([]detect.Input, len(files))
	for i, f := range files {
		inputs[i] = f
	}
	start := time.Now()
	err = detect.ForRules(rules.DefaultSelection()).Scan(context.Background(), inputs, detect.Options{}, nil, func(*detect.FileResult) error { return nil })
	if err != nil {
		tb.Fatal(err)
	}
	return time.Since(start), len(files)
}

// TestPipelineThroughput compares, in one run, the sustained throughput of the service path
// with `scan` on the same files. Goal: at least half of scan's. It runs with TRAILALARM_BENCH=1.
func TestPipelineThroughput(t *testing.T) {
	if os.Getenv("TRAILALARM_BENCH") == "" {
		t.Skip("set TRAILALARM_BENCH=1 to measure the run pipeline against scan")
	}
	dir, records := pipelineCorpus(t)
	var bestScan, bestRun time.Duration
	files := 0
	for range 3 {
		d, n := scanFiles(t, dir)
		files = n
		if bestScan == 0 || d < bestScan {
			bestScan = d
		}
		if d := runPipeline(t, dir, files); bestRun == 0 || d < bestRun {
			bestRun = d
		}
	}
	scanRate := float64(records) / bestScan.Seconds()
	runRate := float64(records) / bestRun.Seconds()
	t.Logf("%d records in %d files: scan %.0f events/s, run %.0f events/s (%.2f of scan)", records, files, scanRate, runRate, runRate/scanRate)
	if runRate < scanRate/2 {
		t.Errorf("run reaches %.2f of scan's throughput; goal: at least 0.5", runRate/scanRate)
	}
}
