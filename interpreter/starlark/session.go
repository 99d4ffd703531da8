package starlark

import (
	"context"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// Options configure a Session.
type Options struct {
	// Limits bound each cell; zero fields are the defaults.
	Limits Limits
	// Mode is where cells run; "" picks the safest this machine offers:
	// the sandbox, else a plain child on Linux, else this process.
	// ModeSandbox and ModeChild are refused where they cannot run.
	Mode Mode
}

// Mode says where a session's cells run.
type Mode string

// The modes.
const (
	// ModeSandbox is a worker in the code sandbox, with a memory cap on
	// the whole sandbox.
	ModeSandbox Mode = "sandbox"
	// ModeChild is a worker as a plain child process with an address-space
	// limit, where the sandbox cannot start.
	ModeChild Mode = "child"
	// ModeInProcess runs cells in the calling process: steps, time and
	// output are bounded, memory is not.
	ModeInProcess Mode = "in-process"
)

// backend runs a session's cells.
type backend interface {
	exec(ctx context.Context, code string, onOutput func([]byte)) (*Result, error)
	close() error
}

// Session is one Starlark kernel on a work folder. Cells run one at a
// time, in order; the globals a cell binds are there for the next ones.
// Its methods have the shape of the Python kernel's sessions.
type Session struct {
	dir    string
	mode   Mode
	folder *folder // the host's own view of the work folder
	mu     sync.Mutex
	b      backend
	closed bool
}

// Open starts a session on the work folder dir, which must exist. Cells
// run where opts.Mode says; a worker starts with the first cell.
func Open(dir string, opts Options) (*Session, error) {
	lim := opts.Limits.WithDefaults()
	f, err := openFolder(dir, lim.FileSize)
	if err != nil {
		return nil, err
	}
	mode := opts.Mode
	switch {
	case mode == "":
		mode = workerMode()
	case mode == ModeChild && goruntime.GOOS != "linux":
		f.close()
		return nil, fmt.Errorf("a Starlark worker runs on Linux only, not on %s", goruntime.GOOS)
	case mode == ModeSandbox:
		if err := sandboxErr(); err != nil {
			f.close()
			return nil, err
		}
	case mode != ModeChild && mode != ModeInProcess:
		f.close()
		return nil, fmt.Errorf("no Starlark mode %q", mode)
	}
	s := &Session{dir: dir, mode: mode, folder: f}
	if mode == ModeInProcess {
		rt, err := newRuntime(dir, lim)
		if err != nil {
			f.close()
			return nil, err
		}
		s.b = rt
	} else {
		s.b = newWorker(dir, mode, lim)
	}
	return s, nil
}

// Dir is the host folder the session works in.
func (s *Session) Dir() string { return s.dir }

// Mode says where the session's cells run.
func (s *Session) Mode() Mode { return s.mode }

// Exec runs one cell, passing what it prints to onOutput (if not nil) as
// it comes. A cell's error, and a limit it broke, are part of the result;
// the error returned is for a cell that could not run: an empty or
// invalid cell, a closed session, a worker that could not start. When ctx
// ends, the running cell is stopped and its result says so.
func (s *Session) Exec(ctx context.Context, code string, onOutput func([]byte)) (*Result, error) {
	if !utf8.ValidString(code) {
		return nil, ErrInvalidCell
	}
	if strings.TrimSpace(code) == "" {
		return nil, ErrEmptyCell
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSessionClosed
	}
	return s.b.exec(ctx, code, onOutput)
}

// AddFile copies r into the work folder as name, or as "name (1).ext" and
// so on if that is taken, and returns the name used.
func (s *Session) AddFile(name string, r io.Reader) (string, error) {
	return s.folder.add(name, r)
}

// Unpack returns ErrNotArchive: a Starlark session does not unpack
// archives.
func (s *Session) Unpack(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	return "", ErrNotArchive
}

// OpenFile opens a regular file of the work folder for reading, by its
// slash-separated name; links are never followed.
func (s *Session) OpenFile(name string) (*os.File, error) {
	f, _, err := s.folder.open(name)
	return f, err
}

// Files lists the work folder's regular files, sorted by name.
func (s *Session) Files() []File { return s.folder.list() }

// Close ends the session, stopping a running cell's worker at once; the
// work folder is kept.
func (s *Session) Close() error {
	// A worker is killed before the lock is taken, so that a running
	// cell returns.
	if w, ok := s.b.(*worker); ok {
		w.kill()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.b.close()
	s.folder.close()
	return err
}
