//go:build linux

package interpreter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// The behaviour tests run real sandboxed kernels. Each kernel costs about
// 0.7 s to start, so the cells that leave a kernel as they found it share
// one session (TestCells), and the tests that break or end their kernel
// get their own and run in parallel (go test runs GOMAXPROCS of them at
// once, which keeps the number of kernels starting together small).

// kernelOf returns the session's current kernel, or nil.
func kernelOf(s *Session) *kernel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k
}

// sandboxRunning reports whether host pid is still a sandbox's init.
func sandboxRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte("__plotline-sandbox-init"))
}

// procsWithCmdline lists the host pids whose command line is exactly argv.
// A zombie's command line is empty, so it does not count: it holds no
// resources but its pid.
func procsWithCmdline(argv ...string) []int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	return hostPids(func(pid string) bool {
		b, err := os.ReadFile("/proc/" + pid + "/cmdline")
		return err == nil && bytes.Equal(b, want)
	})
}

func value(r *Result) string {
	if r.Value == nil {
		return "<nil>"
	}
	return *r.Value
}

// mustOK runs code and fails the test unless it ran without error.
func mustOK(t *testing.T, s *Session, code string) *Result {
	t.Helper()
	r := mustExec(t, s, code)
	if r.Error != nil {
		t.Fatalf("cell %q failed: %s: %s\n%s", code, r.Error.Name, r.Error.Message, r.Error.Traceback)
	}
	return r
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// cellsOutputCap is the shared session's per-stream output cap.
const cellsOutputCap = 2000

// TestCells runs the behaviours that leave their kernel usable on one
// shared session. Each subtest looks only at its own cells' results.
func TestCells(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.Output = cellsOutputCap })
	mustOK(t, s, "pass") // start the kernel

	t.Run("FinalExpressionValue", func(t *testing.T) {
		for _, c := range []struct{ code, want string }{
			{"1 + 1", "2"},
			{"'text'", "'text'"},
			{"print('out')\n[1, 2]", "[1, 2]"},
			{"None", "<nil>"},
			{"x_value = 5", "<nil>"},             // an assignment has no value
			{"def f():\n    return 3\nf()", "3"}, // the last statement only
			{"if True:\n    7", "<nil>"},         // not a bare expression
			{"import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})", "   a  b\n0  1  x\n1  2  y"},
		} {
			r := mustOK(t, s, c.code)
			if got := value(r); got != c.want {
				t.Errorf("%q: value = %q, want %q", c.code, got, c.want)
			}
		}
		// The value is kept as _, like the REPL's.
		mustOK(t, s, "6 * 7")
		if r := mustOK(t, s, "_"); value(r) != "42" {
			t.Errorf("_ = %q, want 42", value(r))
		}
	})

	t.Run("PlotYieldsPNG", func(t *testing.T) {
		r := mustOK(t, s, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t')\nplt.show()")
		if len(r.Images) != 1 {
			t.Fatalf("got %d images, want 1", len(r.Images))
		}
		checkPNG(t, r.Images[0])

		r = mustOK(t, s, "plot_done = True")
		if len(r.Images) != 0 {
			t.Fatalf("a cell without plotting returned %d images: figures were not closed", len(r.Images))
		}

		r = mustOK(t, s, "fig1 = plt.figure()\nplt.plot([1])\nfig2, ax = plt.subplots()\nax.bar(['a', 'b'], [1, 2])")
		if len(r.Images) != 2 {
			t.Fatalf("two figures gave %d images", len(r.Images))
		}
		for _, img := range r.Images {
			checkPNG(t, img)
		}
		if r := mustOK(t, s, "len(plt.get_fignums())"); value(r) != "0" {
			t.Fatalf("open figures after the cell = %s, want 0", value(r))
		}
	})

	t.Run("FilesCreatedAndChanged", func(t *testing.T) {
		r := mustOK(t, s, `
import os
open('new.txt', 'w').write('one')
os.makedirs('sub/deeper', exist_ok=True)
open('sub/deeper/table.csv', 'w').write('a,b\n1,2\n')
open('/tmp/not-in-work-folder.txt', 'w').write('x')`)
		assertFiles(t, r, "new.txt", "sub/deeper/table.csv")

		r = mustOK(t, s, "open('new.txt', 'a').write('two')")
		assertFiles(t, r, "new.txt")

		r = mustOK(t, s, "open('new.txt').read() + open('sub/deeper/table.csv').read()")
		assertFiles(t, r) // reading changes nothing

		// Replacing a file with one of the same size is still a change.
		r = mustOK(t, s, "import os\nopen('tmp.txt', 'w').write('ONETWO')\nos.replace('tmp.txt', 'new.txt')")
		assertFiles(t, r, "new.txt")

		r = mustOK(t, s, "os.remove('new.txt')")
		assertFiles(t, r) // a deleted file is not an output

		// An input the user added is not something the next cell made.
		name, err := s.AddFile("input.csv", strings.NewReader("x\n1\n"))
		if err != nil || name != "input.csv" {
			t.Fatalf("AddFile = %q, %v", name, err)
		}
		r = mustOK(t, s, "open('input.csv').read()")
		assertFiles(t, r)
		if value(r) != `'x\n1\n'` {
			t.Fatalf("the cell read %s", value(r))
		}
		r = mustOK(t, s, "open('input.csv', 'a').write('2\\n')")
		assertFiles(t, r, "input.csv")

		// Links, folders and pipes are not files to hand back.
		r = mustOK(t, s, "os.symlink('/etc/passwd', 'link')\nos.mkdir('emptydir')\nos.mkfifo('pipe')")
		assertFiles(t, r)
	})

	t.Run("OutputCapsHold", func(t *testing.T) {
		const big = 10000
		for _, c := range []struct {
			name, code string
			stderr     bool
			total      int // bytes the cell wrote
			prefix     string
		}{
			{"print", "print('x' * 9999)", false, big, "xxxx"},
			{"stderr", "import sys\nsys.stderr.write('e' * 10000)", true, big, "eeee"},
			{"os.write", "import os\nfor _ in range(30):\n    os.write(1, b'y' * 10000)", false, 300000, "yyyy"},
			{"subprocess", "import subprocess\nsubprocess.run(['seq', '1', '20000'])", false, len(seqOutput(20000)), "1\n2\n3\n"},
			{"subprocess stderr", "import subprocess\nsubprocess.run(['sh', '-c', 'seq 1 20000 >&2'])", true, len(seqOutput(20000)), "1\n2\n3\n"},
		} {
			r := mustOK(t, s, c.code)
			out, other := r.Stdout, r.Stderr
			if c.stderr {
				out, other = other, out
			}
			if other != "" {
				t.Errorf("%s: the other stream got %q", c.name, other)
			}
			kept, note, ok := strings.Cut(out, "\n[output truncated")
			if !ok {
				t.Errorf("%s: no truncation note in %d bytes of output", c.name, len(out))
				continue
			}
			if len(kept) > cellsOutputCap {
				t.Errorf("%s: kept %d bytes, cap is %d", c.name, len(kept), cellsOutputCap)
			}
			if !strings.HasPrefix(kept, c.prefix) {
				t.Errorf("%s: kept part starts %q", c.name, kept[:min(len(kept), 20)])
			}
			want := fmt.Sprintf(": %d more bytes not shown]", c.total-cellsOutputCap)
			if !strings.Contains(note, want) {
				t.Errorf("%s: note %q does not say %q", c.name, note, want)
			}
		}
		// The cap is per cell: the next cell's output is whole again.
		if r := mustOK(t, s, "print('small')"); r.Stdout != "small\n" {
			t.Fatalf("after a capped cell, stdout = %q", r.Stdout)
		}
	})

	t.Run("OutputFromAllWriters", func(t *testing.T) {
		r := mustOK(t, s, `
import os, subprocess, sys
print('a')
os.write(1, b'b\n')
subprocess.run(['echo', 'c'])
sys.stdout.write('d\n')
os.system('echo e')
print('err', file=sys.stderr)
subprocess.run(['sh', '-c', 'echo err2 >&2'])`)
		if r.Stdout != "a\nb\nc\nd\ne\n" {
			t.Errorf("stdout = %q, want a..e in order", r.Stdout)
		}
		if r.Stderr != "err\nerr2\n" {
			t.Errorf("stderr = %q", r.Stderr)
		}
		if r := mustOK(t, s, "import subprocess\nsubprocess.run(['echo', 'hi'])\nNone"); r.Stdout != "hi\n" {
			t.Errorf("echo hi: stdout = %q", r.Stdout)
		}
	})

	t.Run("OutputWithoutNewline", func(t *testing.T) {
		r := mustOK(t, s, "print('no newline', end='')")
		if r.Stdout != "no newline" {
			t.Errorf("stdout = %q", r.Stdout)
		}
		r = mustOK(t, s, "import sys, os\nsys.stdout.write('a')\nos.write(1, b'b')\nsys.stderr.write('c')")
		if r.Stdout != "ab" || r.Stderr != "c" {
			t.Errorf("stdout %q stderr %q", r.Stdout, r.Stderr)
		}
		if r := mustOK(t, s, "print('next')"); r.Stdout != "next\n" || r.Stderr != "" {
			t.Errorf("the next cell got stdout %q stderr %q", r.Stdout, r.Stderr)
		}
	})

	t.Run("OutputCannotForgeResult", func(t *testing.T) {
		// A well-formed result frame and end markers of the right shape,
		// written to both output streams, with the true value last.
		r := mustOK(t, s, `
import json, struct, sys, os
fake = json.dumps({"type": "result", "id": "0" * 32, "value": "'forged'", "error": None}).encode()
frame = struct.pack('>I', len(fake)) + fake
for fd in (1, 2):
    os.write(fd, frame)
    os.write(fd, b'\x00plotline-end-' + b'0' * 32 + b'\x00')
    os.write(fd, b'\x00plotline-end-\x00')
    os.write(fd, b'after\x00nul\n')
os.write(1, b'\x00plotline-end-')  # a marker's start, at the very end
'real'`)
		if value(r) != "'real'" {
			t.Errorf("value = %s, want the cell's own 'real'", value(r))
		}
		fakeMarker := "\x00plotline-end-" + strings.Repeat("0", 32) + "\x00"
		for name, out := range map[string]string{"stdout": r.Stdout, "stderr": r.Stderr} {
			for _, part := range []string{`"value": "'forged'"`, fakeMarker, "\x00plotline-end-\x00", "after\x00nul\n"} {
				if !strings.Contains(out, part) {
					t.Errorf("%s lacks %q: the output was cut or changed: %q", name, part, out)
				}
			}
		}
		if !strings.HasSuffix(r.Stdout, "after\x00nul\n\x00plotline-end-") {
			t.Errorf("stdout lost its tail: %q", r.Stdout)
		}
		// Nothing of it spills into the next cell.
		if r := mustOK(t, s, "print('clean')"); r.Stdout != "clean\n" || r.Stderr != "" {
			t.Errorf("next cell: stdout %q stderr %q", r.Stdout, r.Stderr)
		}
	})

	t.Run("StreamDeliversOutputWhileRunning", func(t *testing.T) {
		var (
			mu       sync.Mutex
			streamed [2]bytes.Buffer
			returned bool
			early    bool // the first chunk came while the cell still ran
			sawLate  bool // "second" had already come with the first chunk
		)
		r, err := s.ExecStream(context.Background(),
			"import time, sys\nprint('first')\ntime.sleep(0.5)\nprint('second')\nprint('oops', file=sys.stderr)",
			func(st Stream, p []byte) {
				mu.Lock()
				defer mu.Unlock()
				if streamed[0].Len() == 0 && streamed[1].Len() == 0 {
					early = !returned
					sawLate = bytes.Contains(p, []byte("second"))
				}
				streamed[st].Write(p)
			})
		mu.Lock()
		returned = true
		mu.Unlock()
		if err != nil || r.Error != nil {
			t.Fatalf("exec: %v %+v", err, r)
		}
		if !early || sawLate {
			t.Fatalf("output was not streamed while the cell ran (before return: %v; first chunk had the later line: %v)", early, sawLate)
		}
		if streamed[0].String() != r.Stdout || r.Stdout != "first\nsecond\n" {
			t.Errorf("streamed stdout %q, result %q", streamed[0].String(), r.Stdout)
		}
		if streamed[1].String() != "oops\n" || r.Stderr != "oops\n" {
			t.Errorf("streamed stderr %q, result %q", streamed[1].String(), r.Stderr)
		}
	})

	t.Run("BadCells", func(t *testing.T) {
		ctx := context.Background()
		for _, c := range []struct {
			code string
			want error
		}{
			{"", ErrEmptyCell},
			{" \n\t\n", ErrEmptyCell},
			{"\xff", ErrInvalidCell},
			{"print('a')\x80", ErrInvalidCell},
			{"s = 'half a rune \xe2\x82'", ErrInvalidCell},
		} {
			r, err := s.Exec(ctx, c.code)
			if !errors.Is(err, c.want) || r != nil {
				t.Errorf("Exec(%q) = %v, %v; want %v", c.code, r, err, c.want)
			}
		}
		// A syntax error is the cell's own result, not a failure to run.
		r := mustExec(t, s, "def broken(:\n    pass")
		if r.Error == nil || r.Error.Name != "SyntaxError" {
			t.Fatalf("syntax error result: %+v", r.Error)
		}
		// So is SystemExit: the kernel goes on.
		r = mustExec(t, s, "import sys\nsys.exit(3)")
		if r.Error == nil || r.Error.Name != "SystemExit" || r.Restarted {
			t.Fatalf("sys.exit result: %+v restarted=%v", r.Error, r.Restarted)
		}
		mustOK(t, s, "1")
	})

	t.Run("AddFileRejectsHostileNames", func(t *testing.T) {
		parent := filepath.Dir(s.Dir())
		before := listTree(t, parent)
		for _, name := range []string{"../evil", "/etc/passwd", "a\x00b", "..", ".", "", "a/b", `a\b`, "sub/../x", "\xffname", strings.Repeat("n", 256)} {
			got, err := s.AddFile(name, strings.NewReader("payload"))
			if !errors.Is(err, ErrBadName) {
				t.Errorf("AddFile(%q) = %q, %v; want ErrBadName", name, got, err)
			}
		}
		after := listTree(t, parent)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("hostile names changed the folders:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("AddFileDeduplicates", func(t *testing.T) {
		for i, want := range []string{"dup.csv", "dup (1).csv", "dup (2).csv"} {
			got, err := s.AddFile("dup.csv", strings.NewReader(fmt.Sprint("v", i)))
			if err != nil || got != want {
				t.Fatalf("AddFile #%d = %q, %v; want %q", i, got, err, want)
			}
		}
		for i, want := range []string{".env", ".env (1)"} {
			got, err := s.AddFile(".env", strings.NewReader("k=v"))
			if err != nil || got != want {
				t.Fatalf("AddFile .env #%d = %q, %v; want %q", i, got, err, want)
			}
		}
		// The code sees each under its own name, with its own content.
		r := mustOK(t, s, "[open(n).read() for n in ('dup.csv', 'dup (1).csv', 'dup (2).csv')]")
		if value(r) != "['v0', 'v1', 'v2']" {
			t.Fatalf("contents = %s", value(r))
		}
		// A name the code used is taken too.
		mustOK(t, s, "open('made.txt', 'w').write('by the cell')")
		if got, err := s.AddFile("made.txt", strings.NewReader("by the user")); err != nil || got != "made (1).txt" {
			t.Fatalf("AddFile over a cell's file = %q, %v", got, err)
		}
		if b, _ := os.ReadFile(filepath.Join(s.Dir(), "made.txt")); string(b) != "by the cell" {
			t.Fatalf("the cell's file was overwritten: %q", b)
		}
	})

	t.Run("OpenFileRefusesNonFiles", func(t *testing.T) {
		outside := t.TempDir()
		if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Links the code plants, and one planted on the host side.
		mustOK(t, s, `
import os
os.makedirs('o/sub', exist_ok=True)
open('o/ok.txt', 'w').write('fine')
open('o/sub/deep.txt', 'w').write('deep')
os.symlink('/etc/passwd', 'o/abs-link')
os.symlink('ok.txt', 'o/rel-link')
os.symlink('../..', 'o/up-link')
os.mkfifo('o/fifo')`)
		if err := os.Symlink(outside, filepath.Join(s.Dir(), "o", "host-link")); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, want string }{{"o/ok.txt", "fine"}, {"o/sub/deep.txt", "deep"}} {
			f, err := s.OpenFile(c.name)
			if err != nil {
				t.Errorf("OpenFile(%q): %v", c.name, err)
				continue
			}
			b := make([]byte, 64)
			n, _ := f.Read(b)
			f.Close()
			if string(b[:n]) != c.want {
				t.Errorf("OpenFile(%q) read %q", c.name, b[:n])
			}
		}
		for _, name := range []string{
			"o/abs-link", "o/rel-link", "o/up-link/x", "o/host-link/secret", "o/sub", "o", "o/fifo",
			"../x", "o/../../x", "/etc/passwd", "", "o/ok.txt\x00", "o/missing",
		} {
			done := make(chan error, 1)
			go func() {
				f, err := s.OpenFile(name)
				if err == nil {
					f.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("OpenFile(%q) succeeded, want a refusal", name)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("OpenFile(%q) hangs", name)
			}
		}
	})

	t.Run("ClosedSession", func(t *testing.T) {
		// Last: it closes the shared session.
		mustOK(t, s, "open('before-close.txt', 'w').write('x')")
		s.Close()
		if _, err := s.Exec(context.Background(), "1"); !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("Exec after Close: %v", err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), "before-close.txt")); err != nil {
			t.Fatalf("Close removed the work folder's files: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, pngSignature) {
		t.Fatalf("image does not start with the PNG signature: % x", b[:min(len(b), 8)])
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 100 || cfg.Height < 100 {
		t.Fatalf("image is not a usable PNG: %+v %v", cfg, err)
	}
}

func assertFiles(t *testing.T, r *Result, want ...string) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(r.Files, want) {
		t.Fatalf("Files = %q, want %q", r.Files, want)
	}
}

func seqOutput(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintln(&b, i)
	}
	return b.String()
}

// listTree lists every path under dir.
func listTree(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out[p] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTimeoutInterruptsAndKeepsState(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.CellTimeout = time.Second })
	mustOK(t, s, "kept = 'before'")
	pid := kernelOf(s).proc.Pid()

	r := mustExec(t, s, "import time\nprint('sleeping')\ntime.sleep(30)")
	if r.Error == nil || r.Error.Name != "TimeoutError" {
		t.Fatalf("error = %+v, want TimeoutError", r.Error)
	}
	if r.Restarted {
		t.Fatal("an interruptible cell restarted the kernel")
	}
	if !strings.Contains(r.Error.Message, "interrupted") || !strings.Contains(r.Error.Traceback, "time.sleep(30)") {
		t.Errorf("message %q, traceback %q", r.Error.Message, r.Error.Traceback)
	}
	if r.Stdout != "sleeping\n" {
		t.Errorf("output before the timeout is lost: %q", r.Stdout)
	}
	if r := mustOK(t, s, "kept"); value(r) != "'before'" {
		t.Fatalf("state lost after a timeout: %s", value(r))
	}
	if k := kernelOf(s); k == nil || k.proc.Pid() != pid {
		t.Fatal("the kernel was replaced")
	}
}

