package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailalarm/trailalarm/internal/alert"
)

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter("", &buf)
	a := hostileAlert(3)
	if err := w.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if w.Name() != "writer" || NewStdout(StdoutConfig{}).Name() != "stdout" {
		t.Error("names")
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("want one line, got %q", out)
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "<!channel>") {
		t.Error("markup not escaped in JSON")
	}
	var back alert.Alert
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != a.ID || back.Evidence[0].UserAgent != hostileUA || len(back.Evidence) != 3 {
		t.Errorf("round trip: %s %q", back.ID, back.Evidence[0].UserAgent)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.jsonl")
	f, err := NewFile(FileConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file created with %v, %v", st.Mode(), err)
	}
	// Concurrent appends from many goroutines and a second notifier on the same file (as after
	// a restart) give whole lines only.
	f2, _ := NewFile(FileConfig{Path: path, Name: "again"})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := f
			if i%2 == 1 {
				n = f2
			}
			if err := n.Notify(context.Background(), hostileAlert(1+i%3)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A rotated file is recreated.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Notify(context.Background(), hostileAlert(1)); err != nil {
		t.Fatal(err)
	}
	count := func(p string) int {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var a alert.Alert
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatalf("line %d: %v", n+1, err)
			}
			n++
		}
		return n
	}
	if n := count(path + ".1"); n != 40 {
		t.Errorf("%d lines before rotation, want 40", n)
	}
	if n := count(path); n != 1 {
		t.Errorf("%d lines after rotation, want 1", n)
	}
}

func TestFileConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg  FileConfig
		want string
	}{
		{FileConfig{}, "path is required"},
		{FileConfig{Path: filepath.Join(dir, "missing", "a.jsonl")}, "directory of"},
		{FileConfig{Path: filepath.Join(dir, "a.jsonl"), Mode: 0o4755}, "bits beyond permissions"},
		{FileConfig{Path: dir}, "is a directory"},
	} {
		_, err := NewFile(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}
