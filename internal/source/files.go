// Package source provides the inputs trailalarm reads CloudTrail from: local files and
// folders, standard input, and S3 (with the CloudTrail key layout used to prune listings).
package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// File is a local file, or standard input when its path is "-".
type File struct {
	Path  string
	Bytes int64 // -1 when unknown
	Stdin io.Reader
}

func (f *File) Name() string { return f.Path }
func (f *File) Size() int64  { return f.Bytes }

func (f *File) Open(ctx context.Context) (io.ReadCloser, error) {
	if f.Path == cloudtrail.Stdin {
		return io.NopCloser(f.Stdin), nil
	}
	return os.Open(f.Path)
}

// Files lists the files under each path (recursively for folders, in lexical order, digest
// files left out); "-" stands for stdin, read from stdin.
func Files(paths []string, stdin io.Reader) ([]*File, error) {
	var out []*File
	seen := map[string]bool{}
	for _, p := range paths {
		var found []*File
		err := cloudtrail.Walk(p, func(path string, size int64) error {
			if path != p && isDocumentation(path) {
				return nil // a README or licence beside the logs, in a folder being walked
			}
			if !seen[path] {
				seen[path] = true
				found = append(found, &File{Path: path, Bytes: size, Stdin: stdin})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Path < found[j].Path })
		out = append(out, found...)
	}
	return out, nil
}

// isDocumentation recognises the notes and configuration people keep beside log archives
// (README, LICENSE, SOURCE, *.md, *.txt, *.yaml) and the deployment files kept with them
// (systemd units, shell scripts, Terraform, other configuration), which a folder scan passes
// over rather than reporting as bad input. A file named explicitly is always read.
func isDocumentation(path string) bool {
	base := strings.ToUpper(filepath.Base(path))
	for _, p := range []string{"README", "LICENSE", "LICENCE", "SOURCE", "NOTICE", "COPYING"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	for _, ext := range []string{".MD", ".TXT", ".YAML", ".YML", ".SERVICE", ".TIMER", ".SH", ".TF", ".TOML", ".CONF", ".INI", ".ENV"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

// unwrapPathError keeps "no such file or directory" readable without repeating the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	for e := err; e != nil; {
		if p, ok := e.(*os.PathError); ok {
			pe = p
			break
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	if pe != nil {
		return pe.Err
	}
	return err
}
