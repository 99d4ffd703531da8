//go:build linux

package interpreter

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// The escape suite: each test runs real cells in a real sandboxed kernel
// that try to get out, and asserts the exact way they fail. Where an
// attempt could leave a trace on the host (a file, a connection, a
// process), the host is checked too. The cells print machine-checkable
// lines (an exception's class and errno, or a syscall's return value and
// errno) so that a changed outcome shows as a changed string.
//
// Read-only attempts share one session; attempts that break, fill or kill
// their kernel get their own. The syscall numbers in the cells are
// x86_64's.

// escPrelude defines two helpers for cells. try_(label, f) prints
// "label: OK" (with f's result if show is set) or "label: ExceptionName
// errno". sys_(label, nr, args...) makes a raw system call and prints
// "label: result errno".
const escPrelude = `
import ctypes, errno, os, socket, signal, sys, time
def try_(label, f, show=False):
    try:
        r = f()
    except BaseException as e:
        print("%s: %s %s" % (label, type(e).__name__, getattr(e, "errno", None)))
    else:
        print("%s: OK%s" % (label, " " + repr(r) if show else ""))
libc = ctypes.CDLL(None, use_errno=True)
def sys_(label, *args):
    # A raw syscall: prints its return value and errno.
    ctypes.set_errno(0)
    r = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    e = ctypes.get_errno()
    if r == 0 and args[0] == 56:  # a clone that worked: the child must go
        os._exit(0)
    print("%s: %d %d" % (label, r, e if r == -1 else 0))
`

