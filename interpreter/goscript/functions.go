package goscript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"plotline/interpreter/sandbox"
	"plotline/interpreter/workerio"
)

// Functions are the handlers kept in one folder, NAME.go for the function
// NAME, and the sandboxed calls that run them.
type Functions struct {
	dir string
	lim Limits

	exeOnce sync.Once
	exe     string // this binary, which the sandbox starts as the worker
	exeErr  error
}

// New returns the handlers kept in dir (which need not exist yet), run
// within lim.
func New(dir string, lim Limits) *Functions {
	return &Functions{dir: dir, lim: lim.WithDefaults()}
}

// Dir is the folder of the handlers.
func (f *Functions) Dir() string { return f.dir }

// Limits are the limits of each call.
func (f *Functions) Limits() Limits { return f.lim }

// path is the handler file of name, or "" for a name that cannot be one.
func (f *Functions) path(name string) string {
	if !ValidName(name) {
		return ""
	}
	return filepath.Join(f.dir, name+".go")
}

// Has reports whether the function name has a handler.
func (f *Functions) Has(name string) bool {
	p := f.path(name)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Source returns the handler of name.
func (f *Functions) Source(name string) (string, error) {
	p := f.path(name)
	if p == "" {
		return "", fmt.Errorf("%q is not a function name: use 1 to 64 letters, digits, _ or -", name)
	}
	fh, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSource+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSource {
		return "", fmt.Errorf("%s is larger than %s", p, workerio.FormatBytes(maxSource))
	}
	return string(b), nil
}

// Save writes source as the handler of name, replacing the one there was.
func (f *Functions) Save(name, source string) error {
	p := f.path(name)
	if p == "" {
		return fmt.Errorf("%q is not a function name: use 1 to 64 letters, digits, _ or -", name)
	}
	if len(source) > maxSource {
		return fmt.Errorf("the handler is larger than %s", workerio.FormatBytes(maxSource))
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, "."+name+"-*.go")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(source)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Call runs the saved handler of name with the model's JSON arguments.
func (f *Functions) Call(ctx context.Context, name, args string) Result {
	src, err := f.Source(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return failed(fmt.Sprintf("the function %s has no handler (functions/%s.go)", name, name))
		}
		return failed(fmt.Sprintf("the handler of %s could not be read: %v", name, err))
	}
	return f.Run(ctx, name, src, args)
}

// Run runs source as the handler of name, with the model's JSON
// arguments ("" for none), in a sandbox of its own that ends with the
// call. It always returns a Result: a call that failed, for whatever
// reason, says why in it. When ctx ends first, the sandbox is killed and
// the Result says the call was stopped.
func (f *Functions) Run(ctx context.Context, name, source, args string) Result {
	start := time.Now()
	res := f.run(ctx, name, source, args)
	res.Duration = time.Since(start)
	return res
}

func (f *Functions) run(ctx context.Context, name, source, args string) Result {
	if !ValidName(name) {
		return failed(fmt.Sprintf("%q is not a function name: use 1 to 64 letters, digits, _ or -", name))
	}
	if len(source) > maxSource {
		return failed(fmt.Sprintf("the handler of %s is larger than %s", name, workerio.FormatBytes(maxSource)))
	}
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	if len(args) > maxArgs {
		return failed(fmt.Sprintf("the arguments are larger than %s", workerio.FormatBytes(maxArgs)))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &obj); err != nil || obj == nil {
		return failed("the arguments are not a JSON object")
	}
	exe, err := f.executable()
	if err != nil {
		return failed("local functions cannot run: " + err.Error())
	}
	work, err := os.MkdirTemp("", "plotline-function-")
	if err != nil {
		return failed("local functions cannot run: " + err.Error())
	}
	defer os.RemoveAll(work)

	pipes, err := workerio.OpenPipes(3)
	if err != nil {
		return failed("local functions cannot run: " + err.Error())
	}
	defer workerio.ClosePipes(pipes)
	reqR, reqW := pipes[0].R, pipes[0].W
	repR, repW := pipes[1].R, pipes[1].W
	logR, logW := pipes[2].R, pipes[2].W
	lim := f.lim
	proc, err := sandbox.Start(sandbox.Spec{
		Program: exe,
		Args:    []string{workerArg},
		Env: []string{
			"HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
			// The Go runtime collects harder as the call nears its cap,
			// and a crash says what happened without a goroutine dump.
			fmt.Sprintf("GOMEMLIMIT=%d", lim.Memory*3/4),
			"GOTRACEBACK=none", "GOMAXPROCS=2",
		},
		WorkDir:    work,
		ReadOnly:   []string{exe},
		Stdout:     logW,
		Stderr:     logW,
		ExtraFiles: []*os.File{reqR, repW},
		Limits: sandbox.Limits{
			Memory: lim.Memory,
			// The Go runtime reserves about a gigabyte of address space
			// that it never touches: the whole-sandbox cap holds the
			// memory, and this only stops absurd reservations.
			AddressSpace: workerAddressSpace,
			Processes:    64,
			CPUs:         1,
			FileSize:     1 << 20,
			OpenFiles:    64,
			TmpSize:      1 << 20,
		},
	})
	// The sandbox holds its own ends now.
	reqR.Close()
	repW.Close()
	logW.Close()
	if err != nil {
		return failed("local functions cannot run: " + err.Error())
	}
	// What the worker process prints, for a crash's reason.
	logs := newCappedBuffer(lim.Output)
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		io.Copy(logs, logR)
	}()
	replies := make(chan replyOrErr, 1)
	go func() {
		var rep reply
		err := workerio.ReadFrame(repR, maxReply(lim.Output), &rep)
		replies <- replyOrErr{rep, err}
	}()

	// The call goes in on its own goroutine: a source larger than the
	// pipe's buffer waits for the worker to read it, within the timeout.
	// A worker that dies before reading it is reported by its end.
	go func() {
		workerio.WriteFrame(reqW, request{Name: name, File: name + ".go", Source: source, Args: json.RawMessage(args), MaxOutput: lim.Output})
		reqW.Close()
	}()

	timer := time.NewTimer(lim.Timeout)
	defer timer.Stop()
	var (
		got    replyOrErr
		answer bool
		stop   string // why the host ended the call
	)
	select {
	case got = <-replies:
		answer = got.err == nil
	case <-timer.C:
		stop = fmt.Sprintf("the function %s ran past its %s time limit and was stopped", name, lim.Timeout)
	case <-ctx.Done():
		stop = fmt.Sprintf("the call of %s was stopped", name)
	}
	if stop == "" {
		// The worker exits once it has answered (what it left running, a
		// goroutine, ends with it), or it has ended already: init reports
		// how, before the sandbox goes.
		select {
		case <-proc.Done():
		case <-time.After(time.Second):
		}
	}
	proc.Kill()
	exit := proc.Wait()
	<-logsDone
	printed := logs.String()
	switch {
	case stop != "":
		return withLogs(failed(stop), printed)
	case !answer && exit.MemoryCap:
		return withLogs(failed(fmt.Sprintf("the function %s used more than its %s memory limit and was stopped",
			name, workerio.FormatBytes(lim.Memory))), printed)
	case !answer:
		return withLogs(failed(fmt.Sprintf("the function %s crashed: %s", name, crashText(printed, exit, lim.Memory))), printed)
	case got.rep.Error != "":
		return withLogs(failed(got.rep.Error), got.rep.Logs)
	}
	return Result{Output: got.rep.Output, Logs: got.rep.Logs}
}

