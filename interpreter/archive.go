package interpreter

import (
	"archive/tar"
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// ArchiveLimits bound what unpacking one archive may create.
type ArchiveLimits struct {
	MaxEntries int   // files and folders
	MaxBytes   int64 // total uncompressed bytes
}

// DefaultArchiveLimits are generous for data and small enough that a zip
// bomb cannot fill the disk.
var DefaultArchiveLimits = ArchiveLimits{MaxEntries: 10000, MaxBytes: 1 << 30}

// ErrUnsafeArchive is returned for an archive that breaks the rules of
// unpacking: an entry that would land outside its folder, a link, or too
// many entries or bytes.
var ErrUnsafeArchive = errors.New("unsafe archive")

// IsArchive reports whether name is an archive Plotline unpacks.
func IsArchive(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".zip", ".tar":
		return true
	}
	return false
}

// UnpackArchive unpacks the archive name of the session's work folder
// into the folder dest (created, inside the work folder). Every entry is
// checked first: no absolute path, no "..", no link of any kind, no
// device; and the entry count and total size are capped. Nothing is
// written unless the whole archive passes. It returns the files written,
// relative to /mnt/data.
func (s *Session) UnpackArchive(name, dest string, lim ArchiveLimits) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := CheckName(dest); err != nil {
		return nil, err
	}
	f, err := openRegular(s.dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The work folder's quota caps the unpacking too.
	if room := s.cfg.Limits.DiskQuota - max(s.usage.Allocated, s.usage.Apparent); lim.MaxBytes > room {
		lim.MaxBytes = max(room, 0)
	}
	arc, err := readArchive(f, name, lim)
	if err != nil {
		return nil, err
	}
	if err := mkdirAllInFolder(s.dir, dest); err != nil {
		return nil, err
	}
	var written []string
	err = arc.each(func(e archiveEntry, r io.Reader) error {
		target := path.Join(dest, e.name)
		if e.dir {
			return mkdirAllInFolder(s.dir, target)
		}
		if err := mkdirAllInFolder(s.dir, path.Dir(target)); err != nil {
			return err
		}
		if err := writeCapped(s.dir, target, r, e.size); err != nil {
			return fmt.Errorf("unpack %s: %w", e.name, err)
		}
		written = append(written, target)
		return nil
	})
	if err != nil {
		return written, err
	}
	s.snapshot()
	return written, nil
}

// archiveEntry is one checked entry.
type archiveEntry struct {
	name string
	dir  bool
	size int64
}

// checkedArchive is an archive whose every entry passed the checks.
type checkedArchive struct {
	entries []archiveEntry
	// each calls fn for every entry, in order, with its bytes.
	each func(fn func(archiveEntry, io.Reader) error) error
}

// cleanEntryName checks an entry's name and returns it cleaned ("" for
// the archive's own root folder).
func cleanEntryName(n string) (string, error) {
	n = strings.ReplaceAll(n, `\`, "/")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: entry %q %s", ErrUnsafeArchive, n, why)
	}
	switch {
	case n == "" || strings.ContainsRune(n, 0):
		return bad("has an empty or invalid name")
	case path.IsAbs(n) || (len(n) > 1 && n[1] == ':'):
		return bad("has an absolute path")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return bad("climbs out of its folder")
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// readArchive checks every entry of the archive f before anything is
// written.
func readArchive(f *os.File, name string, lim ArchiveLimits) (*checkedArchive, error) {
	a := &checkedArchive{}
	var total int64
	add := func(n string, dir bool, size uint64) (bool, error) {
		c, err := cleanEntryName(n)
		if err != nil || c == "" {
			return false, err
		}
		if len(a.entries) >= lim.MaxEntries {
			return false, fmt.Errorf("%w: more than %d entries", ErrUnsafeArchive, lim.MaxEntries)
		}
		if size > uint64(lim.MaxBytes) || total+int64(size) > lim.MaxBytes {
			return false, fmt.Errorf("%w: more than %d bytes unpacked", ErrUnsafeArchive, lim.MaxBytes)
		}
		total += int64(size)
		a.entries = append(a.entries, archiveEntry{name: c, dir: dir, size: int64(size)})
		return true, nil
	}
	special := os.ModeSymlink | os.ModeDevice | os.ModeNamedPipe | os.ModeSocket | os.ModeCharDevice | os.ModeIrregular
	switch strings.ToLower(path.Ext(name)) {
	case ".zip":
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			return nil, fmt.Errorf("%s is not a readable zip file: %w", name, err)
		}
		var files []*zip.File
		for _, zf := range zr.File {
			if zf.Mode()&special != 0 {
				return nil, fmt.Errorf("%w: entry %q is a link or a device", ErrUnsafeArchive, zf.Name)
			}
			ok, err := add(zf.Name, zf.Mode().IsDir(), zf.UncompressedSize64)
			if err != nil {
				return nil, err
			}
			if ok {
				files = append(files, zf)
			}
		}
		a.each = func(fn func(archiveEntry, io.Reader) error) error {
			for i, zf := range files {
				rc, err := zf.Open()
				if err != nil {
					return err
				}
				err = fn(a.entries[i], rc)
				rc.Close()
				if err != nil {
					return err
				}
			}
			return nil
		}
	case ".tar":
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s is not a readable tar file: %w", name, err)
			}
			switch h.Typeflag {
			case tar.TypeReg, tar.TypeDir:
			case tar.TypeXGlobalHeader:
				continue
			default:
				return nil, fmt.Errorf("%w: entry %q is a link, a device or another special file", ErrUnsafeArchive, h.Name)
			}
			if h.Size < 0 {
				return nil, fmt.Errorf("%w: entry %q has a negative size", ErrUnsafeArchive, h.Name)
			}
			if _, err := add(h.Name, h.Typeflag == tar.TypeDir, uint64(h.Size)); err != nil {
				return nil, err
			}
		}
		// The second pass reads the same entries in the same order.
		a.each = func(fn func(archiveEntry, io.Reader) error) error {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			tr := tar.NewReader(f)
			i := 0
			for i < len(a.entries) {
				h, err := tr.Next()
				if err != nil {
					return err
				}
				if h.Typeflag == tar.TypeXGlobalHeader {
					continue
				}
				if c, _ := cleanEntryName(h.Name); c == "" {
					continue
				}
				if err := fn(a.entries[i], tr); err != nil {
					return err
				}
				i++
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("%s is not a .zip or .tar archive", name)
	}
	return a, nil
}

// writeCapped writes r to target, failing if r holds more than limit bytes
// (its header's size: a lying header gets no further).
func writeCapped(dir, target string, r io.Reader, limit int64) error {
	out, err := createInFolder(dir, target)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(r, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		removeInFolder(dir, target)
		return fmt.Errorf("%w: an entry holds more than its header says", ErrUnsafeArchive)
	}
	return err
}
