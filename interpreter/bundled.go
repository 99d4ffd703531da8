package interpreter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"plotline/interpreter/sandbox"
)

// runtimeManifest is the manifest.json that make runtime writes at the top
// of the bundled runtime.
type runtimeManifest struct {
	Info struct {
		Python     string            `json:"python"`
		Executable string            `json:"executable"`
		Modules    map[string]string `json:"modules"`
	} `json:"info"`
	Packages []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"packages"`
}

// isRuntimeDir reports whether dir looks like a bundled runtime.
func isRuntimeDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "manifest.json"))
	return err == nil && fi.Mode().IsRegular()
}

// readManifest reads the runtime's manifest, which is small.
func readManifest(dir string) (*runtimeManifest, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	var m runtimeManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("its manifest.json: %v", err)
	}
	if m.Info.Python == "" || !strings.HasPrefix(m.Info.Executable, "/usr/") {
		return nil, errors.New("its manifest.json names no Python in /usr")
	}
	return &m, nil
}

// probeRuntime describes the bundled runtime in dir. It runs only in the
// sandbox, which mounts it as the root's /usr: quickly, from its manifest;
// with deep set, by importing the required modules there.
func probeRuntime(ctx context.Context, dir string, deep bool) (*Python, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("the bundled runtime is a Linux userland")
	}
	if sandbox.WeakMode() {
		return nil, fmt.Errorf("the weaker sandbox (%s=weak) cannot mount the bundled runtime", sandbox.WeakEnv)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot use it: %v", err)
	}
	m, err := readManifest(real)
	if err != nil {
		return nil, fmt.Errorf("is not a runtime Plotline understands: %v", err)
	}
	if _, err := os.Stat(filepath.Join(real, m.Info.Executable)); err != nil {
		return nil, fmt.Errorf("is incomplete: %s is missing", m.Info.Executable)
	}
	py := &Python{Path: dir, Executable: m.Info.Executable, Version: m.Info.Python,
		Modules: map[string]string{}, System: real, identity: "runtime\x00" + real}
	for name, v := range m.Info.Modules {
		py.Modules[name] = v
	}
	if !deep {
		return py, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	args := append([]string{"-I", "-c", probeScript, "deep"}, RequiredModules...)
	out, err := runSandboxed(ctx, py, "", args, nil)
	if err != nil {
		return nil, fmt.Errorf("does not run in the sandbox: %v", err)
	}
	var r struct {
		Version string             `json:"version"`
		Modules map[string]*string `json:"modules"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("is not a Python 3 the probe understands: %v", err)
	}
	py.Version = r.Version
	for name, v := range r.Modules {
		switch {
		case strings.HasPrefix(name, "!"):
		case v == nil:
			delete(py.Modules, name)
		default:
			py.Modules[name] = *v
		}
	}
	return py, nil
}

// ModuleList lists p's modules with their versions, sorted by name.
func (p *Python) ModuleList() []string {
	var out []string
	for name, v := range p.Modules {
		out = append(out, name+" "+v)
	}
	sort.Strings(out)
	return out
}

// runSandboxed runs Plotline's own Python code (a probe, the font cache) in
// the bundled runtime py, in a sandbox whose work folder is work (a fresh
// temporary folder when empty), with the kernel's environment changed by
// env, and returns what it printed. It fails when the program does not
// exit with status 0.
func runSandboxed(ctx context.Context, py *Python, work string, args, env []string) ([]byte, error) {
	if work == "" {
		tmp, err := os.MkdirTemp("", "plotline-probe-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return nil, err
	}
	defer errR.Close()
	proc, err := sandbox.Start(sandbox.Spec{
		Program: py.Executable,
		Args:    args,
		Env:     withEnv(kernelEnv(py), env),
		WorkDir: work,
		System:  py.System,
		Stdout:  outW,
		Stderr:  errW,
	})
	outW.Close()
	errW.Close()
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, proc.Kill)
	defer stop()
	var stdout, stderr bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&stderr, io.LimitReader(errR, 64<<10))
		io.Copy(io.Discard, errR)
		close(done)
	}()
	io.Copy(&stdout, io.LimitReader(outR, 1<<20))
	io.Copy(io.Discard, outR)
	<-done
	exit := proc.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if exit.Code != 0 || exit.Signal != 0 || exit.Killed {
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = exit.String()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}

// withEnv returns base with the variables of env ("KEY=value") set.
func withEnv(base, env []string) []string {
	out := append([]string{}, base...)
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, key+"=") })
		out = append(out, kv)
	}
	return out
}
