package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(nonEmpty, "keep.txt")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"generate", "--size", "1MB"}, "--out is required"},
		{"bad size", []string{"generate", "--out", "OUT", "--size", "ten"}, `invalid size "ten"`},
		{"bad size unit", []string{"generate", "--out", "OUT", "--size", "10XB"}, `invalid size "10XB"`},
		{"negative size", []string{"generate", "--out", "OUT", "--size", "-1MB"}, "not positive"},
		{"tiny size", []string{"generate", "--out", "OUT", "--size", "1KB"}, "too small"},
		{"bad start", []string{"generate", "--out", "OUT", "--start", "yesterday"}, "invalid --start"},
		{"bad seed", []string{"generate", "--out", "OUT", "--seed", "-3"}, "invalid argument"},
		{"unknown flag", []string{"generate", "--out", "OUT", "--colour"}, "unknown flag"},
		{"both account flags", []string{"generate", "--out", "OUT", "--accounts", "2", "--account", "111122223333"}, "not both"},
		{"bad account", []string{"generate", "--out", "OUT", "--account", "1234"}, "invalid account ID"},
		{"zero accounts", []string{"generate", "--out", "OUT", "--accounts", "0"}, "--accounts 0"},
		{"bad region", []string{"generate", "--out", "OUT", "--regions", "us-east-1,Mars"}, `invalid region "Mars"`},
		{"bad events per file", []string{"generate", "--out", "OUT", "--events-per-file", "0"}, "--events-per-file 0"},
		{"bad rate", []string{"generate", "--out", "OUT", "--inject-rate", "-1"}, "--inject-rate -1"},
		{"argument", []string{"generate", "--out", "OUT", "extra"}, "unknown command"},
		{"non-empty out", []string{"generate", "--out", nonEmpty, "--size", "100KB"}, "is not empty"},
		{"out is a file", []string{"generate", "--out", aFile, "--size", "100KB"}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = out
				}
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != exitError || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitError, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created despite the error", out)
			}
		})
	}
}

func TestGenerateSuccess(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ct")
	manifest := filepath.Join(dir, "manifest.json")
	code, stdout, stderr := runCLI(t, "", "generate", "--out", out, "--size", "1MB", "--seed", "9",
		"--account", "111122223333,444455556666", "--regions", "eu-west-1,us-east-1", "--events-per-file", "200", "--manifest", manifest)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.HasPrefix(stderr, "generated ") || strings.Count(stderr, "\n") != 1 ||
		!strings.Contains(stderr, "injected 15 CIS events") || !strings.Contains(stderr, "2 accounts, 2 regions") {
		t.Errorf("summary %q", stderr)
	}
	var files []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if len(files) == 0 {
		t.Fatal("no files written")
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "AWSLogs/111122223333/CloudTrail/") && !strings.HasPrefix(f, "AWSLogs/444455556666/CloudTrail/") {
			t.Errorf("unexpected file %s", f)
		}
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files    int
		Bytes    int64
		Hits     int
		Injected []struct {
			Control, EventID, File string
			NearMiss               bool
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if doc.Files != len(files) || doc.Hits < 15 || len(doc.Injected) < 30 || doc.Bytes < 900_000 || doc.Bytes > 1_000_000 {
		t.Errorf("manifest says %d files, %d bytes, %d hits, %d injected; %d files on disk", doc.Files, doc.Bytes, doc.Hits, len(doc.Injected), len(files))
	}
	for _, e := range doc.Injected {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(e.File))); err != nil || e.EventID == "" || e.Control == "" {
			t.Errorf("manifest entry %+v: %v", e, err)
		}
	}

	// Same flags again, forced into the same directory: same names, same bytes.
	code, _, stderr = runCLI(t, "", "generate", "--out", out, "--size", "1MB", "--seed", "9", "--force",
		"--account", "111122223333,444455556666", "--regions", "eu-west-1,us-east-1", "--events-per-file", "200", "--manifest", "-")
	if code != exitOK {
		t.Fatalf("--force: exit %d, %s", code, stderr)
	}
	var again []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			again = append(again, p)
		}
		return err
	})
	if len(again) != len(files) {
		t.Errorf("a second run with the same seed wrote different names: %d files, then %d", len(files), len(again))
	}
}

func TestGenerateNoInject(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ct")
	code, stdout, stderr := runCLI(t, "", "generate", "--out", out, "--size", "200KB", "--inject-rate", "0", "--manifest", "-")
	if code != exitOK || !strings.Contains(stderr, "injected 0 CIS events and 0 near-misses") || !strings.Contains(stdout, `"injected": []`) {
		t.Errorf("exit %d, stderr %q, stdout %.200q", code, stderr, stdout)
	}
}
