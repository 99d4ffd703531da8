package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// initArg is the hidden first argument that turns the plotline binary into
// the sandbox's init process.
const initArg = "__plotline-sandbox-init"

// initConfig is what the host sends to init over its config pipe.
type initConfig struct {
	Program  string
	Args     []string
	Env      []string
	WorkDir  string
	ReadOnly []string
	Shared   map[string]string
	Limits   Limits
	NumExtra int
}

// initStatus is one line init writes on its status pipe: first Ready or
// Error, and later the program's end.
type initStatus struct {
	Ready  bool   `json:"ready,omitempty"`
	Error  string `json:"error,omitempty"`
	Exited bool   `json:"exited,omitempty"`
	Code   int    `json:"code,omitempty"`
	Signal int    `json:"signal,omitempty"`
}

// Process is a running sandbox.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	exit Exit

	mu sync.Mutex
}

// Start starts spec's program in a new sandbox. It returns once the sandbox
// is set up and the program has been started, or with the reason it could
// not be.
func Start(spec Spec) (*Process, error) {
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

	cmd := exec.Command("/proc/self/exe", initArg)
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
		Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
			unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		// Whatever happens to plotline, even kill -9, init dies with it,
		// and with init the whole pid namespace.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		cfgW.Close()
		statusR.Close()
		statusW.Close()
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) ||
			errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EUSERS) {
			return nil, fmt.Errorf("%w: %v. Unprivileged user namespaces look disabled on this system "+
				"(check the sysctls user.max_user_namespaces and kernel.unprivileged_userns_clone, and "+
				"AppArmor's restrict_unprivileged_userns); Plotline will not run code without its sandbox", ErrNamespaces, err)
		}
		return nil, fmt.Errorf("sandbox: start init: %w", err)
	}
	statusW.Close()

	err = json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	p := &Process{cmd: cmd, done: make(chan struct{})}
	status := bufio.NewReader(statusR)
	var first initStatus
	if err == nil {
		err = readStatus(status, &first)
	}
	if err != nil || !first.Ready {
		cmd.Process.Kill()
		cmd.Wait()
		statusR.Close()
		if first.Error != "" {
			return nil, fmt.Errorf("sandbox: %s", first.Error)
		}
		return nil, fmt.Errorf("sandbox: init did not start: %v", err)
	}
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
func (p *Process) watch(status *bufio.Reader, f *os.File) {
	var st initStatus
	err := readStatus(status, &st)
	f.Close()
	p.cmd.Wait()
	p.mu.Lock()
	switch {
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
	if len(os.Args) < 2 || os.Args[1] != initArg || os.Getpid() != 1 {
		return
	}
	runInit()
	os.Exit(0)
}