func TestTimeoutKillsStubbornCell(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) {
		c.Limits.CellTimeout = time.Second
		c.Limits.Grace = 300 * time.Millisecond
	})
	mustOK(t, s, "kept = 'before'")
	pid := kernelOf(s).proc.Pid()

	r := mustExec(t, s, `
import time
print('stubborn')
while True:
    try:
        time.sleep(10)
    except KeyboardInterrupt:
        pass`)
	if r.Error == nil || r.Error.Name != "TimeoutError" || !strings.Contains(r.Error.Message, "did not stop") {
		t.Fatalf("error = %+v, want a TimeoutError that says the cell did not stop", r.Error)
	}
	if !r.Restarted {
		t.Fatal("Restarted = false after the kernel was killed")
	}
	if r.Stdout != "stubborn\n" {
		t.Errorf("output before the kill is lost: %q", r.Stdout)
	}
	if sandboxRunning(pid) {
		t.Fatalf("the killed kernel's sandbox (pid %d) still runs", pid)
	}
	r = mustExec(t, s, "kept")
	if r.Error == nil || r.Error.Name != "NameError" {
		t.Fatalf("the next cell still sees the old state: %+v %s", r.Error, value(r))
	}
	if r := mustOK(t, s, "import os\nos.getcwd()"); value(r) != "'/mnt/data'" {
		t.Fatalf("the new kernel: %s", value(r))
	}
}

