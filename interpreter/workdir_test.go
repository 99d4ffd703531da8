//go:build linux

package interpreter

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"data.csv", true},
		{".hidden", true},
		{"...", true},
		{"a b (1).csv", true},
		{"résumé 📈.xlsx", true},
		{strings.Repeat("n", 255), true},
		{"", false},
		{".", false},
		{"..", false},
		{"../evil", false},
		{"/etc/passwd", false},
		{"a/b", false},
		{"dir/", false},
		{`a\b`, false},
		{`..\evil`, false},
		{"a\x00b", false},
		{"\xff.csv", false},
		{strings.Repeat("n", 256), false},
	} {
		err := CheckName(c.name)
		if c.ok && err != nil {
			t.Errorf("CheckName(%q) = %v, want ok", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", c.name, err)
		}
	}
}

func TestDedupe(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		want string
	}{
		{"data.csv", 0, "data.csv"},
		{"data.csv", 1, "data (1).csv"},
		{"data.csv", 2, "data (2).csv"},
		{"data.csv", 10, "data (10).csv"},
		{"README", 1, "README (1)"},
		{".bashrc", 0, ".bashrc"},
		{".bashrc", 1, ".bashrc (1)"},
		{".config.json", 1, ".config (1).json"},
		{"archive.tar.gz", 1, "archive.tar (1).gz"},
	} {
		if got := Dedupe(c.name, c.n); got != c.want {
			t.Errorf("Dedupe(%q, %d) = %q, want %q", c.name, c.n, got, c.want)
		}
	}
}

func TestAddFile(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{"name.csv", "name (1).csv", "name (2).csv"} {
		got, err := addFile(dir, "name.csv", strings.NewReader(want))
		if err != nil || got != want {
			t.Fatalf("add #%d = %q, %v; want %q", i, got, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, got)); string(b) != want {
			t.Fatalf("%s holds %q", got, b)
		}
	}
	for i, want := range []string{".env", ".env (1)"} {
		if got, err := addFile(dir, ".env", strings.NewReader("")); err != nil || got != want {
			t.Fatalf("add .env #%d = %q, %v; want %q", i, got, err, want)
		}
	}
	// A name taken by a folder is taken too.
	os.Mkdir(filepath.Join(dir, "report"), 0o755)
	if got, err := addFile(dir, "report", strings.NewReader("")); err != nil || got != "report (1)" {
		t.Fatalf("add over a folder = %q, %v", got, err)
	}
}

func TestAddFileDoesNotFollowPlantedLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "target")
	// The code planted a dangling link where the user's upload will go.
	if err := os.Symlink(target, filepath.Join(dir, "data.csv")); err != nil {
		t.Fatal(err)
	}
	got, err := addFile(dir, "data.csv", strings.NewReader("upload"))
	if err != nil || got != "data (1).csv" {
		t.Fatalf("addFile = %q, %v; want data (1).csv", got, err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("the upload was written through the link: %v", err)
	}
}

func TestAddFileRejectsHostileNames(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "work")
	os.Mkdir(dir, 0o755)
	for _, name := range []string{"../evil", "/etc/passwd", "a\x00b", "..", ".", "", "a/b", `a\b`, "sub/../x"} {
		if got, err := addFile(dir, name, strings.NewReader("payload")); !errors.Is(err, ErrBadName) {
			t.Errorf("addFile(%q) = %q, %v; want ErrBadName", name, got, err)
		}
	}
	for _, d := range []string{parent, dir} {
		ents, _ := os.ReadDir(d)
		if d == parent && len(ents) != 1 || d == dir && len(ents) != 0 {
			t.Fatalf("%s holds %v", d, ents)
		}
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestAddFileRemovesPartialFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := addFile(dir, "broken.csv", &failingReader{n: 100}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("addFile = %v, want the reader's error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a half-written file was left: %v", ents)
	}
}

func TestOpenRegular(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret"), "host secret")
	write(filepath.Join(dir, "ok.txt"), "fine")
	write(filepath.Join(dir, "sub", "deep.txt"), "deep")
	for link, target := range map[string]string{
		"abs-link": filepath.Join(outside, "secret"), "rel-link": "ok.txt",
		"out-dir": outside, "up": "..", "sub/back": "../ok.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := openRegular(dir, "sub/../ok.txt"); err == nil || !errors.Is(err, ErrBadName) {
		f.Close()
		t.Errorf("openRegular(sub/../ok.txt): %v, want ErrBadName: names are plain, never climbing", err)
	}
	for name, want := range map[string]string{"ok.txt": "fine", "sub/deep.txt": "deep"} {
		f, err := openRegular(dir, name)
		if err != nil {
			t.Errorf("openRegular(%q): %v", name, err)
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != want {
			t.Errorf("openRegular(%q) read %q", name, b)
		}
	}
	for _, name := range []string{
		"abs-link", "rel-link", "sub/back", "out-dir/secret", "up/" + filepath.Base(outside) + "/secret",
		"sub", ".", "fifo", "../x", "/etc/passwd", "", "ok.txt\x00", "missing",
	} {
		if f, err := openRegular(dir, name); err == nil {
			f.Close()
			t.Errorf("openRegular(%q) succeeded, want a refusal", name)
		}
	}
}

func TestScan(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	big := make([]byte, 1<<20)
	os.WriteFile(filepath.Join(outside, "big"), big, 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "deeper", "b.csv"), []byte("b,c"), 0o644)
	os.Symlink(filepath.Join(outside, "big"), filepath.Join(dir, "link"))
	os.Symlink(outside, filepath.Join(dir, "dirlink"))

	files, usage := scan(dir)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	if len(names) != 2 || files["a.txt"].size != 1 || files["sub/deeper/b.csv"].size != 3 {
		t.Fatalf("scan found %v", files)
	}
	// Links are not followed: a link to a big host file costs nothing.
	if usage.Allocated <= 0 || usage.Allocated >= int64(len(big)) || usage.Apparent != 4 || usage.Entries != 6 {
		t.Fatalf("usage = %+v, want 4 bytes apparent in 6 entries and no more than the folder's own blocks", usage)
	}
}

func TestChanged(t *testing.T) {
	st := func(size, mtime int64, ino uint64) fileStamp { return fileStamp{size: size, mtime: mtime, ino: ino} }
	before := map[string]fileStamp{
		"same.txt":    st(1, 100, 1),
		"grown.txt":   st(1, 100, 2),
		"touched.txt": st(1, 100, 3),
		"replaced":    st(1, 100, 4),
		"deleted":     st(1, 100, 5),
	}
	after := map[string]fileStamp{
		"same.txt":    st(1, 100, 1),
		"grown.txt":   st(2, 100, 2),
		"touched.txt": st(1, 200, 3),
		"replaced":    st(1, 100, 9),
		"z/new.csv":   st(1, 100, 6),
		"a/new.csv":   st(1, 100, 7),
	}
	want := []string{"a/new.csv", "grown.txt", "replaced", "touched.txt", "z/new.csv"}
	if got := changed(before, after); !reflect.DeepEqual(got, want) {
		t.Fatalf("changed = %q, want %q", got, want)
	}
	if got := changed(after, after); got != nil {
		t.Fatalf("nothing changed, got %q", got)
	}
}
