package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// FolderConfig configures a Folder source.
type FolderConfig struct {
	Path string
	// Settle is how long a file must go unchanged before it is read, so that a file being
	// written is not read half-way; 0 means 2s.
	Settle time.Duration
	// Rescan is the interval of full rescans, which catch what fsnotify misses (network
	// filesystems, overflows); 0 means 30s.
	Rescan  time.Duration
	OnError func(*Problem) // nil: logged with slog
	Now     func() time.Time
}

// Folder watches a folder tree for new and changed CloudTrail files.
//
// Its checkpoint is a watermark: the change time (ctime) and path of the last file handed on,
// in (ctime, path) order. Files are handed on in that order once settled, so after a restart
// every file whose (ctime, path) is above the watermark is new or changed since; a file
// rewritten in place gets a new ctime and is read again. Names starting with "." (temporary
// files of atomic writers), digest files and README-like notes are skipped.
type Folder struct {
	cfg  FolderConfig
	name string
	problems

	mu      sync.Mutex
	seen    map[string]string // path → Key of the version handed on (or skipped as done)
	mark    fileMark          // the watermark: everything at or below it is done
	watcher *fsnotify.Watcher // nil when fsnotify is unavailable
	wake    chan struct{}     // fsnotify saw something
	done    chan struct{}
	closed  bool
}

type fileMark struct {
	ctime int64 // ns
	path  string
}

func (a fileMark) less(b fileMark) bool {
	return a.ctime < b.ctime || a.ctime == b.ctime && a.path < b.path
}

// NewFolder starts watching cfg.Path.
func NewFolder(cfg FolderConfig) (*Folder, error) {
	if cfg.Settle <= 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("watch %s: %w", cfg.Path, unwrapPathError(err))
	} else if !info.IsDir() {
		return nil, fmt.Errorf("watch %s: not a folder", cfg.Path)
	}
	cfg.Path = abs
	f := &Folder{cfg: cfg, name: "folder:" + abs, seen: map[string]string{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	f.problems.report = cfg.OnError
	if w, err := fsnotify.NewWatcher(); err != nil {
		f.add(f.name, ProblemFile, abs, fmt.Errorf("fsnotify unavailable, rescanning every %v: %w", cfg.Rescan, err))
	} else {
		f.watcher = w
		f.watchTree(abs)
		go f.events()
	}
	return f, nil
}

func (f *Folder) Name() string { return f.name }

// Resume takes the watermark "CTIME_NS PATH".
func (f *Folder) Resume(cp map[string]string) error {
	pos := cp[""]
	if pos == "" {
		return nil
	}
	ns, path, ok := strings.Cut(pos, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return fmt.Errorf("%s: bad checkpoint %q", f.name, pos)
	}
	f.mu.Lock()
	f.mark = fileMark{n, path}
	f.mu.Unlock()
	return nil
}

func (f *Folder) Done(context.Context, Unit) error { return nil }

func (f *Folder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	close(f.done)
	if f.watcher != nil {
		return f.watcher.Close()
	}
	return nil
}

func (f *Folder) Next(ctx context.Context) ([]Unit, error) {
	for {
		units, wait := f.scan()
		if len(units) > 0 {
			return units, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-f.done:
			t.Stop()
			return nil, errClosed
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// scan walks the tree and returns the settled files that are new or changed, in watermark
// order, and how long to wait before the next scan.
func (f *Folder) scan() ([]Unit, time.Duration) {
	// now is taken before the walk: a file settled by now existed when the walk began.
	now := f.cfg.Now()
	settledBy := now.Add(-f.cfg.Settle).UnixNano()
	wait := f.cfg.Rescan
	type cand struct {
		mark fileMark
		key  string
		size int64
	}
	var ready []cand
	present := map[string]bool{}

	f.mu.Lock()
	defer f.mu.Unlock()
	err := filepath.WalkDir(f.cfg.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // deleted during the walk: nothing to do
				f.add(f.name, ProblemFile, p, err)
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != f.cfg.Path && (strings.HasPrefix(name, ".") || name == cloudtrail.KindDigest) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || cloudtrail.IsDigestPath(p) || isDocumentation(p) {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks, as Walk does
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		present[p] = true
		key := fmt.Sprintf("%s#%d#%d", p, info.Size(), info.ModTime().UnixNano())
		if f.seen[p] == key {
			return nil
		}
		m := fileMark{changeTime(info).UnixNano(), p}
		if _, known := f.seen[p]; !known && !f.mark.less(m) {
			f.seen[p] = key // handed on before a restart
			return nil
		}
		if m.ctime > settledBy {
			if d := time.Duration(m.ctime-settledBy) + 10*time.Millisecond; d < wait {
				wait = d
			}
			return nil
		}
		ready = append(ready, cand{m, key, info.Size()})
		return nil
	})
	if err != nil {
		f.add(f.name, ProblemFile, f.cfg.Path, err)
	}
	for p := range f.seen {
		if !present[p] {
			delete(f.seen, p) // deleted; if it comes back it is new
		}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].mark.less(ready[j].mark) })
	units := make([]Unit, 0, len(ready))
	for _, c := range ready {
		f.seen[c.mark.path] = c.key
		if f.mark.less(c.mark) {
			f.mark = c.mark
		}
		units = append(units, Unit{
			Input:    &File{Path: c.mark.path, Bytes: c.size},
			Key:      c.key,
			Position: fmt.Sprintf("%d %s", f.mark.ctime, f.mark.path),
		})
	}
	return units, wait
}

// watchTree adds a watch on every folder under root; fsnotify does not recurse.
func (f *Folder) watchTree(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == cloudtrail.KindDigest) {
			return filepath.SkipDir
		}
		if err := f.watcher.Add(p); err != nil {
			f.add(f.name, ProblemFile, p, fmt.Errorf("watch (rescans still find its files): %w", err))
		}
		return nil
	})
}

// events turns fsnotify events into wake-ups; the scan decides what changed.
func (f *Folder) events() {
	for {
		select {
		case ev, ok := <-f.watcher.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					f.watchTree(ev.Name)
				}
			}
			select {
			case f.wake <- struct{}{}:
			default:
			}
		case err, ok := <-f.watcher.Errors:
			if !ok {
				return
			}
			f.add(f.name, ProblemFile, f.cfg.Path, fmt.Errorf("fsnotify: %w", err))
		}
	}
}