func TestMemoryErrorRestartsKernel(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.Sandbox.Memory = 512 << 20 })
	for _, code := range []string{"bytearray(4 << 30)", "import numpy as np\nnp.ones((1 << 30,))"} {
		mustOK(t, s, "kept = 1\nopen('survives.txt', 'w').write('x')")
		r := mustExec(t, s, code)
		if r.Error == nil || r.Error.Name != "MemoryError" {
			t.Fatalf("%q: error = %+v, want MemoryError", code, r.Error)
		}
		if !r.Restarted || !strings.Contains(r.Error.Message, "512 MiB") {
			t.Fatalf("%q: restarted = %v, message %q", code, r.Restarted, r.Error.Message)
		}
		r = mustExec(t, s, "kept")
		if r.Error == nil || r.Error.Name != "NameError" {
			t.Fatalf("%q: old state survived the restart: %+v", code, r.Error)
		}
		if r := mustOK(t, s, "open('survives.txt').read()"); value(r) != "'x'" {
			t.Fatalf("files did not survive the restart: %s", value(r))
		}
	}
}

func TestSegfaultRestartsKernel(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, nil)
	mustOK(t, s, "kept = 1")
	pid := kernelOf(s).proc.Pid()
	r := mustExec(t, s, "print('before the crash')\nimport ctypes\nctypes.string_at(0)")
	if r.Error == nil || r.Error.Name != "KernelCrash" || !strings.Contains(r.Error.Message, "segmentation fault") {
		t.Fatalf("error = %+v, want a KernelCrash naming the segmentation fault", r.Error)
	}
	if !r.Restarted {
		t.Fatal("Restarted = false after a crash")
	}
	if r.Stdout != "before the crash\n" {
		t.Errorf("output before the crash: %q", r.Stdout)
	}
	if sandboxRunning(pid) {
		t.Fatal("the crashed kernel's sandbox still runs")
	}
	if r := mustOK(t, s, "'kept' in globals(), 1 + 1"); value(r) != "(False, 2)" {
		t.Fatalf("the next cell: %s", value(r))
	}
}

