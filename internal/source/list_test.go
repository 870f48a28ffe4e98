package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestList hands its units on once, keyed as Folder keys files, then reports it is exhausted.
func TestList(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := os.WriteFile(p, []byte(`{"Records":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(p, mtime, mtime)
	l, err := NewList("scan", []Input{&File{Path: p, Bytes: 14}, &S3Object{Bucket: "b", Key: "k.json.gz", ETag: `"e1"`}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	units, err := l.Next(ctx)
	if err != nil || len(units) != 2 {
		t.Fatalf("Next: %d units, %v", len(units), err)
	}
	if want := p + "#14#" + "1714521600000000000"; units[0].Key != want {
		t.Errorf("file key %q, want %q", units[0].Key, want)
	}
	if want := `s3://b/k.json.gz#"e1"`; units[1].Key != want {
		t.Errorf("S3 key %q, want %q", units[1].Key, want)
	}
	if _, err := l.Next(ctx); !errors.Is(err, ErrExhausted) {
		t.Errorf("second Next: %v, want ErrExhausted", err)
	}
}

func TestListErrors(t *testing.T) {
	if _, err := NewList("scan", []Input{&File{Path: "-", Stdin: strings.NewReader("")}}); err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("stdin: %v", err)
	}
	if _, err := NewList("scan", []Input{&File{Path: filepath.Join(t.TempDir(), "gone.json")}}); err == nil || !strings.Contains(err.Error(), "gone.json") {
		t.Errorf("missing file: %v", err)
	}
}
