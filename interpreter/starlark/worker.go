package starlark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"plotline/interpreter/sandbox"
	"plotline/interpreter/workerio"
)

// workerArg is the hidden first argument that makes a binary linking this
// package a session's worker.
const workerArg = "__plotline-starlark-worker"

// The worker's pipes, as the program's extra files number them.
const (
	requestFD = 3
	replyFD   = 4
)

// init hands a binary started as the worker over to it before main runs.
func init() {
	if len(os.Args) >= 3 && os.Args[1] == workerArg {
		os.Exit(runWorker(os.Args[2]))
	}
}

// workerConfig is what the worker is started with.
type workerConfig struct {
	Dir    string `json:"dir"`
	Limits Limits `json:"limits"`
	// AddressSpace, if over 0, is the worker's own RLIMIT_AS, for a
	// worker outside the sandbox.
	AddressSpace int64 `json:"address_space,omitempty"`
}

// frame is one message on the worker's pipes: from the host "exec" (with
// Code) or "cancel"; from the worker "output" (with Data) or "result".
type frame struct {
	Type   string  `json:"type"`
	Code   string  `json:"code,omitempty"`
	Data   string  `json:"data,omitempty"`
	Result *Result `json:"result,omitempty"`
}

// Bounds of frames: a cell's source; a result with its charts.
const (
	maxRequest = 16 << 20
	maxReply   = 256 << 20
)

// runWorker serves cells from the request pipe on one set of globals
// until the pipe closes. Cells' output and results go on the reply pipe,
// which the cell's code cannot reach; the process's stdout and stderr
// carry only what the Go runtime prints (an out-of-memory crash).
func runWorker(arg string) int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "starlark worker: bad configuration:", err)
		return 2
	}
	if cfg.AddressSpace > 0 {
		if err := limitAddressSpace(cfg.AddressSpace); err != nil {
			fmt.Fprintln(os.Stderr, "starlark worker: address-space limit:", err)
			return 2
		}
	}
	rt, err := newRuntime(cfg.Dir, cfg.Limits)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starlark worker:", err)
		return 2
	}
	in, out := os.NewFile(requestFD, "request"), os.NewFile(replyFD, "reply")
	var (
		mu     sync.Mutex
		cancel context.CancelFunc = func() {}
	)
	execs := make(chan string)
	go func() {
		defer close(execs)
		for {
			var f frame
			if err := workerio.ReadFrame(in, maxRequest, &f); err != nil {
				return
			}
			switch f.Type {
			case "exec":
				execs <- f.Code
			case "cancel":
				mu.Lock()
				cancel()
				mu.Unlock()
			}
		}
	}()
	for code := range execs {
		ctx, stop := context.WithCancel(context.Background())
		mu.Lock()
		cancel = stop
		mu.Unlock()
		res, err := rt.exec(ctx, code, func(p []byte) {
			workerio.WriteFrame(out, frame{Type: "output", Data: string(p)})
		})
		stop()
		if err != nil {
			res = &Result{Error: &CellError{Name: "EvalError", Message: err.Error()}}
		}
		if err := workerio.WriteFrame(out, frame{Type: "result", Result: res}); err != nil {
			return 2
		}
	}
	return 0
}

// workerMode is where cells run on this machine: in the sandbox where it
// starts, else in a plain child on Linux, else in this process.
var workerMode = sync.OnceValue(func() Mode {
	if goruntime.GOOS != "linux" {
		return ModeInProcess
	}
	if sandboxErr() == nil {
		return ModeSandbox
	}
	return ModeChild
})

// sandboxErr says why the sandbox cannot start here, or is nil.
var sandboxErr = sync.OnceValue(func() error { return sandbox.Check().Err })

// workerAddressSpace is room for the Go runtime's reservations beside the
// memory a worker may use.
const workerAddressSpace = 2 << 30

// grace is how long a worker has after its cell's time limit to answer
// before it is killed.
const grace = 10 * time.Second

// worker is the host's side of a session's worker process. A worker that
// dies (its memory cap) is replaced by the next cell, with new globals.
type worker struct {
	dir  string
	mode Mode
	lim  Limits

	mu     sync.Mutex // guards p against kill from Close
	p      *workerProc
	lost   bool // the last worker died: the next cell's result says so
	closed bool
}

func newWorker(dir string, mode Mode, lim Limits) *worker {
	return &worker{dir: dir, mode: mode, lim: lim}
}

// workerProc is one running worker.
type workerProc struct {
	req    *os.File
	frames chan frame // closed when the reply pipe ends
	logs   *tailBuffer
	kill   func()
	done   chan struct{} // closed once the process ended and exit is set
	exit   string        // how it ended
	oom    bool          // it reached its memory cap
}

// ErrWorkerStart wraps the reason a session's worker could not start.
var ErrWorkerStart = errors.New("the Starlark worker could not start")

