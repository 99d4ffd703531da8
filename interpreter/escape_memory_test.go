//go:build linux

package interpreter

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"plotline/interpreter/sandbox"
)

// The memory cap is the whole sandbox's: these cells spread their memory
// over processes, memfd files and shared memory, which RLIMIT_AS, a limit
// per process and per mapping, let through. Each runs under the sandbox's
// cgroup, where the machine has one, and under the watchdog, forced with
// PLOTLINE_SANDBOX_CGROUP=off.

const escMemCap = 512 << 20

// escMemModes runs f under each way of enforcing the cap.
func escMemModes(t *testing.T, f func(t *testing.T)) {
	t.Run("cgroup", func(t *testing.T) {
		if e := sandbox.Enforcement(); !strings.HasPrefix(e, "cgroup") {
			t.Skipf("no cgroup here: %s", e)
		}
		f(t)
	})
	t.Run("watchdog", func(t *testing.T) {
		t.Setenv("PLOTLINE_SANDBOX_CGROUP", "off")
		f(t)
	})
}

// escMemSession starts a session whose sandbox has the test's memory cap.
func escMemSession(t *testing.T, tune func(*Config)) *Session {
	t.Helper()
	return newTestSession(t, func(c *Config) {
		c.Limits.Sandbox.Memory = escMemCap
		c.Limits.CellTimeout = 60 * time.Second
		if tune != nil {
			tune(c)
		}
	})
}

// escMemStopped checks that the cell r was stopped at the memory cap, that
// nothing of its sandbox (whose pid namespace is ns) is left on the host,
// and that the session goes on with a fresh kernel.
func escMemStopped(t *testing.T, s *Session, r *Result, ns string) {
	t.Helper()
	// Killed from outside, not a MemoryError Python raised on its own.
	if r.Error == nil || r.Error.Name != "MemoryError" || !r.Restarted ||
		!strings.HasPrefix(r.Error.Message, "The Python kernel died") || !strings.Contains(r.Error.Message, "memory") {
		t.Fatalf("error %+v, restarted %v, stdout %q; want the kernel killed at the memory cap", r.Error, r.Restarted, r.Stdout)
	}
	if !eventually(5*time.Second, func() bool { return len(escProcsInPidNS(ns)) == 0 }) {
		t.Fatalf("processes of the stopped sandbox survive: %v", escProcsInPidNS(ns))
	}
	if out := escRun(t, s, "print(6 * 7)"); out != "42\n" {
		t.Fatalf("the session after the cap: %q", out)
	}
}

// escPidNS returns the pid namespace of s's kernel, as the host names it.
func escPidNS(t *testing.T, s *Session) string {
	t.Helper()
	return strings.TrimSpace(escRun(t, s, "import os\nprint(os.readlink('/proc/self/ns/pid'))"))
}

// TestEscapeMemoryManyProcesses spreads 800 MiB over four processes of
// 200 MiB each, every one within its own RLIMIT_AS.
func TestEscapeMemoryManyProcesses(t *testing.T) {
	escMemModes(t, func(t *testing.T) {
		s := escMemSession(t, nil)
		ns := escPidNS(t, s)
		r := mustExec(t, s, `
import subprocess, sys
hold = "import time\nx = b'x' * (200 << 20)\nprint('held', flush=True)\ntime.sleep(60)"
procs = [subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE) for _ in range(4)]
for p in procs:
    p.stdout.readline()
print("four processes hold 800 MiB")
`)
		escMemStopped(t, s, r, ns)
	})
}

// TestEscapeMemoryMemfd writes 1.5 GiB into a memfd file, which is in no
// process's address space.
func TestEscapeMemoryMemfd(t *testing.T) {
	escMemModes(t, func(t *testing.T) {
		s := escMemSession(t, nil)
		ns := escPidNS(t, s)
		r := mustExec(t, s, `
import os, time
fd = os.memfd_create("fill")
block = b"x" * (64 << 20)
for _ in range(24):
    os.write(fd, block)
print("a memfd holds 1.5 GiB")
time.sleep(60)
`)
		escMemStopped(t, s, r, ns)
	})
}

