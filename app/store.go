package app

import (
	"context"
	"io"
)

// Record is one stored object: its JSON and the few fields the store
// indexes it by.
type Record struct {
	Kind   string // one of the Kind constants
	ID     string
	Parent string // the thread of a message, run or step
	// InThread, when set on a record with a Parent, makes Save store it
	// only while that thread is stored: a NotFoundError for the thread
	// otherwise. It checks, in the saving transaction, what a separate
	// read would check a moment too early. It is not stored.
	InThread  bool
	Tag       string // the run of a message or step; a run's status; a file's purpose
	Blob      string // the content hash of a file's bytes
	CreatedAt int64
	Data      []byte // the object, as JSON
	// Seq is the store's sequence number: it grows with each new record
	// and is kept when a record is replaced, so it orders a thread's
	// messages and steps as they happened. Set by Get and List.
	Seq int64
}

// Query selects records of one kind for a list.
type Query struct {
	Kind   string
	Parent string // "" for any
	Tag    string // "" for any
	// SinceSeq, when not 0, selects only records with a greater Seq.
	SinceSeq int64
	ListOptions
}

// Store keeps Plotline's objects and file bytes. Implementations must make
// every Save atomic and durable, so that a killed app loses nothing it had
// saved and leaves nothing half-saved.
type Store interface {
	// Save inserts or replaces records, all in one transaction. A replaced
	// record keeps its place in lists. A record marked InThread whose
	// thread is not stored fails the Save with a NotFoundError.
	Save(ctx context.Context, recs ...Record) error
	// Get returns one record, or ErrNotFound.
	Get(ctx context.Context, kind, id string) (Record, error)
	// Delete removes a record and, for a thread, everything under it.
	// The bytes of a file no other record uses are removed too.
	Delete(ctx context.Context, kind, id string) error
	// Deletions counts the Deletes ever made on the store, by any process:
	// what was read before is still whole while it has not changed.
	Deletions(ctx context.Context) (int64, error)
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
