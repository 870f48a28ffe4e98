package cloudtrail

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWalkAndReadFile(t *testing.T) {
	dir := t.TempDir()
	inv := readTestdata(t, invictusFile)
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", inv)
	write("AWSLogs/1/CloudTrail/us-east-1/2023/07/10/b.json.gz", gz(t, inv))
	write("sub/.hidden.json", inv)
	write("sub/renamed.txt", gz(t, inv)) // gzip is sniffed, not named
	write("AWSLogs/1/CloudTrail-Digest/us-east-1/2023/07/10/d.json.gz", []byte("{}"))
	write("digests/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T120512Z.json.gz", []byte("{}"))
	if err := os.Symlink(filepath.Join(dir, "a.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.json")); err != nil {
		t.Fatal(err)
	}

	var got []string
	err := Walk(dir, func(p string, size int64) error {
		rel, _ := filepath.Rel(dir, p)
		got = append(got, rel)
		if fi, err := os.Stat(p); err != nil || fi.Size() != size {
			t.Errorf("%s: size %d, stat %v", p, size, err)
		}
		st, err := ReadFile(p, Options{Strict: true}, func(r *Record) error {
			if r.File != p {
				t.Errorf("record File %q, want %q", r.File, p)
			}
			return nil
		})
		if err != nil || st.Records != 394 {
			t.Errorf("ReadFile(%s): %+v, %v", p, st, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AWSLogs/1/CloudTrail/us-east-1/2023/07/10/b.json.gz", "a.json", "link.json", "sub/.hidden.json", "sub/renamed.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Walk listed %q, want %q", got, want)
	}

	got = nil
	if err := Walk(filepath.Join(dir, "a.json"), func(p string, _ int64) error { got = append(got, p); return nil }); err != nil || len(got) != 1 {
		t.Errorf("Walk(file) = %v, %v", got, err)
	}
	if err := Walk("-", func(p string, size int64) error {
		if p != "-" || size != -1 {
			t.Errorf("Walk(-) gave %q %d", p, size)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if err := Walk(filepath.Join(dir, "missing"), func(string, int64) error { return nil }); err == nil {
		t.Error("Walk(missing) succeeded")
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), Options{}, func(*Record) error { return nil }); err == nil {
		t.Error("ReadFile(missing) succeeded")
	}
}

// TestParallelReadFile reads files on several goroutines, as scan does,
// sharing the package's reader pool.
func TestParallelReadFile(t *testing.T) {
	files := []string{invictusFile, stratusFile, invictusFile, stratusFile, invictusFile, otrfFile}
	stats := make([]Stats, len(files))
	errs := make(chan error, len(files))
	for i, f := range files {
		go func() {
			var names []string
			st, err := ReadFile(f, Options{}, func(r *Record) error {
				names = append(names, r.EventName) // interned strings may be kept
				return nil
			})
			if err == nil && int64(len(names)) != st.Records {
				err = fmt.Errorf("%s: %d names, %d records", f, len(names), st.Records)
			}
			stats[i] = st
			errs <- err
		}()
	}
	for range files {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var total Stats
	for _, st := range stats {
		total.Add(st)
	}
	if total.Records != 3*394+2*21 || total.Errors != 3 {
		t.Errorf("total %+v", total)
	}
}
