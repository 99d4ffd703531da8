package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Inside init, the host's file descriptors are:
const (
	initConfigFD = 3 // the JSON initConfig, read once
	initStatusFD = 4 // status lines back to the host
	initExtraFD  = 5 // the program's own extra files start here
)

// runInit is the sandbox's pid 1. It builds the root, confines itself (so
// that the program inherits every restriction), starts the program, reaps
// orphans, forwards SIGINT and SIGTERM, and reports the program's end.
// When it returns, the kernel kills everything left in the pid namespace.
func runInit() {
	// Nothing the host passed must leak into the program by accident.
	unix.CloseRange(initConfigFD, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	status := os.NewFile(initStatusFD, "status")
	var statusMu sync.Mutex
	report := func(st initStatus) {
		b, _ := json.Marshal(st)
		statusMu.Lock()
		status.Write(append(b, '\n'))
		statusMu.Unlock()
	}

	// The config pipe carries one line of JSON, then stays open as the
	// host's command channel (see Process.Sweep).
	var cfg initConfig
	ctl := bufio.NewReader(os.NewFile(initConfigFD, "config"))
	line, err := ctl.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &cfg)
	}
	if err == nil && cfg.Weak {
		err = setupWeak(&cfg)
	} else if err == nil {
		err = setupRoot(&cfg)
	}
	if err == nil {
		err = confine(&cfg)
	}
	var cmd *exec.Cmd
	if err == nil {
		cmd, err = startProgram(&cfg)
	}
	if err != nil {
		report(initStatus{Error: err.Error()})
		return
	}
	report(initStatus{Ready: true})

	sweep := sweepNamespace
	if cfg.Weak {
		// Without a pid namespace, nothing ends the program's
		// descendants with init: init ends them itself.
		sweep = sweepDescendants
		defer sweepDescendants(0)
	}

	// Commands from the host, until it closes the channel.
	go func() {
		for {
			c, err := ctl.ReadByte()
			if err != nil {
				return
			}
			if c == cmdSweep {
				clean := sweep(cmd.Process.Pid)
				report(initStatus{Swept: true, Clean: clean})
			}
		}
	}()

	// SIGINT and SIGTERM are the host's, for the program. The other
	// signals that would end a Go program (some with a goroutine dump on
	// the program's stderr) are caught and dropped: the program can send
	// them to init, its parent, and the pid namespace only shields its
	// init from the signals it has no handler for, while the Go runtime
	// has one for every signal.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM,
		syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT,
		syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSTKFLT, syscall.SIGSYS)
	go func() {
		for s := range sigs {
			if s == syscall.SIGINT || s == syscall.SIGTERM {
				cmd.Process.Signal(s)
			}
		}
	}()

	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			report(initStatus{Exited: true, Code: 255})
			return
		}
		if pid != cmd.Process.Pid {
			continue // an orphan; reaped
		}
		st := initStatus{Exited: true}
		if ws.Signaled() {
			st.Signal = int(ws.Signal())
		} else {
			st.Code = ws.ExitStatus()
		}
		report(st)
		return
	}
}

// startProgram starts the program from the confined init, through the
// exec stage (see runExec), which applies Landlock and the memory limit to
// the program alone and then becomes it.
func startProgram(cfg *initConfig) (*exec.Cmd, error) {
	ec, err := json.Marshal(execStage(cfg))
	if err != nil {
		return nil, err
	}
	// /proc/self/exe is init's own binary, reachable through the magic
	// link although the old root, where it lives, is gone; a root of its
	// own (cfg.System) brings a static build of the exec stage instead.
	env, dir := cfg.Env, WorkDir
	if cfg.Weak {
		env, dir = weakEnv(cfg), cfg.WorkDir
	}
	stage := "/proc/self/exe"
	if cfg.System != "" {
		stage = SystemExecStage
	}
	cmd := &exec.Cmd{
		Path:   stage,
		Args:   append([]string{cfg.Program, execArg, string(ec), cfg.Program}, cfg.Args...),
		Env:    env,
		Dir:    dir,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
	for i := 0; i < cfg.NumExtra; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(initExtraFD+i), fmt.Sprintf("extra%d", i)))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Program, err)
	}
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	return cmd, nil
}

