package sandbox

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const auditArch = unix.AUDIT_ARCH_X86_64

// archPrologue denies the x32 system call numbers, which would otherwise
// reach the same kernel entry points under other numbers. The syscall
// number is in the accumulator.
func archPrologue() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpLessThan, Val: 0x40000000, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
	}
}

// modeChecks are the calls that take a file mode in which the filter
// refuses the set-id bits.
var modeChecks = []modeCheck{
	{nr: unix.SYS_CHMOD, mode: 1, flags: -1},
	{nr: unix.SYS_FCHMOD, mode: 1, flags: -1},
	{nr: unix.SYS_FCHMODAT, mode: 2, flags: -1},
	{nr: unix.SYS_FCHMODAT2, mode: 2, flags: -1},
	{nr: unix.SYS_OPEN, mode: 2, flags: 1},
	{nr: unix.SYS_OPENAT, mode: 3, flags: 2},
	{nr: unix.SYS_CREAT, mode: 1, flags: -1},
	{nr: unix.SYS_MKNOD, mode: 1, flags: -1},
	{nr: unix.SYS_MKNODAT, mode: 2, flags: -1},
}

// weakDeniedArch are the weak mode's denials that only this architecture
// has.
var weakDeniedArch = []uintptr{unix.SYS_INOTIFY_INIT}
