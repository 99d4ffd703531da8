package sandbox

import (
	"fmt"
	"os"
)

// capIPC bounds System V IPC in the sandbox's ipc namespace, through the
// namespace's own sysctls. Init calls it in setupRoot, after /proc is
// mounted and before /proc/sys is made read-only.
//
// System V shared memory belongs to no process: a segment lives on after
// every process has detached from it, where neither a per-process limit
// nor the host's watchdog sees it. So shared memory is capped at the
// memory limit in all (shmall, in pages; shmmax per segment), and a
// segment is destroyed as soon as no process has it attached
// (shm_rmid_forced). Message queues and semaphore sets are kernel memory
// that only a cgroup would charge: they are cut from the kernel's defaults
// (32,000 of each, up to about 500 MiB of queued messages and gigabytes of
// semaphores) to what a program might reasonably use.
//
// Older kernels let only the host's root change an ipc namespace's
// sysctls; there, for other users, this does nothing, and a cgroup, if
// any, is the only bound.
func capIPC(l Limits) {
	pages := max(l.Memory/int64(os.Getpagesize()), 1)
	for _, s := range [][2]string{
		{"shmmax", fmt.Sprint(l.Memory)},
		{"shmall", fmt.Sprint(pages)},
		{"shmmni", "256"},
		{"shm_rmid_forced", "1"},
		{"msgmni", "32"},
		{"msgmnb", "16384"},
		{"sem", "250 32000 32 128"},
	} {
		os.WriteFile("/proc/sys/kernel/"+s[0], []byte(s[1]+"\n"), 0)
	}
}
