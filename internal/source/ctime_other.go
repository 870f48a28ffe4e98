//go:build !linux

package source

import (
	"io/fs"
	"time"
)

// changeTime falls back to the modification time where the change time is not at hand.
func changeTime(info fs.FileInfo) time.Time { return info.ModTime() }
