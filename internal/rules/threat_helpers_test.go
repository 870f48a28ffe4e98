package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
	"github.com/trailalarm/trailalarm/internal/detect"
	"github.com/trailalarm/trailalarm/internal/rules"
)

// hit is one rule firing on one record.
type hit struct {
	Rule      string
	EventID   string
	EventName string
	UserAgent string
	File      string
	Raw       []byte
}

// threatPack returns the threat pack's rules.
func threatPack(t testing.TB) []*rules.Rule {
	t.Helper()
	rs, err := rules.Pack("threat")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// runRules evaluates rs over the CloudTrail files or folders paths, as scan does (the engine's
// Evaluator, allow-lists and ${account_id} included), and returns every hit in input order.
func runRules(t testing.TB, rs []*rules.Rule, paths ...string) []hit {
	t.Helper()
	var files []string
	for _, p := range paths {
		err := cloudtrail.Walk(p, func(path string, size int64) error {
			if strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	ev := detect.ForRules(rs).NewEvaluator()
	var out []hit
	for _, f := range files {
		_, err := cloudtrail.ReadFile(f, cloudtrail.Options{OnError: func(e *cloudtrail.ReadError) { t.Errorf("%s: %v", f, e) }}, func(rec *cloudtrail.Record) error {
			ev.Eval(rec, func(m detect.Match) {
				var probe struct {
					UserAgent string `json:"userAgent"`
				}
				_ = json.Unmarshal(m.Record.Raw, &probe)
				out = append(out, hit{Rule: rs[m.Rule].ID, EventID: string(m.Record.EventID), EventName: m.Record.EventName,
					UserAgent: probe.UserAgent, File: filepath.Base(f), Raw: m.Record.Raw})
			})
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

// evalEvent evaluates rs over one event given as JSON and returns the ids of the rules it matches.
func evalEvent(t testing.TB, rs []*rules.Rule, event []byte) []string {
	t.Helper()
	ev := detect.ForRules(rs).NewEvaluator()
	var ids []string
	n := 0
	_, err := cloudtrail.Read(strings.NewReader(string(event)), "event", cloudtrail.Options{OnError: func(e *cloudtrail.ReadError) { t.Errorf("event: %v", e) }}, func(rec *cloudtrail.Record) error {
		n++
		ev.Eval(rec, func(m detect.Match) { ids = append(ids, rs[m.Rule].ID) })
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("event read: %v (%d records)", err, n)
	}
	return ids
}

func readDir(t testing.TB, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
