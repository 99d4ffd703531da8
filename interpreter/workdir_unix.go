//go:build !windows

package interpreter

import (
	"io/fs"
	"syscall"
)

const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonblock = syscall.O_NONBLOCK
)

// diskUsage returns the bytes a file occupies on disk (sparse files count
// what they really use) and its inode number.
func diskUsage(fi fs.FileInfo) (int64, uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512, st.Ino
	}
	return fi.Size(), 0
}
