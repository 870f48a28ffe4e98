package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input makes Parse panic, and what it returns is consistent — either rules that
// are compiled, or Errors that each have a message.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "packs/securityhub.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("rules: [\n"))
	f.Add([]byte("rules:\n  - &a {id: x, title: T, pattern: '[a, b]', metric: {value: $b, dimensions: {A: $a}}}\n  - *a\n"))
	f.Add([]byte("rules:\n  - id: r\n    title: T\n    pattern: |\n      { $.a = 1 &&\n        $b }\n"))
	f.Add([]byte("rules:\n  - id: r\n    title: T\n    pattern: \"{ \\u00e9 = \\x41 }\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yaml", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v, want non-empty Errors", err, err)
			}
			for _, e := range es {
				if e.Msg == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("bad error %+v", e)
				}
			}
			if rs != nil {
				t.Fatal("rules and errors")
			}
			return
		}
		for _, r := range rs {
			if r.ID == "" || r.Title == "" || r.Compiled == nil || r.Metric.ValueRef == nil {
				t.Fatalf("incomplete rule %+v", r)
			}
			if len(r.Metric.Dimensions) > maxDimensions {
				t.Fatalf("%d dimensions", len(r.Metric.Dimensions))
			}
		}
	})
}
