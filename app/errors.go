package app

import (
	"errors"
	"fmt"
)

// Code classifies an error for the window, the API and the command line,
// so that none of them reads an error's text to decide what it means.
type Code string

// Error codes.
const (
	EINVALID     Code = "invalid"     // a bad field or value in a request
	ENOTFOUND    Code = "not_found"   // an id that names no object
	ELOCKED      Code = "locked"      // a change to a thread while a run on it is active
	ETOOLARGE    Code = "too_large"   // file bytes over the size limit
	EMODEL       Code = "model"       // the remote model failed or refused
	EUNAVAILABLE Code = "unavailable" // the engine is shutting down, or the sandbox cannot start
	EINTERNAL    Code = "internal"    // anything else
)

// ErrorCode returns the code of err: the code of the first error in its
// chain that has one, or EINTERNAL. A nil error has no code ("").
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var c interface{ ErrorCode() Code }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return EINTERNAL
}

// Error is an error with a code and a message meant for people.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrorCode returns e.Code.
func (e *Error) ErrorCode() Code { return e.Code }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, a ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// ErrNotFound is returned for an id that names no object. errors.Is holds
// for every NotFoundError.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}

// NotFoundError names the object that is missing.
type NotFoundError struct {
	Kind string // one of the Kind constants
	ID   string
}

func (e *NotFoundError) Error() string { return e.Kind + " " + e.ID + ": not found" }

// Unwrap makes the error ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ErrorCode is ENOTFOUND.
func (e *NotFoundError) ErrorCode() Code { return ENOTFOUND }

// Message says it as the Assistants API does: "No thread found with id
// 'x'.", and for a file as the Files API does: "No such File object: x".
func (e *NotFoundError) Message() string {
	if e.Kind == KindFile {
		return "No such File object: " + e.ID
	}
	name := map[string]string{KindAssistant: "assistant", KindThread: "thread", KindMessage: "message",
		KindRun: "run", KindRunStep: "run step", KindFile: "file"}[e.Kind]
	if name == "" {
		name = e.Kind
	}
	return "No " + name + " found with id '" + e.ID + "'."
}

// InputError is a request the engine refuses: a bad field or value. The
// API answers it with 400 and Param.
type InputError struct {
	Param   string
	Message string
}

func (e *InputError) Error() string { return e.Message }

// ErrorCode is EINVALID.
func (e *InputError) ErrorCode() Code { return EINVALID }

// ErrThreadLocked is returned, as a *LockedError, for a change to a thread
// while a run on it is active. errors.Is holds for every LockedError.
var ErrThreadLocked = &Error{Code: ELOCKED, Message: "thread has an active run"}

// LockedError names the thread and its active run.
type LockedError struct {
	ThreadID string
	RunID    string
	// Adding is true when the change was a new message.
	Adding bool
}

func (e *LockedError) Error() string {
	if e.Adding {
		return fmt.Sprintf("Can't add messages to %s while a run %s is active.", e.ThreadID, e.RunID)
	}
	return fmt.Sprintf("Thread %s already has an active run %s.", e.ThreadID, e.RunID)
}

// Unwrap makes the error ErrThreadLocked.
func (e *LockedError) Unwrap() error { return ErrThreadLocked }

// ErrorCode is ELOCKED.
func (e *LockedError) ErrorCode() Code { return ELOCKED }

// ErrTooLarge is returned for file bytes over the size limit.
var ErrTooLarge = &Error{Code: ETOOLARGE, Message: "file is larger than the limit"}
