package sandbox

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// limitModes runs f once with the sandbox's cgroup, where this machine
// has one, and once with the watchdog.
func limitModes(t *testing.T, f func(t *testing.T)) {
	t.Run("cgroup", func(t *testing.T) {
		if h, why := cgroupHierarchy(); h == nil {
			t.Skipf("no cgroup here: %s", why)
		}
		f(t)
	})
	t.Run("watchdog", func(t *testing.T) {
		t.Setenv(cgroupEnv, "off")
		f(t)
	})
}

// startLine starts script in a sandbox and waits for the first line it
// prints, which it returns with the running sandbox.
func startLine(t *testing.T, program string, args []string, lim Limits) (*Process, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Spec{
		Program: program, Args: args,
		Env:     []string{"PATH=/usr/bin:/bin"},
		WorkDir: t.TempDir(), Stdout: w, Stderr: w, Limits: lim,
	})
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait(); r.Close() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("the sandbox printed %q and ended (%s): %v", line, p.Wait(), err)
	}
	return p, strings.TrimSpace(line)
}

func TestEnforcement(t *testing.T) {
	got := Enforcement()
	t.Log(got)
	if h, _ := cgroupHierarchy(); h != nil && !strings.HasPrefix(got, "cgroup v") {
		t.Errorf("Enforcement() = %q with a cgroup at hand", got)
	}
	t.Setenv(cgroupEnv, "off")
	if got := Enforcement(); !strings.HasPrefix(got, "watchdog (no cgroup: "+cgroupEnv+"=off)") {
		t.Errorf("Enforcement() = %q with the cgroup switched off", got)
	}
}

// TestCgroupHoldsInitAndGoes checks that init is in the sandbox's cgroup,
// whose limits are the sandbox's, and that the cgroup is gone once the
// sandbox has ended.
func TestCgroupHoldsInitAndGoes(t *testing.T) {
	h, why := cgroupHierarchy()
	if h == nil {
		t.Skipf("no cgroup here: %s", why)
	}
	lim := Limits{Memory: 300 << 20, Processes: 77, CPUs: 1.5}
	p, line := startLine(t, "/bin/sh", []string{"-c", "echo up; exec sleep 60"}, lim)
	if line != "up" {
		t.Fatalf("first line %q", line)
	}
	cg, ok := p.lim.(*cgroup)
	if !ok {
		t.Fatalf("the sandbox runs under %T, not its cgroup", p.lim)
	}
	dirs := append([]string{}, cg.dirs...)
	want := map[string]string{}
	if h.v2 {
		want["memory.max"] = "314572800"
		want["memory.oom.group"] = "1"
		want["pids.max"] = "77"
		if h.cpu {
			want["cpu.max"] = "150000 100000"
		}
	} else {
		want["memory.limit_in_bytes"] = "314572800"
		want["pids.max"] = "77"
		if h.cpu {
			want["cpu.cfs_quota_us"] = "150000"
		}
	}
	for _, d := range dirs {
		procs := strings.Fields(readString(filepath.Join(d, "cgroup.procs")))
		if !slices.Contains(procs, strconv.Itoa(p.Pid())) {
			t.Errorf("init (%d) is not in %s: %v", p.Pid(), d, procs)
		}
		for f, v := range want {
			if b, err := os.ReadFile(filepath.Join(d, f)); err == nil && strings.TrimSpace(string(b)) != v {
				t.Errorf("%s/%s = %q, want %q", d, f, strings.TrimSpace(string(b)), v)
			}
			delete(want, f)
		}
	}
	for f := range want {
		t.Errorf("no cgroup has %s", f)
	}
	p.Kill()
	if e := p.Wait(); !e.Killed || e.MemoryCap {
		t.Errorf("exit %+v, want killed, not at the memory cap", e)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the sandbox ended: %v", d, err)
		}
	}
}

// TestMemoryCapCountsTmpfs fills /dev/shm, which holds memory and no
// process's, past the memory cap: the sandbox is killed at the cap.
func TestMemoryCapCountsTmpfs(t *testing.T) {
	limitModes(t, func(t *testing.T) {
		lim := Limits{Memory: 256 << 20, TmpSize: 512 << 20}
		out, exit := runShell(t, t.TempDir(), "dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 2>/dev/null; echo filled; exec sleep 60", lim)
		if !exit.MemoryCap || !exit.Killed || exit.Signal != syscall.SIGKILL || exit.String() != "killed: the sandbox reached its memory cap" {
			t.Fatalf("exit %+v (%s), output %q; want the memory cap", exit, exit, out)
		}
	})
}

