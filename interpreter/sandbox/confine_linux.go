package sandbox

import (
	"errors"
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// confine applies, to init itself and so to everything it starts:
// rlimits, an empty capability bounding set with root's special treatment
// of uid 0 switched off, no_new_privs, Landlock and the seccomp filter.
// Each is applied to all of init's threads, since Go may fork the program
// from any of them.
//
// The address-space limit is the exception: it is set on the program
// alone, by limitMemory. Init is a Go program linked with the C library,
// and its runtime reserves well over a gigabyte of address space that it
// never touches (heap index, page summaries, per-thread malloc arenas).
// Under a limit much below 2 GiB init itself died on its next thread or
// span, taking the sandbox with it, although the Python kernel fits in
// about 500 MiB.
func confine(cfg *initConfig) error {
	l := cfg.Limits
	for _, r := range []struct {
		res int
		v   int64
	}{
		{unix.RLIMIT_NPROC, l.Processes},
		{unix.RLIMIT_FSIZE, l.FileSize},
		{unix.RLIMIT_NOFILE, l.OpenFiles},
		{unix.RLIMIT_CORE, 0},
		{unix.RLIMIT_MEMLOCK, 64 << 10},
		{unix.RLIMIT_MSGQUEUE, 0},
	} {
		lim := &unix.Rlimit{Cur: uint64(r.v), Max: uint64(r.v)}
		if err := unix.Setrlimit(r.res, lim); err != nil {
			return fmt.Errorf("setrlimit %d: %w", r.res, err)
		}
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	if err := llsys.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := restrictLandlock(cfg); err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	if err := loadSeccomp(); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// limitMemory caps the program's address space (RLIMIT_AS, soft and hard,
// so that it cannot be raised again). Init calls it on the program it has
// just started, before it reports ready: the host sends no untrusted code
// before that, and what the program starts later inherits the limit. A
// program that has already ended (ESRCH) needs no limit.
func limitMemory(pid int, bytes int64) error {
	lim := &unix.Rlimit{Cur: uint64(bytes), Max: uint64(bytes)}
	if err := unix.Prlimit(pid, unix.RLIMIT_AS, lim, nil); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("limit the program's memory: %w", err)
	}
	return nil
}

// dropCapabilities empties the bounding set and locks the securebits so
// that the program, which runs as uid 0 of the sandbox's user namespace,
// gets no capability at all when it is executed.
func dropCapabilities() error {
	for c := 0; c <= 63; c++ {
		err := llsys.AllThreadsPrctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // past the kernel's last capability
		}
		if err != nil {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	// SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP and their locks (linux/securebits.h).
	const (
		noRoot             = 1 << 0
		noRootLocked       = 1 << 1
		noSetuidFixup      = 1 << 2
		noSetuidFixupLockd = 1 << 3
	)
	bits := uintptr(noRoot | noRootLocked | noSetuidFixup | noSetuidFixupLockd)
	if err := llsys.AllThreadsPrctl(unix.PR_SET_SECUREBITS, bits, 0, 0, 0); err != nil {
		return fmt.Errorf("securebits: %w", err)
	}
	return nil
}

// restrictLandlock limits file access to the sandbox's own root, denies
// every TCP bind and connect, and scopes abstract unix sockets to the
// sandbox. The namespaces already hide the host; Landlock is the second
// wall, applied as far as the running kernel supports it.
//
// go-landlock is the Landlock project's own Go binding: it negotiates the
// ABI version (best effort down to what the kernel has) and applies the
// ruleset to every thread through psx, which raw syscalls would not.
//
// Landlock's signal scope is left out. Before Landlock ABI 8, go-landlock
// restricts each of init's threads on its own, so each gets a domain of
// its own; the program inherits the domain of the thread that forked it,
// and the scope then refused the signals that init forwards to it from
// its other threads: the host's SIGINT never interrupted a cell. The pid
// namespace already puts every process outside the sandbox out of reach.
func restrictLandlock(cfg *initConfig) error {
	roDirs := []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc"}
	var roFiles []string
	for dst := range cfg.Shared {
		roDirs = append(roDirs, dst)
	}
	for _, p := range cfg.ReadOnly {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			roDirs = append(roDirs, p)
		} else if err == nil {
			roFiles = append(roFiles, p)
		}
	}
	ll := landlock.V7
	ll.Scoped &^= landlock.ScopedSet(llsys.ScopeSignal)
	return ll.BestEffort().Restrict(
		landlock.RODirs(roDirs...).IgnoreIfMissing(),
		landlock.ROFiles(roFiles...),
		landlock.RWDirs(WorkDir, "/tmp", "/dev/shm").WithRefer(),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom").WithIoctlDev(),
		landlock.RODirs("/dev"),
	)
}
