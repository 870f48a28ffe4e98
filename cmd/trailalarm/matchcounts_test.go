package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailalarm/trailalarm/internal/store"
)

// TestRunMatchCountsAgreeWithScan: the per-minute match counts `run` stores for the dashboard's
// charts are exactly the matches `scan` reports on the same files, per rule, account, region
// and minute.
func TestRunMatchCountsAgreeWithScan(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "cloudtrail")
	os.MkdirAll(folder, 0o755)
	files := sampleFiles(t)
	for _, f := range files {
		copyInto(t, f, folder)
	}
	cfg := fmt.Sprintf(`sources:
  - folder: %s
store: %s
notifiers:
  - type: file
    path: %s
server:
  listen: off
log:
  format: json
`, folder, filepath.Join(dir, "trailalarm.db"), filepath.Join(dir, "alerts.jsonl"))
	cfgPath := filepath.Join(dir, "trailalarm.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr strings.Builder
	go func() {
		done <- runContext(ctx, []string{"run", "--config", cfgPath}, strings.NewReader(""), io.Discard, &syncWriter{w: &stderr})
	}()
	waitFor(t, 90*time.Second, func() bool { return processed(dir) == len(files) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr.String())
	}

	st, err := store.Open(filepath.Join(dir, "trailalarm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := st.MatchCounts(context.Background(), store.MatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, m := range stored {
		got[m.Rule+" "+m.Account+" "+m.Region+" "+m.Minute.Format(time.RFC3339)] += m.Count
	}

	var out strings.Builder
	if code := run([]string{"scan", "--format", "json", folder}, strings.NewReader(""), &out, io.Discard); code != 0 && code != 1 {
		t.Fatalf("scan exit %d", code)
	}
	var rep struct {
		Matches []struct {
			Rule, EventTime, AWSRegion, RecipientAccountID string
		}
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, m := range rep.Matches {
		at, err := time.Parse(time.RFC3339, m.EventTime)
		if err != nil {
			t.Fatal(err)
		}
		want[m.Rule+" "+m.RecipientAccountID+" "+m.AWSRegion+" "+at.Truncate(time.Minute).Format(time.RFC3339)]++
	}
	if len(want) < 10 {
		t.Fatalf("scan found only %d rule-minutes: the comparison would say little", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: run stored %d, scan matched %d", k, got[k], n)
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: run stored %d, scan matched none", k, n)
			}
		}
	}
}