// workerAddressSpace caps the worker's address space: room for the Go
// runtime's reservations and a handler's untouched ones, far from what
// the machine holds.
const workerAddressSpace = 4 << 30

type replyOrErr struct {
	rep reply
	err error
}

func withLogs(r Result, logs string) Result {
	r.Logs = logs
	return r
}

// crashText says how a worker that never answered ended: the Go runtime's
// own words when it printed any (a fatal error, a goroutine's panic),
// else the way it exited.
func crashText(logs string, exit sandbox.Exit, memory int64) string {
	for _, line := range strings.Split(logs, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") {
			if strings.Contains(line, "out of memory") {
				return line + fmt.Sprintf(" (its memory limit is %s)", workerio.FormatBytes(memory))
			}
			return line
		}
	}
	return exit.String()
}

// executable is this binary, as the sandbox shows it to start the worker.
func (f *Functions) executable() (string, error) {
	f.exeOnce.Do(func() {
		exe, err := os.Executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		f.exe, f.exeErr = exe, err
	})
	return f.exe, f.exeErr
}

// cappedBuffer keeps the first max bytes written to it and counts the rest.
type cappedBuffer struct {
	mu      sync.Mutex
	b       []byte
	max     int
	dropped int64
}

func newCappedBuffer(max int) *cappedBuffer { return &cappedBuffer{max: max} }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - len(c.b)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.b = append(c.b, p[:room]...)
	}
	c.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// String is what was kept, with a note of what was not.
func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.ToValidUTF8(string(c.b), "\uFFFD")
	if c.dropped > 0 {
		s += fmt.Sprintf("\n[%s more output not shown]\n", workerio.FormatBytes(c.dropped))
	}
	return s
}
