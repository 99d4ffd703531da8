package interpreter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Errors of Exec that are not a cell's own result.
var (
	ErrEmptyCell     = errors.New("the cell is empty")
	ErrInvalidCell   = errors.New("the cell is not valid UTF-8 text")
	ErrSessionClosed = errors.New("the session is closed")
	ErrSessionEnded  = errors.New("the session ended (it reached its lifetime or idle limit); its files are kept, start a new session to go on")
	// ErrKernelStart wraps the reason a kernel could not be started.
	ErrKernelStart = errors.New("the Python kernel could not start")
)

// Stream names an output stream.
type Stream int

// The output streams.
const (
	Stdout Stream = iota
	Stderr
)

func (s Stream) String() string { return [...]string{"stdout", "stderr"}[s] }

// CellError is a cell's failure: a Python exception, or a limit the cell
// broke.
type CellError struct {
	// Name is the exception's class name, such as "ValueError", or one of
	// TimeoutError, MemoryError, KernelCrash, DiskQuotaExceeded.
	Name string `json:"name"`
	// Message is the exception's message, or what happened in plain words.
	Message string `json:"message"`
	// Traceback is the traceback, trimmed to the user's code.
	Traceback string `json:"traceback"`
}

// Result is what one cell produced.
type Result struct {
	// Stdout and Stderr are the cell's output, each capped, with a visible
	// note when cut.
	Stdout string
	Stderr string
	// Value is the repr of the cell's final bare expression, like
	// Jupyter's Out, or nil.
	Value *string
	// Error is set when the cell raised or broke a limit.
	Error *CellError
	// Images are the PNGs of the matplotlib figures open after the cell.
	Images [][]byte
	// Files are the work folder's files (slash-separated names relative to
	// /mnt/data) that the cell created or changed.
	Files []string
	// Duration is the cell's wall-clock time.
	Duration time.Duration
	// Restarted is true when the kernel was killed during this cell, or
	// had ended since the last one: its variables and imports are gone,
	// its files are not.
	Restarted bool
}

// Session is one conversation's kernel: a persistent Python process bound
// to a work folder, seen by the code as /mnt/data. Cells run one at a
// time, in order; variables, imports and open figures persist between
// them. A kernel that dies is replaced on the next Exec; the files stay.
type Session struct {
	dir    string
	cfg    Config
	m      *Manager // whose admission its kernel starts and cells go through
	onEnd  func()
	mu     sync.Mutex // held while a cell runs
	k      *kernel
	snap   map[string]fileStamp // the work folder as the last cell left it
	usage  Usage                // and what it held then
	last   time.Time            // when the last cell ended
	state  sessionState
	idle   *time.Timer
	life   *time.Timer
	closed chan struct{} // closed by Close, to stop a running cell
	once   sync.Once

	quotaEvery time.Duration // how often a running cell's folder is walked

	guard   *time.Timer   // checks the kernel's CPU between cells
	cpuMark time.Duration // the kernel's CPU time when the last cell ended
	cells   int           // cells begun, so that a late check knows it is stale
}

type sessionState int

const (
	sessionOpen sessionState = iota
	sessionEnded
	sessionClosed
)

// newSession makes a session on dir with k, or with a kernel started by
// its first cell when k is nil.
func (m *Manager) newSession(dir string, k *kernel) *Session {
	cfg := m.Config()
	s := &Session{dir: dir, cfg: cfg, m: m, k: k, closed: make(chan struct{})}
	s.snapshot()
	s.last = time.Now()
	s.idle = time.AfterFunc(cfg.IdleTimeout, s.endIfIdle)
	s.life = time.AfterFunc(cfg.MaxLifetime, s.end)
	return s
}

// Dir is the host folder shown to the code as /mnt/data.
func (s *Session) Dir() string { return s.dir }

// endIfIdle ends the session unless a cell ran while the idle timer fired.
func (s *Session) endIfIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if left := s.cfg.IdleTimeout - time.Since(s.last); left > 0 {
		s.idle.Reset(left)
		return
	}
	s.endLocked()
}

// end stops the kernel when the session reaches its lifetime. A running
// cell finishes first.
func (s *Session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked()
}

func (s *Session) endLocked() {
	if s.state != sessionOpen {
		return
	}
	s.state = sessionEnded
	s.stopKernel()
}

