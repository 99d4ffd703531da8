package sandbox

import (
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	MaybeRunInit()
	os.Exit(m.Run())
}

// runShell runs a shell script in a fresh sandbox and returns its output
// and how it ended.
func runShell(t *testing.T, work, script string, lim Limits) (string, Exit) {
	t.Helper()
	return runShellSpec(t, Spec{WorkDir: work, Limits: lim}, script)
}

// runShellSpec runs a shell script in a fresh sandbox made from spec,
// with the program, its arguments, environment and output set here.
func runShellSpec(t *testing.T, spec Spec, script string) (string, Exit) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	spec.Program, spec.Args = "/bin/sh", []string{"-c", script}
	spec.Env, spec.Stdout, spec.Stderr = []string{"PATH=/usr/bin:/bin"}, w, w
	p, err := Start(spec)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start: %v", err)
	}
	out, _ := readAll(r)
	return out, p.Wait()
}

func readAll(f *os.File) (string, error) {
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), nil
		}
	}
}

func TestShellSeesOnlyItsRoot(t *testing.T) {
	work := t.TempDir()
	out, exit := runShell(t, work, "id; hostname; pwd; ls /; echo hi > /mnt/data/x; cat /proc/self/status | grep -i cap; echo $$; ls /proc", Limits{})
	t.Logf("%s\n%v", out, exit)
	if b, err := os.ReadFile(work + "/x"); err != nil || string(b) != "hi\n" {
		t.Fatalf("work folder not writable: %q %v", b, err)
	}
}
