package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"plotline/interpreter"
)

// outFolder is the --out folder of exec and ask. What they save there was
// named and written by code Plotline does not trust, and the folder holds
// the user's own files, so saving never replaces a file, never writes a
// hidden file, never follows a link and never leaves the folder.
type outFolder struct {
	dir  string
	root *os.Root
	left int64 // bytes that may still be written
}

// openOutFolder makes dir if needed and opens it. quota is the work
// folder's: one cell's files cannot rightly hold more, so sparse files
// that claim more are not expanded past it.
func openOutFolder(dir string, quota int64) (*outFolder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &outFolder{dir: dir, root: root, left: quota}, nil
}

func (o *outFolder) Close() error { return o.root.Close() }

// save copies a file to rel, a slash-separated path such as it had in
// /mnt/data, under the folder, and returns the path it wrote. It refuses
// names with control characters, invalid UTF-8 or a part starting with
// "." (.git/config, .bashrc), and folders on the way that are links or not
// folders; it writes "name (1).ext" and so on when the name is taken.
// open is called only for a name that will be saved; it returns the
// source and its size at open, and save copies no more than that size and
// than the quota left, failing if the source has more. Every error names
// rel quoted, on one line.
func (o *outFolder) save(rel string, open func() (io.ReadCloser, int64, error)) (string, error) {
	p, err := o.write(rel, open)
	if err != nil {
		return "", fmt.Errorf("did not save %q: %w", rel, err)
	}
	return p, nil
}

func (o *outFolder) write(rel string, open func() (io.ReadCloser, int64, error)) (string, error) {
	if err := checkOutPath(rel); err != nil {
		return "", err
	}
	src, size, err := open()
	if err != nil {
		return "", err
	}
	defer src.Close()
	if size > o.left {
		return "", fmt.Errorf("its %d bytes are more than the %d bytes left of the work folder's quota", size, o.left)
	}
	parts := strings.Split(rel, "/")
	dir := ""
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		// Lstat, then Mkdir one level at a time: os.Root follows a link
		// that stays inside the folder, and no link may redirect a save.
		fi, err := o.root.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := o.root.Mkdir(dir, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case !fi.IsDir():
			return "", fmt.Errorf("%s in %s is a link or a file, not a folder", filepath.ToSlash(dir), o.dir)
		}
	}
	name := parts[len(parts)-1]
	for n := 0; n < 1000; n++ {
		cand := interpreter.Dedupe(name, n)
		if len(cand) > 255 {
			break
		}
		local := filepath.Join(dir, cand)
		// O_EXCL fails on any existing name, a link included, so nothing
		// is replaced and no link is followed.
		dst, err := o.root.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		written, err := copyAtMost(dst, src, size)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			o.root.Remove(local)
			return "", err
		}
		o.left -= written
		return filepath.Join(o.dir, local), nil
	}
	return "", errors.New("no free variant of the name")
}

// copyAtMost copies src to dst up to size bytes, and fails if src has
// more: a file still growing after it was opened is not saved.
func copyAtMost(dst io.Writer, src io.Reader, size int64) (int64, error) {
	n, err := io.CopyN(dst, src, size)
	if err == io.EOF { // shrank since it was opened: keep what there is
		return n, nil
	}
	if err != nil {
		return n, err
	}
	var one [1]byte
	if k, _ := io.ReadFull(src, one[:]); k > 0 {
		return n, fmt.Errorf("it grew past the %d bytes it had when opened", size)
	}
	return n, nil
}

// checkOutPath says why rel must not be saved, or returns nil.
func checkOutPath(rel string) error {
	switch {
	case !utf8.ValidString(rel):
		return errors.New("the name is not valid UTF-8")
	case strings.ContainsFunc(rel, unicode.IsControl):
		return errors.New("the name has control characters")
	}
	for _, p := range strings.Split(rel, "/") {
		if err := interpreter.CheckName(p); err != nil {
			return err
		}
		if strings.HasPrefix(p, ".") {
			return errors.New("hidden files and folders (names starting with \".\") are never saved: they can change what programs do in the folder")
		}
	}
	return nil
}

// fileSource is an opened work-folder file and its size at open, for save.
func fileSource(f *os.File, err error) (io.ReadCloser, int64, error) {
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
