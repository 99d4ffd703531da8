//go:build linux

package interpreter

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plotline/interpreter/sandbox"
)

// TestEscapeWeak runs attacks against the weaker sandbox
// (PLOTLINE_SANDBOX=weak: Landlock and seccomp, no namespaces). It runs
// when the suite runs as an ordinary user with the weak mode asked for,
// as TestEscapeUnprivileged does. Each line is the exact outcome; the
// lines marked "not blocked" are what this mode gives up, and the README
// lists them.
func TestEscapeWeak(t *testing.T) {
	if !sandbox.WeakMode() || os.Geteuid() == 0 {
		t.Skip("the weak mode is tested as an ordinary user with PLOTLINE_SANDBOX=weak (see TestEscapeUnprivileged)")
	}
	escNeedAMD64(t)
	// Host things the cell must not reach, all readable and writable by
	// this user, so that only the sandbox stands in the way.
	host := t.TempDir()
	canary := filepath.Join(host, "canary.txt")
	if err := os.WriteFile(canary, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(host, "host.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	abstract := "@plotline-weak-" + escToken(t)
	aln, err := net.Listen("unix", abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer aln.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	port := tcp.Addr().(*net.TCPAddr).Port

	s := newTestSession(t, nil)
	out := escRun(t, s, escPrelude+fmt.Sprintf(`
import resource
host, canary, sock, abstract, port, me = %s, %s, %s, %s, %d, %d
try_("read host file", lambda: open(canary).read())
try_("write host folder", lambda: open(host + "/planted", "w").write("x"))
try_("list host folder", lambda: os.listdir(host))
try_("read /etc/passwd", lambda: open("/etc/passwd").read())
try_("read /proc", lambda: os.listdir("/proc"))
try_("host process environ", lambda: open("/proc/%%d/environ" %% me).read())
try_("signal host process", lambda: os.kill(me, signal.SIGCONT))
try_("signal host group", lambda: os.killpg(os.getpgid(me), signal.SIGCONT))
try_("renice host process", lambda: os.setpriority(os.PRIO_PROCESS, me, 19))
try_("renice the user's processes", lambda: os.setpriority(os.PRIO_USER, 0, 19))
try_("renice self", lambda: os.nice(1))
try_("prlimit host process", lambda: resource.prlimit(me, resource.RLIMIT_NOFILE, (1, 1)))
try_("TCP to host loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
def unix_connect(addr):
    s = socket.socket(socket.AF_UNIX)
    s.connect(addr)
try_("host unix socket", lambda: unix_connect(sock))
try_("host abstract socket", lambda: unix_connect("\0" + abstract[1:]))
def log():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"x", "/dev/log")
try_("send to /dev/log", log)
sys_("shmget", 29, 0, 4096, 0o1000 | 0o600)
sys_("inotify_init1", 294, 0)
sys_("unshare user", 272, 0x10000000)
try_("write /mnt/data", lambda: open("/mnt/data/made.txt", "w").write("ok"))
print("cwd is the work folder:", os.path.samefile(os.getcwd(), "/mnt/data"))
try_("stat host file (not blocked)", lambda: os.stat(canary).st_size, show=True)
`, escPyStr(host), escPyStr(canary), escPyStr(sock), escPyStr(abstract), port, os.Getpid()))
	escLines(t, out,
		"read host file: PermissionError 13",
		"write host folder: PermissionError 13",
		"list host folder: PermissionError 13",
		"read /etc/passwd: PermissionError 13",
		"read /proc: PermissionError 13",
		"host process environ: PermissionError 13",
		"signal host process: PermissionError 1",
		"signal host group: PermissionError 1",
		"renice host process: PermissionError 1",
		"renice the user's processes: PermissionError 1",
		"renice self: OK",
		"prlimit host process: PermissionError 1",
		"TCP to host loopback: OSError 97",
		"host unix socket: PermissionError 1",
		"host abstract socket: PermissionError 1",
		"send to /dev/log: PermissionError 1",
		"shmget: -1 1",
		"inotify_init1: -1 1",
		"unshare user: -1 1",
		"write /mnt/data: OK",
		"cwd is the work folder: True",
		"stat host file (not blocked): OK 11",
	)
	if b, err := os.ReadFile(filepath.Join(s.Dir(), "made.txt")); err != nil || string(b) != "ok" {
		t.Fatalf("/mnt/data/made.txt on the host: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(host, "planted")); err == nil {
		t.Fatal("the cell wrote into the host folder")
	}

	// The analyst's usual work runs, through /mnt/data.
	r := mustExec(t, s, `
import pandas as pd, matplotlib.pyplot as plt, pathlib
pd.DataFrame({"m": [1, 2, 3], "v": [3.0, 1.5, 2.5]}).to_csv("/mnt/data/t.csv", index=False)
df = pd.read_csv("/mnt/data/t.csv")
df.plot(x="m", y="v")
plt.savefig("/mnt/data/chart.png")
print(sorted(p.name for p in pathlib.Path("/mnt/data").iterdir()), df.v.sum())
`)
	if r.Error != nil || r.Stdout != "['chart.png', 'made.txt', 't.csv'] 7.0\n" || len(r.Images) != 1 {
		t.Fatalf("pandas and matplotlib in the weak mode: error %+v, stdout %q, %d images", r.Error, r.Stdout, len(r.Images))
	}

	// A daemon started by a cell ends with the cell: init is the child
	// subreaper, and sweeps what is below it.
	arg := fmt.Sprintf("986.%d", time.Now().UnixNano()%1e6)
	escRun(t, s, fmt.Sprintf(`
import subprocess
if os.fork() == 0:
    os.setsid()
    subprocess.Popen(["sleep", %q])
    os._exit(0)
time.sleep(0.3)
`, arg))
	if !eventually(5*time.Second, func() bool { return len(escProcs("sleep\x00"+arg+"\x00")) == 0 }) {
		t.Fatalf("a daemon of the cell outlives it: %v", escProcs("sleep\x00"+arg+"\x00"))
	}
	// The memory cap holds for the sandbox as a whole, not per process.
	m := newTestSession(t, func(c *Config) { c.Limits.Sandbox.Memory = 512 << 20 })
	r = mustExec(t, m, `
import os, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        b = bytearray(200 << 20)
        for i in range(0, len(b), 4096):
            b[i] = 1
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
`)
	t.Logf("memory: %+v in %v", r.Error, r.Duration)
	if r.Error == nil || !r.Restarted || !strings.Contains(r.Error.Message, "memory") {
		t.Fatalf("four processes past the cap together: error %+v, restarted %v", r.Error, r.Restarted)
	}

	// And the whole sandbox ends with the session.
	s.Close()
	if p := escProcs("__plotline-sandbox-weak"); len(p) != 0 {
		if !eventually(5*time.Second, func() bool { return len(escProcs("__plotline-sandbox-weak")) == 0 }) {
			t.Fatalf("weak sandboxes left: %v", p)
		}
	}
}