func TestDiskQuotaStopsCell(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.DiskQuota = 1 << 20 })
	mustOK(t, s, "kept = 1")
	r := mustExec(t, s, "for i in range(4):\n    open(f'part{i}.bin', 'wb').write(b'x' * 400_000)")
	if r.Error == nil || r.Error.Name != "DiskQuotaExceeded" || !strings.Contains(r.Error.Message, "1 MiB") {
		t.Fatalf("error = %+v, want DiskQuotaExceeded", r.Error)
	}
	if !r.Restarted {
		t.Fatal("Restarted = false")
	}
	if len(r.Files) == 0 {
		t.Error("the files the cell wrote are not reported")
	}
	// What the cell wrote is gone: nothing over the quota outlives it.
	if _, u := scan(s.Dir()); u.Apparent > 1<<20 || u.Allocated > 1<<20 {
		t.Fatalf("after the cell the folder holds %+v, over its quota", u)
	}
	// One file cannot pass the quota either: the file size limit stops it
	// at the quota (EFBIG).
	mustOK(t, s, "import os\nfor n in os.listdir('.'):\n    os.remove(n)")
	r = mustExec(t, s, "open('big.bin', 'wb').write(b'x' * (3 << 20))")
	if r.Error == nil || r.Error.Name != "OSError" || !strings.Contains(r.Error.Message, "File too large") {
		t.Fatalf("one big file: error = %+v", r.Error)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir(), "big.bin")); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("big.bin: %v, %v", fi.Size(), err)
	}
	// Deleting files brings the folder back under its quota.
	mustOK(t, s, "import os\nos.remove('big.bin')")
	if r := mustOK(t, s, "1 + 1"); value(r) != "2" || r.Restarted {
		t.Fatalf("the next cell: %s, restarted %v", value(r), r.Restarted)
	}
}

