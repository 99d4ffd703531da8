package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initArg is the hidden first argument that turns the plotline binary into
// the sandbox's init process.
const initArg = "__plotline-sandbox-init"

// execArg is the hidden first argument of the exec stage, which init
// runs to confine the program alone before it becomes the program.
const execArg = "__plotline-sandbox-exec"

// initConfig is what the host sends to init over its config pipe.
type initConfig struct {
	Program  string
	Args     []string
	Env      []string
	WorkDir  string
	ReadOnly []string
	System   string // the host folder of the root's own userland, or ""
	Shared   map[string]string
	Limits   Limits
	NumExtra int
	Weak     bool   // the weaker sandbox, without namespaces
	Tmp      string // the weak mode's private temporary folder
}

// initStatus is one line init writes on its status pipe: first Ready or
// Error, and later the program's end.
type initStatus struct {
	Ready  bool   `json:"ready,omitempty"`
	Error  string `json:"error,omitempty"`
	Exited bool   `json:"exited,omitempty"`
	Code   int    `json:"code,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Swept  bool   `json:"swept,omitempty"`
	Clean  bool   `json:"clean,omitempty"` // the sweep left nothing running
}

// Process is a running sandbox.
type Process struct {
	cmd  *exec.Cmd
	lim  limiter // holds the whole sandbox to its limits
	done chan struct{}
	exit Exit

	mu sync.Mutex

	program  int       // the program's host pid, or 0 if unknown
	statOnce sync.Once // opens stat
	stat     *os.File  // the program's /proc stat, read by ProgramCPU
	weak     bool      // the weaker sandbox, without namespaces
	tmp      string    // the weak mode's private temporary folder, removed at the end

	ctlMu     sync.Mutex      // guards ctl, sweeps, nsLastPid and quietPid
	nsLastPid *os.File        // the pid namespace's ns_last_pid, read by alone
	quietPid  string          // its value when the sandbox was last swept
	ctl       *os.File        // the command channel to init
	sweeps    []chan struct{} // sweeps sent and not yet acknowledged, oldest first
}

// Start starts spec's program in a new sandbox. It returns once the sandbox
// is set up and the program has been started, or with the reason it could
// not be.
func Start(spec Spec) (_ *Process, err error) {
	if !filepath.IsAbs(spec.Program) {
		return nil, fmt.Errorf("sandbox: program %q is not an absolute path", spec.Program)
	}
	work, err := filepath.Abs(spec.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: work folder: %w", err)
	}
	if fi, err := os.Stat(work); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("sandbox: work folder %q is not a folder", spec.WorkDir)
	}
	cfg := initConfig{
		Program:  spec.Program,
		Args:     spec.Args,
		Env:      spec.Env,
		WorkDir:  work,
		ReadOnly: append(append([]string{}, SystemReadOnly...), spec.ReadOnly...),
		Shared:   spec.Shared,
		Limits:   spec.Limits.WithDefaults(),
		NumExtra: len(spec.ExtraFiles),
		Weak:     spec.Weak || WeakMode(),
	}
	if spec.System != "" {
		if cfg.Weak {
			return nil, errors.New("sandbox: the weaker sandbox cannot mount a userland of its own (Spec.System); it needs the full sandbox")
		}
		if cfg.System, err = checkSystem(spec.System); err != nil {
			return nil, err
		}
		cfg.ReadOnly = append(append([]string{}, HostEtc...), spec.ReadOnly...)
	}
	if cfg.Weak {
		if err := weakReady(); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		// /tmp of the host is shared with the user's other programs: the
		// weak mode's program gets a folder of its own instead.
		if cfg.Tmp, err = os.MkdirTemp("", "plotline-sandbox-tmp-"); err != nil {
			return nil, fmt.Errorf("sandbox: temporary folder: %w", err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(cfg.Tmp)
			}
		}()
	}

	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgR.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		cfgW.Close()
		return nil, err
	}

	arg := initArg
	if cfg.Weak {
		arg = weakInitArg
	}
	cmd := exec.Command("/proc/self/exe", arg)
	cmd.Env = []string{}
	cmd.Dir = "/"
	if spec.Stdout != nil {
		cmd.Stdout = spec.Stdout
	}
	if spec.Stderr != nil {
		cmd.Stderr = spec.Stderr
	}
	cmd.ExtraFiles = append([]*os.File{cfgR, statusW}, spec.ExtraFiles...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// The cgroup namespace keeps the host's cgroup paths out of
		// /proc/self/cgroup.
		Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
			unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		// Whatever happens to plotline, even kill -9, init dies with it,
		// and with init the whole pid namespace.
		Pdeathsig: syscall.SIGKILL,
		// A session and process group of its own: kill(0, …), killpg and
		// setpriority(PRIO_PGRP, 0, …) inside then name the sandbox's
		// group, never plotline's, and no terminal's job control reaches in.
		Setsid: true,
	}
	if cfg.Weak {
		cmd.SysProcAttr.Cloneflags = 0
		cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = nil, nil
	}
	lim := newLimiter(cfg.Limits)
	if cmd, err = startInit(cmd, lim); err != nil {
		lim.release()
		cfgW.Close()
		statusR.Close()
		statusW.Close()
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) ||
			errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EUSERS) {
			err = fmt.Errorf("%w: %v. Unprivileged user namespaces look disabled on this system "+
				"(the sysctls user.max_user_namespaces and kernel.unprivileged_userns_clone, or AppArmor's "+
				"kernel.apparmor_restrict_unprivileged_userns on Ubuntu 24.04 and later), and Plotline will not "+
				"run code without its sandbox. Either install Plotline's package, whose AppArmor profile lets it "+
				"create namespaces, or opt in to the weaker sandbox with %s=weak (Landlock and seccomp without "+
				"namespaces; see the README for what it gives up)", ErrNamespaces, err, WeakEnv)
			return nil, err
		}
		return nil, fmt.Errorf("sandbox: start init: %w", err)
	}
	statusW.Close()
	// Init waits for its config: it comes under the limits before
	// anything runs in the sandbox.
	lim = attachInit(lim, cmd.Process.Pid, cfg.Limits)
	if w, ok := lim.(*watchdog); ok {
		w.tmpDir = cfg.Tmp
	}

	// The config pipe stays open after the config: it is the host's
	// command channel to init (see Sweep).
	err = json.NewEncoder(cfgW).Encode(cfg)
	p := &Process{cmd: cmd, lim: lim, done: make(chan struct{}), ctl: cfgW, weak: cfg.Weak, tmp: cfg.Tmp}
	status := bufio.NewReader(statusR)
	var first initStatus
	if err == nil {
		err = readStatus(status, &first)
	}
	if err != nil || !first.Ready {
		cfgW.Close()
		cmd.Process.Kill()
		cmd.Wait()
		lim.release()
		statusR.Close()
		if first.Error != "" {
			return nil, fmt.Errorf("sandbox: %s", first.Error)
		}
		return nil, fmt.Errorf("sandbox: init did not start: %v", err)
	}
	// Init's one child now is the program.
	if d := descendants(cmd.Process.Pid); len(d) == 1 {
		p.program = d[0]
	}
	lim.watch(cmd.Process.Pid, p.Kill)
	go p.watch(status, statusR)
	return p, nil
}

func readStatus(r *bufio.Reader, st *initStatus) error {
	line, err := r.ReadBytes('\n')
	if len(line) == 0 && err != nil {
		return err
	}
	return json.Unmarshal(line, st)
}

// watch waits for the program's end as init reports it, then reaps init.
// Acknowledgements of sweeps arrive on the same lines before it.
func (p *Process) watch(status *bufio.Reader, f *os.File) {
	var st initStatus
	var err error
	for {
		st = initStatus{}
		if err = readStatus(status, &st); err != nil || !st.Swept {
			break
		}
		p.swept(st.Clean)
	}
	f.Close()
	p.statOnce.Do(func() {})
	if p.stat != nil {
		p.stat.Close()
	}
	p.ctlMu.Lock()
	p.ctl.Close()
	if p.nsLastPid != nil {
		p.nsLastPid.Close()
	}
	p.ctlMu.Unlock()
	defer p.sweptAll()
	p.cmd.Wait()
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
	capped := p.lim.capped()
	p.lim.release()
	p.mu.Lock()
	switch {
	case capped:
		// The kernel's OOM killer or the host ended the whole sandbox.
		p.exit = Exit{Killed: true, Signal: syscall.SIGKILL, MemoryCap: true}
	case err == nil && st.Exited:
		p.exit = Exit{Code: st.Code, Signal: syscall.Signal(st.Signal)}
	default:
		p.exit = Exit{Killed: true}
	}
	p.mu.Unlock()
	close(p.done)
}

// Pid is the host pid of the sandbox's init process.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// ProgramCPU is the CPU time the program itself (all its threads) has
// used so far, or 0 when it cannot be read.
func (p *Process) ProgramCPU() time.Duration {
	if p.program == 0 {
		return 0
	}
	p.statOnce.Do(func() { p.stat, _ = os.Open(fmt.Sprintf("/proc/%d/stat", p.program)) })
	if p.stat == nil {
		return 0
	}
	var buf [1024]byte
	n, err := p.stat.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return 0
	}
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	// utime and stime, fields 14 and 15, in USER_HZ (100 a second).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// Interrupt sends SIGINT to the program (init forwards it).
func (p *Process) Interrupt() error {
	return p.signal(syscall.SIGINT)
}

func (p *Process) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// Kill ends the sandbox and every process in it. It does not wait.
func (p *Process) Kill() {
	if p.weak {
		// No pid namespace ends the program's descendants with init:
		// they are ended first, while init, their subreaper, still
		// holds them.
		select {
		case <-p.done:
		default:
			sweepUntilGone(func() []int { return descendants(p.Pid()) })
		}
	}
	p.signal(syscall.SIGKILL)
}

// Done is closed once the sandbox has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the sandbox to end and tells how its program ended.
func (p *Process) Wait() Exit {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// MaybeRunInit turns this process into the sandbox's init when it was
// started as one. Call it first thing in main (and in TestMain of packages
// that start sandboxes); it returns at once otherwise.
func MaybeRunInit() {
	if len(os.Args) >= 2 && os.Args[1] == execArg {
		runExec()
	}
	if len(os.Args) >= 2 && os.Args[1] == weakInitArg {
		runInit()
		os.Exit(0)
	}
	if len(os.Args) < 2 || os.Args[1] != initArg || os.Getpid() != 1 {
		return
	}
	runInit()
	os.Exit(0)
}

// SystemExecStage is where a Spec.System userland holds the sandbox's exec
// stage (cmd/sandbox-exec, a static build of RunExecStage), which init
// starts there instead of the plotline binary: that binary's own shared
// libraries are the host's, which such a root does not have.
const SystemExecStage = "/usr/libexec/plotline/sandbox-exec"

// RunExecStage runs the sandbox's exec stage, and only that, when the
// process was started as one; it exits with status 126 otherwise. It is
// the whole of cmd/sandbox-exec.
func RunExecStage() {
	if len(os.Args) >= 2 && os.Args[1] == execArg {
		runExec()
	}
	fmt.Fprintln(os.Stderr, "sandbox-exec: the Plotline sandbox starts this program itself")
	os.Exit(126)
}

// checkSystem resolves the host folder of a Spec's own userland to a path
// without links (init reaches it under /oldroot, where an absolute link
// would resolve against the new root) and checks that it holds one.
func checkSystem(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", fmt.Errorf("sandbox: system folder: %w", err)
	}
	for _, sub := range []string{"usr/bin", "etc"} {
		if fi, err := os.Lstat(filepath.Join(real, sub)); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("sandbox: system folder %q has no %s/ folder", dir, sub)
		}
	}
	if fi, err := os.Lstat(filepath.Join(real, SystemExecStage)); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("sandbox: system folder %q lacks the sandbox's exec stage %s (make runtime builds it)", dir, SystemExecStage)
	}
	return real, nil
}
