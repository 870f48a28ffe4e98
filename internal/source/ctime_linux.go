package source

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is the inode's change time: set when a file is created, written, renamed or
// linked into a folder, and not settable by tools that copy modification times (cp -p,
// rsync -t), so a file arriving with an old mtime still sorts after the checkpoint.
func changeTime(info fs.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
	}
	return info.ModTime()
}
