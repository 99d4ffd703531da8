package sandbox

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const auditArch = unix.AUDIT_ARCH_AARCH64

func archPrologue() []bpf.Instruction { return nil }

// modeChecks are the calls that take a file mode in which the filter
// refuses the set-id bits.
var modeChecks = []modeCheck{
	{nr: unix.SYS_FCHMOD, mode: 1, flags: -1},
	{nr: unix.SYS_FCHMODAT, mode: 2, flags: -1},
	{nr: unix.SYS_FCHMODAT2, mode: 2, flags: -1},
	{nr: unix.SYS_OPENAT, mode: 3, flags: 2},
	{nr: unix.SYS_MKNODAT, mode: 2, flags: -1},
}

// weakDeniedArch are the weak mode's denials that only this architecture
// has.
var weakDeniedArch []uintptr
