//go:build unix

package starlark

import (
	"os"
	"syscall"
)

// limitedEnv marks a worker that runs under its address-space limit.
const limitedEnv = "PLOTLINE_STARLARK_LIMITED=1"

// limitAddressSpace caps this process's address space. The Go runtime
// sizes its reservations by the limit it finds when it starts, so the
// process starts itself again under the limit; it returns only in that
// second process, or with an error.
func limitAddressSpace(n int64) error {
	for _, e := range os.Environ() {
		if e == limitedEnv {
			return nil
		}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, append(os.Environ(), limitedEnv))
}
