//go:build linux

package interpreter

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type archiveFile struct {
	name, body string
	link       string // a symlink to this target
	hard       bool   // a hard link (tar only)
	dir        bool
}

func makeZip(t *testing.T, files []archiveFile) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		switch {
		case f.link != "":
			h.SetMode(os.ModeSymlink | 0o777)
		case f.dir:
			h.SetMode(os.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if f.link != "" {
			w.Write([]byte(f.link))
		} else {
			w.Write([]byte(f.body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeTar(t *testing.T, files []archiveFile) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		switch {
		case f.link != "" && f.hard:
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, f.link, 0
		case f.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.link, 0
		case f.dir:
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	return buf.Bytes()
}

// listFiles returns the regular files under dir, relative and sorted.
func listFiles(dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestUnpackArchive(t *testing.T) {
	good := []archiveFile{{name: "data/", dir: true}, {name: "data/a.csv", body: "x,y\n1,2\n"}, {name: "readme.txt", body: "hello"}}
	for _, kind := range []string{"zip", "tar"} {
		t.Run(kind, func(t *testing.T) {
			s := newTestSession(t, nil)
			make := map[string]func(*testing.T, []archiveFile) []byte{"zip": makeZip, "tar": makeTar}[kind]
			if _, err := s.AddFile("bundle."+kind, bytes.NewReader(make(t, good))); err != nil {
				t.Fatal(err)
			}
			got, err := s.UnpackArchive("bundle."+kind, "bundle", DefaultArchiveLimits)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != "bundle/data/a.csv bundle/readme.txt" {
				t.Fatalf("written = %v", got)
			}
			if b, _ := os.ReadFile(filepath.Join(s.Dir(), "bundle/data/a.csv")); string(b) != "x,y\n1,2\n" {
				t.Fatalf("a.csv = %q", b)
			}
			// The code sees them, and the next cell does not report them as its own.
			r := mustExec(t, s, "open('/mnt/data/bundle/readme.txt').read()")
			if r.Value == nil || *r.Value != "'hello'" || len(r.Files) != 0 {
				t.Fatalf("inside: %v files %v", r.Value, r.Files)
			}
		})
	}
}

func TestUnpackArchiveRefusesUnsafeEntries(t *testing.T) {
	home, _ := os.UserHomeDir()
	cases := []struct {
		name  string
		kinds []string
		files []archiveFile
	}{
		{"zip slip", []string{"zip", "tar"}, []archiveFile{{name: "ok.txt", body: "1"}, {name: "../../evil.txt", body: "x"}}},
		{"nested climb", []string{"zip", "tar"}, []archiveFile{{name: "a/../../evil.txt", body: "x"}}},
		{"absolute path", []string{"zip", "tar"}, []archiveFile{{name: "/tmp/evil.txt", body: "x"}}},
		{"windows path", []string{"zip"}, []archiveFile{{name: `..\evil.txt`, body: "x"}}},
		{"drive letter", []string{"zip"}, []archiveFile{{name: `C:\evil.txt`, body: "x"}}},
		{"symlink", []string{"zip", "tar"}, []archiveFile{{name: "home", link: home}, {name: "home/x", body: "x"}}},
		{"hard link", []string{"tar"}, []archiveFile{{name: "passwd", link: "/etc/passwd", hard: true}}},
	}
	for _, tc := range cases {
		for _, kind := range tc.kinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				s := newTestSession(t, func(c *Config) { c.PoolSize = -1 })
				make := map[string]func(*testing.T, []archiveFile) []byte{"zip": makeZip, "tar": makeTar}[kind]
				if _, err := s.AddFile("bad."+kind, bytes.NewReader(make(t, tc.files))); err != nil {
					t.Fatal(err)
				}
				before := listFiles(filepath.Dir(s.Dir()))
				_, err := s.UnpackArchive("bad."+kind, "bad", DefaultArchiveLimits)
				if !errors.Is(err, ErrUnsafeArchive) {
					t.Fatalf("err = %v, want ErrUnsafeArchive", err)
				}
				if after := listFiles(filepath.Dir(s.Dir())); strings.Join(after, "|") != strings.Join(before, "|") {
					t.Fatalf("files changed: %v → %v", before, after)
				}
			})
		}
	}
}

func TestUnpackArchiveCaps(t *testing.T) {
	s := newTestSession(t, nil)
	many := make([]archiveFile, 30)
	for i := range many {
		many[i] = archiveFile{name: strings.Repeat("f", i+1), body: "x"}
	}
	s.AddFile("many.zip", bytes.NewReader(makeZip(t, many)))
	if _, err := s.UnpackArchive("many.zip", "many", ArchiveLimits{MaxEntries: 10, MaxBytes: 1 << 20}); !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("too many entries: %v", err)
	}
	// A zip bomb: a small archive that unpacks to far more than the cap.
	bomb := makeZip(t, []archiveFile{{name: "zeros.bin", body: strings.Repeat("\x00", 8<<20)}})
	if len(bomb) > 100<<10 {
		t.Fatalf("the bomb is not small: %d bytes", len(bomb))
	}
	s.AddFile("bomb.zip", bytes.NewReader(bomb))
	if _, err := s.UnpackArchive("bomb.zip", "bomb", ArchiveLimits{MaxEntries: 10, MaxBytes: 1 << 20}); !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("zip bomb: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "bomb", "zeros.bin")); err == nil {
		t.Fatal("the bomb was written")
	}
	// Not an archive at all.
	s.AddFile("fake.zip", strings.NewReader("not a zip"))
	if _, err := s.UnpackArchive("fake.zip", "fake", DefaultArchiveLimits); err == nil || errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("fake zip: %v", err)
	}
}
