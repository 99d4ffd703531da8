//go:build linux

package interpreter

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoots(t *testing.T) {
	t.Setenv("HOME", "/home/ana")
	for _, c := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"nothing", nil, nil},
		{"system folders are shown anyway", []string{"/usr", "/usr/lib/python3.11", "/usr/local/lib/python3/dist-packages", "/bin", "/lib64"}, nil},
		{"a folder beside the system folders", []string{"/opt/python", "/usrlocal", "/library"}, []string{"/opt/python", "/usrlocal", "/library"}},
		{"never / or relative paths", []string{"/", "relative/lib", "", "."}, nil},
		{"never a home folder itself", []string{"/home/ana", "/home/ana/", "/root", "/home"}, nil},
		{"a folder inside home is fine", []string{"/home/ana/.pyenv/versions/3.12.1"}, []string{"/home/ana/.pyenv/versions/3.12.1"}},
		{"inside an earlier root", []string{"/opt/py", "/opt/py/lib/python3.12", "/opt/py/bin"}, []string{"/opt/py"}},
		{"containing earlier roots", []string{"/opt/py/lib", "/opt/other", "/opt/py/bin", "/opt/py"}, []string{"/opt/other", "/opt/py"}},
		{"duplicates and unclean paths", []string{"/opt/a/", "/opt/a", "/opt/x/../a", "/opt//b"}, []string{"/opt/a", "/opt/b"}},
		{"a sibling with a common prefix", []string{"/opt/py", "/opt/py2"}, []string{"/opt/py", "/opt/py2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := roots(c.paths); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("roots(%q) = %q, want %q", c.paths, got, c.want)
			}
		})
	}
	// HOME may be spelt with a trailing slash; the home folder is still
	// never shown whole.
	t.Setenv("HOME", "/home/ana/")
	if got := roots([]string{"/home/ana", "/home/ana/venv"}); !reflect.DeepEqual(got, []string{"/home/ana/venv"}) {
		t.Fatalf("with HOME=/home/ana/: roots = %q", got)
	}
}

// discoverEnv makes Discover's search small and predictable: the given
// PLOTLINE_PYTHON, and a PATH with only the system folders.
func discoverEnv(t *testing.T, plotlinePython string) {
	t.Setenv("PLOTLINE_PYTHON", plotlinePython)
	t.Setenv("PATH", "/usr/bin:/bin")
}

func checkChosen(t *testing.T, py *Python) {
	t.Helper()
	for _, m := range RequiredModules {
		if py.Modules[m] == "" {
			t.Errorf("the chosen Python lacks %s: %v", m, py.Modules)
		}
	}
	if !filepath.IsAbs(py.Executable) {
		t.Errorf("executable %q is not absolute", py.Executable)
	}
	// A bundled runtime's interpreter is a path inside its own /usr.
	exe := filepath.Join(py.System, py.Executable)
	if fi, err := os.Stat(exe); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("executable %q: %v", exe, err)
	}
}

func TestDiscoverUsesPLOTLINE_PYTHON(t *testing.T) {
	discoverEnv(t, "/usr/bin/python3")
	py, cands, err := Discover(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if py.Path != "/usr/bin/python3" {
		t.Fatalf("chose %s, want PLOTLINE_PYTHON's /usr/bin/python3", py.Path)
	}
	if c := cands[0]; c.Source != "PLOTLINE_PYTHON" || c.Rejected != "" || c.Python != py {
		t.Fatalf("first candidate = %+v", c)
	}
	for _, c := range cands[1:] {
		if c.Rejected == "" {
			t.Errorf("%s (%s) is not rejected, but another was chosen", c.Path, c.Source)
		}
	}
	checkChosen(t, py)
}

func TestDiscoverRejectsBadPLOTLINE_PYTHON(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A virtual environment of the system Python, without its packages:
	// the same interpreter, but not the same modules.
	venv := filepath.Join(dir, "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("make a venv: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name, path, reason string
	}{
		{"missing", filepath.Join(dir, "no", "python3"), "no such file"},
		{"folder", dir, "not an executable file"},
		{"not executable", script("plain", "#!/bin/sh\n", 0o644), "not an executable file"},
		{"fails", script("fails", "#!/bin/sh\necho 'python: broken install' >&2\nexit 1\n", 0o755), "does not run: python: broken install"},
		{"not python", script("liar", "#!/bin/sh\necho hello\n", 0o755), "is not a Python 3 the probe understands"},
		{"without pandas", filepath.Join(venv, "bin", "python3"), "missing numpy, pandas, matplotlib"},
	} {
		t.Run(c.name, func(t *testing.T) {
			discoverEnv(t, c.path)
			py, cands, err := Discover(context.Background(), false)
			if len(cands) == 0 || cands[0].Source != "PLOTLINE_PYTHON" || cands[0].Path != c.path {
				t.Fatalf("PLOTLINE_PYTHON is not the first candidate: %+v", cands)
			}
			if !strings.Contains(cands[0].Rejected, c.reason) {
				t.Errorf("rejected for %q, want a reason with %q", cands[0].Rejected, c.reason)
			}
			// The search goes on to a Python that has the modules.
			if err != nil {
				t.Fatalf("Discover: %v; candidates %+v", err, cands)
			}
			if py.Path == c.path {
				t.Fatalf("chose the rejected %s", c.path)
			}
			checkChosen(t, py)
		})
	}
}

func TestDiscoverFailsWithoutAnyPython(t *testing.T) {
	t.Setenv("PLOTLINE_PYTHON", "")
	t.Setenv("PATH", t.TempDir())
	py, cands, err := Discover(context.Background(), false)
	if _, statErr := os.Stat("/usr/bin/python3"); statErr == nil {
		// The standard locations are still searched.
		if err != nil || py == nil || py.Path != "/usr/bin/python3" {
			t.Fatalf("Discover without PATH: %v %v %+v", py, err, cands)
		}
		return
	}
	if !errors.Is(err, ErrNoPython) {
		t.Fatalf("Discover = %v", err)
	}
}

// TestKernelRunsInsideVenv checks that a virtual environment's Python,
// once chosen, runs the kernel inside that environment, with its packages.
func TestKernelRunsInsideVenv(t *testing.T) {
	// Not under /tmp: the sandbox has a /tmp of its own.
	base, err := os.MkdirTemp("/var/tmp", "plotline-venv-")
	if err != nil {
		t.Skipf("no /var/tmp for a venv the sandbox can see: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	venv := filepath.Join(base, "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", "--system-site-packages", venv).CombinedOutput(); err != nil {
		t.Fatalf("make a venv: %v\n%s", err, out)
	}
	venvPython := filepath.Join(venv, "bin", "python3")
	out, err := exec.Command(venvPython, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").Output()
	if err != nil {
		t.Fatal(err)
	}
	// A module only the environment has.
	marker := filepath.Join(strings.TrimSpace(string(out)), "plotline_venv_marker.py")
	if err := os.WriteFile(marker, []byte("WHERE = 'venv'\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	discoverEnv(t, venvPython)
	py, _, err := Discover(context.Background(), false)
	if err != nil || py.Path != venvPython {
		t.Fatalf("Discover chose %+v, %v; want the venv", py, err)
	}
	s := newTestSession(t, func(c *Config) { c.Python = py })
	r := mustExec(t, s, "import sys, plotline_venv_marker\nsys.prefix, plotline_venv_marker.WHERE")
	if r.Error != nil || value(r) != "('"+venv+"', 'venv')" {
		t.Fatalf("the kernel is not in the venv: %s %+v", value(r), r.Error)
	}
}
