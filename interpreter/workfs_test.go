//go:build linux

package interpreter

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWorkFileRefusesLinksAndSpecials checks the helper's rules on a
// folder laid out as hostile code would: links to host files and
// folders, a FIFO, and a name nested past PATH_MAX.
func TestWorkFileRefusesLinksAndSpecials(t *testing.T) {
	dir, host := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(host, "secret.csv"), []byte("host,secret\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ok.csv"), []byte("a,b\n"), 0o644)
	os.Symlink(filepath.Join(host, "secret.csv"), filepath.Join(dir, "link.csv"))
	os.Symlink(host, filepath.Join(dir, "hostdir"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A chain of folders whose full path is longer than PATH_MAX, with a
	// file at the bottom.
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 250)
	for i := 0; i < 20; i++ {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	big, err := unix.Openat(fd, "big", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Ftruncate(big, 5<<20)
	unix.Close(big)
	unix.Close(fd)

	for name, want := range map[string]string{
		"link.csv":           "link",
		"hostdir/secret.csv": "not a directory",
		"fifo.csv":           "not a regular file",
		"../x":               "invalid file name",
		"/etc/passwd":        "invalid file name",
	} {
		f, err := OpenWorkFile(dir, name)
		if err == nil {
			f.Close()
			t.Errorf("%s: opened", name)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", name, err, want)
		}
	}
	f, err := OpenWorkFile(dir, "ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "a,b\n" {
		t.Fatalf("ok.csv read %q", b)
	}
	var names []string
	for _, fe := range ListFiles(dir) {
		names = append(names, fe.Name)
	}
	if len(names) != 2 || names[1] != "ok.csv" || !strings.HasSuffix(names[0], "/big") || len(names[0]) <= unix.PathMax {
		t.Fatalf("ListFiles = %.80q, want the deep file and ok.csv", names)
	}
	// The walk goes past PATH_MAX: the file there counts.
	files, u := scan(dir)
	if u.Apparent < 5<<20 || len(files) != 2 {
		t.Fatalf("scan past PATH_MAX: %d files, %+v; want the 5 MiB file counted", len(files), u)
	}
}

// TestEscapeSwapFolderForLink races the host's reads of the work folder:
// a cell swaps a subfolder for a link to a host folder (renameat2 with
// RENAME_EXCHANGE) and a table for a FIFO, as fast as it can, while the
// host lists and previews the folder as it does before each run. The host
// must never read the host file and never block.
func TestEscapeSwapFolderForLink(t *testing.T) {
	s := newTestSession(t, nil)
	host := t.TempDir()
	secret := "host-secret-" + escToken(t)
	if err := os.WriteFile(filepath.Join(host, "data.csv"), []byte("x\n"+secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, `
import os
os.makedirs("real", exist_ok=True)
open("real/data.csv", "w").write("x\n1\n")
os.symlink(`+escPyStr(host)+`, "fake")
os.mkfifo("pipe.csv")
open("table.csv", "w").write("x\n2\n")
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Result, 1)
	go func() {
		r, _ := s.Exec(ctx, `
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
end = time.time() + 3
n = 0
while time.time() < end:
    libc.renameat2(AT_FDCWD, b"real", AT_FDCWD, b"fake", RENAME_EXCHANGE)
    libc.renameat2(AT_FDCWD, b"table.csv", AT_FDCWD, b"pipe.csv", RENAME_EXCHANGE)
    n += 1
print(n)
`)
		done <- r
	}()
	reads := 0
	deadline := time.After(2500 * time.Millisecond)
loop:
	for {
		select {
		case <-deadline:
			break loop
		default:
		}
		for _, fe := range ListFiles(s.Dir()) {
			f, err := OpenWorkFile(s.Dir(), fe.Name)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
			f.Close()
			reads++
			if strings.Contains(string(b), secret) {
				t.Fatalf("the host read its own file through %s", fe.Name)
			}
		}
	}
	r := <-done
	if r == nil || r.Error != nil {
		t.Fatalf("the swapping cell: %+v", r)
	}
	t.Logf("%d host reads while the cell swapped %s times", reads, strings.TrimSpace(r.Stdout))
	if reads == 0 {
		t.Fatal("the host read nothing")
	}
}
