//go:build !windows

package interpreter

import "syscall"

// describeUnixSignal names the signals that only Unix systems have.
func describeUnixSignal(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGXFSZ:
		return "it wrote a file larger than the file size limit"
	case syscall.SIGXCPU:
		return "it used up its CPU time"
	case syscall.SIGSYS:
		return "it made a system call the sandbox forbids"
	}
	return ""
}