// TestWatchdogMeasures checks what the watchdog counts: memfd files held
// open or only mapped, shared anonymous memory, and the tmpfs folders,
// on top of the processes' own memory.
func TestWatchdogMeasures(t *testing.T) {
	t.Setenv(cgroupEnv, "off")
	const script = `
import mmap, os, sys, time
MiB = 1 << 20
def memfd(name, n):
    fd = os.memfd_create(name)
    for _ in range(n):
        os.write(fd, b"x" * MiB)
    return fd
held = memfd("held", 64)                        # 64 MiB, open, not mapped
fd = memfd("mapped", 32)                         # 32 MiB, mapped, closed
m = mmap.mmap(fd, 32 * MiB)
os.close(fd)
anon = mmap.mmap(-1, 16 * MiB)                   # 16 MiB shared, untouched
open("/dev/shm/f", "wb").write(b"y" * (8 * MiB)) # 8 MiB of tmpfs
if os.fork() == 0:                               # a child sharing it all
    time.sleep(60)
    os._exit(0)
print("ready", flush=True)
time.sleep(60)
`
	p, line := startLine(t, "/usr/bin/python3", []string{"-c", script}, Limits{Memory: 1 << 30})
	if line != "ready" {
		t.Fatalf("first line %q", line)
	}
	m := newMeter(p.Pid())
	pids, err := m.pids()
	if err != nil || len(pids) != 3 {
		t.Fatalf("the sandbox's processes: %v, %v; want init, python and its child", pids, err)
	}
	used, err := m.measure()
	if err != nil {
		t.Fatal(err)
	}
	const shared = (64 + 32 + 16 + 8) << 20
	t.Logf("measured %d MiB, of which %d MiB shared memory", used>>20, shared>>20)
	// Python and init themselves hold some 10 to 40 MiB.
	if used < shared || used > shared+64<<20 {
		t.Fatalf("measured %d MiB, want %d MiB and the processes' own", used>>20, shared>>20)
	}
}

// TestCgroupRemovedWhenStartFails checks that a sandbox that could not
// start leaves no cgroup behind.
func TestCgroupRemovedWhenStartFails(t *testing.T) {
	h, why := cgroupHierarchy()
	if h == nil {
		t.Skipf("no cgroup here: %s", why)
	}
	before := sandboxCgroups(h)
	// Init refuses a relative shared folder while it sets up the root.
	_, err := Start(Spec{Program: "/bin/true", WorkDir: t.TempDir(), Shared: map[string]string{"relative": "/usr"}})
	if err == nil || !strings.Contains(err.Error(), "must be absolute") {
		t.Fatalf("start: %v, want init's refusal", err)
	}
	if after := sandboxCgroups(h); len(after) != len(before) {
		t.Fatalf("cgroups left: %v (before: %v)", after, before)
	}
}

// sandboxCgroups lists this process's sandbox cgroups.
func sandboxCgroups(h *hierarchy) []string {
	var out []string
	prefix := "plotline-" + strconv.Itoa(os.Getpid()) + "-"
	for _, parent := range h.parents {
		ents, _ := os.ReadDir(parent)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, filepath.Join(parent, e.Name()))
			}
		}
	}
	return out
}

// fakeCgroup2 lays out a cgroup v2 folder for path in a temporary tree,
// with the given files, and returns the mounts that show it and its folder.
func fakeCgroup2(t *testing.T, path string, files map[string]string) ([]mountInfo, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, path)
	// A real cgroup's files come with its folder; here the leaf's must be
	// made beforehand.
	if err := os.MkdirAll(filepath.Join(dir, "plotline"), 0o755); err != nil {
		t.Fatal(err)
	}
	files["plotline/cgroup.procs"] = ""
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []mountInfo{{root: "/", point: root, fstype: "cgroup2"}}, dir
}

