package wiring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"plotline/app"
	"plotline/interpreter/starlark"
)

// StarlarkKernels makes Starlark sessions the engine's app.Interpreter,
// for machines where Python or its sandbox cannot run: thread t's work
// folder is root/t, as with Kernels.
func StarlarkKernels(root string, opts starlark.Options) app.Interpreter {
	return starlarkKernels{root: root, opts: opts}
}

type starlarkKernels struct {
	root string
	opts starlark.Options
}

// threadFolder is thread t's work folder under root. Thread ids are the
// engine's own; one that could climb out of the root is refused all the
// same.
func threadFolder(root, threadID string) (string, error) {
	if threadID == "" || strings.ContainsAny(threadID, `/\`) || threadID == "." || threadID == ".." {
		return "", fmt.Errorf("invalid thread id %q", threadID)
	}
	return filepath.Join(root, threadID), nil
}

func (k starlarkKernels) Open(_ context.Context, threadID string) (app.Session, error) {
	dir, err := threadFolder(k.root, threadID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s, err := starlark.Open(dir, k.opts)
	if err != nil {
		return nil, err
	}
	return starlarkSession{s}, nil
}

func (k starlarkKernels) RemoveFolder(threadID string) error {
	return removeThreadFolder(k.root, threadID)
}

// removeThreadFolder removes thread t's work folder under root.
func removeThreadFolder(root, threadID string) error {
	dir, err := threadFolder(root, threadID)
	if err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func (k starlarkKernels) CheckName(name string) error { return starlark.CheckName(name) }

// starlarkSession is one Starlark session of a thread.
type starlarkSession struct{ s *starlark.Session }

func (s starlarkSession) Exec(ctx context.Context, code string, onOutput func([]byte)) (*app.CellResult, error) {
	r, err := s.s.Exec(ctx, code, onOutput)
	if errors.Is(err, starlark.ErrSessionClosed) {
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

func (s starlarkSession) AddFile(name string, r io.Reader) (string, error) {
	return s.s.AddFile(name, r)
}

// Unpack unpacks nothing: Starlark reads tables, not archives.
func (s starlarkSession) Unpack(string) (string, error) { return "", app.ErrNotArchive }

func (s starlarkSession) OpenFile(name string) (*os.File, error) { return s.s.OpenFile(name) }

func (s starlarkSession) Files() []app.WorkFile { return workFiles(s.s.Dir()) }

func (s starlarkSession) Close() error { return s.s.Close() }
