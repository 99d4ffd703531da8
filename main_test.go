package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plotline/interpreter/interptest"
	"plotline/interpreter/sandbox"
)

// The test binary doubles as plotline: with PLOTLINE_TEST_MAIN set it runs
// main, so these tests exercise the real entry point, re-exec included.
func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	switch os.Getenv("PLOTLINE_TEST_MAIN") {
	case "1":
		main()
		return
	case "bare": // the reference for BenchmarkWindowStart
		bareWindow()
		return
	}
	os.Exit(m.Run())
}

func plotline(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PLOTLINE_TEST_MAIN=1")
	return cmd
}

// processesWith returns the host pids whose command line contains arg.
func processesWith(arg string) []string {
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err == nil && bytes.Contains(b, []byte("\x00"+arg+"\x00")) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// kill -9 of plotline must take the whole sandbox with it, including a
// daemon the cell started in a session of its own.
func TestKillNineOfPlotlineLeavesNoProcess(t *testing.T) {
	const mark = "765.4321"
	cmd := plotline("exec", "-")
	cmd.Stdin = strings.NewReader("import subprocess, time\n" +
		"subprocess.Popen(['sleep', '" + mark + "'], start_new_session=True)\n" +
		"time.sleep(120)\n")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if !interptest.Eventually(60*time.Second, func() bool { return len(processesWith(mark)) > 0 }) {
		t.Fatal("the cell's daemon never started")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !interptest.Eventually(10*time.Second, func() bool { return len(processesWith(mark)) == 0 }) {
		t.Fatalf("processes outlived plotline: %v", processesWith(mark))
	}
}

// Without user namespaces, plotline refuses to run code and says why.
func TestFailsClosedWithoutNamespaces(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	// Inside a user namespace of its own, the test may forbid further
	// user namespaces, as a hardened system would.
	cmd := exec.Command("unshare", "--user", "--map-root-user", "sh", "-c",
		`echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" exec -`, os.Args[0])
	cmd.Env = append(os.Environ(), "PLOTLINE_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("print('RAN UNSANDBOXED')\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 2 {
		t.Fatalf("exit %d (%v), want 2; stderr %q", code, err, stderr.String())
	}
	if strings.Contains(stdout.String(), "RAN") {
		t.Fatal("the cell ran without its sandbox")
	}
	if !strings.Contains(stderr.String(), "cannot create the sandbox's Linux namespaces") {
		t.Fatalf("stderr does not explain: %q", stderr.String())
	}
}

func TestHelp(t *testing.T) {
	out, err := plotline("help").Output()
	if err != nil || !strings.Contains(string(out), "plotline exec") || !strings.Contains(string(out), "plotline doctor") {
		t.Fatalf("%v: %s", err, out)
	}
}

// Under the C.UTF-8 locale of many containers, Fyne logged "Error parsing
// user locale C" on every start, whatever the command: --help says only
// the help.
func TestHelpIsQuiet(t *testing.T) {
	cmd := plotline("--help")
	cmd.Env = append(cmd.Env, "LANG=C.UTF-8", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), "plotline exec") {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if stderr.Len() != 0 || strings.Contains(stdout.String(), "locale") {
		t.Fatalf("--help printed more than the help:\n%s", stderr.String())
	}
}

// Without a graphical session, the window says in one line what works
// instead, with no trace, and fails.
func TestWindowWithoutDisplaySaysSo(t *testing.T) {
	cmd := plotline()
	cmd.Env = append(cmd.Env, "DISPLAY=", "WAYLAND_DISPLAY=", "PLOTLINE_DATA="+t.TempDir(), "LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit: %v", err)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "graphical session") || !strings.Contains(msg, "plotline ask") ||
		!strings.Contains(msg, "plotline serve") || !strings.Contains(msg, "plotline exec") || strings.Contains(msg, "goroutine") {
		t.Fatalf("stderr:\n%s", msg)
	}
}

// Where the sandbox cannot start, the automatic runtime is Starlark, and
// plotline doctor says so and why, and that code can run.
func TestAutoRuntimeIsStarlarkWithoutNamespaces(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "sh", "-c",
		`echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" doctor`, os.Args[0])
	cmd.Env = append(os.Environ(), "PLOTLINE_TEST_MAIN=1", "PLOTLINE_RUNTIME=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "✓ Starlark: Python's sandbox cannot start here") {
		t.Fatalf("doctor does not say Starlark runs the code:\n%s", out)
	}
}
