package wiring_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/interpreter"
	"plotline/interpreter/interptest"
)

var testPython *interpreter.Python

func TestMain(m *testing.M) {
	testPython = interptest.Setup()
	os.Exit(m.Run())
}

// The adapter on the real sandboxed kernel: what the engine relies on of
// app.Interpreter and app.Session.
func TestKernelsAdapter(t *testing.T) {
	root := t.TempDir()
	m, err := interpreter.NewManager(interpreter.Config{Python: testPython, Root: root, PoolSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	k := wiring.Kernels(m)
	ctx := context.Background()
	for _, bad := range []string{"", "..", "a/b", `a\b`} {
		if _, err := k.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) worked", bad)
		}
	}
	s, err := k.Open(ctx, "thread_a")
	if err != nil {
		t.Fatal(err)
	}
	var streamed bytes.Buffer
	res, err := s.Exec(ctx, "x = 6 * 7\nprint('hello')\nopen('out.txt', 'w').write('made')\nx", func(p []byte) { streamed.Write(p) })
	if err != nil || res.Stdout != "hello\n" || res.Value == nil || *res.Value != "42" || strings.Join(res.Files, ",") != "out.txt" {
		t.Fatalf("exec: %v %+v", err, res)
	}
	if streamed.String() != "hello\n" {
		t.Fatalf("streamed %q", streamed.String())
	}
	if res, err := s.Exec(ctx, "raise KeyError('k')", nil); err != nil || res.Error == nil || res.Error.Name != "KeyError" || !strings.Contains(res.Error.Traceback, "KeyError") {
		t.Fatalf("exception: %v %+v", err, res)
	}
	// Files: added under a free name, listed, opened; archives unpacked
	// beside themselves, other files refused.
	if used, err := s.AddFile("out.txt", strings.NewReader("input")); err != nil || used != "out (1).txt" {
		t.Fatalf("AddFile: %q %v", used, err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("inner/data.csv")
	w.Write([]byte("a,b\n1,2\n"))
	zw.Close()
	if _, err := s.AddFile("pack.zip", &zb); err != nil {
		t.Fatal(err)
	}
	if dest, err := s.Unpack("pack.zip"); err != nil || dest != "pack" {
		t.Fatalf("Unpack: %q %v", dest, err)
	}
	if dest, err := s.Unpack("pack.zip"); err != nil || dest != "pack (1)" {
		t.Fatalf("Unpack again: %q %v", dest, err)
	}
	if _, err := s.Unpack("out.txt"); !errors.Is(err, app.ErrNotArchive) {
		t.Fatalf("Unpack of a text file: %v", err)
	}
	var names []string
	for _, f := range s.Files() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "out (1).txt,out.txt,pack (1)/inner/data.csv,pack.zip,pack/inner/data.csv" {
		t.Fatalf("files %s", got)
	}
	f, err := s.OpenFile("out.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "made" {
		t.Fatalf("out.txt holds %q", b)
	}
	// A link the code planted is not followed.
	if _, err := s.Exec(ctx, "import os\nos.symlink('/etc/passwd', 'link.txt')", nil); err != nil {
		t.Fatal(err)
	}
	if f, err := s.OpenFile("link.txt"); err == nil {
		f.Close()
		t.Fatal("OpenFile followed a link")
	}
	// A closed session says it ended, as one past its lifetime does.
	s.Close()
	if _, err := s.Exec(ctx, "x", nil); !errors.Is(err, app.ErrSessionEnded) {
		t.Fatalf("Exec after Close: %v", err)
	}
	if err := k.CheckName("a/b"); err == nil {
		t.Error("CheckName took a path")
	}
	if err := k.RemoveFolder("thread_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "thread_a")); !os.IsNotExist(err) {
		t.Fatalf("the folder is still there: %v", err)
	}
}
