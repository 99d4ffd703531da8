//go:build unix

package starlark

import "syscall"

// limitAddressSpace caps this process's address space.
func limitAddressSpace(n int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)})
}
