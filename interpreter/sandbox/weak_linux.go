package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// The weaker sandbox, for hosts that refuse unprivileged user namespaces
// (stock Ubuntu 24.04 restricts them through AppArmor). It is an opt-in
// (PLOTLINE_SANDBOX=weak), never a fallback: without namespaces there is no
// private root, pid space or network, so the program sees the host's file
// tree, processes and IPC, and only these hold it:
//
//   - Landlock (ABI 6 or later, or the mode refuses to start): reads of the
//     system folders only, writes to the work folder and a private
//     temporary folder only, no TCP, and signals and abstract unix sockets
//     scoped to the sandbox's own processes;
//   - the seccomp filter, with the weak mode's additions: no connect or
//     addressed send on unix sockets, no System V or POSIX message IPC, no
//     priority, affinity, scheduling or rlimit changes to other processes,
//     no inotify;
//   - rlimits, and the whole-sandbox memory, process and CPU caps (a
//     cgroup, or the watchdog);
//   - its own session, and init as the child subreaper, so that what the
//     program starts stays below init, where sweeps and the end of the
//     sandbox find it.
//
// The work folder keeps its host path; the kernel maps /mnt/data onto it.
// The README lists what this mode cannot block.

// weakInitArg is the hidden first argument of the weak mode's init.
const weakInitArg = "__plotline-sandbox-weak"

// weakReady says why the weak mode cannot hold here, or returns nil.
func weakReady() error {
	if os.Geteuid() == 0 {
		return errors.New("the weaker sandbox (PLOTLINE_SANDBOX=weak) does not run as root: " +
			"without namespaces, root in the sandbox would be the host's root. Run Plotline as an ordinary user")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d/children", unix.Gettid())); err != nil {
		return errors.New("the weaker sandbox (PLOTLINE_SANDBOX=weak) needs /proc/PID/task/TID/children " +
			"(CONFIG_PROC_CHILDREN) to find the sandbox's processes")
	}
	v, err := llsys.LandlockGetABIVersion()
	if err != nil || v < 6 {
		return fmt.Errorf("the weaker sandbox (PLOTLINE_SANDBOX=weak) needs Landlock ABI 6 (Linux 6.12) or later "+
			"to keep signals inside; this kernel has ABI %d", max(v, 0))
	}
	return nil
}

// setupWeak prepares init of the weak mode: it becomes the child
// subreaper, so that daemons the program starts are re-parented to it,
// not to the host's init, and it moves into the work folder.
func setupWeak(cfg *initConfig) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("child subreaper: %w", err)
	}
	return os.Chdir(cfg.WorkDir)
}

// weakEnv adapts the program's environment to the host's paths: values
// under /tmp move to the private temporary folder, values naming a
// shared folder name its host folder, and PLOTLINE_WORK_FOLDER tells the
// kernel where /mnt/data is.
func weakEnv(cfg *initConfig) []string {
	env := make([]string, 0, len(cfg.Env)+1)
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if v == "/tmp" || strings.HasPrefix(v, "/tmp/") {
			v = cfg.Tmp + strings.TrimPrefix(v, "/tmp")
		}
		for dst, src := range cfg.Shared {
			if v == dst || strings.HasPrefix(v, dst+"/") {
				v = src + strings.TrimPrefix(v, dst)
			}
		}
		env = append(env, k+"="+v)
	}
	return append(env, "PLOTLINE_WORK_FOLDER="+cfg.WorkDir)
}

// weakExecStage is what the exec stage applies in the weak mode: the
// host's system folders and the program's own read-only, the work folder
// and the private temporary folder read-write; not /proc, whose other
// processes' files would be the user's.
func weakExecStage(cfg *initConfig) execConfig {
	ec := execConfig{
		RODirs: []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"},
		RWDirs: []string{cfg.WorkDir, cfg.Tmp},
		Memory: cfg.Limits.AddressSpace,
	}
	for _, p := range SystemReadOnly {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			ec.ROFiles = append(ec.ROFiles, p)
		} else if err == nil && strings.HasPrefix(p, "/etc/") {
			ec.RODirs = append(ec.RODirs, p)
		}
	}
	for _, src := range cfg.Shared {
		ec.RODirs = append(ec.RODirs, src)
	}
	ec.addReadOnly(cfg.ReadOnly)
	return ec
}

// sweepDescendants is sweepNamespace for the weak mode: it kills every
// process below init but keep.
func sweepDescendants(keep int) bool {
	self := os.Getpid()
	return sweepUntilGone(func() []int {
		var pids []int
		for _, p := range descendants(self) {
			if p != keep {
				pids = append(pids, p)
			}
		}
		return pids
	})
}

// weakDenied are the weak mode's additions to the seccomp filter: what
// namespaces would otherwise keep from the host's other processes.
func weakDenied() []uintptr {
	return append([]uintptr{
		unix.SYS_CONNECT, unix.SYS_SENDMSG, unix.SYS_SENDMMSG,
		unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMCTL, unix.SYS_SHMDT,
		unix.SYS_MSGGET, unix.SYS_MSGSND, unix.SYS_MSGRCV, unix.SYS_MSGCTL,
		unix.SYS_SEMGET, unix.SYS_SEMOP, unix.SYS_SEMCTL, unix.SYS_SEMTIMEDOP,
		unix.SYS_MQ_OPEN, unix.SYS_MQ_UNLINK, unix.SYS_MQ_TIMEDSEND, unix.SYS_MQ_TIMEDRECEIVE,
		unix.SYS_MQ_NOTIFY, unix.SYS_MQ_GETSETATTR,
		unix.SYS_IOPRIO_SET, unix.SYS_KCMP, unix.SYS_PROCESS_MADVISE,
		unix.SYS_INOTIFY_INIT1, unix.SYS_INOTIFY_ADD_WATCH,
	}, weakDeniedArch...)
}

// weakSelfOnly are the calls whose first argument names a process, which
// the weak mode allows only for the caller itself (0).
var weakSelfOnly = []uintptr{
	unix.SYS_PRLIMIT64, unix.SYS_SCHED_SETAFFINITY, unix.SYS_SCHED_SETSCHEDULER,
	unix.SYS_SCHED_SETPARAM, unix.SYS_SCHED_SETATTR,
}