// setupRoot builds the sandbox's root file system and pivots into it.
//
// It follows bubblewrap's approach: a tmpfs is mounted on /tmp (only in this
// mount namespace) and pivoted to, so that the old root stays reachable at
// /oldroot while the new root is furnished from it, and is then detached.
func setupRoot(cfg *initConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	const base = "/tmp"
	if err := unix.Mount("tmpfs", base, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=16m"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	if err := os.Mkdir(base+"/oldroot", 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(base, base+"/oldroot"); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}

	// A private, size-capped /tmp, first, so that a Python installed
	// under the host's /tmp can still be shown on top of it.
	if err := mountTmpfs("/tmp", cfg.Limits.TmpSize); err != nil {
		return err
	}
	if cfg.System != "" {
		if err := mountSystem("/oldroot" + cfg.System); err != nil {
			return fmt.Errorf("mount the system folder: %w", err)
		}
	}
	for _, p := range cfg.ReadOnly {
		if err := exposeReadOnly(p); err != nil {
			return err
		}
	}
	for dst, src := range cfg.Shared {
		if !filepath.IsAbs(dst) || !filepath.IsAbs(src) {
			return fmt.Errorf("shared folder %q → %q: paths must be absolute", src, dst)
		}
		if err := copyShared("/oldroot"+src, dst); err != nil {
			return fmt.Errorf("share %s: %w", dst, err)
		}
	}

	// The work folder, read-write.
	if err := os.MkdirAll(WorkDir, 0o755); err != nil {
		return err
	}
	if err := bindMount("/oldroot"+cfg.WorkDir, WorkDir, false); err != nil {
		return fmt.Errorf("mount work folder: %w", err)
	}

	// A minimal /dev, with a size-capped /dev/shm.
	if err := setupDev(cfg.Limits.TmpSize); err != nil {
		return err
	}

	// A /proc of the sandbox's own pid namespace. The kernel only allows it
	// while a full /proc is visible, so this comes before the old root goes.
	if err := os.MkdirAll("/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	capPids(cfg.Limits.Processes)
	capIPC(cfg.Limits)
	if err := protectProc(); err != nil {
		return err
	}

	if err := writeEtc(); err != nil {
		return err
	}

	if err := unix.Unmount("/oldroot", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := os.Remove("/oldroot"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("make root read-only: %w", err)
	}
	if err := unix.Sethostname([]byte("sandbox")); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	return os.Chdir(WorkDir)
}

// pidMaxFloor is the lowest pid_max the kernel accepts (RESERVED_PIDS + 1).
const pidMaxFloor = 301

// capPids caps the number of tasks in the sandbox's pid namespace at about
// max(processes, 300), by giving the namespace its own pid_max.
//
// RLIMIT_NPROC, set in confine, is the real limit, but the kernel does not
// enforce it for processes whose real uid is the host's root: when
// Plotline runs as root (in a container, say), the sandbox's uid 0 is the
// host's uid 0 and a fork bomb would go unchecked. The pid namespace's own
// ceiling does not care who runs it.
//
// pid_max belongs to the pid namespace only from Linux 6.14. Before that it
// is the host's global setting, which init, as the host's root, could
// actually change: so it is written only on kernels known to scope it.
func capPids(processes int64) {
	if !kernelAtLeast(6, 14) {
		return
	}
	n := max(processes+1, pidMaxFloor)
	os.WriteFile("/proc/sys/kernel/pid_max", []byte(fmt.Sprintf("%d\n", n)), 0)
}

// kernelAtLeast reports whether the running kernel's version is at least
// major.minor. An unreadable version counts as older.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var ma, mi int
	if n, _ := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// protectProc makes the parts of /proc that reach beyond the sandbox's
// namespaces read-only, as bubblewrap does: the sysctls, the SysRq
// trigger, IRQ and bus settings.
//
// Without this, Landlock was the only wall in front of them, and Landlock
// is applied best effort. When Plotline runs as the host's root, the
// program's uid 0 is the host's uid 0, to which the kernel grants write
// access to the global sysctls by file mode alone; on a kernel without
// Landlock, a cell could then set kernel.core_pattern or kernel.modprobe to
// a program in /mnt/data and have the host run it as root.
func protectProc() error {
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
		if _, err := os.Lstat(p); err != nil {
			continue // not in this kernel's /proc
		}
		if err := bindMount(p, p, true); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	return maskProc()
}

// maskedProcFiles are the files of /proc that tell of the host's kernel
// rather than of the sandbox (its memory layout, timers, slabs, keys,
// page tables, log), most of them readable by the host's root, which is
// who the sandbox's uid 0 is when Plotline runs as root. They read as
// empty, as in a container; maskedProcDirs read as empty folders.
var (
	maskedProcFiles = []string{
		"/proc/kcore", "/proc/kmsg", "/proc/keys", "/proc/key-users",
		"/proc/kpagecgroup", "/proc/kpagecount", "/proc/kpageflags",
		"/proc/pagetypeinfo", "/proc/slabinfo", "/proc/vmallocinfo",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/latency_stats", "/proc/sysrq-trigger", "/proc/iomem", "/proc/ioports",
	}
	maskedProcDirs = []string{"/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/driver"}
)

// maskProc hides maskedProcFiles under the host's /dev/null and
// maskedProcDirs under empty read-only tmpfs mounts.
func maskProc() error {
	for _, p := range maskedProcFiles {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		// Not bindMount: /dev/null must stay a device (no nodev) to read
		// as empty.
		if err := unix.Mount("/oldroot/dev/null", p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err != nil {
			return err
		}
		flags := uintptr(unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC) | lockedFlags(st.Flags)
		if err := unix.Mount("", p, "", flags, ""); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	for _, p := range maskedProcDirs {
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			continue
		}
		if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,mode=0555"); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// mountSystem makes the userland in folder sys the root's: sys/usr
// read-only at /usr, the merged-/usr links, and each entry of sys/etc
// read-only in /etc (file by file, as the sandbox writes /etc files of its
// own beside them).
func mountSystem(sys string) error {
	if err := os.Mkdir("/usr", 0o755); err != nil {
		return err
	}
	if err := bindMount(sys+"/usr", "/usr", true); err != nil {
		return err
	}
	for _, d := range []string{"bin", "sbin", "lib", "lib64"} {
		if err := os.Symlink("usr/"+d, "/"+d); err != nil {
			return err
		}
	}
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(sys + "/etc")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if invented[e.Name()] {
			continue
		}
		if err := exposeAt(sys+"/etc/"+e.Name(), "/etc/"+e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// exposeReadOnly makes host path p visible read-only at p: a symbolic link
// is copied as a link, a folder or file is bind-mounted.
func exposeReadOnly(p string) error {
	return exposeAt("/oldroot"+p, p)
}

// exposeAt makes src (under /oldroot) visible read-only at p, as
// exposeReadOnly does; a missing src, or a p already there, is left alone.
func exposeAt(src, p string) error {
	fi, err := os.Lstat(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Lstat(p); err == nil {
		return nil // already there, e.g. inside /usr
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, p)
	case fi.IsDir():
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
	default:
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return err
		}
	}
	if err := bindMount(src, p, true); err != nil {
		return fmt.Errorf("expose %s: %w", p, err)
	}
	return nil
}

// bindMount binds src on dst and remounts it with nosuid and nodev, and
// read-only if asked. Flags the kernel locked on the source mount (as a
// user namespace may not clear them) are kept.
func bindMount(src, dst string, readOnly bool) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dst, &st); err != nil {
		return err
	}
	flags := uintptr(unix.MS_REMOUNT|unix.MS_BIND|unix.MS_NOSUID|unix.MS_NODEV) | lockedFlags(st.Flags)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	return unix.Mount("", dst, "", flags, "")
}

// lockedFlags maps statfs flags to the mount flags a remount must keep.
func lockedFlags(f int64) uintptr {
	var m uintptr
	for _, p := range [][2]int64{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if f&p[0] != 0 {
			m |= uintptr(p[1])
		}
	}
	return m
}

// mountTmpfs mounts a world-writable, sticky tmpfs of at most size bytes.
func mountTmpfs(dir string, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opts := fmt.Sprintf("mode=1777,size=%d", size)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount %s: %w", dir, err)
	}
	return nil
}

// setupDev makes a minimal /dev: null, zero, random and urandom bound from
// the host (a user namespace cannot create device nodes), the usual links,
// and a size-capped /dev/shm for multiprocessing.
func setupDev(shmSize int64) error {
	if err := os.Mkdir("/dev", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range []string{"null", "zero", "random", "urandom"} {
		if err := os.WriteFile("/dev/"+d, nil, 0o666); err != nil {
			return err
		}
		if err := unix.Mount("/oldroot/dev/"+d, "/dev/"+d, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, "/dev/"+name); err != nil {
			return err
		}
	}
	return mountTmpfs("/dev/shm", shmSize)
}

// invented are the /etc files the sandbox writes (writeEtc) rather than
// shows.
var invented = map[string]bool{"passwd": true, "group": true, "hostname": true, "hosts": true}

// writeEtc writes the /etc files the sandbox invents rather than shows.
func writeEtc() error {
	files := map[string]string{
		"/etc/passwd":   "root:x:0:0:Plotline sandbox:/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"/etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"/etc/hostname": "sandbox\n",
		"/etc/hosts":    "127.0.0.1 localhost sandbox\n",
	}
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	for name, body := range files {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sharedMax bounds what a shared folder may hold.
const sharedMax = 16 << 20

// copyShared copies the regular files at the top of the host folder src
// into a read-only tmpfs at dst. A bind mount would be cheaper, but its
// source path, the host's, would show in /proc/self/mountinfo.
func copyShared(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, fmt.Sprintf("mode=0755,size=%d", sharedMax)); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o444); err != nil {
			return err
		}
	}
	return unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}
