package interpreter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// RequiredModules are the packages the kernel needs to be useful: the
// model writes pandas and matplotlib code.
var RequiredModules = []string{"numpy", "pandas", "matplotlib"}

// Python is a Python installation that can host the kernel.
type Python struct {
	// Path is where it was found (it may be a link or a version manager's shim).
	Path string `json:"path"`
	// Executable is the interpreter the sandbox runs: the probe's
	// sys.executable, with links not resolved, because a virtual
	// environment's python is a link to its base interpreter and is only
	// in the environment (its packages) when run through that link.
	Executable string `json:"executable"`
	// Version is the interpreter's version, such as "3.11.2".
	Version string `json:"version"`
	// Modules maps each required module to its version.
	Modules map[string]string `json:"modules"`
	// Roots are the folders outside the system folders that the
	// interpreter needs to see: its prefixes and module paths.
	Roots []string `json:"roots"`
	// System is the folder of the bundled runtime (make runtime) that the
	// sandbox mounts as its root's /usr, when this Python is that one;
	// Executable is then a path inside the sandbox, and nothing of it runs
	// outside the sandbox.
	System string `json:"system,omitempty"`

	// identity tells installations apart: the resolved interpreter and
	// its prefix, which differs between a virtual environment and its base.
	identity string
}

// Bundled reports whether p is the bundled runtime.
func (p *Python) Bundled() bool { return p.System != "" }

// String names p for people: "Python 3.11.2 at /usr/bin/python3", or
// "the bundled Python 3.11.2 in /usr/lib/plotline/runtime".
func (p *Python) String() string {
	if p.Bundled() {
		return fmt.Sprintf("the bundled Python %s in %s", p.Version, p.System)
	}
	return fmt.Sprintf("Python %s at %s", p.Version, p.Executable)
}

// Candidate is one Python that discovery looked at.
type Candidate struct {
	// Path is where the candidate was found.
	Path string `json:"path"`
	// Source says why it was a candidate: PLOTLINE_PYTHON, bundled, PATH or
	// a standard location.
	Source string `json:"source"`
	// Python is the probe's answer, when the candidate ran.
	Python *Python `json:"python,omitempty"`
	// Rejected says why it was not chosen; empty for the chosen one.
	Rejected string `json:"rejected,omitempty"`
}

// ErrNoPython is returned when no candidate Python has the required modules.
var ErrNoPython = errors.New("no Python with numpy, pandas and matplotlib was found")

// probeScript runs, unsandboxed, in each candidate: it is Plotline's own
// code, not a cell. It reports the interpreter's layout and which required
// modules it can import (find_spec only, unless deep is set, to keep
// discovery quick; the kernel's own start-up imports them for real).
const probeScript = `
import importlib, importlib.util, json, os, sys
deep = sys.argv[1] == "deep"
mods = {}
for m in sys.argv[2:]:
    try:
        if deep:
            mods[m] = getattr(importlib.import_module(m), "__version__", "?")
        elif importlib.util.find_spec(m) is None:
            mods[m] = None
        else:
            try:
                import importlib.metadata as md
                mods[m] = md.version(m)
            except Exception:
                mods[m] = "?"
    except Exception as e:
        mods[m] = None
        mods["!" + m] = "%s: %s" % (type(e).__name__, e)
paths = [p for p in sys.path if p and os.path.isdir(p)]
exe = os.path.abspath(sys.executable)
print(json.dumps({"executable": exe, "real": os.path.realpath(exe), "version": sys.version.split()[0],
    "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix], "paths": paths,
    "modules": mods}))
`

// candidates lists the Pythons to try, in order.
func candidates() []Candidate {
	var out []Candidate
	if p := os.Getenv("PLOTLINE_PYTHON"); p != "" {
		out = append(out, Candidate{Path: p, Source: "PLOTLINE_PYTHON"})
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			dir := filepath.Dir(exe)
			for _, rel := range BundledRuntimeDirs {
				out = append(out, Candidate{Path: filepath.Join(dir, rel), Source: "bundled"})
			}
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != "" && filepath.IsAbs(dir) {
			out = append(out, Candidate{Path: filepath.Join(dir, "python3"), Source: "PATH"})
		}
	}
	std := []string{"/usr/bin/python3", "/usr/local/bin/python3"}
	if runtime.GOOS == "darwin" {
		std = append(std, "/opt/homebrew/bin/python3", "/opt/local/bin/python3", "/Library/Frameworks/Python.framework/Versions/Current/bin/python3")
	}
	for _, p := range std {
		out = append(out, Candidate{Path: p, Source: "standard location"})
	}
	return out
}

// BundledRuntimeDirs are where the bundled runtime is looked for, relative
// to the folder of the plotline binary: beside it in a build tree, and
// where the .deb and the tarball install it.
var BundledRuntimeDirs = []string{"runtime", "../lib/plotline/runtime"}

