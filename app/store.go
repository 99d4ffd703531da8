package app

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned for an id that names no object.
var ErrNotFound = errors.New("not found")

// NotFoundError names the object that is missing. errors.Is(err,
// ErrNotFound) holds for it.
type NotFoundError struct {
	Kind string // one of the Kind constants
	ID   string
}

func (e *NotFoundError) Error() string { return e.Kind + " " + e.ID + ": " + ErrNotFound.Error() }

// Unwrap makes the error ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// Message says it as the Assistants API does: "No thread found with id 'x'."
func (e *NotFoundError) Message() string {
	name := map[string]string{KindAssistant: "assistant", KindThread: "thread", KindMessage: "message",
		KindRun: "run", KindRunStep: "run step", KindFile: "file"}[e.Kind]
	if name == "" {
		name = e.Kind
	}
	return "No " + name + " found with id '" + e.ID + "'."
}

// ErrTooLarge is returned for file bytes over the size limit.
var ErrTooLarge = errors.New("file is larger than the limit")

// Record is one stored object: its JSON and the few fields the store
// indexes it by.
type Record struct {
	Kind      string // one of the Kind constants
	ID        string
	Parent    string // the thread of a message, run or step
	Tag       string // the run of a message or step; a run's status; a file's purpose
	Blob      string // the content hash of a file's bytes
	CreatedAt int64
	Data      []byte // the object, as JSON
}

// Query selects records of one kind for a list.
type Query struct {
	Kind   string
	Parent string // "" for any
	Tag    string // "" for any
	ListOptions
}

// Store keeps Plotline's objects and file bytes. Implementations must make
// every Save atomic and durable, so that a killed app loses nothing it had
// saved and leaves nothing half-saved.
type Store interface {
	// Save inserts or replaces records, all in one transaction. A replaced
	// record keeps its place in lists.
	Save(ctx context.Context, recs ...Record) error
	// Get returns one record, or ErrNotFound.
	Get(ctx context.Context, kind, id string) (Record, error)
	// Delete removes a record and, for a thread, everything under it.
	// The bytes of a file no other record uses are removed too.
	Delete(ctx context.Context, kind, id string) error
	// List returns a page of records in insertion order (or its reverse)
	// and whether more follow.
	List(ctx context.Context, q Query) ([]Record, bool, error)
	// PutBlob stores bytes by their content hash and returns it and the
	// size. Reading stops with an error past max bytes.
	PutBlob(ctx context.Context, r io.Reader, max int64) (hash string, size int64, err error)
	// OpenBlob opens stored bytes.
	OpenBlob(hash string) (io.ReadSeekCloser, error)
	// Close closes the store.
	Close() error
}
