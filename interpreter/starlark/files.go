package starlark

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"plotline/interpreter/workerio"
)

// ErrBadName is returned for a file name that is not a plain
// slash-separated name inside the work folder.
var ErrBadName = errors.New("not a file name in the work folder")

// ErrNotArchive is returned by Session.Unpack: a Starlark session does not
// unpack archives.
var ErrNotArchive = errors.New("not an archive Plotline unpacks")

// CheckName says why name cannot name a file of the work folder, or
// returns nil. A name is slash-separated and relative: no "..", ".", empty
// or absolute part, no backslash and no NUL.
func CheckName(name string) error {
	if name == "" || len(name) > 4096 || path.IsAbs(name) || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	for _, p := range strings.Split(name, "/") {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("%w: %q", ErrBadName, name)
		}
	}
	return nil
}

// folder is a work folder reached through an os.Root: no name leaves it,
// links are never followed, and only regular files are read.
type folder struct {
	dir  string
	root *os.Root
	max  int64 // the largest file read or written, in bytes
}

func openFolder(dir string, max int64) (*folder, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &folder{dir: dir, root: root, max: max}, nil
}

func (f *folder) close() error { return f.root.Close() }

// WorkPath is where a script's files are, as the model is told: a name
// may start with it ("/mnt/data/sales.csv" is "sales.csv").
const WorkPath = "/mnt/data/"

// scriptName is the name in the work folder of a file a script names.
func scriptName(name string) string { return strings.TrimPrefix(name, WorkPath) }

// open opens the regular file name for reading and gives its size.
func (f *folder) open(name string) (*os.File, int64, error) {
	name = scriptName(name)
	if err := CheckName(name); err != nil {
		return nil, 0, err
	}
	fi, err := f.root.Lstat(name)
	if err != nil {
		return nil, 0, plainError(name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file (%s)", name, describeMode(fi.Mode()))
	}
	fh, err := f.root.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, 0, plainError(name, err)
	}
	// The checks hold for the descriptor that is read, whatever the name
	// became since the Lstat.
	fi, err = fh.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file (%s)", name, describeMode(fi.Mode()))
	}
	if err == nil && fi.Size() > f.max {
		err = fmt.Errorf("%s is %s; files of up to %s are read", name, workerio.FormatBytes(fi.Size()), workerio.FormatBytes(f.max))
	}
	if err != nil {
		fh.Close()
		return nil, 0, err
	}
	return fh, fi.Size(), nil
}

// create writes name from write, refusing to replace anything but a
// regular file, and caps its size.
func (f *folder) create(name string, write func(io.Writer) error) error {
	name = scriptName(name)
	if err := CheckName(name); err != nil {
		return err
	}
	if fi, err := f.root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file (%s)", name, describeMode(fi.Mode()))
	}
	fh, err := f.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|openNonblock, 0o644)
	if err != nil {
		return plainError(name, err)
	}
	w := &cappedWriter{w: fh, left: f.max}
	err = write(w)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if w.over {
		err = fmt.Errorf("%s would be larger than %s, the limit of a file", name, workerio.FormatBytes(f.max))
	}
	if err != nil {
		f.root.Remove(name)
	}
	return err
}

// add copies r into the folder as name, or as "name (1).ext" and so on if
// that is taken, and returns the name used.
func (f *folder) add(name string, r io.Reader) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for n := 0; n < 1000; n++ {
		try := name
		if n > 0 {
			try = fmt.Sprintf("%s (%d)%s", base, n, ext)
		}
		fh, err := f.root.OpenFile(try, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", plainError(try, err)
		}
		_, err = io.Copy(fh, r)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			f.root.Remove(try)
			return "", err
		}
		return try, nil
	}
	return "", fmt.Errorf("no free name like %s in the work folder", name)
}

// File is a regular file of a work folder.
type File struct {
	Name string // slash-separated, relative to the work folder
	Size int64
}

// list gives the folder's regular files, sorted by name; links and other
// special files are left out.
func (f *folder) list() []File {
	var out []File
	fs.WalkDir(f.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeType != 0 {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			out = append(out, File{Name: p, Size: fi.Size()})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// plainError says what went wrong with name without the host's path.
func plainError(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("there is no file %s in the work folder", name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s cannot be opened: permission denied", name)
	case strings.Contains(err.Error(), "escapes"):
		return fmt.Errorf("%s leads out of the work folder (a link?), so it is not opened", name)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", name, pe.Err)
	}
	return fmt.Errorf("%s: %v", name, err)
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a link, which is never followed"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// cappedWriter writes at most left bytes to w and then reports over.
type cappedWriter struct {
	w    io.Writer
	left int64
	over bool
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		c.over = true
		return 0, errors.New("file size limit")
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}