// TestEscapeMemorySysV uses System V shared memory: a segment over the
// cap is refused, a segment no process has attached is destroyed (so it
// cannot hold memory where no one sees it), and segments held attached
// past the cap stop the sandbox: two of 250 MiB, which fit in the System V
// limit (the cap), on top of the kernel's own memory. Each segment lives
// in a fresh Python, whose address space has room for it under RLIMIT_AS.
func TestEscapeMemorySysV(t *testing.T) {
	const shm = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmdt.argtypes = [ctypes.c_void_p]
MiB, IPC_PRIVATE, IPC_CREAT = 1 << 20, 0, 0o1000
def shmget(key, size, flags):
    ctypes.set_errno(0)
    id = libc.shmget(key, size, flags)
    return id, ctypes.get_errno() if id < 0 else 0
def attach_and_touch(id, size):
    addr = libc.shmat(id, None, 0)
    if addr == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), "shmat")
    ctypes.memset(addr, 1, size)
    return addr
`
	escMemModes(t, func(t *testing.T) {
		s := escMemSession(t, nil)
		ns := escPidNS(t, s)
		limits := escRun(t, s, "print(open('/proc/sys/kernel/shm_rmid_forced').read().strip(), open('/proc/sys/kernel/shmmax').read().strip())")
		if limits != fmt.Sprintf("1 %d\n", escMemCap) {
			t.Fatalf("the sandbox has the kernel's System V limits (shm_rmid_forced, shmmax: %q): init must call capIPC in setupRoot", limits)
		}
		out := escRun(t, s, fmt.Sprintf(`
import subprocess, sys
shm = %s
def run(code):
    p = subprocess.run([sys.executable, "-c", shm + code], capture_output=True, text=True)
    return (p.stdout + p.stderr).strip()
print("over the cap:", run("print(*shmget(0x5e6d0001, 1 << 30, IPC_CREAT | 0o600))"))
print("detached:", run("""
found = []
for i in range(5):
    key = 0x5e6d0100 + i
    id, _ = shmget(key, 200 * MiB, IPC_CREAT | 0o600)
    libc.shmdt(ctypes.c_void_p(attach_and_touch(id, 200 * MiB)))
    found.append(shmget(key, 0, 0))
print(found)
"""))
`, escPyStr(shm)))
		escLines(t, out,
			"over the cap: -1 22",
			"detached: [(-1, 2), (-1, 2), (-1, 2), (-1, 2), (-1, 2)]",
		)

		r := mustExec(t, s, fmt.Sprintf(`
import subprocess, sys
hold = %s + """
id, err = shmget(IPC_PRIVATE, 250 * MiB, IPC_CREAT | 0o600)
if id < 0:
    print("refused", err, flush=True)
    sys.exit()
attach_and_touch(id, 250 * MiB)
print("held", flush=True)
time.sleep(60)
"""
procs = [subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True) for _ in range(2)]
print([p.stdout.readline().strip() for p in procs])
`, escPyStr(shm)))
		escMemStopped(t, s, r, ns)
	})
}

// TestEscapeForkBombAsRoot checks the process cap in each mode. The pids
// cgroup holds it even for the host's root, for whom the kernel does not
// enforce RLIMIT_NPROC; without a cgroup, root's sandbox relies on its pid
// namespace's pid_max (Linux 6.14+), whose floor is 300 tasks.
func TestEscapeForkBombAsRoot(t *testing.T) {
	const limit = 64
	escMemModes(t, func(t *testing.T) {
		bound := limit
		if os.Geteuid() == 0 && !strings.HasPrefix(sandbox.Enforcement(), "cgroup") {
			if !escKernelAtLeast(6, 14) {
				t.Skip("as root, without a cgroup, only Linux 6.14's pid_max bounds the sandbox's processes")
			}
			bound = 300
		}
		// Up to 300 copies of the kernel dirty pages of their own: under
		// the small cap of the memory tests the memory cap, not the
		// process cap, could end this one. The default cap leaves room.
		s := escMemSession(t, func(c *Config) {
			c.Limits.Sandbox.Processes = limit
			c.Limits.Sandbox.Memory = sandbox.DefaultMemory
		})
		ns := escPidNS(t, s)
		out := escRun(t, s, escForkUpTo400+`
