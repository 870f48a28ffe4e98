package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/trailalarm/trailalarm/internal/cloudtrail"
)

// ErrExhausted is what a finite source's Next returns once it has handed on every unit: the
// runner stops reading it, with no error.
var ErrExhausted = errors.New("source exhausted")

// List is a finite source: a fixed list of inputs (the files and S3 objects of a `scan`),
// handed on once, in order, then ErrExhausted. Each unit's Key is the one the live sources give
// the same content, so a unit already in the store is recognised and skipped.
type List struct {
	name  string
	units []Unit

	mu   sync.Mutex
	done bool
}

// NewList makes a finite source of local files (*File) and S3 objects (*S3Object). Standard
// input has no stable key: it cannot be listed.
func NewList(name string, inputs []Input) (*List, error) {
	l := &List{name: name}
	for _, in := range inputs {
		key, err := inputKey(in)
		if err != nil {
			return nil, err
		}
		l.units = append(l.units, Unit{Input: in, Key: key})
	}
	return l, nil
}

// inputKey identifies an input's content as Folder and S3Poll do: path, size and modification
// time for a file, bucket, key and ETag for an S3 object.
func inputKey(in Input) (string, error) {
	switch v := in.(type) {
	case *File:
		if v.Path == cloudtrail.Stdin {
			return "", errors.New("standard input cannot be recorded in a store: save it to a file and scan that")
		}
		info, err := os.Stat(v.Path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", v.Path, unwrapPathError(err))
		}
		return fmt.Sprintf("%s#%d#%d", v.Path, info.Size(), info.ModTime().UnixNano()), nil
	case *S3Object:
		return "s3://" + v.Bucket + "/" + v.Key + "#" + v.ETag, nil
	}
	return "", fmt.Errorf("%s: this kind of input cannot be recorded in a store", in.Name())
}

func (l *List) Name() string                     { return l.name }
func (l *List) Resume(map[string]string) error   { return nil }
func (l *List) Done(context.Context, Unit) error { return nil }
func (l *List) Close() error                     { return nil }

// Next returns every unit the first time, then ErrExhausted.
func (l *List) Next(ctx context.Context) ([]Unit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.done {
		return nil, ErrExhausted
	}
	l.done = true
	return l.units, nil
}