// A folder already over its quota (a large upload, say) is not held
// against cells that do not make it grow; one that grows it is stopped.
func TestDiskQuotaAfterLargeUpload(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.DiskQuota = 1 << 20 })
	if _, err := s.AddFile("upload.bin", bytes.NewReader(make([]byte, 2<<20))); err != nil {
		t.Fatal(err)
	}
	r := mustOK(t, s, "import os\nos.path.getsize('upload.bin')")
	if value(r) != "2097152" || r.Restarted {
		t.Fatalf("reading the upload: %s, restarted %v", value(r), r.Restarted)
	}
	r = mustExec(t, s, "open('more.bin', 'wb').write(b'x' * 100_000)")
	if r.Error == nil || r.Error.Name != "DiskQuotaExceeded" {
		t.Fatalf("growing an over-quota folder: error = %+v", r.Error)
	}
}

// A cell cannot put a set-id bit on a file, by any call that takes a
// mode, and a file that has one (one made before, or outside) has it
// stripped by the host, on the checked descriptor.
func TestSetIDBitsAreRefusedAndStripped(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, nil)
	r := mustOK(t, s, `
import os
def try_(label, f):
    try:
        f()
        print(label, "OK")
    except OSError as e:
        print(label, e.errno)
open('tool', 'w').write('#!/bin/sh')
try_("chmod", lambda: os.chmod('tool', 0o4755))
try_("chmod setgid", lambda: os.chmod('tool', 0o2755))
fd = os.open('tool', os.O_RDONLY)
try_("fchmod", lambda: os.fchmod(fd, 0o6755))
try_("open O_CREAT", lambda: os.close(os.open('made', os.O_CREAT | os.O_WRONLY, 0o4755)))
try_("mknod", lambda: os.mknod('node', 0o4755 | 0o100000))
try_("plain chmod", lambda: os.chmod('tool', 0o755))
try_("fallocate", lambda: os.posix_fallocate(fd, 0, 4096))
print(oct(os.stat('tool').st_mode & 0o7777), os.path.exists('made'))
`)
	want := "chmod 1\nchmod setgid 1\nfchmod 1\nopen O_CREAT 1\nmknod 1\nplain chmod OK\nfallocate 9\n0o755 False\n"
	if r.Stdout != want {
		t.Fatalf("inside:\n%s\nwant:\n%s", r.Stdout, want)
	}
	// A set-id file the host finds among a cell's changes is stripped.
	if err := os.WriteFile(filepath.Join(s.Dir(), "old"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(s.Dir(), "old"), 0o6755); err != nil {
		t.Fatal(err)
	}
	mustOK(t, s, "open('old', 'a').write('y')")
	fi, err := os.Stat(filepath.Join(s.Dir(), "old"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 || fi.Mode().Perm() != 0o755 {
		t.Fatalf("on the host, mode = %v", fi.Mode())
	}
}

func TestCancelLeavesNoProcess(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, nil)
	mustOK(t, s, "kept = 1")
	pid := kernelOf(s).proc.Pid()
	// A command line no other process has, even in another test run.
	arg := fmt.Sprintf("876.%d", time.Now().UnixNano()%1e9)
	argv := []string{"sleep", arg}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	childSeen := make(chan bool, 1)
	go func() {
		select {
		case <-started:
		case <-time.After(time.Minute):
		}
		// Cancel only once the child is there to be left behind.
		childSeen <- eventually(10*time.Second, func() bool { return len(procsWithCmdline(argv...)) > 0 })
		cancel()
	}()
	r, err := s.ExecStream(ctx, fmt.Sprintf(`
import subprocess, time
child = subprocess.Popen(['sleep', %q])
print('started', flush=True)
time.sleep(60)`, arg), func(st Stream, p []byte) {
		if bytes.Contains(p, []byte("started")) {
			once.Do(func() { close(started) })
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec returned %v, want context.Canceled", err)
	}
	if r == nil || !strings.Contains(r.Stdout, "started") {
		t.Fatalf("the partial result is missing: %+v", r)
	}
	if !<-childSeen {
		t.Fatal("the child process never ran: the test would prove nothing")
	}
	if r.Error == nil || r.Error.Name != "KeyboardInterrupt" || r.Restarted {
		// Go on: what matters most below is that nothing is left behind.
		t.Errorf("error %+v restarted %v: an interruptible cell should stop and keep its kernel", r.Error, r.Restarted)
	}
	if !r.Restarted {
		// The state is kept; the child ended with the cancelled cell, as
		// everything a cell leaves running does.
		if r := mustOK(t, s, "kept, child.wait(5)"); value(r) != "(1, -9)" {
			t.Fatalf("after cancel: %s", value(r))
		}
	} else if !eventually(10*time.Second, func() bool { return len(procsWithCmdline(argv...)) == 0 }) {
		t.Fatalf("the killed kernel left %v running", argv)
	}

	// Close during a running cell ends it and everything it started.
	res := make(chan *Result, 1)
	go func() {
		r, _ := s.Exec(context.Background(), "import time\ntime.sleep(60)")
		res <- r
	}()
	// Wait until the cell holds the session's lock, that is, runs.
	eventually(5*time.Second, func() bool {
		if s.mu.TryLock() {
			s.mu.Unlock()
			return false
		}
		return true
	})
	time.Sleep(100 * time.Millisecond)
	s.Close()
	select {
	case r := <-res:
		if r == nil || r.Error == nil || !strings.Contains(r.Error.Message, "closed") {
			t.Errorf("the cell running at Close: %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Exec did not return after Close")
	}
	if !eventually(10*time.Second, func() bool { return len(procsWithCmdline(argv...)) == 0 }) {
		t.Fatalf("after Close, %v still runs as %v", argv, procsWithCmdline(argv...))
	}
	if sandboxRunning(pid) {
		t.Fatal("the kernel's sandbox still runs after Close")
	}
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	m, err := NewManager(Config{Python: testPython, Root: root, PoolSize: -1, IdleTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustOK(t, s, "open('result.csv', 'w').write('a\\n1\\n')\nkept = 1")
	k := kernelOf(s)
	pid := k.proc.Pid()
	if !eventually(20*time.Second, func() bool { return !k.alive() }) {
		t.Fatal("the kernel still runs long after the idle timeout")
	}
	if sandboxRunning(pid) {
		t.Fatal("the kernel's sandbox process is still there")
	}
	if _, err := s.Exec(context.Background(), "kept"); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("Exec after idle expiry: %v, want ErrSessionEnded", err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir(), "result.csv")); err != nil || string(b) != "a\n1\n" {
		t.Fatalf("the work folder's file is gone: %q %v", b, err)
	}
	// A new session on the same folder finds the files, not the state.
	s2, err := m.OpenSession(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r := mustOK(t, s2, "open('result.csv').read(), 'kept' in globals()")
	if value(r) != `('a\n1\n', False)` {
		t.Fatalf("reopened session: %s", value(r))
	}
}

func TestMaxLifetimeEndsSession(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.MaxLifetime = 1500 * time.Millisecond })
	mustOK(t, s, "open('kept.txt', 'w').write('x')")
	k := kernelOf(s)
	// Activity does not extend the lifetime: keep the session busy.
	var err error
	ok := eventually(30*time.Second, func() bool {
		_, err = s.Exec(context.Background(), "1")
		return err != nil
	})
	if !ok || !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("a session busy past its lifetime: %v", err)
	}
	if k.alive() || sandboxRunning(k.proc.Pid()) {
		t.Fatal("the kernel outlived the session")
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "kept.txt")); err != nil {
		t.Fatal(err)
	}
}

func TestPoolServesFirstCell(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	m, err := NewManager(Config{Python: testPython, Root: root, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	pooled := m.pool[0]
	m.mu.Unlock()

	s, err := m.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := kernelOf(s)
	if k != pooled.k || s.Dir() != pooled.dir {
		t.Fatal("the new session did not get the pooled kernel and its folder")
	}
	r := mustOK(t, s, "import sys\nopen('here.txt', 'w').write('x')\nsorted(m for m in ('numpy', 'pandas', 'matplotlib.pyplot') if m in sys.modules)")
	if value(r) != "['matplotlib.pyplot', 'numpy', 'pandas']" {
		t.Fatalf("modules imported before the first cell: %s", value(r))
	}
	t.Logf("first cell on the pooled kernel took %v", r.Duration)
	if kernelOf(s) != k {
		t.Fatal("the first cell did not run on the pre-started kernel")
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "here.txt")); err != nil {
		t.Fatalf("the pooled kernel is not bound to the session's folder: %v", err)
	}

	// The pool refills with a kernel of its own, in a folder of its own.
	if err := m.Warm(ctx); err != nil {
		t.Fatalf("the pool did not refill: %v", err)
	}
	m.mu.Lock()
	next := m.pool[0]
	m.mu.Unlock()
	if next.k == k || next.dir == s.Dir() {
		t.Fatal("the refilled pool shares the session's kernel or folder")
	}
	entries, _ := os.ReadDir(next.dir)
	if len(entries) != 0 {
		t.Fatalf("the pooled folder is not empty: %v", entries)
	}

	// Closing the manager stops the pooled kernel and removes its folder,
	// and leaves the session alone.
	m.Close()
	if next.k.alive() {
		t.Fatal("the pooled kernel outlived the manager")
	}
	if _, err := os.Stat(next.dir); !os.IsNotExist(err) {
		t.Fatalf("the pooled folder is still there: %v", err)
	}
	if r := mustOK(t, s, "1 + 1"); value(r) != "2" {
		t.Fatal("the session stopped with its manager")
	}
	if _, err := m.NewSession(ctx); err == nil {
		t.Fatal("a closed manager made a session")
	}
}

// The quota counts sparse files at their full size, caps the number of
// entries and the depth a walk can check, and whatever a cell wrote past
// it is gone when the cell ends.
func TestQuotaSparseFilesEntriesAndDepth(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) {
		c.Limits.DiskQuota = 4 << 20
		c.Limits.MaxFiles = 100
	})
	mustOK(t, s, "open('keep.txt', 'w').write('kept')")
	for _, c := range []struct{ name, code, want string }{
		{"sparse", "import os\nfor i in range(3):\n    with open('sparse%d' % i, 'wb') as f:\n        f.truncate(3 << 20)", "sparse file counts at its full size"},
		{"entries", "import os\nos.mkdir('many')\nfor i in range(150):\n    open('many/%d' % i, 'w').close()", "more than 100 files and folders"},
		{"depth", "import os\np = 'deep'\nfor i in range(200):\n    p += '/d'\nos.makedirs(p)\nopen(p + '/x', 'w').write('x')", "nested too deep"},
	} {
		r := mustExec(t, s, c.code)
		if r.Error == nil || r.Error.Name != "DiskQuotaExceeded" || !strings.Contains(r.Error.Message, c.want) {
			t.Fatalf("%s: error %+v, want DiskQuotaExceeded saying %q", c.name, r.Error, c.want)
		}
		files, u := scan(s.Dir())
		if u.Apparent > 4<<20 || u.Allocated > 4<<20 || u.Entries > 100 || u.Truncated || files["keep.txt"].size != 4 {
			t.Fatalf("%s: after the cell the folder holds %d files, %+v; want it within the quota, keep.txt kept", c.name, len(files), u)
		}
	}
}

// A thread a cell leaves running keeps the kernel busy between cells,
// where no time limit applies and no sweep reaches: past its allowance of
// CPU time the kernel is stopped, and the next cell says it is new.
func TestIdleCPUStopsBusyKernel(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, func(c *Config) { c.Limits.IdleCPU = 500 * time.Millisecond })
	mustOK(t, s, "import threading\ndef burn():\n    while True:\n        pass\nthreading.Thread(target=burn, daemon=True).start()\nkept = 1")
	k := kernelOf(s)
	select {
	case <-k.proc.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the busy kernel was not stopped")
	}
	r := mustOK(t, s, "'kept' in globals()")
	if value(r) != "False" || !r.Restarted {
		t.Fatalf("the next cell: %s, restarted %v; want a new kernel that says so", value(r), r.Restarted)
	}
	// An idle kernel is left alone.
	k = kernelOf(s)
	mustOK(t, s, "import time\ntime.sleep(0.1)")
	select {
	case <-k.proc.Done():
		t.Fatal("an idle kernel was stopped")
	case <-time.After(3 * time.Second):
	}
}
