//go:build !windows

package interpreter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The host's only way into a work folder. The sandboxed code owns the
// folder and may change it at any moment, while the host walks it, reads
// it or writes into it: it may swap a folder for a link to a host folder
// between a walk and an open, plant a FIFO where a table was, nest folders
// past PATH_MAX, or make sparse files that are huge to read. So the host
// never uses a path twice and never follows a link: every lookup goes one
// component at a time from a descriptor of the folder (openat with
// O_NOFOLLOW), every file is opened O_NONBLOCK and fstat'd on the very
// descriptor that is then read, and walks go from descriptor to
// descriptor, so a path's length does not matter.

// openDirFd opens the folder dir itself.
func openDirFd(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// splitRel checks rel, a slash-separated name relative to a work folder,
// and returns its components.
func splitRel(rel string) ([]string, error) {
	if rel == "" || path.IsAbs(rel) || strings.ContainsRune(rel, 0) {
		return nil, fmt.Errorf("%w %q", ErrBadName, rel)
	}
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return nil, fmt.Errorf("%w %q", ErrBadName, rel)
		}
	}
	return parts, nil
}

// openParentFd opens, beneath dir and without following any link, the
// folder that holds rel's last component, and returns it with that name.
func openParentFd(dir, rel string) (int, string, error) {
	parts, err := splitRel(rel)
	if err != nil {
		return -1, "", err
	}
	fd, err := openDirFd(dir)
	if err != nil {
		return -1, "", err
	}
	for _, p := range parts[:len(parts)-1] {
		next, err := unix.Openat(fd, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return -1, "", &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		fd = next
	}
	return fd, parts[len(parts)-1], nil
}

// openRegular opens the regular file at rel (slash-separated, relative to
// dir) for reading. It never follows a link, never leaves dir, never
// blocks on a FIFO or a device, and what it returns is the file that was
// checked: the fstat is made on the descriptor that is returned.
func openRegular(dir, rel string) (*os.File, error) {
	parent, name, err := openParentFd(dir, rel)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	unix.Close(parent)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s is a link, not a regular file", rel)
		}
		return nil, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	// Reads from a regular file never block; clear the flag so that
	// readers see ordinary behaviour.
	unix.SetNonblock(fd, false)
	return os.NewFile(uintptr(fd), rel), nil
}

// removeInFolder removes the file (or empty folder) at rel beneath dir,
// without following links.
func removeInFolder(dir, rel string) error {
	parent, name, err := openParentFd(dir, rel)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	err = unix.Unlinkat(parent, name, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		err = unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
	}
	return err
}

// walkLimit and walkDepth bound a walk: past them, the walk stops and
// says so. The depth also bounds the descriptors a walk holds open (one
// per level).
const (
	walkLimit = 1 << 20
	walkDepth = 128
)

// errWalkLimit ends a walk of a folder with more than walkLimit entries.
var errWalkLimit = errors.New("too many entries to walk")

// walkFolder calls fn for every entry beneath dir (not dir itself), with
// its slash-separated name relative to dir and its lstat. It goes from
// descriptor to descriptor, so the names may be of any length, and it
// never follows a link. Entries that vanish during the walk are skipped.
// If top is not nil, it is called first with all the names at the
// folder's top.
func walkFolder(dir string, top func([]string), fn func(rel string, st *unix.Stat_t)) error {
	fd, err := openDirFd(dir)
	if err != nil {
		return err
	}
	seen := 0
	return walkFd(fd, "", 0, &seen, top, fn)
}

func walkFd(fd int, prefix string, depth int, seen *int, top func([]string), fn func(string, *unix.Stat_t)) error {
	f := os.NewFile(uintptr(fd), prefix)
	defer f.Close()
	if depth > walkDepth {
		return errWalkLimit
	}
	batch := 1024
	if depth == 0 {
		// The top is read whole first, so that the names there are all
		// known even when the walk stops early below them.
		batch = walkLimit + 1
	}
	for {
		names, err := f.Readdirnames(batch)
		if top != nil {
			top(names)
		}
		for _, name := range names {
			*seen++
			if *seen > walkLimit {
				return errWalkLimit
			}
			var st unix.Stat_t
			if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				continue
			}
			rel := prefix + name
			fn(rel, &st)
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					continue
				}
				if err := walkFd(sub, rel+"/", depth+1, seen, nil, fn); err != nil {
					return err
				}
			}
		}
		if err != nil || len(names) == 0 {
			return nil
		}
	}
}

// scan walks dir. It returns the regular files (by slash-separated
// relative name) and what everything beneath dir occupies.
func scan(dir string) (map[string]fileStamp, Usage) {
	files := map[string]fileStamp{}
	u := Usage{top: map[string]bool{}}
	inodes := map[uint64]bool{}
	err := walkFolder(dir, func(names []string) {
		for _, n := range names {
			u.top[n] = true
		}
	}, func(rel string, st *unix.Stat_t) {
		u.Entries++
		// Allocated blocks count once per inode; the apparent size counts
		// once per name, as a copy of the folder would.
		if !inodes[st.Ino] {
			inodes[st.Ino] = true
			u.Allocated += st.Blocks * 512
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			u.Apparent += st.Size
			files[rel] = fileStamp{
				size:  st.Size,
				mtime: time.Unix(st.Mtim.Unix()).UnixNano(),
				ino:   st.Ino,
				mode:  fileMode(uint32(st.Mode)),
				alloc: st.Blocks * 512,
			}
		}
	})
	if err != nil {
		u.Truncated = true
	}
	return files, u
}

// fileMode turns a stat mode into the fs.FileMode bits the host checks.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&syscall.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	return mode
}

// stripSetID clears the setuid and setgid bits of the named files. A cell
// cannot use them inside the sandbox (/mnt/data is mounted nosuid, and
// the seccomp filter refuses to set them), but on the host the file
// belongs to the user, or to root when Plotline runs as root, and must not
// become a set-id program there. The bits are cleared with fchmod on the
// descriptor of the checked file, never by path.
func stripSetID(dir string, files map[string]fileStamp, names []string) {
	for _, name := range names {
		st := files[name]
		if st.mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
			continue
		}
		f, err := openRegular(dir, name)
		if err != nil {
			continue
		}
		f.Chmod(st.mode.Perm())
		f.Close()
	}
}

// mkdirAllInFolder makes the folder rel and its parents beneath dir,
// following no link: a link on the way is an error, not a way out.
func mkdirAllInFolder(dir, rel string) error {
	parts, err := splitRel(rel)
	if err != nil {
		return err
	}
	fd, err := openDirFd(dir)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := unix.Mkdirat(fd, p, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(fd)
			return &fs.PathError{Op: "mkdir", Path: rel, Err: err}
		}
		next, err := unix.Openat(fd, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		fd = next
	}
	unix.Close(fd)
	return nil
}

// createInFolder creates the new regular file rel beneath dir for
// writing, following no link and replacing nothing.
func createInFolder(dir, rel string) (*os.File, error) {
	parent, name, err := openParentFd(dir, rel)
	if err != nil {
		return nil, err
	}
	defer unix.Close(parent)
	fd, err := unix.Openat(parent, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: rel, Err: err}
	}
	return os.NewFile(uintptr(fd), rel), nil
}
