// Package goscript runs local function tools: Go files that the user keeps
// in Plotline's data folder, one a function, each defining
//
//	func Run(args map[string]any) (any, error)
//
// in any package (package main is the usual choice). When the model calls
// a function tool that has such a handler, Plotline runs it here instead
// of waiting for a client to submit the output.
//
// The handler is the user's code, but its arguments come from a model that
// text in a data file can steer, so every call runs in a sandbox of its
// own (interpreter/sandbox): the plotline binary starts itself again as a
// worker in a fresh sandbox, with no network, no files of the user's, a
// memory cap and a time limit, and interprets the handler there with
// yaegi. The handler may import only the standard packages of Allowed:
// nothing that opens files, sockets or processes, nor reflect, unsafe or
// syscall. Nothing is kept between calls.
//
// The worker needs no hook in main: a binary that links this package
// becomes the worker when started with the worker's hidden first argument
// (see worker.go), so the plotline binary and every test binary that runs
// local functions serve as one.
package goscript

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Allowed are the standard packages a handler may import. Each is pure
// computation: none opens a file, a socket or a process, or reaches the
// interpreter's own memory. Handlers get slices and maps as far as yaegi
// supports their generic functions.
var Allowed = []string{
	"bufio", "bytes", "cmp", "container/heap", "container/list", "context",
	"crypto/sha256", "encoding/base64", "encoding/csv", "encoding/hex", "encoding/json",
	"errors", "fmt", "hash/crc32", "hash/fnv", "html", "io", "maps",
	"math", "math/big", "math/bits", "math/cmplx", "math/rand", "math/rand/v2",
	"regexp", "slices", "sort", "strconv", "strings", "sync", "text/tabwriter",
	"time", "unicode", "unicode/utf16", "unicode/utf8",
}

// Limits bound one call of a handler. Zero values are the defaults.
type Limits struct {
	// Timeout is the wall-clock limit of one call, the sandbox's start
	// included.
	Timeout time.Duration
	// Memory caps the memory of the call's whole sandbox, in bytes.
	Memory int64
	// Output caps the handler's output (what the model is told), and
	// separately what it prints, in bytes.
	Output int
}

// Default limits.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMemory  = 256 << 20
	DefaultOutput  = 64 << 10
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	return l
}

// Result is one call's outcome.
type Result struct {
	// Output is what the model is told: the handler's value (a string as
	// it is, any other value as JSON), or {"error": Error} when the call
	// failed.
	Output string
	// Error says why the call failed, or is "" when it did not.
	Error string
	// Logs is what the handler printed, stdout and stderr together,
	// capped at Limits.Output; for a worker that crashed, what the worker
	// process printed.
	Logs string
	// Duration is the call's wall-clock time, the sandbox's start included.
	Duration time.Duration
}

// failed is a Result that carries an error.
func failed(msg string) Result {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return Result{Output: string(b), Error: msg}
}

// ValidName reports whether name can be a function's, and so a handler
// file's, name: the API's rule, 1 to 64 letters, digits, _ or -, which
// also keeps a name from naming a path.
func ValidName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// allowedList is Allowed for messages.
func allowedList() string { return strings.Join(Allowed, ", ") }

func isAllowed(path string) bool { return slices.Contains(Allowed, path) }

// request is what the host sends the worker: one call.
type request struct {
	Name      string          `json:"name"`
	File      string          `json:"file"` // the handler's file, as messages name it
	Source    string          `json:"source"`
	Args      json.RawMessage `json:"args"`
	MaxOutput int             `json:"max_output"`
}

// reply is the worker's answer: Output, or Error when the call failed,
// and what the handler printed.
type reply struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
	Logs   string `json:"logs,omitempty"`
}

// Bounds of the frames on the worker's pipes.
const (
	maxSource  = 1 << 20
	maxArgs    = 4 << 20
	maxRequest = maxSource + maxArgs + 4<<10
)

// maxReply bounds a reply whose output and logs are at most max bytes
// each: JSON may escape each byte into six.
func maxReply(max int) int { return 12*max + 64<<10 }
