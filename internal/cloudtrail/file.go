package cloudtrail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Stdin is the input name that means standard input.
const Stdin = "-"

// ReadFile reads the records of one file, or of standard input if path is
// "-". Compression is recognised from the content, not the name. Errors
// opening or reading the file that are not about its content are returned
// wrapped; bad content is handled as in Read.
func ReadFile(path string, opts Options, fn func(*Record) error) (Stats, error) {
	r := readerPool.Get().(*Reader)
	defer readerPool.Put(r)
	return r.ReadFile(path, opts, fn)
}

// ReadFile is ReadFile using this Reader's buffers.
func (r *Reader) ReadFile(path string, opts Options, fn func(*Record) error) (Stats, error) {
	if path == Stdin {
		return r.Read(os.Stdin, Stdin, opts, fn)
	}
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("read records: %w", err)
	}
	defer f.Close()
	return r.Read(f, path, opts, fn)
}

// IsDigestPath reports whether a file path or S3 key names a CloudTrail
// digest file, which holds hashes of log files rather than events.
func IsDigestPath(p string) bool {
	p = filepath.ToSlash(p)
	return strings.Contains(p, "/CloudTrail-Digest/") || strings.HasPrefix(p, "CloudTrail-Digest/") ||
		strings.Contains(pathBase(p), "_CloudTrail-Digest_")
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Walk calls fn for every regular file under root, in lexical order, with
// its size, so that a caller can read files in parallel (largest first, for
// instance). Digest files and CloudTrail-Digest folders are left out; hidden
// files are included. If root is a file it is the only one; "-" stands for
// standard input and is passed on with size -1. An error from fn stops the
// walk and is returned as is.
func Walk(root string, fn func(path string, size int64) error) error {
	if root == Stdin {
		return fn(Stdin, -1)
	}
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("list records: %w", err)
	}
	if !info.IsDir() {
		return fn(root, info.Size())
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("list records in %s: %w", root, err)
		}
		if d.IsDir() {
			if d.Name() == "CloudTrail-Digest" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if IsDigestPath(p) {
			return nil
		}
		info, err := os.Stat(p) // follows a symlink to a file
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a dangling symlink holds no records
			}
			return fmt.Errorf("list records: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return fn(p, info.Size())
	})
}