// Close ends the session and its kernel at once, interrupting a running
// cell. The work folder is left as it is.
func (s *Session) Close() error {
	s.once.Do(func() { close(s.closed) }) // wakes a running Exec, which kills its kernel
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = sessionClosed
	s.idle.Stop()
	s.life.Stop()
	if s.guard != nil {
		s.guard.Stop()
	}
	s.stopKernel()
	return nil
}

func (s *Session) stopKernel() {
	if s.k != nil {
		s.k.kill()
		s.k = nil
	}
	if s.onEnd != nil {
		s.onEnd()
		s.onEnd = nil
	}
}

// AddFile copies r into the work folder as name, or as "name (1).ext" and
// so on if that name is taken, and returns the name used. The name must
// be a plain file name (see CheckName).
func (s *Session) AddFile(name string, r io.Reader) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used, err := addFile(s.dir, name, r)
	if err == nil {
		s.snapshot() // an input is not something a cell made
	}
	return used, err
}

// OpenFile opens a file of the work folder for reading, by its name
// relative to /mnt/data. Links are never followed: a link the code
// planted cannot point the host at its own files.
func (s *Session) OpenFile(name string) (*os.File, error) {
	return openRegular(s.dir, name)
}

// Exec runs one cell and returns its result. A cell's exception, and a
// limit it broke, are part of the result, not an error; the error is for
// a cell that could not run (bad input, a closed session, a kernel that
// could not start). A cell, and the start of its kernel, wait their turn
// when the machine's cores are busy (see Config.Admission). When ctx is
// cancelled, a waiting cell returns ctx's error, and a running one is
// interrupted (and killed, after the grace period) and Exec returns the
// partial result with ctx's error.
func (s *Session) Exec(ctx context.Context, code string) (*Result, error) {
	return s.ExecStream(ctx, code, nil)
}

// ExecStream is Exec that also passes output to onOutput as it arrives.
// onOutput runs on the reading goroutine and must not block for long.
func (s *Session) ExecStream(ctx context.Context, code string, onOutput func(Stream, []byte)) (*Result, error) {
	if !utf8.ValidString(code) {
		return nil, ErrInvalidCell
	}
	if strings.TrimSpace(code) == "" {
		return nil, ErrEmptyCell
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case sessionEnded:
		return nil, ErrSessionEnded
	case sessionClosed:
		return nil, ErrSessionClosed
	}
	release, err := s.m.adm.acquire(ctx, s.closed, false)
	if err != nil {
		if errors.Is(err, errStopped) {
			err = ErrSessionClosed
		}
		return nil, err
	}
	// A cell keeps its turn for admissionHold at most, then runs on beside
	// the others: one that sleeps or waits must not hold every other
	// thread back until its timeout.
	hold := time.AfterFunc(admissionHold, release)
	defer func() {
		hold.Stop()
		release()
	}()
	s.idle.Stop()
	if s.guard != nil {
		s.guard.Stop()
	}
	s.cells++
	defer func() {
		s.last = time.Now()
		s.idle.Reset(s.cfg.IdleTimeout)
		s.watchIdleCPU()
	}()

	var cb func(int, []byte)
	if onOutput != nil {
		cb = func(i int, p []byte) { onOutput(Stream(i), p) }
	}
	// A kernel that ended since the last cell (its sandbox's memory cap,
	// a signal) is replaced, once, and the result says the state is gone.
	for attempt := 0; ; attempt++ {
		lost := false
		if s.k == nil || !s.k.alive() {
			if s.k != nil {
				s.k.kill()
				lost = true
			}
			k, err := s.m.startKernel(s.cfg, s.dir)
			if err != nil {
				s.k = nil
				return nil, fmt.Errorf("%w: %w", ErrKernelStart, err)
			}
			s.k = k
		}
		res, err := s.run(ctx, code, cb)
		if errors.Is(err, errKernelGone) && attempt == 0 {
			continue
		}
		if res != nil && (lost || attempt > 0) {
			res.Restarted = true
		}
		return res, err
	}
}

// How a cell ended, when the host had to step in.
type stopReason int

const (
	stopNone stopReason = iota
	stopTimeout
	stopCancel
	stopClose
	stopDisk
)

