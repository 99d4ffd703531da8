//go:build unix

package plotting

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO or a symbolic link is refused at once: a FIFO opened for reading
// would block until a writer came, and a link could point outside the work
// folder.
func TestPreviewRefusesFIFOAndSymlink(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.csv")
	if err := os.WriteFile(data, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link.csv", "link.xlsx"} {
		if err := os.Symlink(data, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"pipe.csv", "pipe.xlsx"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	fifo, err := os.OpenFile(at("pipe.csv"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fifo.Close()
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"PreviewFile on a link", func() error { _, err := PreviewFile(at("link.csv"), 5); return err }, at("link.csv") + " is a symbolic link"},
		{"ReadXLSX on a link", func() error { _, _, err := ReadXLSX(at("link.xlsx"), 5); return err }, at("link.xlsx") + " is a symbolic link"},
		{"PreviewFile on a FIFO", func() error { _, err := PreviewFile(at("pipe.csv"), 5); return err }, at("pipe.csv") + " is not a regular file"},
		{"PreviewXLSX on a FIFO", func() error { _, err := PreviewXLSX(at("pipe.xlsx"), 5); return err }, at("pipe.xlsx") + " is not a regular file"},
		{"PreviewOpen on a FIFO", func() error { _, err := PreviewOpen(fifo, "pipe.csv", 5); return err }, "pipe.csv is not a regular file"},
		{"PreviewFile on a folder", func() error { _, err := PreviewFile(at("folder.csv"), 5); return err }, at("folder.csv") + " is not a regular file"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { done <- c.run() }()
		select {
		case err := <-done:
			if err == nil || err.Error() != c.want {
				t.Errorf("%s: %v, want %q", c.name, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5s", c.name)
		}
	}
}

// PreviewOpen reads the file it is handed by ReadAt alone: the caller's
// offset stays put, and the file stays open.
func TestPreviewOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(p, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(3, io.SeekStart)
	for _, c := range []struct{ name, want string }{
		{"shown as Data.CSV", "columns (2): a (int), b (int)\n  1 | 2\n"},
		{"notes.md", ""},
	} {
		got, err := PreviewOpen(f, c.name, 5)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != 3 {
		t.Errorf("offset moved to %d", off)
	}
	if _, err := f.Stat(); err != nil {
		t.Errorf("file closed: %v", err)
	}
}
