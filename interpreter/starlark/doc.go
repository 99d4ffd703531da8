// Package starlark runs cells of Starlark, a hermetic dialect of Python,
// for the Plotline code interpreter's Starlark mode.
//
// A Session is one kernel on a work folder, with the shape of the Python
// kernel's sessions: it keeps its globals between cells, and a cell's
// Result holds what it printed, the value of its last expression, its
// error with Starlark's backtrace, the charts it drew as PNGs and the
// files it wrote. Code reaches the work folder only through the built-ins
// (Builtins describes them for the model): by a name checked to stay
// inside the folder, never following a link, regular files only.
//
// Cells are bounded in Starlark steps, wall time and output in every
// mode. Memory cannot be bounded inside a Go process, so on Linux a
// session runs its cells in a worker: the binary started again in the
// code sandbox (interpreter/sandbox) with a memory cap, or, where the
// sandbox cannot start, as a plain child process under an address-space
// limit of the cap plus 2 GiB for the Go runtime's reservations, a
// looser bound. One worker serves a session, so its globals live there;
// cells and results travel as length-prefixed JSON on pipes of their own
// (fds 3 and 4), never on the worker's stdout. A worker that reaches its
// cap is ended, the cell's error is a MemoryError, and the next cell runs
// in a new worker with new globals (Result.Restarted). Elsewhere cells run
// in the calling process, with no memory cap.
package starlark

import _ "embed"

// Builtins is the description of the Starlark dialect and its built-ins
// (tables, charts, math, json, time), written for the model.
//
//go:embed builtins.md
var Builtins string
