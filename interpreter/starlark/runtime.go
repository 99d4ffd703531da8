package starlark

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	stime "go.starlark.net/lib/time"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"plotline/interpreter/workerio"
)

// Limits bound a session's cells. Zero values are the defaults.
type Limits struct {
	// Steps caps the Starlark steps of one cell. The built-ins run in Go
	// and count as one step each, so a group-by of a million rows costs
	// a handful, while a loop in Starlark costs a few steps a turn.
	Steps uint64
	// Timeout is the wall-clock limit of one cell.
	Timeout time.Duration
	// Output caps what one cell prints, in bytes; more is cut with a note.
	Output int
	// Memory caps the memory of the session's worker process, in bytes.
	// It holds only where cells run in a worker (see Open).
	Memory int64
	// FileSize caps a file that table.read reads or to_csv writes, in bytes.
	FileSize int64
}

// Default limits.
const (
	DefaultSteps    = 1_000_000_000
	DefaultTimeout  = 2 * time.Minute
	DefaultOutput   = 64 << 10
	DefaultMemory   = 2 << 30
	DefaultFileSize = 1 << 30
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Steps == 0 {
		l.Steps = DefaultSteps
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.FileSize <= 0 {
		l.FileSize = DefaultFileSize
	}
	return l
}

// Result is what one cell did; its fields are those of the Python
// kernel's results.
type Result struct {
	// Stdout is what the cell printed, capped, with a note when cut.
	Stdout string `json:"stdout"`
	// Stderr is always empty: Starlark prints to stdout only.
	Stderr string `json:"stderr,omitempty"`
	// Value is the repr of the cell's final expression, or nil when the
	// cell did not end with one or its value was None.
	Value *string `json:"value,omitempty"`
	// Error is the error the cell raised, or the limit it broke.
	Error *CellError `json:"error,omitempty"`
	// Images are the PNG charts the cell drew, in order.
	Images [][]byte `json:"images,omitempty"`
	// Files are the files the cell wrote, relative to the work folder.
	Files []string `json:"files,omitempty"`
	// Duration is the cell's wall-clock time.
	Duration time.Duration `json:"duration"`
	// Restarted is true when the session's worker had ended (its memory
	// cap) and this cell ran in a new one: the globals are gone.
	Restarted bool `json:"restarted,omitempty"`
}

// CellError is a cell's failure.
type CellError struct {
	// Name is one of SyntaxError, EvalError, LimitError (too many steps),
	// TimeoutError, MemoryError, Cancelled or WorkerCrash.
	Name string `json:"name"`
	// Message says what happened in plain words.
	Message string `json:"message"`
	// Traceback is Starlark's backtrace, with the cell's line numbers.
	Traceback string `json:"traceback,omitempty"`
}

// Errors of Exec that are not a cell's own result.
var (
	ErrEmptyCell     = errors.New("the cell is empty")
	ErrInvalidCell   = errors.New("the cell is not valid UTF-8 text")
	ErrSessionClosed = errors.New("the session is closed")
)

// cellFile is the name cells have in positions and backtraces.
const cellFile = "cell"

// fileOptions are the dialect of cells: top-level if and for, globals
// that a later cell may bind again, sets; no while, so that every loop
// is over something finite.
var fileOptions = &syntax.FileOptions{GlobalReassign: true, TopLevelControl: true, While: false, Set: true}

// runtime runs cells on one set of globals, in this process.
type runtime struct {
	folder  *folder
	lim     Limits
	globals starlark.StringDict
	mu      sync.Mutex // held while a cell runs
}

func newRuntime(dir string, lim Limits) (*runtime, error) {
	lim = lim.WithDefaults()
	f, err := openFolder(dir, lim.FileSize)
	if err != nil {
		return nil, err
	}
	rt := &runtime{folder: f, lim: lim, globals: starlark.StringDict{}}
	for k, v := range predeclared() {
		rt.globals[k] = v
	}
	return rt, nil
}

func (rt *runtime) close() error { return rt.folder.close() }

// predeclared are the built-ins every session starts with, beside
// Starlark's universe.
func predeclared() starlark.StringDict {
	return starlark.StringDict{
		"table": tableModule,
		"chart": chartModule,
		"math":  math.Module,
		"json":  json.Module,
		"time":  stime.Module,
	}
}

// cell is the state of the cell that runs: what the built-ins add to.
type cell struct {
	rt     *runtime
	out    *output
	images [][]byte
	files  []string
}

const cellKey = "plotline.cell"

func cellOf(thread *starlark.Thread) *cell {
	c, _ := thread.Local(cellKey).(*cell)
	return c
}

// Why a cell was stopped from outside.
const (
	stopSteps   = "steps"
	stopTimeout = "timeout"
	stopCancel  = "cancel"
)

// exec runs one cell. Its errors are part of the result; the error
// returned is for a cell that could not run.
func (rt *runtime) exec(ctx context.Context, code string, onOutput func([]byte)) (*Result, error) {
	if !utf8.ValidString(code) {
		return nil, ErrInvalidCell
	}
	if strings.TrimSpace(code) == "" {
		return nil, ErrEmptyCell
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	start := time.Now()
	c := &cell{rt: rt, out: newOutput(rt.lim.Output, onOutput)}
	thread := &starlark.Thread{
		Name:  cellFile,
		Print: func(_ *starlark.Thread, msg string) { c.out.write(msg + "\n") },
		Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
			return nil, hintError(importHint)
		},
	}
	thread.SetLocal(cellKey, c)
	var (
		stopMu sync.Mutex
		stop   string
	)
	halt := func(why string) {
		stopMu.Lock()
		if stop == "" {
			stop = why
		}
		stopMu.Unlock()
		thread.Cancel(why)
	}
	thread.SetMaxExecutionSteps(rt.lim.Steps)
	thread.OnMaxSteps = func(*starlark.Thread) { halt(stopSteps) }
	timer := time.AfterFunc(rt.lim.Timeout, func() { halt(stopTimeout) })
	defer timer.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			halt(stopCancel)
		case <-done:
		}
	}()

	val, err := rt.run(thread, code)
	res := &Result{Images: c.images, Files: c.files}
	if err == nil && val != nil && val != starlark.None {
		s := val.String()
		res.Value = &s
	}
	if err != nil {
		stopMu.Lock()
		why := stop
		stopMu.Unlock()
		res.Error = rt.describe(err, why, code, thread.ExecutionSteps())
	}
	res.Stdout = c.out.finish()
	res.Duration = time.Since(start)
	return res, nil
}

