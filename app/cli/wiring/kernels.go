package wiring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"plotline/app"
	"plotline/interpreter"
)

// Kernels makes the interpreter's sandboxed Python kernels the engine's
// app.Interpreter: thread t's work folder is <manager root>/t.
func Kernels(m *interpreter.Manager) app.Interpreter { return kernels{m} }

type kernels struct{ m *interpreter.Manager }

func (k kernels) folder(threadID string) (string, error) {
	return threadFolder(k.m.Config().Root, threadID)
}

func (k kernels) Open(ctx context.Context, threadID string) (app.Session, error) {
	dir, err := k.folder(threadID)
	if err != nil {
		return nil, err
	}
	s, err := k.m.SessionAt(ctx, dir)
	if err != nil {
		return nil, err
	}
	return session{s}, nil
}

func (k kernels) RemoveFolder(threadID string) error {
	return removeThreadFolder(k.m.Config().Root, threadID)
}

func (k kernels) CheckName(name string) error { return interpreter.CheckName(name) }

// session is one kernel of a thread.
type session struct{ s *interpreter.Session }

func (s session) Exec(ctx context.Context, code string, onOutput func([]byte)) (*app.CellResult, error) {
	var out func(interpreter.Stream, []byte)
	if onOutput != nil {
		out = func(_ interpreter.Stream, p []byte) { onOutput(p) }
	}
	r, err := s.s.ExecStream(ctx, code, out)
	if errors.Is(err, interpreter.ErrSessionEnded) || errors.Is(err, interpreter.ErrSessionClosed) {
		err = fmt.Errorf("%w: %v", app.ErrSessionEnded, err)
	}
	if r == nil {
		return nil, err
	}
	res := &app.CellResult{Stdout: r.Stdout, Stderr: r.Stderr, Value: r.Value, Images: r.Images, Files: r.Files,
		Duration: r.Duration, Restarted: r.Restarted}
	if e := r.Error; e != nil {
		res.Error = &app.CellError{Name: e.Name, Message: e.Message, Traceback: e.Traceback}
	}
	return res, err
}

func (s session) AddFile(name string, r io.Reader) (string, error) { return s.s.AddFile(name, r) }

// Unpack unpacks into the first of "name", "name (1)", … (without the
// archive's extension) that is free.
func (s session) Unpack(name string) (string, error) {
	if !interpreter.IsArchive(name) {
		return "", app.ErrNotArchive
	}
	base := strings.TrimSuffix(name, path.Ext(name))
	dest := base
	for n := 1; ; n++ {
		if _, err := os.Lstat(filepath.Join(s.s.Dir(), filepath.FromSlash(dest))); err != nil {
			break
		}
		dest = fmt.Sprintf("%s (%d)", base, n)
	}
	_, err := s.s.UnpackArchive(name, dest, interpreter.DefaultArchiveLimits)
	return dest, err
}

func (s session) OpenFile(name string) (*os.File, error) { return s.s.OpenFile(name) }

func (s session) Files() []app.WorkFile { return workFiles(s.s.Dir()) }

// workFiles lists a work folder's regular files.
func workFiles(dir string) []app.WorkFile {
	files := interpreter.ListFiles(dir)
	out := make([]app.WorkFile, len(files))
	for i, f := range files {
		out[i] = app.WorkFile{Name: f.Name, Size: f.Size}
	}
	return out
}

func (s session) Close() error { return s.s.Close() }
