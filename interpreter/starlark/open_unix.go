//go:build unix

package starlark

import "syscall"

// openNonblock keeps an open from waiting on a FIFO put where a file was.
const openNonblock = syscall.O_NONBLOCK