// run parses code and runs it on the globals; when it ends with an
// expression, that is evaluated last and its value returned.
func (rt *runtime) run(thread *starlark.Thread, code string) (starlark.Value, error) {
	f, err := fileOptions.Parse(cellFile, code, 0)
	if err != nil {
		return nil, err
	}
	var last syntax.Expr
	if n := len(f.Stmts); n > 0 {
		if es, ok := f.Stmts[n-1].(*syntax.ExprStmt); ok {
			last = es.X
			f.Stmts = f.Stmts[:n-1]
		}
	}
	if len(f.Stmts) > 0 {
		if err := starlark.ExecREPLChunk(f, thread, rt.globals); err != nil {
			return nil, err
		}
	}
	if last == nil {
		return nil, nil
	}
	return starlark.EvalExprOptions(fileOptions, thread, last, rt.globals)
}

// importHint is what a cell that imports is told.
const importHint = "Starlark has no import: tables come from table.read(name), charts from chart.bar(...) and the other chart functions; math, json and time are already there."

// hintError is an error whose text is a hint for the model, in sentences.
type hintError string

func (e hintError) Error() string { return string(e) }

// hints say what to do instead of the Python that Starlark lacks, by the
// statement's first word.
var hints = map[string]string{
	"import": importHint,
	"from":   importHint,
	"try":    "Starlark has no try/except: check values before using them (if x != None: ...); a failing built-in stops the cell with its error.",
	"except": "Starlark has no try/except: check values before using them (if x != None: ...); a failing built-in stops the cell with its error.",
	"class":  "Starlark has no classes: use dicts for records and def for functions.",
	"while":  "Starlark has no while loops: use for i in range(n): ... with a bound, and break when done.",
	"with":   "Starlark has no with statement: files are read with table.read(name) and written with t.to_csv(name).",
	"raise":  "Starlark has no raise: call fail(\"message\") to stop the cell with an error.",
	"global": "Starlark has no global statement: top-level names are kept between cells; inside a function, return the new value instead.",
}

