// Package sandbox runs one program confined to a single work folder.
//
// The program sees a minimal read-only root, a private size-capped /tmp,
// its own /proc, a minimal /dev and the work folder at /mnt/data. It has no
// network, no way to reach the caller's processes, and resource limits.
//
// On Linux the sandbox is built into the plotline binary itself: the binary
// re-executes itself (see MaybeRunInit) as a small init process inside new
// user, mount, pid, network, ipc and uts namespaces, sets up the root,
// applies rlimits, Landlock and a seccomp filter, and then starts the
// program. The sandbox fails closed: when the namespaces cannot be made,
// Start returns ErrNamespaces and nothing runs. macOS and Windows return
// ErrUnsupported until their confinement (Seatbelt, AppContainer) lands.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// WorkDir is where the work folder appears inside the sandbox, as in the
// hosted code interpreter that models were trained on.
const WorkDir = "/mnt/data"

// ErrUnsupported is returned on platforms whose sandbox is not built yet.
var ErrUnsupported = errors.New("the code sandbox is not supported on this operating system yet")

// ErrNamespaces is returned when the kernel refuses to create the
// namespaces the sandbox is made of. Plotline then refuses to run code.
var ErrNamespaces = errors.New("cannot create the sandbox's Linux namespaces")

// Limits are the resource limits of one sandbox. Zero means the default.
type Limits struct {
	// Memory caps the memory of the whole sandbox, in bytes: every
	// process's, and what shared memory, memfd files and the tmpfs folders
	// hold (see Enforcement). It also caps each process's address space,
	// unless AddressSpace says otherwise.
	Memory int64
	// AddressSpace caps each process's address space, in bytes; zero
	// means Memory. A Go program reserves about a gigabyte of address
	// space that it never touches, so a Go program (the goscript worker)
	// gets more here than its Memory, which the whole-sandbox cap holds.
	AddressSpace int64
	// Processes caps processes and threads together.
	Processes int64
	// CPUs caps the sandbox's CPU time at this many cores' worth, where a
	// cgroup can enforce it. The default is every core.
	CPUs float64
	// FileSize caps the size of any one file written, in bytes.
	FileSize int64
	// OpenFiles caps open file descriptors per process.
	OpenFiles int64
	// TmpSize caps the private /tmp, in bytes.
	TmpSize int64
}

// Default limits, chosen for a desktop analyst's workloads.
const (
	DefaultMemory    = 2 << 30
	DefaultProcesses = 256
	DefaultFileSize  = 1 << 30
	DefaultOpenFiles = 1024
	DefaultTmpSize   = 512 << 20
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Memory, DefaultMemory)
	def(&l.AddressSpace, l.Memory)
	def(&l.Processes, DefaultProcesses)
	def(&l.FileSize, DefaultFileSize)
	def(&l.OpenFiles, DefaultOpenFiles)
	def(&l.TmpSize, DefaultTmpSize)
	if l.CPUs <= 0 {
		l.CPUs = float64(runtime.NumCPU())
	}
	return l
}

// Spec describes the program to run and the world it may see.
type Spec struct {
	// Program is the absolute path of the program, as seen inside.
	Program string
	// Args are the program's arguments, without argv[0].
	Args []string
	// Env is the program's whole environment. Nothing of the caller's
	// environment is passed unless it is listed here.
	Env []string
	// WorkDir is the host folder mounted read-write at /mnt/data.
	WorkDir string
	// ReadOnly lists host paths (folders or files) to show read-only at the
	// same path inside, on top of the system folders.
	ReadOnly []string
	// System, when set, is a host folder holding a userland of its own
	// (usr/ and etc/, as make runtime builds it), shown read-only as the
	// root's /usr, with /bin, /sbin, /lib and /lib64 linked into it and the
	// files of its etc/ in /etc, instead of the host's system folders: the
	// program then needs nothing of the host but the kernel. Only the
	// host's time zone (HostEtc) is shown beside it. The weaker sandbox
	// cannot mount it, and refuses a Spec that sets it.
	System string
	// Shared maps a folder inside (the key, an absolute path) to a host
	// folder whose files (at its top, 16 MiB in all) are copied there,
	// read-only: for what Plotline prepares for every sandbox, without
	// revealing where it keeps it.
	Shared map[string]string
	// Stdout and Stderr receive the program's output. Nil means /dev/null.
	Stdout, Stderr *os.File
	// ExtraFiles become file descriptors 3, 4, … of the program.
	ExtraFiles []*os.File
	// Limits are the resource limits.
	Limits Limits
	// Weak runs the program in the weaker sandbox, without namespaces
	// (see WeakMode); the environment's PLOTLINE_SANDBOX=weak asks for it
	// too.
	Weak bool
}

// Exit tells how a sandboxed program ended.
type Exit struct {
	// Code is the program's exit code when it exited on its own.
	Code int
	// Signal is the signal that ended the program, or 0.
	Signal syscall.Signal
	// Killed is true when the sandbox was killed from outside (Kill, its
	// memory cap, or the sandbox's init died) before the program's end
	// could be observed.
	Killed bool
	// MemoryCap is true when the sandbox was ended because it reached its
	// memory cap. Signal is then SIGKILL.
	MemoryCap bool
}

func (e Exit) String() string {
	switch {
	case e.MemoryCap:
		return "killed: the sandbox reached its memory cap"
	case e.Killed:
		return "killed"
	case e.Signal != 0:
		return fmt.Sprintf("killed by signal %d (%s)", int(e.Signal), e.Signal)
	default:
		return fmt.Sprintf("exit status %d", e.Code)
	}
}

// SystemReadOnly are the host paths every sandbox sees read-only: the
// system's programs and libraries and the few /etc files that Python,
// matplotlib and fontconfig read. Missing ones are skipped.
var SystemReadOnly = []string{
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/etc/matplotlibrc",
	"/etc/mime.types", "/etc/alternatives", "/etc/python3", "/etc/python3.11",
	"/etc/timezone",
}

// HostEtc are the host's files a sandbox with its own System still sees:
// the user's time zone.
var HostEtc = []string{"/etc/localtime", "/etc/timezone"}

// WeakEnv is the environment variable that opts in to the weaker sandbox
// (Linux only).
const WeakEnv = "PLOTLINE_SANDBOX"

// WeakMode reports whether the user opted in to the weaker sandbox.
func WeakMode() bool { return os.Getenv(WeakEnv) == "weak" }