print(type(err).__name__, err.errno if err else 0, len(children))
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
`)
		var name string
		var errno, forks int
		if _, err := fmt.Sscan(out, &name, &errno, &forks); err != nil {
			t.Fatalf("cell output %q: %v", out, err)
		}
		t.Logf("forking stopped after %d children (bound %d)", forks, bound)
		if name != "BlockingIOError" || errno != int(syscall.EAGAIN) || forks >= bound {
			t.Fatalf("forking stopped with %s %d after %d children, want BlockingIOError %d before %d",
				name, errno, forks, syscall.EAGAIN, bound)
		}
		if out := escRun(t, s, "print(6 * 7)"); out != "42\n" {
			t.Fatalf("after the bomb: %q", out)
		}
		s.Close()
		if !eventually(5*time.Second, func() bool { return len(escProcsInPidNS(ns)) == 0 }) {
			t.Fatalf("processes of the closed session survive: %v", escProcsInPidNS(ns))
		}
	})
}

// escCgroupDirs lists the cgroup folders (one per v1 hierarchy, or the
// v2 one) that host process pid is in and the test process is not.
func escCgroupDirs(t *testing.T, pid int) []string {
	t.Helper()
	own := map[string]string{}
	for _, l := range escCgroupLines(t, os.Getpid()) {
		own[l[0]] = l[1]
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, l := range escCgroupLines(t, pid) {
		if own[l[0]] == l[1] {
			continue
		}
		for _, m := range strings.Split(string(mounts), "\n") {
			pre, post, _ := strings.Cut(m, " - ")
			a, b := strings.Fields(pre), strings.Fields(post)
			if len(a) < 5 || len(b) < 3 || a[3] != "/" {
				continue
			}
			v2 := l[0] == "" && b[0] == "cgroup2"
			v1 := l[0] != "" && b[0] == "cgroup" && slices.Contains(strings.Split(b[2], ","), strings.Split(l[0], ",")[0])
			if v1 || v2 {
				dirs = append(dirs, filepath.Join(a[4], l[1]))
				break
			}
		}
	}
	return dirs
}

// escCgroupLines reads /proc/PID/cgroup as (controllers, path) pairs.
func escCgroupLines(t *testing.T, pid int) [][2]string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 {
			out = append(out, [2]string{parts[1], parts[2]})
		}
	}
	return out
}

// TestSandboxCgroupRemovedOnClose checks that a session's kernel runs in
// cgroups of its own, which are gone once the session is closed.
func TestSandboxCgroupRemovedOnClose(t *testing.T) {
	if e := sandbox.Enforcement(); !strings.HasPrefix(e, "cgroup") {
		t.Skipf("no cgroup here: %s", e)
	}
	s := escMemSession(t, nil)
	escRun(t, s, "x = 1")
	dirs := escCgroupDirs(t, s.k.proc.Pid())
	if len(dirs) == 0 {
		t.Fatal("the kernel's sandbox is in the test's own cgroups")
	}
	for _, d := range dirs {
		if !strings.HasPrefix(filepath.Base(d), "plotline-") {
			t.Errorf("the kernel's sandbox is in %s, not a sandbox cgroup", d)
		}
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("the sandbox's cgroup: %v", err)
		}
	}
	s.Close()
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s is left after the session closed: %v", d, err)
		}
	}
}
