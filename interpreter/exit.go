package interpreter

import (
	"fmt"
	"syscall"

	"plotline/interpreter/sandbox"
)

// describeExit says in words how the kernel process ended.
func describeExit(e sandbox.Exit) string {
	if e.MemoryCap {
		return "the sandbox reached its memory cap, so it was stopped (memory counts every process the code started, shared memory and files in /tmp)"
	}
	switch e.Signal {
	case 0:
		if e.Killed {
			return "its sandbox was killed"
		}
		return fmt.Sprintf("it exited with status %d", e.Code)
	case syscall.SIGSEGV:
		return "it crashed with a segmentation fault"
	case syscall.SIGBUS:
		return "it crashed with a bus error"
	case syscall.SIGABRT:
		return "it aborted"
	case syscall.SIGKILL:
		return "it was killed (most likely it ran out of memory)"
	}
	if why := describeUnixSignal(e.Signal); why != "" {
		return why
	}
	return fmt.Sprintf("it was killed by signal %d (%s)", int(e.Signal), e.Signal)
}
