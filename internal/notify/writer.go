package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/trailalarm/trailalarm/internal/alert"
)

// Writer writes each alert as one line of JSON (the alert.Alert document) to an io.Writer,
// for stdout and for pipes into other tools. json.Marshal escapes newlines, and <, > and &,
// so a CloudTrail value can neither break the line nor smuggle markup downstream.
type Writer struct {
	name string
	mu   sync.Mutex // one line per Write, and lines never interleave
	w    io.Writer
}

// StdoutConfig configures the stdout notifier.
type StdoutConfig struct {
	Name string `yaml:"name"` // default "stdout"
}

// NewStdout returns a notifier that prints alerts to standard output as JSON lines.
func NewStdout(c StdoutConfig) *Writer { return NewWriter(or(c.Name, "stdout"), os.Stdout) }

// NewWriter returns a notifier that writes alerts to w as JSON lines.
func NewWriter(name string, w io.Writer) *Writer { return &Writer{name: or(name, "writer"), w: w} }

func (w *Writer) Name() string { return w.name }

func (w *Writer) Notify(ctx context.Context, a *alert.Alert) error {
	line, err := jsonLine(a)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.w.Write(line); err != nil {
		return fmt.Errorf("%s: write: %w", w.name, err)
	}
	return nil
}

func jsonLine(a *alert.Alert) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode alert %s: %w", a.ID, err))
	}
	return append(b, '\n'), nil
}

// FileConfig configures the file notifier.
type FileConfig struct {
	Name string      `yaml:"name"` // default "file"
	Path string      `yaml:"path"` // appended to; created if missing (the directory must exist)
	Mode os.FileMode `yaml:"mode"` // for a new file; default 0600, as alerts hold evidence
}

// File appends alerts as JSON lines to a file and syncs it after each one, so an alert that
// Notify reported as delivered survives a crash. The file is opened per alert, which follows
// log rotation (a rename or delete) without a signal.
type File struct {
	name string
	path string
	mode os.FileMode
	mu   sync.Mutex // serialises appends from this process
}

// NewFile checks c and returns the notifier. It creates the file, so that a wrong path or
// missing permission shows at start-up rather than at the first alert.
func NewFile(c FileConfig) (*File, error) {
	if c.Path == "" {
		return nil, fmt.Errorf("file notifier: path is required")
	}
	if c.Mode == 0 {
		c.Mode = 0o600
	}
	if c.Mode&^0o777 != 0 {
		return nil, fmt.Errorf("file notifier: mode %o has bits beyond permissions", c.Mode)
	}
	if st, err := os.Stat(filepath.Dir(c.Path)); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("file notifier: directory of %s does not exist", c.Path)
	}
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, c.Mode)
	if err != nil {
		return nil, fmt.Errorf("file notifier: %w", err)
	}
	f.Close()
	return &File{name: or(c.Name, "file"), path: c.Path, mode: c.Mode}, nil
}

func (f *File) Name() string { return f.name }

func (f *File) Notify(ctx context.Context, a *alert.Alert) error {
	line, err := jsonLine(a)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, f.mode)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("%s: %w", f.name, err)
	}
	// O_APPEND makes the one write atomic with respect to other appenders on local files.
	if _, err := fh.Write(line); err != nil {
		// Take back a partial line so the retry does not leave a broken one before it.
		_ = fh.Truncate(st.Size())
		fh.Close()
		return fmt.Errorf("%s: write %s: %w", f.name, f.path, err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return fmt.Errorf("%s: sync %s: %w", f.name, f.path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("%s: close %s: %w", f.name, f.path, err)
	}
	return nil
}