// Discover finds the Python to run the kernel with: PLOTLINE_PYTHON (an
// interpreter, or a runtime folder), then the bundled runtime, then
// python3 on PATH and in standard locations; the first with numpy, pandas
// and matplotlib wins. It returns
// every candidate it looked at, with the reason each other was rejected.
// With deep set, the modules are imported rather than only located.
func Discover(ctx context.Context, deep bool) (*Python, []Candidate, error) {
	var chosen *Python
	seenPath := map[string]bool{}
	seenExe := map[string]string{}
	var all []Candidate
	for _, c := range candidates() {
		if seenPath[c.Path] {
			continue
		}
		seenPath[c.Path] = true
		fi, err := os.Stat(c.Path)
		isRuntime := err == nil && fi.IsDir() && isRuntimeDir(c.Path)
		switch {
		case err != nil && c.Source != "PLOTLINE_PYTHON", c.Source == "bundled" && !isRuntime:
			continue // absent: not worth listing
		case err != nil:
			c.Rejected = fmt.Sprintf("cannot use it: %v", err)
		case !isRuntime && (fi.IsDir() || fi.Mode()&0o111 == 0):
			c.Rejected = "not an executable file, nor a runtime folder"
		case chosen != nil:
			c.Rejected = "not needed: an earlier candidate was chosen"
		default:
			probeIt := probe
			if isRuntime {
				probeIt = probeRuntime
			}
			py, err := probeIt(ctx, c.Path, deep)
			if err != nil {
				c.Rejected = err.Error()
				break
			}
			c.Python = py
			if other, ok := seenExe[py.identity]; ok {
				c.Rejected = fmt.Sprintf("the same interpreter as %s", other)
				break
			}
			seenExe[py.identity] = c.Path
			if missing := py.missing(); len(missing) > 0 {
				c.Rejected = "missing " + strings.Join(missing, ", ")
				break
			}
			chosen = py
		}
		all = append(all, c)
	}
	if chosen == nil {
		return nil, all, fmt.Errorf("%w. Install them for a system Python (on Debian or Ubuntu: "+
			"sudo apt-get install python3 python3-numpy python3-pandas python3-matplotlib python3-openpyxl), "+
			"or point PLOTLINE_PYTHON at a Python that has them", ErrNoPython)
	}
	return chosen, all, nil
}

func (p *Python) missing() []string {
	var m []string
	for _, name := range RequiredModules {
		if p.Modules[name] == "" {
			m = append(m, name)
		}
	}
	return m
}

// probe runs the probe script in the candidate.
func probe(ctx context.Context, path string, deep bool) (*Python, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	mode := "quick"
	if deep {
		mode = "deep"
	}
	args := append([]string{"-I", "-c", probeScript, mode}, RequiredModules...)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "MPLBACKEND=Agg")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("does not run: %v", err)
		}
		return nil, fmt.Errorf("does not run: %s", msg)
	}
	var r struct {
		Executable string             `json:"executable"`
		Real       string             `json:"real"`
		Version    string             `json:"version"`
		Prefixes   []string           `json:"prefixes"`
		Paths      []string           `json:"paths"`
		Modules    map[string]*string `json:"modules"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("is not a Python 3 the probe understands: %v", err)
	}
	if len(r.Prefixes) == 0 {
		return nil, errors.New("is not a Python 3 the probe understands: no prefix")
	}
	py := &Python{Path: path, Executable: r.Executable, Version: r.Version, Modules: map[string]string{},
		identity: r.Real + "\x00" + r.Prefixes[0]}
	for name, v := range r.Modules {
		if v != nil && !strings.HasPrefix(name, "!") {
			py.Modules[name] = *v
		}
	}
	py.Roots = roots(append(append(r.Prefixes, filepath.Dir(r.Executable), filepath.Dir(r.Real)), r.Paths...))
	return py, nil
}

// systemFolders are shown to every sandbox anyway.
var systemFolders = []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"}

// roots reduces paths to the folders the sandbox must add: absolute, not
// inside a system folder or another root, and never / or a home folder
// itself.
func roots(paths []string) []string {
	home, _ := os.UserHomeDir()
	if home != "" {
		home = filepath.Clean(home) // HOME=/home/ana/ must still match /home/ana
	}
	var out []string
	under := func(p, dir string) bool {
		return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
	}
next:
	for _, p := range paths {
		p = filepath.Clean(p)
		if !filepath.IsAbs(p) || p == "/" || p == home || p == "/root" || p == "/home" {
			continue
		}
		for _, s := range append(append([]string{}, systemFolders...), out...) {
			if under(p, s) {
				continue next
			}
		}
		// A new root may contain earlier ones.
		kept := out[:0]
		for _, o := range out {
			if !under(o, p) {
				kept = append(kept, o)
			}
		}
		out = append(kept, p)
	}
	return out
}

// lastLine is the last line of a program's error output: the error of a
// Python traceback.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
