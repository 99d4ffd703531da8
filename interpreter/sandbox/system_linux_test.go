package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRuntime is the bundled runtime make runtime builds at the top of the
// repository.
func repoRuntime(t *testing.T) string {
	t.Helper()
	rt, err := filepath.Abs("../../runtime")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rt, "manifest.json")); err != nil {
		t.Skip("no bundled runtime: make runtime builds it (make test does)")
	}
	return rt
}

// A sandbox with a userland of its own sees that userland's /usr, read-only,
// with the merged-/usr links, and nothing of the host's system folders but
// its time zone.
func TestSystemIsTheRootsUsr(t *testing.T) {
	rt := repoRuntime(t)
	// A host program the runtime does not have.
	var hostOnly string
	for _, p := range []string{"/usr/bin/dpkg", "/usr/bin/apt-get", "/usr/bin/perl", "/usr/bin/bwrap"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if _, err := os.Lstat(filepath.Join(rt, p)); os.IsNotExist(err) {
			hostOnly = p
			break
		}
	}
	if hostOnly == "" {
		t.Skip("no host program here that the runtime lacks")
	}
	script := `
for p in /bin /lib /lib64 /sbin; do echo "link $p $(readlink $p)"; done
[ -x /usr/bin/python3 ] && echo "python here"
[ -e ` + hostOnly + ` ] && echo "host program visible"
[ -e /etc/os-release ] && echo "host os-release visible"
(: >/usr/new) 2>/dev/null && echo "usr writable"
(: >/etc/new) 2>/dev/null && echo "etc writable"
grep -q '^root:x:0:0:Plotline sandbox' /etc/passwd && echo "own passwd"
[ -e /etc/matplotlibrc ] && echo "runtime etc"
echo done`
	out, exit := runShellSpec(t, Spec{WorkDir: t.TempDir(), System: rt}, script)
	if exit.Code != 0 || !strings.HasSuffix(out, "done\n") {
		t.Fatalf("%v:\n%s", exit, out)
	}
	for _, want := range []string{"link /bin usr/bin", "link /lib usr/lib", "link /lib64 usr/lib64", "link /sbin usr/sbin", "python here", "own passwd", "runtime etc"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"host program visible", "host os-release visible", "usr writable", "etc writable"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s:\n%s", bad, out)
		}
	}
}

// The weaker sandbox cannot mount a userland, and says so rather than run
// the program against the host's.
func TestSystemRefusedInWeakMode(t *testing.T) {
	rt := repoRuntime(t)
	_, err := Start(Spec{Program: "/bin/sh", Args: []string{"-c", "true"}, WorkDir: t.TempDir(), System: rt, Weak: true})
	if err == nil || !strings.Contains(err.Error(), "weaker sandbox") {
		t.Fatalf("Start in weak mode with a System: %v", err)
	}
}

// A folder that is not a complete userland is refused before anything
// starts: no usr/bin, no etc, or no exec stage.
func TestSystemMustBeComplete(t *testing.T) {
	dir := t.TempDir()
	start := func() error {
		_, err := Start(Spec{Program: "/bin/sh", WorkDir: t.TempDir(), System: dir})
		return err
	}
	if err := start(); err == nil || !strings.Contains(err.Error(), "usr/bin") {
		t.Fatalf("empty folder: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755)
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	if err := start(); err == nil || !strings.Contains(err.Error(), "exec stage") {
		t.Fatalf("no exec stage: %v", err)
	}
	if err := start(); err == nil {
		t.Fatal("started")
	}
	if _, err := Start(Spec{Program: "/bin/sh", WorkDir: t.TempDir(), System: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing folder was accepted")
	}
}

// The exec stage in the runtime is the one built from this tree: it runs
// only as the exec stage, and refuses every other use.
func TestSystemExecStageRefusesOtherUses(t *testing.T) {
	rt := repoRuntime(t)
	out, err := exec.Command(filepath.Join(rt, SystemExecStage), initArg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "starts this program itself") {
		t.Fatalf("sandbox-exec as init: %v\n%s", err, out)
	}
}
