package goscript

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/traefik/yaegi/interp"

	"plotline/interpreter/goscript/symbols"
	"plotline/interpreter/workerio"
)

// workerArg is the hidden first argument that makes a binary linking this
// package the worker (inside its sandbox).
const workerArg = "__plotline-goscript-worker"

// The worker's pipes, as the sandbox numbers the program's extra files.
const (
	requestFD = 3
	replyFD   = 4
)

// init hands a binary started as the worker over to it before main runs:
// no hook in main is needed, and nothing else of the binary starts.
func init() {
	if len(os.Args) >= 2 && os.Args[1] == workerArg {
		os.Exit(runWorker())
	}
}

// runWorker reads one call from the request pipe, runs it and writes the
// reply on the reply pipe. What the handler prints is kept (capped) and
// sent with the reply: the process's own stdout and stderr carry only
// what the binary and the Go runtime print (a crash's reason). The reply
// travels on a pipe of its own, which the handler cannot reach (no
// allowed package opens a file).
func runWorker() int {
	in, out := os.NewFile(requestFD, "request"), os.NewFile(replyFD, "reply")
	var req request
	if err := workerio.ReadFrame(in, maxRequest, &req); err != nil {
		fmt.Fprintln(os.Stderr, "goscript worker: reading the call:", err)
		return 2
	}
	in.Close()
	logs := newCappedBuffer(req.MaxOutput)
	rep := call(req, logs, logs)
	rep.Logs = logs.String()
	if err := workerio.WriteFrame(out, rep); err != nil {
		fmt.Fprintln(os.Stderr, "goscript worker: writing the reply:", err)
		return 2
	}
	return 0
}

// runType is the type a handler's Run must have.
var runType = reflect.TypeOf(func(map[string]any) (any, error) { return nil, nil })

// call interprets req's handler and calls its Run. Every failure is a
// reply whose Error says what went wrong in words for the user and the
// model.
func call(req request, stdout, stderr io.Writer) reply {
	pkg, err := checkSource(req.File, req.Source)
	if err != nil {
		return reply{Error: err.Error()}
	}
	var args map[string]any
	if err := json.Unmarshal(req.Args, &args); err != nil || args == nil {
		return reply{Error: "the arguments are not a JSON object"}
	}
	i := interp.New(interp.Options{
		// Nothing is loaded from files: the handler's own is the one
		// file there is, and imports come from allowedSymbols only.
		GoPath:               "/nonexistent",
		SourcecodeFilesystem: oneFile{name: req.File, body: req.Source},
		Stdout:               stdout,
		Stderr:               stderr,
		Args:                 []string{req.Name},
		Env:                  []string{},
	})
	if err := i.Use(allowedSymbols()); err != nil {
		return reply{Error: "the interpreter could not start: " + err.Error()}
	}
	if _, err := i.EvalPath(req.File); err != nil {
		var p interp.Panic
		if errors.As(err, &p) {
			return reply{Error: fmt.Sprintf("%s panicked while loading: %v", req.File, p.Value)}
		}
		return reply{Error: err.Error()}
	}
	v, err := i.Eval(pkg + ".Run")
	if err != nil || !v.IsValid() || v.Kind() != reflect.Func {
		return reply{Error: fmt.Sprintf("%s does not define func Run(args map[string]any) (any, error)", req.File)}
	}
	if v.Type() != runType {
		return reply{Error: fmt.Sprintf("%s: Run is %s; it must be func(args map[string]any) (any, error)", req.File, v.Type())}
	}
	run := v.Interface().(func(map[string]any) (any, error))
	res, panicked, err := invoke(run, args)
	switch {
	case panicked != nil:
		return reply{Error: fmt.Sprintf("the function %s panicked: %v", req.Name, panicked)}
	case err != nil:
		return reply{Error: err.Error()}
	}
	var text string
	if s, ok := res.(string); ok {
		text = s
	} else {
		b, err := json.Marshal(res)
		if err != nil {
			return reply{Error: fmt.Sprintf("the function %s returned a value that cannot be encoded as JSON: %v", req.Name, err)}
		}
		text = string(b)
	}
	if len(text) > req.MaxOutput {
		return reply{Error: fmt.Sprintf("the function %s returned %s; a function's output is limited to %s",
			req.Name, workerio.FormatBytes(int64(len(text))), workerio.FormatBytes(int64(req.MaxOutput)))}
	}
	return reply{Output: text}
}

// invoke calls run, turning a panic into a value.
func invoke(run func(map[string]any) (any, error), args map[string]any) (res, panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if p, ok := p.(interp.Panic); ok {
				panicked = p.Value
			}
		}
	}()
	res, err = run(args)
	return res, nil, err
}

// checkSource parses the handler's imports and returns its package name.
// An import outside Allowed is refused here, by name, before yaegi sees
// the file.
func checkSource(file, src string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ImportsOnly)
	if err != nil {
		var list scanner.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return "", list[0]
		}
		return "", err
	}
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		if err != nil || !isAllowed(path) {
			return "", fmt.Errorf("%s: %s imports %s, which local functions may not use; they may import %s",
				fset.Position(im.Pos()), file, im.Path.Value, allowedList())
		}
	}
	return f.Name.Name, nil
}

// allowedSymbols are the symbols of the Allowed packages, and no others.
func allowedSymbols() interp.Exports {
	ex := interp.Exports{}
	for key, syms := range symbols.Symbols {
		// Keys are "import/path/name".
		if key == "." || isAllowed(path.Dir(key)) {
			ex[key] = syms
		}
	}
	return ex
}

// oneFile is a file system holding the handler's file alone: what yaegi
// loads source from.
type oneFile struct{ name, body string }

func (o oneFile) Open(name string) (fs.File, error) {
	switch name {
	case o.name:
		return &memFile{name: name, r: strings.NewReader(o.body), size: int64(len(o.body))}, nil
	case ".":
		return &memFile{name: ".", dir: true}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// memFile is oneFile's file, or its root folder (empty as far as reads go).
type memFile struct {
	name string
	r    *strings.Reader
	size int64
	dir  bool
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Read(p []byte) (int, error) {
	if f.dir {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	return f.r.Read(p)
}
func (f *memFile) Close() error { return nil }

// memFile is its own fs.FileInfo.
func (f *memFile) Name() string       { return f.name }
func (f *memFile) Size() int64        { return f.size }
func (f *memFile) ModTime() time.Time { return time.Time{} }
func (f *memFile) IsDir() bool        { return f.dir }
func (f *memFile) Sys() any           { return nil }
func (f *memFile) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