func (s *Session) run(ctx context.Context, code string, onOutput func(int, []byte)) (*Result, error) {
	k, lim := s.k, s.cfg.Limits
	start := time.Now()
	run, err := k.send(code, onOutput)
	if err != nil {
		k.kill()
		s.k = nil
		return nil, fmt.Errorf("%w: %w", errKernelGone, err)
	}
	timer := time.NewTimer(lim.CellTimeout)
	defer timer.Stop()
	// The quota is checked while the cell runs, every 100 ms, or less
	// often when the folder is so large that a walk takes more than a
	// tenth of the time between two.
	quota := time.NewTimer(s.quotaEvery)
	defer quota.Stop()
	ctxDone := ctx.Done()

	var (
		reason      stopReason
		interrupted bool
		killed      bool
		frame       resultFrame
		got         bool
	)
	interrupt := func(r stopReason) {
		if reason == stopNone {
			reason = r
		}
		if !interrupted {
			interrupted = true
			k.proc.Interrupt()
			timer.Reset(lim.Grace)
		}
	}
wait:
	for {
		select {
		case f, ok := <-k.frames:
			if !ok || f.err != nil {
				break wait // the kernel died
			}
			if f.frame.Type == "result" && f.frame.ID == run.id {
				frame, got = f.frame, true
				break wait
			}
			// Anything else is not an answer to this cell: ignore it.
		case <-timer.C:
			if interrupted {
				killed = true
				break wait
			}
			interrupt(stopTimeout)
		case <-ctxDone:
			ctxDone = nil
			interrupt(stopCancel)
		case <-s.closed:
			reason, killed = stopClose, true
			break wait
		case <-quota.C:
			t0 := time.Now()
			_, used := scan(s.dir)
			if s.quotaBreach(used) != "" {
				reason, killed = stopDisk, true
				break wait
			}
			s.quotaEvery = max(100*time.Millisecond, 10*time.Since(t0))
			quota.Reset(s.quotaEvery)
		}
	}

	if got && !killed {
		// What the cell left running in the background ends with it. The
		// sweep starts now, to run while the output is collected; the
		// next cell waits for its end.
		k.swept = k.proc.Sweep()
	}
	var exit string
	if killed || !got {
		if !killed {
			// Let init report how the kernel died before it goes.
			select {
			case <-k.proc.Done():
			case <-time.After(2 * time.Second):
			}
		}
		exit = describeExit(k.kill())
		s.k = nil
	}
	res := &Result{Value: frame.Value, Error: frame.Error}
	res.Stdout, res.Stderr, res.Images = k.collect(run, frame)
	res.Duration = time.Since(start)
	after, used := scan(s.dir)
	breach := s.quotaBreach(used)
	if breach != "" {
		reason = stopDisk
		after, used = s.trimToQuota(after, used)
	}
	res.Files = changed(s.snap, after)
	stripSetID(s.dir, after, res.Files)
	s.snap, s.usage = after, used

	lost := "The kernel was restarted: its variables and imports are lost; the files in /mnt/data are kept."
	switch {
	case reason == stopDisk:
		if s.k != nil {
			s.k.kill()
			s.k = nil
		}
		res.Error = &CellError{Name: "DiskQuotaExceeded", Message: fmt.Sprintf(
			"The work folder /mnt/data %s, so the cell was stopped and the files it wrote there were removed. %s Delete files you no longer need.", breach, lost)}
	case reason == stopTimeout && killed:
		res.Error = &CellError{Name: "TimeoutError", Message: fmt.Sprintf(
			"The cell ran past its %s time limit and did not stop within %s of being interrupted. %s", lim.CellTimeout, lim.Grace, lost)}
	case reason == stopTimeout:
		tb := ""
		if res.Error != nil {
			tb = res.Error.Traceback
		}
		res.Error = &CellError{Name: "TimeoutError", Traceback: tb, Message: fmt.Sprintf(
			"The cell ran past its %s time limit and was interrupted. The kernel's state is kept.", lim.CellTimeout)}
	case reason == stopCancel && killed:
		res.Error = &CellError{Name: "KeyboardInterrupt", Message: "The cell was cancelled and did not stop when interrupted. " + lost}
	case reason == stopClose:
		res.Error = &CellError{Name: "KeyboardInterrupt", Message: "The session was closed while the cell ran."}
	case !got:
		res.Error = &CellError{Name: "KernelCrash", Message: fmt.Sprintf(
			"The Python kernel died while running the cell: %s. %s", exit, lost)}
		if strings.Contains(exit, "memory") {
			res.Error.Name = "MemoryError"
		}
	case res.Error != nil && res.Error.Name == "MemoryError":
		// Python survives a failed allocation, but what the cell built is
		// still in memory and half-made objects may be left: start afresh.
		k.kill()
		s.k = nil
		res.Error.Message = fmt.Sprintf("The cell ran out of memory (the limit is %s). %s",
			formatBytes(lim.Sandbox.Memory), lost)
	}
	res.Restarted = s.k == nil
	if reason == stopCancel {
		return res, ctx.Err()
	}
	return res, nil
}

