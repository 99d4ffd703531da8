package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"unsafe"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// confine applies, to init itself and so to everything it starts:
// rlimits, an empty capability bounding set with root's special treatment
// of uid 0 switched off, no_new_privs and the seccomp filter. Each is
// applied to all of init's threads, since Go may fork the program from
// any of them.
//
// Landlock and the address-space limit are the exceptions: they are
// applied by the exec stage (runExec) to the program alone. Landlock's
// signal scope must put the program in one domain that init is outside
// of, so that init may signal the program and nothing in the sandbox may
// signal init; and init is a Go program whose runtime reserves well over
// a gigabyte of address space that it never touches, so that under a
// limit much below 2 GiB init itself died on its next thread or span.
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
	// The weak mode runs only as an ordinary user, who has no
	// capabilities to drop (and may not touch the bounding set);
	// no_new_privs keeps any from being gained through exec.
	if !cfg.Weak {
		if err := dropCapabilities(); err != nil {
			return err
		}
	}
	if err := llsys.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := loadSeccomp(cfg.Weak); err != nil {
		return fmt.Errorf("seccomp: %w", err)
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

// execConfig is what init hands the exec stage on its command line.
type execConfig struct {
	RODirs  []string `json:"ro_dirs"`
	ROFiles []string `json:"ro_files"`
	RWDirs  []string `json:"rw_dirs"`
	Memory  int64    `json:"memory"`
}

// execStage works out, inside the new root, what the exec stage applies.
func execStage(cfg *initConfig) execConfig {
	if cfg.Weak {
		return weakExecStage(cfg)
	}
	ec := execConfig{
		RODirs: []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/dev"},
		RWDirs: []string{WorkDir, "/tmp", "/dev/shm"},
		Memory: cfg.Limits.AddressSpace,
	}
	for dst := range cfg.Shared {
		ec.RODirs = append(ec.RODirs, dst)
	}
	ec.addReadOnly(cfg.ReadOnly)
	return ec
}

// addReadOnly adds the paths that exist to the read-only folders or
// files, as each is.
func (ec *execConfig) addReadOnly(paths []string) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			ec.RODirs = append(ec.RODirs, p)
		} else if err == nil {
			ec.ROFiles = append(ec.ROFiles, p)
		}
	}
}

// runExec is the exec stage: init starts the plotline binary again with
// execArg, an execConfig and the program's argv; it restricts itself and
// then replaces itself with the program. It never returns.
func runExec() {
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "plotline sandbox: "+format+"\n", a...)
		os.Exit(126)
	}
	if len(os.Args) < 4 {
		fail("exec stage: missing arguments")
	}
	var ec execConfig
	if err := json.Unmarshal([]byte(os.Args[2]), &ec); err != nil {
		fail("exec stage: %v", err)
	}
	if err := restrictLandlock(ec); err != nil {
		fail("landlock: %v", err)
	}
	// Everything execve needs is made before the address-space limit:
	// under it, the Go runtime may not map another page, and between the
	// limit and the exec nothing must allocate.
	argv := os.Args[3:]
	path, err := syscall.BytePtrFromString(argv[0])
	if err != nil {
		fail("exec %s: %v", argv[0], err)
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		fail("exec %s: %v", argv[0], err)
	}
	envp, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		fail("exec %s: %v", argv[0], err)
	}
	debug.SetGCPercent(-1)
	lim := unix.Rlimit{Cur: uint64(ec.Memory), Max: uint64(ec.Memory)}
	if _, _, e := unix.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_AS, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		fail("limit memory: %v", e)
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
	fail("exec %s: %v", argv[0], e)
}

// restrictLandlock limits file access to the sandbox's own root, denies
// every TCP bind and connect, and scopes abstract unix sockets and
// signals to the program's own domain. The namespaces already hide the
// host; Landlock is the second wall, applied as far as the running kernel
// supports it.
//
// go-landlock is the Landlock project's own Go binding: it negotiates the
// ABI version (best effort down to what the kernel has) and applies the
// ruleset to every thread through psx, which raw syscalls would not.
// Each thread gets a domain of its own, with the same rules; the program
// keeps the one of the thread that executes it, and everything it starts
// inherits that one. So the program may signal its own children, while
// init, outside every domain, may signal the program and nothing inside
// may signal init.
func restrictLandlock(ec execConfig) error {
	return landlock.V7.BestEffort().Restrict(
		landlock.RODirs(ec.RODirs...).IgnoreIfMissing(),
		landlock.ROFiles(ec.ROFiles...),
		landlock.RWDirs(ec.RWDirs...).WithRefer(),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom").WithIoctlDev(),
	)
}