func (w *worker) start() (*workerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg := workerConfig{Dir: w.dir, Limits: w.lim}
	if w.mode == ModeSandbox {
		cfg.Dir = sandbox.WorkDir
	} else {
		cfg.AddressSpace = w.lim.Memory + workerAddressSpace
	}
	arg, _ := json.Marshal(cfg)

	pipes, err := workerio.OpenPipes(3)
	if err != nil {
		return nil, err
	}
	reqR, reqW := pipes[0].R, pipes[0].W
	repR, repW := pipes[1].R, pipes[1].W
	logR, logW := pipes[2].R, pipes[2].W
	env := []string{"HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8", "MALLOC_ARENA_MAX=2",
		fmt.Sprintf("GOMEMLIMIT=%d", w.lim.Memory*3/4), "GOTRACEBACK=none"}
	p := &workerProc{req: reqW, frames: make(chan frame, 64), logs: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	if w.mode == ModeSandbox {
		proc, serr := sandbox.Start(sandbox.Spec{
			Program: exe, Args: []string{workerArg, string(arg)}, Env: env,
			WorkDir: w.dir, ReadOnly: []string{exe},
			Stdout: logW, Stderr: logW, ExtraFiles: []*os.File{reqR, repW},
			Limits: sandbox.Limits{
				Memory: w.lim.Memory,
				// The whole-sandbox cap holds the memory; this stops only
				// absurd reservations beside the Go runtime's own.
				// Starlark reserves 4 GiB for its small ints.
				AddressSpace: w.lim.Memory + workerAddressSpace + 4<<30,
				Processes:    64, FileSize: w.lim.FileSize, OpenFiles: 64, TmpSize: 1 << 20,
			},
		})
		err = serr
		if err == nil {
			p.kill = proc.Kill
			go func() {
				e := proc.Wait()
				p.exit, p.oom = e.String(), e.MemoryCap
				close(p.done)
			}()
		}
	} else {
		cmd := exec.Command(exe, workerArg, string(arg))
		cmd.Env, cmd.Dir = env, w.dir
		cmd.Stdout, cmd.Stderr = logW, logW
		cmd.ExtraFiles = []*os.File{reqR, repW}
		err = cmd.Start()
		if err == nil {
			p.kill = func() { cmd.Process.Kill() }
			go func() {
				err := cmd.Wait()
				p.exit = "exit status 0"
				if err != nil {
					p.exit = err.Error()
				}
				close(p.done)
			}()
		}
	}
	reqR.Close()
	repW.Close()
	logW.Close()
	if err != nil {
		workerio.ClosePipes(pipes)
		return nil, err
	}
	go io.Copy(p.logs, logR)
	go func() {
		defer close(p.frames)
		defer repR.Close()
		for {
			var f frame
			if err := workerio.ReadFrame(repR, maxReply, &f); err != nil {
				return
			}
			p.frames <- f
		}
	}()
	return p, nil
}

func (w *worker) exec(ctx context.Context, code string, onOutput func([]byte)) (*Result, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrSessionClosed
	}
	restarted := w.lost
	if w.p == nil {
		p, err := w.start()
		if err != nil {
			w.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrWorkerStart, err)
		}
		w.p = p
	}
	p := w.p
	w.mu.Unlock()

	start := time.Now()
	if err := workerio.WriteFrame(p.req, frame{Type: "exec", Code: code}); err != nil {
		res := w.died(p, start)
		res.Restarted = restarted
		return res, nil
	}
	timer := time.NewTimer(w.lim.Timeout + grace)
	defer timer.Stop()
	ctxDone := ctx.Done()
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				res := w.died(p, start)
				res.Restarted = restarted
				return res, nil
			}
			switch f.Type {
			case "output":
				if onOutput != nil {
					onOutput([]byte(f.Data))
				}
			case "result":
				if f.Result == nil {
					f.Result = &Result{}
				}
				f.Result.Restarted = restarted
				w.mu.Lock()
				w.lost = false
				w.mu.Unlock()
				return f.Result, nil
			}
		case <-ctxDone:
			ctxDone = nil
			workerio.WriteFrame(p.req, frame{Type: "cancel"})
		case <-timer.C:
			p.kill()
			<-p.done
			w.forget(p)
			return &Result{Restarted: restarted, Duration: time.Since(start), Error: &CellError{Name: "TimeoutError", Message: fmt.Sprintf(
				"The cell ran past its %s time limit and did not stop, so its worker was ended. The globals are lost; the files are kept.", w.lim.Timeout)}}, nil
		}
	}
}

// died reports a worker that ended during a cell, and forgets it: the
// next cell starts a new one.
func (w *worker) died(p *workerProc, start time.Time) *Result {
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
		<-p.done
	}
	w.forget(p)
	logs := p.logs.String()
	res := &Result{Duration: time.Since(start)}
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		res.Error = &CellError{Name: "Cancelled", Message: "The session was closed while the cell ran."}
		return res
	}
	if p.oom || strings.Contains(logs, "out of memory") || strings.Contains(p.exit, "killed") {
		res.Error = &CellError{Name: "MemoryError", Message: fmt.Sprintf(
			"The cell used more than the session's %s of memory and was stopped. The globals are lost; the files are kept. Work on fewer rows at a time, or let the table built-ins do the work.", workerio.FormatBytes(w.lim.Memory))}
		return res
	}
	res.Error = &CellError{Name: "WorkerCrash", Message: fmt.Sprintf("The Starlark worker ended (%s). The globals are lost; the files are kept.", p.exit),
		Traceback: strings.TrimSpace(logs)}
	return res
}

// forget drops p as the session's worker.
func (w *worker) forget(p *workerProc) {
	p.req.Close()
	w.mu.Lock()
	if w.p == p {
		w.p = nil
		w.lost = true
	}
	w.mu.Unlock()
}

// kill ends the worker at once.
func (w *worker) kill() {
	w.mu.Lock()
	w.closed = true
	p := w.p
	w.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

func (w *worker) close() error {
	w.kill()
	w.mu.Lock()
	p := w.p
	w.p = nil
	w.mu.Unlock()
	if p != nil {
		p.req.Close()
		<-p.done
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
