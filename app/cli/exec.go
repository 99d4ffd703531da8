package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"plotline/app/cli/wiring"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
	"plotline/interpreter/starlark"
)

// cellJSON is one line of `plotline exec --json`.
type cellJSON struct {
	Stdout     string                 `json:"stdout"`
	Stderr     string                 `json:"stderr"`
	Result     *string                `json:"result"`
	Error      *interpreter.CellError `json:"error"`
	Images     []string               `json:"images"`
	Files      []string               `json:"files"`
	DurationMS int64                  `json:"duration_ms"`
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }
func (b *byteSize) Set(v string) error {
	n, err := ParseBytes(v)
	*b = byteSize(n)
	return err
}

// ParseBytes reads a size such as 2147483648, 512M, 512MiB, 2G or 2GB.
// K, M and G and their -iB forms are powers of 1024; KB, MB and GB are
// powers of 1000.
func ParseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1 << 10, "KI": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MI": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GI": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
		"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
	}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f <= 0 {
		return 0, fmt.Errorf("invalid size %q (examples: 536870912, 512M, 2GiB)", v)
	}
	return int64(f * mult), nil
}

// cell is one CELL argument, read and checked.
type cell struct {
	name string
	code string
}

// Exec implements `plotline exec`.
func Exec(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline exec", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	var (
		files   stringList
		out     = fs.String("out", "", "copy the files the cells created or changed, and their images, into `DIR`")
		asJSON  = fs.Bool("json", false, "print one JSON object per cell, one per line, and nothing else on stdout")
		timeout = fs.Duration("timeout", interpreter.DefaultCellTimeout, "wall-clock time limit per cell")
		memory  = byteSize(sandbox.DefaultMemory)
		runtime = fs.String("runtime", "", "`python` (the sandboxed kernel), starlark (hermetic, with table and chart built-ins) or auto (Python where it and its sandbox can run, else Starlark); the default is PLOTLINE_RUNTIME's, else python")
	)
	fs.Var(&files, "file", "copy `PATH` into /mnt/data under its own name (repeatable)")
	fs.Var(&memory, "memory", "memory limit of the kernel, in `BYTES` (suffixes K, M, G allowed)")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: plotline exec [--runtime auto|python|starlark] [--file PATH]... [--out DIR] [--json] [--timeout DUR] [--memory BYTES] CELL...")
		fs.PrintDefaults()
	}
	cellArgs, err := parseInterleaved(fs, args)
	if err != nil {
		return exitNoStart
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.Err, "plotline exec: "+format+"\n", a...)
		return exitNoStart
	}
	if len(cellArgs) == 0 {
		fs.Usage()
		return exitNoStart
	}
	if *timeout <= 0 {
		return fail("--timeout must be positive")
	}
	switch *runtime {
	case "", wiring.RuntimeAuto, wiring.RuntimePython, wiring.RuntimeStarlark:
	default:
		return fail("--runtime %q: give auto, python or starlark", *runtime)
	}

	cells, err := readCells(cellArgs, s.In)
	if err != nil {
		return fail("%v", err)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		switch {
		case err != nil:
			return fail("--file %s: %v", f, errors.Unwrap(err))
		case fi.IsDir():
			return fail("--file %s: is a folder; give files one by one", f)
		case !fi.Mode().IsRegular():
			return fail("--file %s: is not a regular file", f)
		}
		if err := interpreter.CheckName(filepath.Base(f)); err != nil {
			return fail("--file %s: %v", f, err)
		}
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fail("--out: %v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root, err := os.MkdirTemp("", "plotline-exec-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(root)
	lim := interpreter.Limits{CellTimeout: *timeout, Sandbox: sandbox.Limits{Memory: int64(memory)}}.WithDefaults()
	// The cells are Python unless asked otherwise: they never run as
	// Starlark because Python cannot run here.
	from := "--runtime " + *runtime
	if *runtime == "" {
		*runtime, from = os.Getenv(wiring.RuntimeEnv), wiring.RuntimeEnv+"="+os.Getenv(wiring.RuntimeEnv)
	}
	if *runtime == "" {
		*runtime, from = wiring.RuntimePython, "the default"
	}
	rt, err := wiring.ChooseRuntime(ctx, *runtime, from)
	if err != nil {
		return fail("%v", err)
	}
	var sess cellSession
	if rt.Name == wiring.RuntimeStarlark {
		st, err := starlark.Open(root, starlark.Options{Limits: starlark.Limits{Timeout: *timeout, Memory: int64(memory)}})
		if err != nil {
			return fail("%v", err)
		}
		sess = starlarkCells{st}
	} else {
		mgr, err := interpreter.NewManager(interpreter.Config{Python: rt.Python, Root: root, PoolSize: -1, Limits: lim})
		if err != nil {
			return fail("%v", err)
		}
		defer mgr.Close()
		ps, err := mgr.NewSession(ctx)
		if err != nil {
			return fail("%v", err)
		}
		sess = ps
	}
	defer sess.Close()

	for _, f := range files {
		used, err := copyIn(sess, f)
		if err != nil {
			return fail("--file %s: %v", f, err)
		}
		if used != filepath.Base(f) {
			fmt.Fprintf(s.Err, "plotline exec: %s is in /mnt/data as %q (the name was taken)\n", f, used)
		}
	}

	enc := json.NewEncoder(s.Out)
	enc.SetEscapeHTML(false)
	for i, c := range cells {
		r, err := sess.Exec(ctx, c.code)
		if errors.Is(err, interpreter.ErrKernelStart) {
			return fail("%v", err)
		}
		if err != nil && r == nil {
			return fail("cell %d (%s): %v", i+1, c.name, err)
		}
		images, files := saveOutputs(sess, r, *out, lim.DiskQuota, i+1, s.Err)
		if *asJSON {
			enc.Encode(cellJSON{
				Stdout: r.Stdout, Stderr: r.Stderr, Result: r.Value, Error: r.Error,
				Images: images, Files: files, DurationMS: r.Duration.Milliseconds(),
			})
		} else {
			printPlain(s, r, images, *out != "")
		}
		if err != nil { // cancelled
			fmt.Fprintln(s.Err, "plotline exec: interrupted")
			return 130
		}
	}
	return exitOK
}

// readCells reads every CELL argument: a file, or - for standard input
// (once). Each must be non-empty UTF-8 text.
func readCells(args []string, stdin io.Reader) ([]cell, error) {
	var cells []cell
	usedStdin := false
	for i, a := range args {
		var b []byte
		var err error
		name := a
		if a == "-" {
			if usedStdin {
				return nil, fmt.Errorf("cell %d: standard input (-) can be given only once", i+1)
			}
			usedStdin = true
			name = "standard input"
			b, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
		} else {
			var fi os.FileInfo
			if fi, err = os.Stat(a); err == nil && fi.IsDir() {
				return nil, fmt.Errorf("cell %d (%s): is a folder, not a .py file", i+1, a)
			}
			if err == nil && fi.Size() > 64<<20 {
				return nil, fmt.Errorf("cell %d (%s): is larger than 64 MiB; that is data, not a cell (pass it with --file)", i+1, a)
			}
			b, err = os.ReadFile(a)
		}
		switch {
		case err != nil:
			return nil, fmt.Errorf("cell %d (%s): %v", i+1, name, err)
		case !utf8.Valid(b):
			return nil, fmt.Errorf("cell %d (%s): is not UTF-8 text", i+1, name)
		case strings.TrimSpace(string(b)) == "":
			return nil, fmt.Errorf("cell %d (%s): is empty", i+1, name)
		}
		cells = append(cells, cell{name: name, code: string(b)})
	}
	return cells, nil
}

// cellSession is what exec runs cells in: the sandboxed Python kernel
// (*interpreter.Session), or the Starlark runtime.
type cellSession interface {
	Exec(ctx context.Context, code string) (*interpreter.Result, error)
	AddFile(name string, r io.Reader) (string, error)
	OpenFile(name string) (*os.File, error)
	Close() error
}

// starlarkCells runs exec's cells in a Starlark session; its results have
// the kernel's shape.
type starlarkCells struct{ s *starlark.Session }

func (c starlarkCells) Exec(ctx context.Context, code string) (*interpreter.Result, error) {
	r, err := c.s.Exec(ctx, code, nil)
	if r == nil {
		return nil, err
	}
	out := &interpreter.Result{Stdout: r.Stdout, Stderr: r.Stderr, Value: r.Value, Images: r.Images,
		Files: r.Files, Duration: r.Duration, Restarted: r.Restarted}
	if r.Error != nil {
		out.Error = &interpreter.CellError{Name: r.Error.Name, Message: r.Error.Message, Traceback: r.Error.Traceback}
	}
	return out, err
}

func (c starlarkCells) AddFile(name string, r io.Reader) (string, error) { return c.s.AddFile(name, r) }
func (c starlarkCells) OpenFile(name string) (*os.File, error)           { return c.s.OpenFile(name) }
func (c starlarkCells) Close() error                                     { return c.s.Close() }

func copyIn(sess cellSession, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return sess.AddFile(filepath.Base(p), f)
}

// saveOutputs saves the cell's new files and images into out (when
// given) and returns the paths to report: under out, or else the /mnt/data
// names of files and the names images would be saved under. What it does
// not save it reports on warn, a line each. quota is the work folder's.
func saveOutputs(sess cellSession, r *interpreter.Result, out string, quota int64, n int, warn io.Writer) (images, files []string) {
	images, files = []string{}, []string{}
	var dst *outFolder
	if out != "" {
		var err error
		if dst, err = openOutFolder(out, quota); err != nil {
			fmt.Fprintf(warn, "plotline exec: cell %d: --out: %v\n", n, err)
			return images, files
		}
		defer dst.Close()
	}
	for i, png := range r.Images {
		name := fmt.Sprintf("cell%d-image%d.png", n, i+1)
		if dst == nil {
			images = append(images, name)
			continue
		}
		p, err := dst.save(name, func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(png)), int64(len(png)), nil
		})
		if err != nil {
			fmt.Fprintf(warn, "plotline exec: cell %d: %v\n", n, err)
			continue
		}
		images = append(images, p)
	}
	for _, rel := range r.Files {
		if dst == nil {
			files = append(files, path.Join(sandbox.WorkDir, rel))
			continue
		}
		p, err := dst.save(rel, func() (io.ReadCloser, int64, error) { return fileSource(sess.OpenFile(rel)) })
		if err != nil {
			fmt.Fprintf(warn, "plotline exec: cell %d: %v\n", n, err)
			continue
		}
		files = append(files, p)
	}
	return images, files
}

// printPlain prints a cell's result as Python would: output on its
// streams, the final value like the interactive prompt, the traceback on
// stderr.
func printPlain(s Streams, r *interpreter.Result, images []string, saved bool) {
	io.WriteString(s.Out, r.Stdout)
	io.WriteString(s.Err, r.Stderr)
	if r.Value != nil {
		fmt.Fprintln(s.Out, *r.Value)
	}
	if e := r.Error; e != nil {
		if e.Traceback != "" {
			io.WriteString(s.Err, e.Traceback)
		}
		if e.Traceback == "" || !strings.Contains(e.Traceback, e.Message) {
			fmt.Fprintf(s.Err, "%s: %s\n", e.Name, e.Message)
		}
	}
	if saved {
		for _, p := range images {
			fmt.Fprintf(s.Err, "[image saved to %s]\n", p)
		}
	} else if len(images) > 0 {
		fmt.Fprintf(s.Err, "[%d image(s) not saved: use --out DIR]\n", len(images))
	}
}