func TestFindV2(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	const scope = "/user.slice/user-1000.slice/user@1000.service/app.slice/app-plotline.scope"
	own := map[string]string{"": scope}

	t.Run("AloneInItsScope", func(t *testing.T) {
		mounts, dir := fakeCgroup2(t, scope, map[string]string{
			"cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": "", "cgroup.procs": self + "\n",
		})
		h, err := findV2(mounts, own)
		if err != nil {
			t.Fatal(err)
		}
		if !h.v2 || !h.cpu || !slices.Equal(h.parents, []string{dir}) || !h.intoFD.Load() {
			t.Errorf("hierarchy %+v", h)
		}
		if want := "cgroup v2 (memory, pids, cpu) delegated at " + dir + "; plotline itself moved to " + dir + "/plotline"; h.desc != want {
			t.Errorf("desc %q, want %q", h.desc, want)
		}
		if got := readString(filepath.Join(dir, "plotline/cgroup.procs")); got != self {
			t.Errorf("the leaf's cgroup.procs got %q, want %q", got, self)
		}
		if got := readString(filepath.Join(dir, "cgroup.subtree_control")); got != "+memory +pids +cpu" {
			t.Errorf("subtree_control got %q", got)
		}
	})

	t.Run("SharedScope", func(t *testing.T) {
		mounts, dir := fakeCgroup2(t, scope, map[string]string{
			"cgroup.controllers": "memory pids\n", "cgroup.subtree_control": "", "cgroup.procs": "4242\n" + self + "\n",
		})
		_, err := findV2(mounts, own)
		if err == nil || !strings.Contains(err.Error(), dir+" holds other processes than plotline (2 in all)") {
			t.Fatalf("err %v, want a refusal to move the scope's other processes", err)
		}
		if got := readString(filepath.Join(dir, "plotline/cgroup.procs")); got != "" {
			t.Errorf("plotline moved although it is not alone: %q", got)
		}
	})

	t.Run("NotDelegated", func(t *testing.T) {
		mounts, dir := fakeCgroup2(t, scope, map[string]string{
			"cgroup.controllers": "cpu io\n", "cgroup.subtree_control": "", "cgroup.procs": self + "\n",
		})
		_, err := findV2(mounts, own)
		if err == nil || err.Error() != "cgroup v2: "+dir+` has no memory and pids controllers delegated (it has "cpu io")` {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("AlreadyEnabled", func(t *testing.T) {
		mounts, dir := fakeCgroup2(t, scope, map[string]string{
			"cgroup.controllers": "memory pids\n", "cgroup.subtree_control": "memory pids\n", "cgroup.procs": "",
		})
		h, err := findV2(mounts, own)
		if err != nil {
			t.Fatal(err)
		}
		if h.cpu || h.desc != "cgroup v2 (memory, pids) delegated at "+dir {
			t.Errorf("hierarchy %+v", h)
		}
	})
}

func TestCgroupDir(t *testing.T) {
	mounts := []mountInfo{
		{root: "/", point: "/sys/fs/cgroup/unified", fstype: "cgroup2"},
		{root: "/", point: "/sys/fs/cgroup/cpu", fstype: "cgroup", super: []string{"rw", "cpu"}},
		{root: "/docker/abc", point: "/sys/fs/cgroup/memory", fstype: "cgroup", super: []string{"rw", "memory"}},
	}
	for _, c := range []struct{ fstype, ctl, path, want string }{
		{"cgroup2", "", "/", "/sys/fs/cgroup/unified"},
		{"cgroup2", "", "/user.slice/a.scope", "/sys/fs/cgroup/unified/user.slice/a.scope"},
		{"cgroup", "cpu", "/", "/sys/fs/cgroup/cpu"},
		{"cgroup", "memory", "/docker/abc/x", "/sys/fs/cgroup/memory/x"},
		{"cgroup", "memory", "/docker/abc", "/sys/fs/cgroup/memory"},
		{"cgroup", "memory", "/docker/abcd", ""}, // not below the mount's root
		{"cgroup", "memory", "/elsewhere", ""},
		{"cgroup", "pids", "/", ""},
		{"cgroup2", "", "/../outside", ""}, // out of a cgroup namespace
	} {
		got, err := cgroupDir(mounts, c.fstype, c.ctl, c.path)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("cgroupDir(%s, %q, %s) = %q, %v; want %q", c.fstype, c.ctl, c.path, got, err, c.want)
		}
	}
}

func TestReadCgroupFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/cgroup", []byte("12:pids:/\n4:cpu,cpuacct:/a\n1:name=systemd:/s\n0::/u\n"), 0o644)
	own, err := readProcCgroup(dir + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pids": "/", "cpu": "/a", "cpuacct": "/a", "name=systemd": "/s", "": "/u"}
	if len(own) != len(want) {
		t.Errorf("got %v, want %v", own, want)
	}
	for k, v := range want {
		if own[k] != v {
			t.Errorf("%q: got %q, want %q", k, own[k], v)
		}
	}
	os.WriteFile(dir+"/mountinfo", []byte(`41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
35 31 0:32 /a\040b /mnt/my\040cgroups rw,relatime shared:1 - cgroup cgroup rw,memory
`), 0o644)
	ms, err := readMountinfo(dir + "/mountinfo")
	if err != nil || len(ms) != 2 {
		t.Fatalf("%+v, %v", ms, err)
	}
	if m := ms[1]; m.root != "/a b" || m.point != "/mnt/my cgroups" || m.fstype != "cgroup" || !slices.Equal(m.super, []string{"rw", "memory"}) {
		t.Errorf("%+v", m)
	}
}

// TestStartInitWithoutCgroupFD checks that init still starts when the
// kernel will not start it in its cgroup: here the descriptor is no
// cgroup's at all, which the kernel refuses as it would refuse
// CLONE_INTO_CGROUP before Linux 5.7.
func TestStartInitWithoutCgroupFD(t *testing.T) {
	fd, err := syscall.Open(t.TempDir(), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &hierarchy{v2: true}
	h.intoFD.Store(true)
	cg := &cgroup{h: h, fd: fd}
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	started, err := startInit(cmd, cg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := started.Wait(); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if started == cmd || started.SysProcAttr.UseCgroupFD || cg.fd != -1 || h.intoFD.Load() {
		t.Errorf("retried %v, with the cgroup fd %v, fd %d, later sandboxes into the cgroup %v; want a retry without",
			started != cmd, started.SysProcAttr.UseCgroupFD, cg.fd, h.intoFD.Load())
	}
}
