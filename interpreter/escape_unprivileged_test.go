//go:build linux

package interpreter

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"plotline/interpreter/sandbox"
)

// TestEscapeUnprivileged runs the escape suite again as an ordinary user
// (nobody), as Plotline runs on a desktop: there the sandbox's uid 0 is
// not the host's root, no cgroup can be had without delegation, and the
// limits fall back to the rlimits and the watchdog. It runs when the tests
// run as root and setpriv is there.
func TestEscapeUnprivileged(t *testing.T) {
	if os.Getenv("PLOTLINE_ESCAPE_UNPRIVILEGED") != "" {
		t.Skip("already unprivileged")
	}
	if os.Geteuid() != 0 {
		t.Skip("the tests already run as an ordinary user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv is not installed")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	// nobody must be able to run the test binary and write its temp files.
	dir, err := os.MkdirTemp("", "plotline-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "interpreter.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(dst, src)
		dst.Close()
	}
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o700)
	os.Chown(tmp, 65534, 65534)

	run := func(t *testing.T, pattern string, env ...string) {
		cmd := exec.Command(setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", "--",
			bin, "-test.run", pattern, "-test.count=1", "-test.timeout=10m")
		cmd.Dir = tmp
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + tmp,
			"PLOTLINE_ESCAPE_UNPRIVILEGED=1", "LANG=C.UTF-8"}, env...)
		if py := os.Getenv("PLOTLINE_PYTHON"); py != "" {
			cmd.Env = append(cmd.Env, "PLOTLINE_PYTHON="+py)
		}
		out, err := cmd.CombinedOutput()
		t.Logf("as nobody:\n%s", lastLines(string(out), 40))
		if err != nil {
			t.Fatalf("the escape suite as nobody: %v", err)
		}
		if !strings.Contains(string(out), "PASS") || strings.Contains(string(out), "no tests to run") {
			t.Fatal("the escape suite as nobody did not pass")
		}
	}
	t.Run("Namespaces", func(t *testing.T) { run(t, "^TestEscape") })
	t.Run("Weak", func(t *testing.T) { run(t, "^TestEscapeWeak$", sandbox.WeakEnv+"=weak") })
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
