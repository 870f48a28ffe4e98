package source

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFilesSkipsNotes(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.json", "README.md", "SOURCE.txt", "trailalarm.yaml", "LICENSE", "b.json.gz", "notes.yml", "trailalarm-worker.service", "setup.sh", "main.tf"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	files, err := Files([]string{dir, filepath.Join(dir, "trailalarm.yaml")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f.Path))
	}
	want := []string{"a.json", "b.json.gz", "trailalarm.yaml"} // a file named explicitly is read
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if _, err := Files([]string{filepath.Join(dir, "missing")}, nil); err == nil {
		t.Error("a missing path gave no error")
	}
}
