package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The seccomp filter is assembled here with golang.org/x/net/bpf rather
// than taken from a policy library: the filter is small, its argument
// checks (socket family, clone flags) need exact control, and the policy
// libraries for Go either need cgo and libseccomp or are not available from
// the module proxy.

// deniedSyscalls fail with EPERM. They are the ways out of a namespace
// sandbox that the kernel's attack surface offers to an unprivileged
// process: debugging other processes, mounting, keyrings, eBPF, perf,
// userfaultfd, io_uring, new namespaces, and module or system control.
var deniedSyscalls = []uintptr{
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_INIT_MODULE,
	unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE, unix.SYS_REBOOT,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL,
	unix.SYS_SYSLOG, unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME,
	unix.SYS_ADJTIMEX, unix.SYS_CLOCK_ADJTIME, unix.SYS_PIDFD_GETFD,
	unix.SYS_FANOTIFY_INIT, unix.SYS_LOOKUP_DCOOKIE, unix.SYS_VHANGUP,
}

// modeCheck names a call whose mode argument may not carry set-id bits.
// flags, when not negative, is the argument of open flags: the mode counts
// only with O_CREAT or O_TMPFILE.
type modeCheck struct {
	nr          uintptr
	mode, flags int
}

// setIDBits are S_ISUID and S_ISGID.
const setIDBits = unix.S_ISUID | unix.S_ISGID

// oTmpfileBit is __O_TMPFILE, the bit O_TMPFILE adds to O_DIRECTORY.
const oTmpfileBit = 0o20000000

// filter returns the check: with the call number in the accumulator, it
// falls through for another call, and returns for this one.
func (c modeCheck) filter() []bpf.Instruction {
	const (
		allow = unix.SECCOMP_RET_ALLOW
		errno = unix.SECCOMP_RET_ERRNO
	)
	check := []bpf.Instruction{}
	if c.flags >= 0 {
		check = append(check,
			bpf.LoadAbsolute{Off: uint32(16 + 8*c.flags), Size: 4},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.O_CREAT | oTmpfileBit, SkipTrue: 1},
			bpf.RetConstant{Val: allow},
		)
	}
	check = append(check,
		bpf.LoadAbsolute{Off: uint32(16 + 8*c.mode), Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: setIDBits, SkipFalse: 1},
		bpf.RetConstant{Val: errno | uint32(unix.EPERM)},
		bpf.RetConstant{Val: allow},
	)
	return append([]bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(c.nr), SkipTrue: uint8(len(check))},
	}, check...)
}

const cloneNamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID |
	unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// seccompFilter builds the filter program. Offsets are those of struct
// seccomp_data: nr at 0, arch at 4, args[i] at 16+8i (low half first on
// the little-endian machines this file builds for).
func seccompFilter(weak bool) ([]bpf.RawInstruction, error) {
	const (
		allow = unix.SECCOMP_RET_ALLOW
		errno = unix.SECCOMP_RET_ERRNO
		kill  = unix.SECCOMP_RET_KILL_PROCESS
	)
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: kill},
		bpf.LoadAbsolute{Off: 0, Size: 4},
	}
	prog = append(prog, archPrologue()...)
	deny := func(nr uintptr, e unix.Errno) {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(nr), SkipTrue: 1},
			bpf.RetConstant{Val: errno | uint32(e)},
		)
	}
	for _, nr := range deniedSyscalls {
		deny(nr, unix.EPERM)
	}
	// clone3 passes its flags in memory the filter cannot read: make the
	// C library fall back to clone, whose flags it can. openat2 passes
	// its mode in memory too; the C library's open uses openat.
	deny(unix.SYS_CLONE3, unix.ENOSYS)
	deny(unix.SYS_OPENAT2, unix.ENOSYS)
	// fallocate reserves gigabytes in a moment, faster than the host can
	// see the work folder grow; without it, posix_fallocate writes the
	// space out, at disk speed, within the file size limit.
	deny(unix.SYS_FALLOCATE, unix.EOPNOTSUPP)

	if weak {
		for _, nr := range weakDenied() {
			deny(nr, unix.EPERM)
		}
		// An addressed send could reach the host's datagram sockets
		// (the journal, syslog); sends on connected pairs need none.
		prog = append(prog, argsZero(unix.SYS_SENDTO, []int{4}, true)...)
		// Priorities: only one's own (nice), never another process's,
		// group's or user's.
		prog = append(prog, argsZero(unix.SYS_SETPRIORITY, []int{0, 1}, false)...)
		for _, nr := range weakSelfOnly {
			prog = append(prog, argsZero(nr, []int{0}, false)...)
		}
	}

	// No set-id bits, whatever the call: a file the code makes must not
	// become a set-id program on the host, where it belongs to the user
	// (or to root). The check is on the call's own arguments, so there is
	// no window between a check and a use.
	for _, c := range modeChecks {
		prog = append(prog, c.filter()...)
	}

	// socket and socketpair: only AF_UNIX.
	for _, nr := range []uintptr{unix.SYS_SOCKET, unix.SYS_SOCKETPAIR} {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(nr), SkipTrue: 4},
			bpf.LoadAbsolute{Off: 16, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipTrue: 1},
			bpf.RetConstant{Val: errno | uint32(unix.EAFNOSUPPORT)},
			bpf.RetConstant{Val: allow},
		)
	}
	// clone: no new namespaces.
	prog = append(prog,
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(unix.SYS_CLONE), SkipTrue: 4},
		bpf.LoadAbsolute{Off: 16, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: cloneNamespaceFlags, SkipFalse: 1},
		bpf.RetConstant{Val: errno | uint32(unix.EPERM)},
		bpf.RetConstant{Val: allow},
		bpf.RetConstant{Val: allow},
	)
	return bpf.Assemble(prog)
}

// argsZero returns a check that allows call nr only when each of the
// arguments args is zero (its low half; with both, its high half too),
// and fails it with EPERM otherwise. With the call number in the
// accumulator, it falls through for another call.
func argsZero(nr uintptr, args []int, both bool) []bpf.Instruction {
	var check []bpf.Instruction
	for _, a := range args {
		halves := []uint32{0}
		if both {
			halves = append(halves, 4)
		}
		for _, h := range halves {
			check = append(check,
				bpf.LoadAbsolute{Off: uint32(16+8*a) + h, Size: 4},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipFalse: 0xff}, // patched below
			)
		}
	}
	check = append(check,
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
	)
	// Each failed test jumps to the EPERM at the end.
	for i, ins := range check {
		if j, ok := ins.(bpf.JumpIf); ok {
			j.SkipFalse = uint8(len(check) - 1 - (i + 1))
			check[i] = j
		}
	}
	return append([]bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(nr), SkipTrue: uint8(len(check))},
	}, check...)
}

// loadSeccomp installs the filter on every thread of this process.
// no_new_privs must already be set.
func loadSeccomp(weak bool) error {
	raw, err := seccompFilter(weak)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		return fmt.Errorf("load filter: %w", e)
	}
	return nil
}
