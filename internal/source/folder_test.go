package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newFolder(t *testing.T, dir string, cp map[string]string, pl *problemLog) *Folder {
	t.Helper()
	f, err := NewFolder(FolderConfig{Path: dir, Settle: 300 * time.Millisecond, Rescan: 5 * time.Second, OnError: pl.add})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Resume(cp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func unitPaths(units []Unit, root string) string {
	var out []string
	for _, u := range units {
		out = append(out, strings.TrimPrefix(u.Input.Name(), root+"/"))
	}
	return strings.Join(out, ",")
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	pl := &problemLog{}
	const rec = `{"Records":[{"eventTime":"2024-05-01T00:00:00Z","eventName":"X","eventID":"1"}]}`
	writeFile(t, filepath.Join(dir, "a.json"), rec)
	writeFile(t, filepath.Join(dir, "x/CloudTrail-Digest/d.json"), "{}")
	writeFile(t, filepath.Join(dir, ".a.json.tmp"), "partial")
	writeFile(t, filepath.Join(dir, "README.md"), "notes")

	f := newFolder(t, dir, nil, pl)
	units := next(t, f, 5*time.Second)
	if got := unitPaths(units, dir); got != "a.json" {
		t.Fatalf("files present at start: got %s", got)
	}
	if n, _ := countRecords(t, units[0].Input); n != 1 {
		t.Errorf("a.json: %d records", n)
	}
	cp := checkpoints(units, nil)

	// A new file in a new folder: found through fsnotify (the rescan is 5s away).
	start := time.Now()
	writeFile(t, filepath.Join(dir, "2024/05/02/b.json"), rec)
	units = next(t, f, 4*time.Second)
	if got := unitPaths(units, dir); got != "2024/05/02/b.json" {
		t.Fatalf("new file: got %s", got)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("new file took %v: fsnotify not used?", time.Since(start))
	}
	checkpoints(units, cp)

	// A file written slowly is handed on once, complete.
	slow := filepath.Join(dir, "2024/05/02/slow.json")
	done := make(chan error, 1)
	go func() {
		w, err := os.Create(slow)
		if err != nil {
			done <- err
			return
		}
		for i := 0; i < len(rec); i += len(rec)/4 + 1 {
			w.WriteString(rec[i:min(i+len(rec)/4+1, len(rec))])
			time.Sleep(100 * time.Millisecond)
		}
		done <- w.Close()
	}()
	units = next(t, f, 5*time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := unitPaths(units, dir); got != "2024/05/02/slow.json" || units[0].Input.Size() != int64(len(rec)) {
		t.Fatalf("slow file: got %s size %d", got, units[0].Input.Size())
	}
	checkpoints(units, cp)
	quiet(t, f, 600*time.Millisecond)

	// A changed file is handed on again, with a new key.
	oldKey := units[0].Key
	writeFile(t, slow, rec+"\n")
	units = next(t, f, 5*time.Second)
	if got := unitPaths(units, dir); got != "2024/05/02/slow.json" || units[0].Key == oldKey {
		t.Fatalf("changed file: got %s key %s", got, units[0].Key)
	}
	checkpoints(units, cp)
	f.Close()

	// Restart from the checkpoint: only what is new since is handed on, including a file
	// copied in with an old modification time.
	writeFile(t, filepath.Join(dir, "c.json"), rec)
	old := filepath.Join(dir, "2023/old.json")
	writeFile(t, old, rec)
	if err := os.Chtimes(old, time.Now(), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f2 := newFolder(t, dir, cp, pl)
	units = next(t, f2, 5*time.Second)
	// Same-tick change times (the kernel's timestamps are coarse) order by path.
	if got := unitPaths(units, dir); got != "c.json,2023/old.json" && got != "2023/old.json,c.json" {
		t.Fatalf("after restart: got %s", got)
	}
	quiet(t, f2, 600*time.Millisecond)
	if k := pl.kinds(); len(k) != 0 {
		t.Errorf("problems: %v", pl.list)
	}
}

func TestFolderMissing(t *testing.T) {
	if _, err := NewFolder(FolderConfig{Path: filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("missing folder accepted")
	}
}
