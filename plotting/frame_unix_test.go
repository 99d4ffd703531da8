//go:build unix

package plotting

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// ReadFile and Sheets refuse a FIFO and a symbolic link at once.
func TestReadFileRefusesFIFOAndSymlink(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(at("data.csv"), []byte("a\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link.csv", "link.xlsx"} {
		if err := os.Symlink(at("data.csv"), at(name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"pipe.csv", "pipe.xlsx"} {
		if err := syscall.Mkfifo(at(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"ReadFile on a link", func() error { _, err := ReadFile(at("link.csv"), ReadOptions{}); return err }, at("link.csv") + " is a symbolic link"},
		{"ReadFile on a FIFO", func() error { _, err := ReadFile(at("pipe.csv"), ReadOptions{}); return err }, at("pipe.csv") + " is not a regular file"},
		{"ReadFile on a workbook FIFO", func() error { _, err := ReadFile(at("pipe.xlsx"), ReadOptions{}); return err }, at("pipe.xlsx") + " is not a regular file"},
		{"Sheets on a link", func() error { _, err := Sheets(at("link.xlsx")); return err }, at("link.xlsx") + " is a symbolic link"},
		{"Sheets on a FIFO", func() error { _, err := Sheets(at("pipe.xlsx")); return err }, at("pipe.xlsx") + " is not a regular file"},
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
			t.Fatalf("%s blocked", c.name)
		}
	}
}
