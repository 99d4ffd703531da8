package interpreter

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Windows runs no Python sandbox yet; these keep the host's side of a
// work folder beneath it through os.Root, which refuses links that leave it.

func openRegular(dir, rel string) (*os.File, error) {
	if rel == "" || path.IsAbs(rel) || strings.ContainsRune(rel, 0) {
		return nil, fmt.Errorf("%w %q", ErrBadName, rel)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	li, err := root.Lstat(filepath.FromSlash(rel))
	if err != nil || !li.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, li) {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	return f, nil
}

func removeInFolder(dir, rel string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.Remove(filepath.FromSlash(rel))
}

func scan(dir string) (map[string]fileStamp, Usage) {
	files := map[string]fileStamp{}
	u := Usage{top: map[string]bool{}}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		if filepath.Dir(p) == dir {
			u.top[d.Name()] = true
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		u.Entries++
		u.Allocated += fi.Size()
		if fi.Mode().IsRegular() {
			u.Apparent += fi.Size()
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
		}
		return nil
	})
	return files, u
}

func stripSetID(dir string, files map[string]fileStamp, names []string) {}

func mkdirAllInFolder(dir, rel string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.MkdirAll(filepath.FromSlash(rel), 0o755)
}

func createInFolder(dir, rel string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.OpenFile(filepath.FromSlash(rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}
