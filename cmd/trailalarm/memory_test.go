package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/trailalarm/trailalarm/internal/generate"
)

// TestScanMemoryBounded scans a generated 2 GB corpus (uncompressed) with the trailalarm binary
// and checks that its peak RSS stays under 300 MB. It takes a minute or two, so it runs only
// when asked: TRAILALARM_LARGE=1 go test ./cmd/trailalarm -run MemoryBounded -v
// (TRAILALARM_LARGE_SIZE changes the corpus size, e.g. 500MB).
func TestScanMemoryBounded(t *testing.T) {
	if os.Getenv("TRAILALARM_LARGE") == "" {
		t.Skip("set TRAILALARM_LARGE=1 to scan a generated 2 GB corpus and check peak memory")
	}
	size := int64(2_000_000_000)
	if s := os.Getenv("TRAILALARM_LARGE_SIZE"); s != "" {
		n, err := generate.ParseSize(s)
		if err != nil {
			t.Fatal(err)
		}
		size = n
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "trailalarm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	corpus := filepath.Join(dir, "corpus")
	sum, err := generate.WriteDir(context.Background(), corpus, generate.Options{Size: size, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "scan", "--pack", "cis-1.2", "--format", "json", "--progress", "never", "--output", filepath.Join(dir, "report.json"), corpus)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	t.Logf("scanned %d files, %s uncompressed: peak RSS %d MiB", sum.Files, strconv.FormatInt(size/1_000_000, 10)+" MB", peak/1024)
	if peak > 300*1024 {
		t.Errorf("peak RSS %d MiB, want under 300 MiB", peak/1024)
	}
}
