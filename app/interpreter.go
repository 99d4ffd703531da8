package app

import (
	"context"
	"io"
	"os"
	"time"
)

// Interpreter runs the code of threads. Each thread has a work folder
// (/mnt/data to its code) that outlives its sessions; a Session is one
// kernel bound to it, keeping variables between cells like a Jupyter
// kernel.
type Interpreter interface {
	// Open starts a session on the thread's work folder, creating the
	// folder if it is new.
	Open(ctx context.Context, threadID string) (Session, error)
	// RemoveFolder removes the thread's work folder and everything in it.
	RemoveFolder(threadID string) error
	// CheckName says why name cannot be a file name in a work folder, or
	// returns nil.
	CheckName(name string) error
}

// Session is one kernel on a thread's work folder. Files are reached
// through it only: never by following a link, regular files only, so that
// what the code planted cannot point the host at its own files.
type Session interface {
	// Exec runs one cell, calling onOutput (if not nil) with its output as
	// it comes. A cell's exception is part of the result. ErrSessionEnded
	// means the session reached its lifetime: open a new one.
	Exec(ctx context.Context, code string, onOutput func([]byte)) (*CellResult, error)
	// AddFile copies r into the folder as name, or as "name (1).ext" and
	// so on if that is taken, and returns the name used.
	AddFile(name string, r io.Reader) (string, error)
	// Unpack unpacks the archive name into a new folder beside it, named
	// after it, and returns that folder's name. ErrNotArchive is returned
	// for a file that is not an archive Plotline unpacks.
	Unpack(name string) (string, error)
	// OpenFile opens a regular file of the folder, by its slash-separated
	// name relative to /mnt/data.
	OpenFile(name string) (*os.File, error)
	// Files lists the folder's regular files, sorted by name.
	Files() []WorkFile
	// Close ends the session at once; the folder is kept.
	Close() error
}

// WorkFile is a regular file of a work folder.
type WorkFile struct {
	Name string // slash-separated, relative to /mnt/data
	Size int64
}

// CellResult is what one cell did.
type CellResult struct {
	Stdout, Stderr string
	// Value is the repr of the cell's last expression, if it had one.
	Value *string
	// Error is the exception the cell raised, or the limit it broke.
	Error *CellError
	// Images are the PNG charts the cell drew.
	Images [][]byte
	// Files are the files the cell created or changed, relative to /mnt/data.
	Files    []string
	Duration time.Duration
	// Restarted is true when the kernel had died since the last cell and
	// this cell ran in a new one: variables and imports are gone.
	Restarted bool
}

// CellError is an exception a cell raised.
type CellError struct {
	Name, Message, Traceback string
}

// ErrSessionEnded is returned by Session.Exec once the session reached
// its lifetime or idle limit, or was closed.
var ErrSessionEnded = &Error{Code: EUNAVAILABLE, Message: "the Python session ended; its files are kept"}

// ErrNotArchive is returned by Session.Unpack for a file that is not an
// archive.
var ErrNotArchive = &Error{Code: EINVALID, Message: "not an archive Plotline unpacks"}