var firstWord = regexp.MustCompile(`^\s*([A-Za-z_]+)\b`)

// hintFor finds a hint for the line of a syntax error, or else for the
// first line of the cell that starts with a statement Starlark lacks.
func hintFor(code string, line int32) string {
	lines := strings.Split(code, "\n")
	if line >= 1 && int(line) <= len(lines) {
		if m := firstWord.FindStringSubmatch(lines[line-1]); m != nil && hints[m[1]] != "" {
			return hints[m[1]]
		}
	}
	for _, l := range lines {
		if m := firstWord.FindStringSubmatch(l); m != nil && hints[m[1]] != "" {
			return hints[m[1]]
		}
	}
	return ""
}

// describe turns a cell's error into its CellError.
func (rt *runtime) describe(err error, stop, code string, steps uint64) *CellError {
	var (
		se   syntax.Error
		re   resolve.ErrorList
		ee   *starlark.EvalError
		line int32
		msg  string
	)
	switch {
	case errors.As(err, &se):
		line, msg = se.Pos.Line, se.Error()
	case errors.As(err, &re) && len(re) > 0:
		line, msg = re[0].Pos.Line, re[0].Error()
		for _, e := range re[1:] {
			msg += "\n" + e.Error()
		}
	}
	if msg != "" {
		ce := &CellError{Name: "SyntaxError", Message: msg, Traceback: msg}
		h := hintFor(code, line)
		if h == "" && strings.Contains(msg, "got '**'") {
			h = "Starlark has no ** operator: use math.pow(x, y), or write large numbers out (1000000)."
		}
		if h != "" {
			ce.Message = h + " (" + msg + ")"
		}
		return ce
	}
	tb := err.Error()
	if errors.As(err, &ee) {
		tb = ee.Backtrace()
	}
	switch stop {
	case stopSteps:
		return &CellError{Name: "LimitError", Traceback: tb, Message: fmt.Sprintf(
			"The cell ran more than %d Starlark steps and was stopped. Loop over fewer values, or let the table built-ins (filter, group_by, resample) do the work in one call. The globals are kept.", rt.lim.Steps)}
	case stopTimeout:
		return &CellError{Name: "TimeoutError", Traceback: tb, Message: fmt.Sprintf(
			"The cell ran past its %s time limit and was stopped. The globals are kept.", rt.lim.Timeout)}
	case stopCancel:
		return &CellError{Name: "Cancelled", Traceback: tb, Message: "The cell was cancelled. The globals are kept."}
	}
	msg = err.Error()
	if ee != nil {
		msg = ee.Msg
	}
	return &CellError{Name: "EvalError", Message: msg, Traceback: tb}
}

// output collects what a cell prints, up to max bytes, passing it on as
// it comes; what is past the cap is counted and noted once.
type output struct {
	b        strings.Builder
	max      int
	dropped  int
	onOutput func([]byte)
}

func newOutput(max int, onOutput func([]byte)) *output {
	return &output{max: max, onOutput: onOutput}
}

func (o *output) write(s string) {
	left := o.max - o.b.Len()
	if len(s) > left {
		o.dropped += len(s) - max(left, 0)
		s = s[:max(left, 0)]
		// Cut on a character's boundary.
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	if s == "" {
		return
	}
	o.b.WriteString(s)
	if o.onOutput != nil {
		o.onOutput([]byte(s))
	}
}

// finish gives the output, with a note (passed on too) when some was cut.
func (o *output) finish() string {
	if o.dropped == 0 {
		return o.b.String()
	}
	note := fmt.Sprintf("\n[output cut: the cell printed %s more than its %s limit; print less, such as t.head(20)]\n",
		workerio.FormatBytes(int64(o.dropped)), workerio.FormatBytes(int64(o.max)))
	if o.onOutput != nil {
		o.onOutput([]byte(note))
	}
	return o.b.String() + note
}