// escToken returns a random string that names one test's traces.
func escToken(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// escRun runs a cell that must not raise, and returns its stdout.
func escRun(t *testing.T, s *Session, code string) string {
	t.Helper()
	r := mustExec(t, s, code)
	if r.Error != nil {
		t.Fatalf("cell raised %s: %s\n%s\nstdout: %s", r.Error.Name, r.Error.Message, r.Error.Traceback, r.Stdout)
	}
	return r.Stdout
}

// escLines checks that out holds exactly the lines want (in any order)
// and reports each line that differs.
func escLines(t *testing.T, out string, want ...string) {
	t.Helper()
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	missing := []string{}
	for _, w := range want {
		if i := slices.Index(got, w); i >= 0 {
			got = slices.Delete(got, i, i+1)
		} else {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 || len(got) > 0 {
		t.Errorf("cell output differs\nmissing: %q\nunexpected: %q", missing, got)
	}
}

// escPyStr quotes s as a Python string literal.
func escPyStr(s string) string { return strconv.Quote(s) }

// escProcs lists host pids whose command line contains needle.
func escProcs(needle string) []int {
	return hostPids(func(pid string) bool {
		b, err := os.ReadFile("/proc/" + pid + "/cmdline")
		return err == nil && bytes.Contains(b, []byte(needle))
	})
}

// escProcsInPidNS lists host pids whose pid namespace link is ns (as
// readlink of /proc/PID/ns/pid gives it, "pid:[…]").
func escProcsInPidNS(ns string) []int {
	return hostPids(func(pid string) bool {
		l, err := os.Readlink("/proc/" + pid + "/ns/pid")
		return err == nil && l == ns
	})
}

// escNeedAMD64 skips cells that use x86_64 syscall numbers elsewhere.
func escNeedAMD64(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the cell uses x86_64 system call numbers")
	}
}

// escKernelAtLeast reports whether the running kernel is at least
// major.minor.
func escKernelAtLeast(major, minor int) bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	var ma, mi int
	if n, _ := fmt.Sscanf(string(b), "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// TestEscapeReadOnly groups the attempts that leave their kernel as they
// found it, in one session. The canary environment variable is set before
// the session starts, so that the kernel could inherit it if anything
// leaked.
func TestEscapeReadOnly(t *testing.T) {
	tok := escToken(t)
	envName, envValue := "PLOTLINE_ESCAPE_CANARY_"+strings.ToUpper(tok), "canary-value-"+tok
	t.Setenv(envName, envValue)

	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("no home folder to plant the canary in: %v", err)
	}
	homeCanary := filepath.Join(home, ".plotline-escape-canary-"+tok)
	if err := os.WriteFile(homeCanary, []byte("host secret "+tok), 0o644); err != nil {
		t.Fatalf("plant the home canary: %v", err)
	}
	t.Cleanup(func() { os.Remove(homeCanary) })

	s := newTestSession(t, nil)
	escRun(t, s, escPrelude)

	t.Run("HomeCanary", func(t *testing.T) {
		out := escRun(t, s, fmt.Sprintf(`
p = %s
try_("open", lambda: open(p).read())
try_("stat", lambda: os.stat(p))
try_("via init's root", lambda: open("/proc/1/root" + p).read())
try_("via init's cwd", lambda: os.listdir("/proc/1/cwd"))
`, escPyStr(homeCanary)))
		escLines(t, out,
			"open: FileNotFoundError 2",
			"stat: FileNotFoundError 2",
			"via init's root: PermissionError 13",
			"via init's cwd: PermissionError 13",
		)
	})

	t.Run("EtcShadow", func(t *testing.T) {
		if _, err := os.Stat("/etc/shadow"); err != nil {
			t.Logf("the host has no /etc/shadow (%v); the sandbox must not have one either", err)
		}
		out := escRun(t, s, `
try_("shadow", lambda: open("/etc/shadow").read())
try_("gshadow", lambda: open("/etc/gshadow").read())
try_("passwd is the sandbox's", lambda: open("/etc/passwd").read().splitlines()[0], show=True)
try_("etc listing", lambda: sorted(os.listdir("/etc")), show=True)
`)
		escLines(t, out,
			"shadow: FileNotFoundError 2",
			"gshadow: FileNotFoundError 2",
			"passwd is the sandbox's: OK 'root:x:0:0:Plotline sandbox:/tmp:/usr/sbin/nologin'",
			// Only what SystemReadOnly lists, and the files init writes.
			"etc listing: OK "+escEtcListing(),
		)
	})

	t.Run("EnvironmentCanary", func(t *testing.T) {
		out := escRun(t, s, fmt.Sprintf(`
name, value = %s, %s
print("in os.environ:", name in os.environ or any(value in v for v in os.environ.values()))
raw = open("/proc/self/environ", "rb").read().decode()
print("in /proc/self/environ:", name in raw or value in raw)
try_("init's environ", lambda: open("/proc/1/environ", "rb").read())
print("environment names:", sorted(os.environ))
`, escPyStr(envName), escPyStr(envValue)))
		escLines(t, out,
			"in os.environ: False",
			"in /proc/self/environ: False",
			"init's environ: PermissionError 13",
			"environment names: ['HOME', 'LANG', 'LOGNAME', 'MPLBACKEND', 'MPLCONFIGDIR', 'PATH', 'TERM', 'TMPDIR', 'USER', 'XDG_CACHE_HOME']",
		)
	})

	t.Run("TCPToHostLoopback", func(t *testing.T) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		out := escRun(t, s, fmt.Sprintf(`
port = %d
try_("tcp connect", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
try_("tcp6 connect", lambda: socket.create_connection(("::1", port), timeout=2))
try_("udp socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
try_("raw socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
try_("netlink socket", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
try_("packet socket", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
try_("vsock socket", lambda: socket.socket(40, socket.SOCK_STREAM, 0))
`, port))
		escLines(t, out,
			"tcp connect: OSError 97",
			"tcp6 connect: OSError 97",
			"udp socket: OSError 97",
			"raw socket: OSError 97",
			"netlink socket: OSError 97",
			"packet socket: OSError 97",
			"vsock socket: OSError 97",
		)
		select {
		case c := <-accepted:
			c.Close()
			t.Fatal("the host's listener accepted a connection from the sandbox")
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("AbstractUnixSocketOfHost", func(t *testing.T) {
		// Abstract unix sockets have no file to hide; only the network
		// namespace (and Landlock's scoping) keep the host's out of reach.
		name := "plotline-escape-" + tok
		ln, err := net.Listen("unix", "@"+name)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		out := escRun(t, s, fmt.Sprintf(`
def conn():
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(2)
    c.connect("\0" + %s)
try_("connect", conn)
`, escPyStr(name)))
		escLines(t, out, "connect: ConnectionRefusedError 111")
		select {
		case c := <-accepted:
			c.Close()
			t.Fatal("the host's abstract socket accepted a connection from the sandbox")
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("DNS", func(t *testing.T) {
		out := escRun(t, s, `
try_("getaddrinfo", lambda: socket.getaddrinfo("example.com", 80), show=True)
try_("gethostbyname", lambda: socket.gethostbyname("example.com"), show=True)
try_("resolv.conf", lambda: open("/etc/resolv.conf").read())
`)
		escLines(t, out,
			"getaddrinfo: gaierror -3",
			"gethostbyname: gaierror -2",
			"resolv.conf: FileNotFoundError 2",
		)
	})

	t.Run("Identity", func(t *testing.T) {
		out := escRun(t, s, `
print("hostname:", socket.gethostname())
status = dict(l.split(":\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\t" in l)
for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
    print(k + ":", status[k].strip())
print("uid_map lines:", len(open("/proc/self/uid_map").read().splitlines()))
print("gid_map lines:", len(open("/proc/self/gid_map").read().splitlines()))
try_("sys", lambda: os.listdir("/sys"))
try_("root listing", lambda: os.listdir("/"))
try_("tty", lambda: open("/dev/tty"))
print("dev:", sorted(os.listdir("/dev")))
print("isatty:", [os.isatty(fd) for fd in (0, 1, 2)])
`)
		escLines(t, out,
			"hostname: sandbox",
			"CapInh: 0000000000000000",
			"CapPrm: 0000000000000000",
			"CapEff: 0000000000000000",
			"CapBnd: 0000000000000000",
			"CapAmb: 0000000000000000",
			"NoNewPrivs: 1",
			"Seccomp: 2",
			"uid_map lines: 1",
			"gid_map lines: 1",
			"sys: FileNotFoundError 2",
			"root listing: PermissionError 13",
			"tty: FileNotFoundError 2",
			"dev: ['fd', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'urandom', 'zero']",
			"isatty: [False, False, False]",
		)
	})

	t.Run("HostProcessesInvisible", func(t *testing.T) {
		// The host test process has a pid; the sandbox must not see it,
		// nor any process but its own init, the kernel and its children.
		out := escRun(t, s, fmt.Sprintf(`
host_pid = %d
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("pid 1 is init:", open("/proc/1/cmdline", "rb").read().split(b"\0")[1].decode())
print("parent:", os.getppid())
print("few pids:", len(pids) <= 3 and pids[0] == 1 and os.getpid() in pids)
print("host test pid visible:", os.path.exists("/proc/%%d" %% host_pid))
try_("signal host test pid", lambda: os.kill(host_pid, 0))
`, os.Getpid()))
		escLines(t, out,
			"pid 1 is init: __plotline-sandbox-init",
			"parent: 1",
			"few pids: True",
			"host test pid visible: False",
			"signal host test pid: ProcessLookupError 3",
		)
	})

	t.Run("InitBinary", func(t *testing.T) {
		// /proc/1/exe would hand out the plotline binary (and with it a way
		// to run plotline's own code inside); it must be closed.
		out := escRun(t, s, `
try_("open init's exe", lambda: open("/proc/1/exe", "rb").read(4))
try_("readlink init's exe", lambda: os.readlink("/proc/1/exe"))
try_("exec init's exe", lambda: os.execv("/proc/1/exe", ["x"]))
try_("init's memory", lambda: open("/proc/1/mem", "rb"))
try_("init's maps", lambda: open("/proc/1/maps").read())
try_("init's fd 4", lambda: os.readlink("/proc/1/fd/4"))
`)
		escLines(t, out,
			"open init's exe: PermissionError 13",
			"readlink init's exe: PermissionError 13",
			"exec init's exe: PermissionError 13",
			"init's memory: PermissionError 13",
			"init's maps: PermissionError 13",
			"init's fd 4: PermissionError 13",
		)
	})

	t.Run("ProcSysReadOnly", func(t *testing.T) {
		// When Plotline runs as the host's root, the kernel's uid 0 is the
		// host's: only a read-only /proc/sys (EROFS, which the kernel checks
		// before any LSM) keeps a cell from setting kernel.core_pattern and
		// having the host run a program of its choosing. As any other user,
		// the file mode already refuses (EACCES).
		want, pidMax := "PermissionError 13", "PermissionError 13"
		if os.Geteuid() == 0 {
			want = "OSError 30"
		}
		if os.Geteuid() == 0 || escKernelAtLeast(6, 14) {
			// pid_max is the pid namespace's own from 6.14, and its root
			// may write it: the cell's uid 0 passes the file mode, and only
			// the read-only mount keeps it from lifting the sandbox's cap.
			pidMax = "OSError 30"
		}
		out := escRun(t, s, `
for p in ("kernel/core_pattern", "kernel/pid_max", "kernel/randomize_va_space", "vm/drop_caches", "fs/file-max"):
    try_(p, lambda: os.close(os.open("/proc/sys/" + p, os.O_WRONLY)))
try_("kernel/modprobe", lambda: os.path.exists("/proc/sys/kernel/modprobe") and os.close(os.open("/proc/sys/kernel/modprobe", os.O_WRONLY)))
`)
		modprobe := "kernel/modprobe: OK" // not in this kernel
		if _, err := os.Stat("/proc/sys/kernel/modprobe"); err == nil {
			modprobe = "kernel/modprobe: " + want
		}
		escLines(t, out,
			"kernel/core_pattern: "+want,
			"kernel/pid_max: "+pidMax,
			"kernel/randomize_va_space: "+want,
			"vm/drop_caches: "+want,
			"fs/file-max: "+want,
			modprobe,
		)
	})

	t.Run("ProcMasked", func(t *testing.T) {
		// The files of /proc that tell of the host's kernel read as empty,
		// and its driver folders as empty folders, as in a container.
		// Before, with Plotline run as root, slabinfo, timer_list,
		// vmallocinfo and pagetypeinfo were readable.
		out := escRun(t, s, `
import os
for p in ("kcore", "kmsg", "keys", "key-users", "kpagecount", "kpageflags", "kpagecgroup", "pagetypeinfo",
          "slabinfo", "vmallocinfo", "timer_list", "sched_debug", "sysrq-trigger", "iomem", "ioports"):
    if os.path.exists("/proc/" + p):
        try:
            print(p, len(open("/proc/" + p, "rb").read(4096)))
        except OSError as e:
            print(p, "OSError", e.errno)
for d in ("acpi", "driver"):
    if os.path.exists("/proc/" + d):
        print(d, os.listdir("/proc/" + d))
print("cpuinfo readable:", len(open("/proc/cpuinfo").read()) > 0)
`)
		var want []string
		for _, p := range []string{"kcore", "kmsg", "keys", "key-users", "kpagecount", "kpageflags", "kpagecgroup", "pagetypeinfo",
			"slabinfo", "vmallocinfo", "timer_list", "sched_debug", "sysrq-trigger", "iomem", "ioports"} {
			if _, err := os.Lstat("/proc/" + p); err == nil {
				want = append(want, p+" 0")
			}
		}
		for _, d := range []string{"acpi", "driver"} {
			if _, err := os.Lstat("/proc/" + d); err == nil {
				want = append(want, d+" []")
			}
		}
		escLines(t, out, append(want, "cpuinfo readable: True")...)
	})

	t.Run("MountinfoHostPaths", func(t *testing.T) {
		// /proc/self/mountinfo gives each mount's source path on the host.
		// The folders Plotline prepares (the font cache) are copied in, not
		// bound, so that no path of the user's shows. The work folder is
		// the one bind that still shows its host path (see the README).
		out := escRun(t, s, `
roots = sorted({l.split()[3] for l in open("/proc/self/mountinfo")})
print("\n".join(roots))
`)
		fonts := s.cfg.fonts
		for _, root := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasSuffix(s.Dir(), root) && root != "/" {
				continue // the work folder
			}
			if fonts != "" && strings.HasPrefix(root, fonts) || strings.HasPrefix(root, home) && home != "/" {
				t.Errorf("mountinfo shows the host path %s", root)
			}
		}
		if fonts == "" {
			t.Log("no font cache here: only the home folder was checked")
		}
	})

	t.Run("WritableMounts", func(t *testing.T) {
		// Every mount but these must be read-only: the work folder, the
		// private /tmp and /dev/shm, /dev (kept read-only by Landlock; its
		// device binds are the host's null, zero, random and urandom) and
		// /proc (whose sysctls are bound read-only on top).
		out := escRun(t, s, `
rw = sorted(f[4] for f in (l.split() for l in open("/proc/self/mountinfo")) if "rw" in f[5].split(","))
print("read-write mounts:", rw)
`)
		escLines(t, out, "read-write mounts: ['/dev', '/dev/null', '/dev/random', '/dev/shm', '/dev/urandom', '/dev/zero', '/mnt/data', '/proc', '/tmp']")
	})

	t.Run("NamespacesAndKernelInterfaces", func(t *testing.T) {
		escNeedAMD64(t)
		// Each is denied by the seccomp filter with EPERM, except clone3
		// (ENOSYS, so that the C library falls back to clone, whose flags
		// the filter can read).
		out := escRun(t, s, `
NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000, 0x2000000
sys_("unshare user", 272, NEWUSER)
sys_("unshare mount", 272, NEWNS)
sys_("unshare net", 272, NEWNET)
sys_("unshare cgroup", 272, NEWCGROUP)
sys_("clone user", 56, NEWUSER | signal.SIGCHLD, 0, 0, 0, 0)
sys_("clone pid", 56, NEWPID | signal.SIGCHLD, 0, 0, 0, 0)
sys_("clone3", 435, 0, 0)
sys_("setns", 308, 0, 0)
sys_("mount", 165, b"none", b"/tmp", b"tmpfs", 0, 0)
sys_("umount /mnt/data", 166, b"/mnt/data", 2)
sys_("pivot_root", 155, b"/tmp", b"/tmp")
sys_("chroot", 161, b"/tmp")
sys_("open_tree", 428, -100, b"/", 1)
sys_("fsopen", 430, b"tmpfs", 0)
sys_("keyctl", 250, 0, 0, 0, 0, 0)
sys_("add_key", 248, b"user", b"k", b"v", 1, -4)
sys_("request_key", 249, b"user", b"k", 0, 0)
sys_("bpf", 321, 0, 0, 0)
sys_("perf_event_open", 298, 0, 0, -1, -1, 0)
sys_("io_uring_setup", 425, 8, 0)
sys_("userfaultfd", 323, 0)
sys_("ptrace attach init", 101, 16, 1, 0, 0)
sys_("ptrace traceme", 101, 0, 0, 0, 0)
sys_("process_vm_readv", 310, 1, 0, 0, 0, 0, 0)
sys_("pidfd_getfd", 438, 0, 0, 0)
sys_("open_by_handle_at", 304, -100, 0, 0)
sys_("name_to_handle_at", 303, -100, b"/", 0, 0, 0)
sys_("init_module", 175, 0, 0, b"")
sys_("finit_module", 313, 0, b"", 0)
sys_("kexec_load", 246, 0, 0, 0, 0)
sys_("reboot", 169, 0xfee1dead, 672274793, 0x4321fedc, 0)
sys_("swapon", 167, b"/mnt/data/x", 0)
sys_("acct", 163, 0)
sys_("syslog", 103, 3, 0, 0)
sys_("settimeofday", 164, 0, 0)
sys_("clock_settime", 227, 0, 0)
sys_("x32 getpid", 0x40000000 + 39)
`)
		escLines(t, out,
			"unshare user: -1 1",
			"unshare mount: -1 1",
			"unshare net: -1 1",
			"unshare cgroup: -1 1",
			"clone user: -1 1",
			"clone pid: -1 1",
			"clone3: -1 38",
			"setns: -1 1",
			"mount: -1 1",
			"umount /mnt/data: -1 1",
			"pivot_root: -1 1",
			"chroot: -1 1",
			"open_tree: -1 1",
			"fsopen: -1 1",
			"keyctl: -1 1",
			"add_key: -1 1",
			"request_key: -1 1",
			"bpf: -1 1",
			"perf_event_open: -1 1",
			"io_uring_setup: -1 1",
			"userfaultfd: -1 1",
			"ptrace attach init: -1 1",
			"ptrace traceme: -1 1",
			"process_vm_readv: -1 1",
			"pidfd_getfd: -1 1",
			"open_by_handle_at: -1 1",
			"name_to_handle_at: -1 1",
			"init_module: -1 1",
			"finit_module: -1 1",
			"kexec_load: -1 1",
			"reboot: -1 1",
			"swapon: -1 1",
			"acct: -1 1",
			"syslog: -1 1",
			"settimeofday: -1 1",
			"clock_settime: -1 1",
			"x32 getpid: -1 38",
		)
	})

	t.Run("DevicesAndLinks", func(t *testing.T) {
		// A device node or a hard link to a system file in /mnt/data would
		// be a door on the host's side of the work folder.
		out := escRun(t, s, `
try_("mknod char device", lambda: os.mknod("/mnt/data/mem", 0o600 | 0o020000, os.makedev(1, 1)))
try_("mknod block device", lambda: os.mknod("/mnt/data/disk", 0o600 | 0o060000, os.makedev(8, 0)))
try_("hard link a system file", lambda: os.link("/usr/bin/env", "/mnt/data/env"))
try_("hard link sandbox passwd", lambda: os.link("/etc/passwd", "/mnt/data/passwd"))
print("left behind:", sorted(os.listdir("/mnt/data")))
`)
		escLines(t, out,
			"mknod char device: PermissionError 1",
			"mknod block device: PermissionError 1",
			"hard link a system file: OSError 18",
			"hard link sandbox passwd: OSError 18",
			"left behind: []",
		)
	})
}

// escEtcListing is what the sandbox's /etc must hold: the files of
// SystemReadOnly under /etc that the host has, and the ones init writes.
func escEtcListing() string {
	names := []string{"group", "hostname", "hosts", "passwd"}
	for _, p := range []string{"/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/etc/matplotlibrc",
		"/etc/mime.types", "/etc/alternatives", "/etc/python3", "/etc/python3.11", "/etc/timezone"} {
		if _, err := os.Lstat(p); err == nil {
			names = append(names, filepath.Base(p))
		}
	}
	slices.Sort(names)
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// TestEscapeWriteOutsideWorkFolder tries to create a file everywhere but
// /mnt/data, including at the host paths of the work folder and its
// parent, and checks on the host that nothing appeared.
func TestEscapeWriteOutsideWorkFolder(t *testing.T) {
	tok := escToken(t)
	name := "plotline-escape-" + tok
	s := newTestSession(t, nil)
	home, _ := os.UserHomeDir()
	hostParent := filepath.Dir(s.Dir())
	// The host's home is tried unless the sandbox has a folder of its own
	// at that path (a home of / or /tmp), where writing is allowed.
	homeInside, wantHome := home, []string{"home: FileNotFoundError 2"}
	if home == "" || home == "/" || home == "/tmp" {
		homeInside, wantHome = "", nil
	}

	out := escRun(t, s, escPrelude+fmt.Sprintf(`
name = %s
def create(p):
    with open(p, "x") as f:
        f.write("escaped")
for label, d in [("root", "/"), ("usr", "/usr"), ("usr/bin", "/usr/bin"), ("etc", "/etc"), ("mnt", "/mnt"),
                 ("tmp/../..", "/tmp/../.."), ("mnt/data/..", "/mnt/data/.."), ("cwd/..", "/proc/self/cwd/.."),
                 ("init's root", "/proc/1/root"), ("init's root tmp", "/proc/1/root/tmp"),
                 ("dev", "/dev"), ("proc", "/proc"), ("proc/sys", "/proc/sys/kernel"),
                 ("host work folder", %s), ("host parent", %s)]:
    try_(label, lambda: create(os.path.join(d, name)))
home = %s
if home:
    try_("home", lambda: create(os.path.join(home, name)))
try_("private tmp", lambda: create("/tmp/" + name))
try_("private shm", lambda: create("/dev/shm/" + name))
try_("work folder", lambda: create("/mnt/data/" + name))
try_("rename out of work folder", lambda: os.rename("/mnt/data/" + name, "/" + name))
try_("rename into tmp", lambda: os.rename("/mnt/data/" + name, "/tmp/moved-" + name))
try_("chmod /usr", lambda: os.chmod("/usr/bin/env", 0o777))
try_("truncate a system file", lambda: os.truncate("/usr/bin/env", 0))
try_("append to a system file", lambda: open("/usr/bin/env", "ab"))
`, escPyStr(name), escPyStr(s.Dir()), escPyStr(hostParent), escPyStr(homeInside)))
	// A system file is not writable by its mode as any user but root; as
	// root, the read-only mount refuses.
	sysFile := "PermissionError 13"
	if os.Geteuid() == 0 {
		sysFile = "OSError 30"
	}
	escLines(t, out, append([]string{
		"root: OSError 30",
		"usr: OSError 30",
		"usr/bin: OSError 30",
		"etc: OSError 30",
		"mnt: OSError 30",
		"tmp/../..: OSError 30",
		"mnt/data/..: OSError 30",
		"cwd/..: OSError 30",
		"init's root: PermissionError 13",
		"init's root tmp: PermissionError 13",
		"dev: PermissionError 13",
		"proc: FileNotFoundError 2",
		"proc/sys: FileNotFoundError 2",
		"host work folder: FileNotFoundError 2",
		"host parent: FileNotFoundError 2",
		"private tmp: OK",
		"private shm: OK",
		"work folder: OK",
		"rename out of work folder: OSError 18",
		"rename into tmp: OSError 18",
		"chmod /usr: OSError 30",
		"truncate a system file: " + sysFile,
		"append to a system file: " + sysFile,
	}, wantHome...)...)

	// On the host: only the work folder holds the file.
	for _, d := range []string{"/", "/usr", "/usr/bin", "/etc", "/mnt", "/tmp", "/dev/shm", hostParent, home, os.TempDir()} {
		if _, err := os.Lstat(filepath.Join(d, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s appeared on the host in %s (%v)", name, d, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir(), name)); err != nil || string(b) != "escaped" {
		t.Errorf("the work folder's copy: %q, %v", b, err)
	}
	// Nothing else under the manager's root changed but the work folder.
	ents, err := os.ReadDir(hostParent)
	if err != nil || len(ents) != 1 || ents[0].Name() != filepath.Base(s.Dir()) {
		t.Errorf("the root of the work folders holds %v (%v)", ents, err)
	}
}

// TestEscapeSymlinkToHostFile plants links in /mnt/data that point at host
// files. Inside they resolve in the sandbox (where the targets do not
// exist or are the sandbox's own); the danger is the host following them
// when it reads the results, so Session.OpenFile and Result.Files are
// checked.
func TestEscapeSymlinkToHostFile(t *testing.T) {
	tok := escToken(t)
	outside := t.TempDir()
	canary := filepath.Join(outside, "canary.txt")
	secret := "host secret " + tok
	if err := os.WriteFile(canary, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t, nil)
	rel, err := filepath.Rel(s.Dir(), canary)
	if err != nil {
		t.Fatal(err)
	}

	r := mustExec(t, s, fmt.Sprintf(`
import os
os.symlink(%s, "canary-link.txt")
os.symlink(%s, "canary-relative.txt")
os.symlink("/etc/passwd", "passwd-link")
os.symlink(%s, "outside-dir")
os.symlink("/", "root-dir")
os.mkdir("sub")
os.symlink("../../../../../../../../etc/passwd", "sub/deep-link")
os.mkfifo("pipe")
open("real.txt", "w").write("ok")
print(os.path.exists("canary-link.txt"), open("passwd-link").read().startswith("root:x:0:0:Plotline sandbox"))
`, escPyStr(canary), escPyStr(rel), escPyStr(outside)))
	if r.Error != nil {
		t.Fatalf("cell: %+v", r.Error)
	}
	// Inside, the host path does not exist, and /etc/passwd is the sandbox's.
	if r.Stdout != "False True\n" {
		t.Fatalf("inside view of the links: %q", r.Stdout)
	}
	if !slices.Equal(r.Files, []string{"real.txt"}) {
		t.Errorf("Result.Files = %q, want only real.txt (no link, no FIFO)", r.Files)
	}

	for _, name := range []string{"canary-link.txt", "canary-relative.txt", "passwd-link",
		"outside-dir/canary.txt", "root-dir/etc/passwd", "sub/deep-link", "pipe"} {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			type opened struct {
				f   *os.File
				err error
			}
			done := make(chan opened, 1)
			go func() {
				f, err := s.OpenFile(name)
				done <- opened{f, err}
			}()
			var o opened
			select {
			case o = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("OpenFile(%q) blocks", name)
			}
			if o.err == nil {
				b, _ := io.ReadAll(o.f)
				o.f.Close()
				t.Fatalf("OpenFile(%q) opened it; read %q", name, b)
			}
		})
	}
	// The link itself is left alone, and the canary is untouched.
	if b, err := os.ReadFile(canary); err != nil || string(b) != secret {
		t.Errorf("canary: %q, %v", b, err)
	}
	f, err := s.OpenFile("real.txt")
	if err != nil {
		t.Fatalf("the regular file cannot be opened: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "ok" {
		t.Errorf("real.txt = %q", b)
	}
}

// escForkUpTo400 forks up to 400 sleeping children, until fork fails;
// it leaves the children and the error in children and err.
const escForkUpTo400 = `
import os, time
children, err = [], None
for _ in range(400):
    try:
        pid = os.fork()
    except OSError as e:
        err = e
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    children.append(pid)
`

// TestEscapeForkBomb checks that the process limit holds: forking stops
// with EAGAIN, the kernel survives, and nothing outlives the session.
//
// RLIMIT_NPROC bounds the sandbox's processes, except when the host user
// is root, for whom the kernel does not enforce it; the sandbox then
// relies on its pid namespace's own pid_max (Linux 6.14+), whose floor is
// 300 tasks; as root on an older kernel there is no limit, and this test
// fails. The bounded part runs first and makes at most 400 forks, so that
// a missing limit fails the test without harming the host.
func TestEscapeForkBomb(t *testing.T) {
	const limit = 64
	s := newTestSession(t, func(c *Config) {
		c.Limits.Sandbox.Processes = limit
		// Room for 300 forks and their reaping on a busy two-core
		// machine; the bomb below ends at this limit.
		c.Limits.CellTimeout = 10 * time.Second
		c.Limits.Grace = time.Second
	})
	bound := limit
	if os.Geteuid() == 0 {
		bound = 300
	}

	out := escRun(t, s, escForkUpTo400+`
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(type(err).__name__, err.errno if err else 0, len(children))
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

	// A real bomb: every process forks for ever. The cell is interrupted
	// at its time limit; the children go on holding every slot, but the
	// kernel stays usable, and closing the session ends them all.
	ns := strings.TrimSpace(escRun(t, s, "import os\nprint(os.readlink('/proc/self/ns/pid'))"))
	r := mustExec(t, s, `
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
`)
	if r.Error == nil || r.Error.Name != "TimeoutError" {
		t.Fatalf("the bomb's cell ended with %+v, want TimeoutError", r.Error)
	}
	// The bomb's processes end with its cell: the kernel can fork again.
	if r.Restarted {
		t.Log("the kernel was restarted after the bomb")
	} else {
		// (The bomb's copies of the kernel may have taken the sandbox to
		// its memory cap since: then this cell runs in a new kernel. The
		// slots of the killed take a moment to come back.)
		var out string
		eventually(10*time.Second, func() bool {
			out = escRun(t, s, `
import os
try:
    pid = os.fork()
except BlockingIOError:
    pid = -1
if pid == 0:
    os._exit(0)
if pid > 0:
    os.waitpid(pid, 0)
    print(6 * 7)
`)
			return out == "42\n"
		})
		if out != "42\n" {
			var left []string
			for _, pid := range escProcsInPidNS(ns) {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
				left = append(left, string(b))
			}
			t.Errorf("after the bomb: %q; in the sandbox:\n%s", out, strings.Join(left, "\n"))
		}
		// Zombies the bomb left are reaped by the kernel after the cell;
		// none runs.
		running := 0
		for _, pid := range escProcsInPidNS(ns) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
				if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] != 'Z' {
					running++
				}
			}
		}
		if running > 2 {
			t.Errorf("%d processes run in the sandbox after the bomb's cell, want init and the kernel", running)
		}
	}
	s.Close()
	if !eventually(5*time.Second, func() bool { return len(escProcsInPidNS(ns)) == 0 }) {
		t.Fatalf("processes of the closed session survive: %v", escProcsInPidNS(ns))
	}
}

// TestEscapeMemoryBomb checks that allocating far past the memory limit
// fails inside the kernel, which is then replaced by a fresh one.
func TestEscapeMemoryBomb(t *testing.T) {
	s := newTestSession(t, func(c *Config) { c.Limits.Sandbox.Memory = 512 << 20 })
	for _, c := range []struct{ code, want string }{
		{"x = bytearray(16 << 30)", "MemoryError"},
		{"chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))", "MemoryError"},
		{"import numpy as np\nx = np.ones((1 << 31,))", "MemoryError"},
		// mmap reports the failed mapping as ENOMEM; nothing was
		// allocated, so the kernel is kept.
		{"import mmap\nm = mmap.mmap(-1, 8 << 30)", "OSError"},
	} {
		escRun(t, s, "kept = 1")
		r := mustExec(t, s, c.code)
		restart := c.want == "MemoryError"
		if r.Error == nil || r.Error.Name != c.want || r.Restarted != restart {
			t.Fatalf("%q: error %+v, restarted %v; want %s, restarted %v", c.code, r.Error, r.Restarted, c.want, restart)
		}
		want := "False 42\n"
		if !restart {
			want = "True 42\n"
		}
		if out := escRun(t, s, "print('kept' in globals(), 6 * 7)"); out != want {
			t.Fatalf("after %q: %q, want %q", c.code, out, want)
		}
	}
	// Raising the limit from inside is refused.
	out := escRun(t, s, `
import resource
try:
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
except ValueError as e:
    print(type(e).__name__, e)
print(resource.getrlimit(resource.RLIMIT_AS))
`)
	if out != "ValueError not allowed to raise maximum limit\n(536870912, 536870912)\n" {
		t.Fatalf("raising RLIMIT_AS: %q", out)
	}
}

// TestEscapeDiskFill fills the work folder in an endless loop: the cell is
// stopped by the quota, and the host folder's size stays bounded. It also
// fills the private /tmp and /dev/shm, which are capped memory.
func TestEscapeDiskFill(t *testing.T) {
	const quota = 64 << 20
	s := newTestSession(t, func(c *Config) {
		c.Limits.DiskQuota = quota
		c.Limits.Sandbox.TmpSize = 16 << 20
	})
	out := escRun(t, s, escPrelude+`
def fill(d):
    block = b"x" * (1 << 20)
    i = 0
    while True:
        with open("%s/fill-%d" % (d, i), "wb") as f:
            f.write(block)
        i += 1
try_("fill /tmp", lambda: fill("/tmp"))
try_("fill /dev/shm", lambda: fill("/dev/shm"))
`)
	escLines(t, out, "fill /tmp: OSError 28", "fill /dev/shm: OSError 28")

	r := mustExec(t, s, `
import os
block = os.urandom(1 << 20)
i = 0
while True:
    with open("fill-%d.bin" % i, "wb") as f:
        f.write(block)
    i += 1
`)
	if r.Error == nil || r.Error.Name != "DiskQuotaExceeded" || !r.Restarted {
		t.Fatalf("error %+v, restarted %v; want DiskQuotaExceeded and a restart", r.Error, r.Restarted)
	}
	var used int64
	filepath.WalkDir(s.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			if fi, err := d.Info(); err == nil {
				used += fi.Sys().(*syscall.Stat_t).Blocks * 512
			}
		}
		return nil
	})
	// The host measures the folder ten times a second, so a cell that
	// writes at disk speed gets past the quota by what it writes in
	// between, but it is stopped within seconds, and what it wrote past
	// the quota is removed: nothing over the quota outlives the cell.
	t.Logf("work folder after the fill: %d MiB for a %d MiB quota, cell stopped after %v", used>>20, quota>>20, r.Duration)
	if r.Duration > 5*time.Second {
		t.Errorf("the endless writer ran for %v before it was stopped", r.Duration)
	}
	if used > quota+64<<10 {
		t.Fatalf("the work folder holds %d KiB after the cell, over its %d KiB quota", used>>10, quota>>10)
	}

	// One file is capped at the quota by the file size limit (EFBIG): the
	// folder is then full, not over.
	escRun(t, s, "import os\nfor n in os.listdir('.'):\n    os.remove(n)")
	r = mustExec(t, s, escPrelude+`
def grow():
    with open("big.bin", "wb") as f:
        while True:
            f.write(b"x" * (1 << 20))
try_("one endless file", grow)
print(os.path.getsize("big.bin"))
`)
	if r.Stdout != fmt.Sprintf("one endless file: OSError 27\n%d\n", quota) {
		t.Fatalf("one endless file: %q", r.Stdout)
	}
	if r.Error != nil {
		t.Fatalf("one endless file: error %+v, want none: the folder is at its quota, not over", r.Error)
	}
}

// TestEscapeForgeResult looks for the kernel's protocol from a cell: the
// function that writes result frames, its descriptors, its namespace.
// Before, a cell could call the kernel's own _send from __main__ and
// forge its result. The cells now run in a __main__ of their own, which
// pickling (and so multiprocessing) also finds.
func TestEscapeForgeResult(t *testing.T) {
	s := newTestSession(t, nil)
	out := escRun(t, s, `
import __main__, sys
names = ("_send", "_recv", "_res", "_req", "_run", "_kernel", "_ns")
print("in __main__:", [n for n in names if hasattr(__main__, n)])
print("in globals:", [n for n in names if n in globals()])
print("modules:", [m for m, mod in list(sys.modules.items()) if any(hasattr(mod, n) for n in ("_send", "_kernel"))])
def square(x):
    return x * x
import multiprocessing
with multiprocessing.get_context("fork").Pool(2) as pool:
    print("pool:", pool.map(square, range(4)))
`)
	escLines(t, out, "in __main__: []", "in globals: []", "modules: []", "pool: [0, 1, 4, 9]")
}

// escSignalScoped reports whether the kernel has Landlock's signal scope
// (ABI 6), with which nothing in the sandbox may signal its init.
func escSignalScoped() bool {
	v, err := llsys.LandlockGetABIVersion()
	return err == nil && v >= 6
}

// TestEscapeSignalParent signals and traces the processes above the
// kernel: the sandbox's init (its parent, pid 1) and, by number, the host
// test process. The host must be untouched and the session usable.
func TestEscapeSignalParent(t *testing.T) {
	escNeedAMD64(t)
	m := newTestManager(t, nil)
	s, other := newSessionOf(t, m), newSessionOf(t, m)
	escRun(t, other, "x = 'other session'")

	out := escRun(t, s, escPrelude+fmt.Sprintf(`
try_("SIGKILL parent", lambda: os.kill(os.getppid(), signal.SIGKILL))
try_("SIGKILL pid 1", lambda: os.kill(1, signal.SIGKILL))
try_("SIGSTOP pid 1", lambda: os.kill(1, signal.SIGSTOP))
try_("SIGTERM pid 1", lambda: os.kill(1, signal.SIGTERM))
try_("SIGKILL host pid", lambda: os.kill(%d, signal.SIGKILL))
try_("SIGKILL every process", lambda: os.kill(-1, signal.SIGKILL))
sys_("ptrace attach pid 1", 101, 16, 1, 0, 0)
sys_("ptrace seize pid 1", 101, 0x4206, 1, 0, 0)
pidfd = libc.syscall(434, 1, 0)
sys_("pidfd SIGKILL pid 1", 424, pidfd, 9, 0, 0)
time.sleep(0.2)
print("parent:", os.getppid())
`, os.Getpid()))
	// With Landlock's signal scope the kernel may not signal init at
	// all. Without it, SIGKILL and SIGSTOP sent from inside a pid
	// namespace never reach its init (kill succeeds and nothing happens),
	// and SIGTERM is forwarded back to the kernel, which ends.
	toInit, pidfd := "OK", "0 0"
	if escSignalScoped() {
		toInit, pidfd = "PermissionError 1", "-1 1"
	}
	want := []string{
		"SIGKILL parent: " + toInit,
		"SIGKILL pid 1: " + toInit,
		"SIGSTOP pid 1: " + toInit,
		"SIGKILL host pid: ProcessLookupError 3",
		// kill(-1) reaches every process the kernel may signal in its own
		// namespace but init and itself: none here.
		"SIGKILL every process: ProcessLookupError 3",
		"ptrace attach pid 1: -1 1",
		"ptrace seize pid 1: -1 1",
		"pidfd SIGKILL pid 1: " + pidfd,
	}
	if escSignalScoped() {
		want = append(want, "SIGTERM pid 1: PermissionError 1", "parent: 1")
		escLines(t, out, want...)
	} else {
		// The forwarded SIGTERM ends the kernel before the last lines.
		r := mustExec(t, s, "print(1)")
		if !r.Restarted && !strings.Contains(out, "SIGTERM pid 1: OK") {
			t.Fatalf("SIGTERM to init: output %q", out)
		}
	}
	if out := escRun(t, s, "print(6 * 7)"); out != "42\n" {
		t.Fatalf("the session after the signals: %q", out)
	}

	// Init is a Go program, with a handler for every signal: the pid
	// namespace does not shield it, so init itself drops what it does not
	// forward. Before it did, SIGHUP ended it (and the sandbox), and
	// SIGQUIT or a kill-sent SIGSEGV also wrote its goroutine dump, with
	// the host's build paths, to the cell's stderr.
	r := mustExec(t, s, `
import os, signal, time
refused = 0
for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS,
            signal.SIGFPE, signal.SIGILL, signal.SIGTRAP, signal.SIGSYS, signal.SIGUSR1,
            signal.SIGPIPE, signal.SIGALRM, signal.SIGTSTP, signal.SIGCONT):
    try:
        os.kill(1, sig)
    except PermissionError:
        refused += 1
time.sleep(0.5)
print("refused:", refused, "init alive:", os.getppid() == 1 and os.path.exists("/proc/1"))
`)
	wantOut := "refused: 0 init alive: True\n"
	if escSignalScoped() {
		wantOut = "refused: 14 init alive: True\n"
	}
	if r.Error != nil || r.Restarted || r.Stdout != wantOut || r.Stderr != "" {
		t.Fatalf("signals to init: error %+v, restarted %v, stdout %q, stderr %q; want %q", r.Error, r.Restarted, r.Stdout, r.Stderr, wantOut)
	}
	if out := escRun(t, other, "print(x)"); out != "other session\n" {
		t.Fatalf("the other session: %q", out)
	}
	if err := syscall.Kill(os.Getpid(), 0); err != nil {
		t.Fatalf("the host process: %v", err)
	}
}

// TestEscapeProcessGroup aims at the process group and the session: the
// sandbox has a session and a group of its own, so kill(0, …), killpg and
// setpriority(PRIO_PGRP/PRIO_USER) inside reach nothing outside. Before,
// init shared plotline's group and one cell's kill(0, SIGKILL) ended the
// host process and every other conversation's kernel.
func TestEscapeProcessGroup(t *testing.T) {
	escNeedAMD64(t)
	m := newTestManager(t, nil)
	s, other := newSessionOf(t, m), newSessionOf(t, m)
	escRun(t, other, "x = 'other session'")
	niceBefore, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}

	out := escRun(t, s, escPrelude+fmt.Sprintf(`
print("own session:", os.getsid(0) == os.getpgrp() == 1)
try_("killpg host group", lambda: os.killpg(%d, signal.SIGSTOP))
try_("renice own group", lambda: os.setpriority(os.PRIO_PGRP, 0, 19))
try_("renice every process of the user", lambda: os.setpriority(os.PRIO_USER, 0, 19))
try_("renice host group", lambda: os.setpriority(os.PRIO_PGRP, %d, 19))
try_("SIGSTOP own group", lambda: os.kill(0, signal.SIGCONT))
`, syscall.Getpgrp(), syscall.Getpgrp()))
	escLines(t, out,
		"own session: True",
		"killpg host group: ProcessLookupError 3",
		// The group and the user's processes include init, which keeps
		// capabilities the kernel lacks: refused.
		"renice own group: PermissionError 1",
		"renice every process of the user: PermissionError 1",
		"renice host group: ProcessLookupError 3",
		"SIGSTOP own group: OK",
	)
	if nice, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0); err != nil || nice != niceBefore {
		t.Fatalf("the host's priority changed: %d (was %d), %v", nice, niceBefore, err)
	}

	// The whole group, killed from inside: only the kernel dies.
	r := mustExec(t, s, "import os, signal\nos.kill(0, signal.SIGKILL)")
	if r.Error == nil || !r.Restarted {
		t.Fatalf("kill(0, SIGKILL): error %+v, restarted %v; want KernelCrash and a restart", r.Error, r.Restarted)
	}
	if err := syscall.Kill(os.Getpid(), 0); err != nil {
		t.Fatalf("the host process: %v", err)
	}
	if out := escRun(t, other, "print(x)"); out != "other session\n" {
		t.Fatalf("the other session after kill(0): %q", out)
	}
	if out := escRun(t, s, "print(6 * 7)"); out != "42\n" {
		t.Fatalf("the session after kill(0): %q", out)
	}
}

// kernelHasI386Entry reports whether this kernel serves int 0x80: a
// getpid through it, outside any sandbox, returns rather than faults.
func kernelHasI386Entry(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(testPython.Executable, "-I", "-c", `
import ctypes, mmap
code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (getpid on i386); int 0x80; ret
m = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
print(ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))())
`).Output()
	if err == nil && len(bytes.TrimSpace(out)) > 0 {
		return true
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGSEGV {
			return false
		}
	}
	t.Fatalf("probing int 0x80 outside the sandbox: %v %q", err, out)
	return false
}

// TestEscapeI386Syscalls makes a system call through the 32-bit entry
// point (int 0x80), where the numbers differ from x86_64's and a filter
// that only checked numbers could be walked around. The filter checks the
// architecture first and kills the process.
func TestEscapeI386Syscalls(t *testing.T) {
	escNeedAMD64(t)
	s := newTestSession(t, nil)
	escRun(t, s, "kept = 1")
	r := mustExec(t, s, `
import ctypes, mmap
# mov eax, 26 (ptrace on i386); int 0x80; ret
code = bytes([0xb8, 26, 0, 0, 0, 0xcd, 0x80, 0xc3])
m = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
print("returned", f())
`)
	// A kernel built or booted without the 32-bit entry point
	// (ia32_emulation=0) faults on int 0x80 before any filter runs: the
	// call is then refused by the kernel itself, a segmentation fault.
	want := "system call the sandbox forbids"
	if !kernelHasI386Entry(t) {
		want = "segmentation fault"
	}
	if r.Error == nil || r.Error.Name != "KernelCrash" || !strings.Contains(r.Error.Message, want) || !r.Restarted {
		t.Fatalf("error %+v, restarted %v, stdout %q; want a KernelCrash with %q", r.Error, r.Restarted, r.Stdout, want)
	}
	if out := escRun(t, s, "print('kept' in globals(), 6 * 7)"); out != "False 42\n" {
		t.Fatalf("after the crash: %q", out)
	}
}

// TestEscapeDaemonOutlivesCell starts daemons the usual way (double fork,
// new session, SIGHUP and SIGTERM ignored) and a busy loop in the
// background, and checks that they end with the cell that started them:
// nothing a cell leaves behind burns CPU or holds memory between cells.
func TestEscapeDaemonOutlivesCell(t *testing.T) {
	tok := escToken(t)
	// A sleep of 987.<6 digits> seconds: a command line no other process has.
	n, _ := strconv.ParseUint(tok[:5], 16, 32)
	arg := fmt.Sprintf("987.%06d", n%1000000)
	needle := "sleep\x00" + arg + "\x00"
	if p := escProcs(needle); len(p) != 0 {
		t.Fatalf("a process with the daemon's command line already runs: %v", p)
	}
	s := newTestSession(t, nil)
	out := escRun(t, s, fmt.Sprintf(`
import os, signal, subprocess, time
arg = %s
first = os.fork()
if first == 0:
    os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.fork() == 0:
        os.execvp("nohup", ["nohup", "sleep", arg])
    os._exit(0)
os.waitpid(first, 0)
p = subprocess.Popen(["sleep", arg], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.3)
print(sum(1 for d in os.listdir("/proc") if d.isdigit() and
          open("/proc/%%s/cmdline" %% d, "rb").read() == b"sleep\0" + arg.encode() + b"\0"))
`, escPyStr(arg)))
	if out != "2\n" {
		t.Fatalf("the daemons did not start: %q", out)
	}
	if !eventually(5*time.Second, func() bool { return len(escProcs(needle)) == 0 }) {
		t.Fatalf("daemons survive the cell that started them: %v", escProcs(needle))
	}

	// A busy loop left running: the next cell sees only itself and init.
	out = escRun(t, s, `
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
print("started")
`)
	if out != "started\n" {
		t.Fatalf("the busy loop did not start: %q", out)
	}
	out = escRun(t, s, `
import os
print(sorted(int(d) for d in os.listdir("/proc") if d.isdigit() and d != str(os.getpid()) and open("/proc/%s/stat" % d).read().split()[2] != "Z"))
`)
	if out != "[1]\n" {
		t.Fatalf("processes left from the last cell: %q, want only init", out)
	}
}

// TestEscapeOtherSession checks that two sessions of one manager share
// nothing: not the work folder, nor /tmp, /dev/shm, abstract sockets or
// processes.
func TestEscapeOtherSession(t *testing.T) {
	tok := escToken(t)
	m := newTestManager(t, nil)
	a, b := newSessionOf(t, m), newSessionOf(t, m)

	secret := "secret-" + tok
	out := escRun(t, a, fmt.Sprintf(`
import os, socket, threading
secret = %s
for p in ("/mnt/data/", "/tmp/", "/dev/shm/"):
    open(p + secret + ".txt", "w").write(secret)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
assert libc.shmget(0x5ec12e7, 4096, 0o1600) >= 0  # IPC_CREAT, for System V IPC
srv = socket.socket(socket.AF_UNIX)
srv.bind("\0" + secret)
srv.listen()
threading.Thread(target=lambda: srv.accept(), daemon=True).start()
print(os.getpid(), os.readlink("/proc/self/ns/pid"))
`, escPyStr(secret)))
	aFields := strings.Fields(out)
	if len(aFields) != 2 {
		t.Fatalf("session a: %q", out)
	}

	out = escRun(t, b, escPrelude+fmt.Sprintf(`
secret, a_dir = %s, %s
print("mnt/data:", os.listdir("/mnt/data"))
for p in ("/mnt/data/", "/tmp/", "/dev/shm/", a_dir + "/", "/proc/1/root/mnt/data/", "/proc/1/root/tmp/"):
    try_(p, lambda: open(p + secret + ".txt").read())
def conn():
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(2)
    c.connect("\0" + secret)
try_("a's abstract socket", conn)
print("same pid namespace:", os.readlink("/proc/self/ns/pid") == %s)
ctypes.set_errno(0)
print("a's System V shared memory:", libc.shmget(0x5ec12e7, 0, 0), ctypes.get_errno())
found = []
for d in ("/mnt", "/tmp", "/dev/shm"):
    for root, dirs, files in os.walk(d):
        found += [f for f in files if secret in f]
print("found by walking:", found)
`, escPyStr(secret), escPyStr(a.Dir()), escPyStr(aFields[1])))
	escLines(t, out,
		"mnt/data: []",
		"/mnt/data/: FileNotFoundError 2",
		"/tmp/: FileNotFoundError 2",
		"/dev/shm/: FileNotFoundError 2",
		a.Dir()+"/: FileNotFoundError 2",
		"/proc/1/root/mnt/data/: PermissionError 13",
		"/proc/1/root/tmp/: PermissionError 13",
		"a's abstract socket: ConnectionRefusedError 111",
		"same pid namespace: False",
		"a's System V shared memory: -1 2",
		"found by walking: []",
	)
	// And the host path of a's folder holds a's file only.
	if _, err := os.Stat(filepath.Join(b.Dir(), secret+".txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a's file is in b's folder: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(a.Dir(), secret+".txt")); err != nil || string(got) != secret {
		t.Errorf("a's own file: %q, %v", got, err)
	}
}