// watchIdleCPU starts watching the kernel's CPU time until the next
// cell: a thread the last cell left running keeps the kernel busy between
// cells, where no time limit applies, and the sweep, which ends leftover
// processes, cannot reach a thread. A kernel that uses more than
// Limits.IdleCPU of CPU time between two cells, and more than half of the
// time that passed, is stopped; the next cell starts a new one and says
// so. Called with s.mu held, after a cell.
func (s *Session) watchIdleCPU() {
	if s.k == nil || s.state != sessionOpen {
		return
	}
	s.cpuMark = s.k.proc.ProgramCPU()
	since := time.Now()
	every := max(time.Second, s.cfg.Limits.IdleCPU)
	k, cell := s.k, s.cells
	var check func()
	check = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.k != k || s.cells != cell || s.state != sessionOpen || !k.alive() {
			return
		}
		burnt := k.proc.ProgramCPU() - s.cpuMark
		if burnt > s.cfg.Limits.IdleCPU && burnt > time.Since(since)/2 {
			k.proc.Kill()
			return
		}
		s.guard = time.AfterFunc(every, check)
	}
	s.guard = time.AfterFunc(every, check)
}

// snapshot records the work folder as it is now, as the state the next
// cell's changes are measured against.
func (s *Session) snapshot() {
	s.snap, s.usage = scan(s.dir)
	if s.quotaEvery == 0 {
		s.quotaEvery = 100 * time.Millisecond
	}
}

// quotaBreach tells, in words for the model, how a work folder that
// holds u breaks the quota, or "" when it does not. A folder already over
// it (after a large upload, say) is not held against a cell that did not
// make it grow.
func (s *Session) quotaBreach(u Usage) string {
	lim := s.cfg.Limits
	switch {
	case u.Truncated && !s.usage.Truncated:
		return "came to hold too many entries, or folders nested too deep, to be checked"
	case u.Allocated > lim.DiskQuota && u.Allocated > s.usage.Allocated:
		return fmt.Sprintf("grew past its %s limit", formatBytes(lim.DiskQuota))
	case u.Apparent > lim.DiskQuota && u.Apparent > s.usage.Apparent:
		return fmt.Sprintf("came to hold files whose sizes add up to more than its %s limit (a sparse file counts at its full size)", formatBytes(lim.DiskQuota))
	case u.Entries > lim.MaxFiles && u.Entries > s.usage.Entries:
		return fmt.Sprintf("came to hold more than %d files and folders", lim.MaxFiles)
	}
	return ""
}

// trimToQuota removes what the cell wrote until the folder is within the
// quota again: first the files it made or changed, largest first, then
// the new names at the folder's top. Nothing over the quota outlives the
// cell that wrote it, however fast it was written. It returns the folder
// as it is left.
func (s *Session) trimToQuota(after map[string]fileStamp, used Usage) (map[string]fileStamp, Usage) {
	names := changed(s.snap, after)
	sort.Slice(names, func(i, j int) bool { return after[names[i]].size > after[names[j]].size })
	for _, name := range names {
		if s.quotaBreach(used) == "" {
			break
		}
		if removeInFolder(s.dir, name) == nil {
			st := after[name]
			used.Apparent -= st.size
			used.Allocated -= st.alloc
			used.Entries--
		}
	}
	if s.quotaBreach(used) != "" {
		_, now := scan(s.dir)
		if root, err := os.OpenRoot(s.dir); err == nil {
			for name := range now.top {
				if !s.usage.top[name] {
					root.RemoveAll(name)
				}
			}
			root.Close()
		}
	}
	return scan(s.dir)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
