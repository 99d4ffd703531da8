package interpreter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrBadName is returned for a file name that cannot live in /mnt/data.
var ErrBadName = errors.New("invalid file name")

// CheckName checks that name is a plain file name that stays inside the
// work folder: not empty, not . or .., no slash, backslash or NUL, valid
// UTF-8, at most 255 bytes.
func CheckName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadName, name, why) }
	switch {
	case name == "":
		return bad("empty")
	case name == "." || name == "..":
		return bad("it would name a folder, not a file")
	case strings.ContainsRune(name, 0):
		return bad("it contains a NUL byte")
	case strings.ContainsAny(name, `/\`):
		return bad("it contains a path separator; only plain names can go in /mnt/data")
	case !utf8.ValidString(name):
		return bad("it is not valid UTF-8")
	case len(name) > 255:
		return bad("it is longer than 255 bytes")
	}
	return nil
}

// dedupe returns the n-th alternative of name: "data.csv", "data (1).csv", …
func dedupe(name string, n int) string {
	if n == 0 {
		return name
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if base == "" { // ".bashrc": the whole name is the base
		base, ext = name, ""
	}
	return fmt.Sprintf("%s (%d)%s", base, n, ext)
}

// addFile copies r into dir under name, or under "name (1).ext" and so on
// when the name is taken. It returns the name used.
func addFile(dir, name string, r io.Reader) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	for n := 0; n < 10000; n++ {
		cand := dedupe(name, n)
		if len(cand) > 255 {
			return "", fmt.Errorf("%w %q: no free variant of the name", ErrBadName, name)
		}
		f, err := root.OpenFile(cand, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create %s: %w", cand, err)
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			root.Remove(cand)
			return "", fmt.Errorf("write %s: %w", cand, err)
		}
		return cand, nil
	}
	return "", fmt.Errorf("%w %q: too many files of that name", ErrBadName, name)
}

// openRegular opens the regular file at rel (slash-separated, relative to
// dir) for reading. It never follows a symbolic link and never leaves dir,
// whatever the sandboxed code planted there.
func openRegular(dir, rel string) (*os.File, error) {
	if rel == "" || path.IsAbs(rel) || strings.ContainsRune(rel, 0) {
		return nil, fmt.Errorf("%w %q", ErrBadName, rel)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(filepath.FromSlash(rel), os.O_RDONLY|oNoFollow|oNonblock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	// os.Root adds O_NOFOLLOW itself and then follows a final link that
	// stays inside dir, so the flag above does not refuse links. Refuse
	// them here: what was opened must be what sits at rel, not a link.
	li, err := root.Lstat(filepath.FromSlash(rel))
	if err != nil || !os.SameFile(fi, li) {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	return f, nil
}

// fileStamp identifies one version of a file.
type fileStamp struct {
	size  int64
	mtime int64
	ino   uint64
	mode  fs.FileMode
}

// scan walks dir without following links. It returns the regular files
// (by slash-separated relative name) and the bytes everything occupies.
func scan(dir string) (map[string]fileStamp, int64) {
	files := map[string]fileStamp{}
	var usage int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished or unreadable: skip, keep walking
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		used, ino := diskUsage(fi)
		usage += used
		if fi.Mode().IsRegular() && p != dir {
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ino: ino, mode: fi.Mode()}
		}
		return nil
	})
	return files, usage
}

// stripSetID clears the setuid and setgid bits of the named files. A
// cell cannot use them inside the sandbox (/mnt/data is mounted nosuid),
// but on the host the file belongs to the user, or to root when Plotline
// runs as root, and must not become a set-id program there.
func stripSetID(dir string, files map[string]fileStamp, names []string) {
	var root *os.Root
	for _, name := range names {
		st := files[name]
		if st.mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
			continue
		}
		if root == nil {
			var err error
			if root, err = os.OpenRoot(dir); err != nil {
				return
			}
			defer root.Close()
		}
		root.Chmod(filepath.FromSlash(name), st.mode.Perm())
	}
}

// changed lists the files in after that are new or differ from before.
func changed(before, after map[string]fileStamp) []string {
	var out []string
	for name, st := range after {
		if old, ok := before[name]; !ok || old != st {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
