//go:build linux

package interpreter

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// New limits apply to the sessions started after them, pooled or not.
func TestSetLimitsAppliesToNewSessions(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.PoolSize = 1 })
	old := newSessionOf(t, m)
	m.SetLimits(Limits{CellTimeout: 500 * time.Millisecond})
	if got := m.Config().Limits.CellTimeout; got != 500*time.Millisecond {
		t.Fatalf("config timeout = %v", got)
	}
	s := newSessionOf(t, m)
	r := mustExec(t, s, "import time\ntime.sleep(30)")
	if r.Error == nil || r.Error.Name != "TimeoutError" {
		t.Fatalf("new session: error = %+v", r.Error)
	}
	// The session started before keeps its limits.
	if r := mustExec(t, old, "import time\ntime.sleep(1)\n'done'"); r.Error != nil || *r.Value != "'done'" {
		t.Fatalf("old session: %+v", r.Error)
	}
}

// The pool keeps three kernels by default, and fills up to three again
// after sessions take them.
func TestPoolDefaultsToThreeAndRefills(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) { c.PoolSize = 0 })
	if got := m.Config().PoolSize; got != 3 {
		t.Fatalf("default pool size = %d, want 3", got)
	}
	if got := m.Config().Admission; got != runtime.NumCPU() {
		t.Fatalf("default admission = %d, want %d", got, runtime.NumCPU())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	taken := map[*kernel]bool{}
	for range 3 {
		s := newSessionOf(t, m)
		k := kernelOf(s)
		if k == nil {
			t.Fatal("a new session did not get a pooled kernel")
		}
		taken[k] = true
	}
	if err := m.Warm(ctx); err != nil {
		t.Fatalf("the pool did not refill: %v", err)
	}
	m.mu.Lock()
	pool := slices.Clone(m.pool)
	m.mu.Unlock()
	fresh := map[*kernel]bool{}
	for _, p := range pool {
		if !taken[p.k] {
			fresh[p.k] = true
		}
	}
	if len(pool) != 3 || len(fresh) != 3 {
		t.Fatalf("after refilling the pool holds %d kernels, %d of them new", len(pool), len(fresh))
	}
	if n := m.starts.Load(); n != 6 {
		t.Fatalf("%d kernels started, want 6", n)
	}
}

// A new session that finds the pool empty while a kernel is being started
// for it takes that kernel rather than start a second one.
func TestNewSessionWaitsForRefill(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) { c.PoolSize = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	first := newSessionOf(t, m) // starts the refill
	m.mu.Lock()
	underWay := m.starting
	m.mu.Unlock()
	if underWay != 1 {
		t.Fatalf("%d refills under way after a session took the pooled kernel, want 1", underWay)
	}
	for _, open := range []func() (*Session, error){
		func() (*Session, error) { return m.NewSession(ctx) },
		func() (*Session, error) { return m.SessionAt(ctx, filepath.Join(m.Config().Root, "thread")) },
	} {
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		k := kernelOf(s)
		if k == nil || k == kernelOf(first) {
			t.Fatal("the new session did not get the refilled kernel")
		}
		if r := mustOK(t, s, "1 + 1"); value(r) != "2" || kernelOf(s) != k {
			t.Fatalf("first cell: %s, on the refilled kernel %v", value(r), kernelOf(s) == k)
		}
	}
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	// The first pool kernel, the two the sessions took and the pool's own.
	if n := m.starts.Load(); n != 4 {
		t.Fatalf("%d kernels started, want 4: a session started its own", n)
	}
}

// A session that stops waiting for a refill leaves the kernel to the pool.
func TestWaitForRefillCancelled(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) { c.PoolSize = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	newSessionOf(t, m)
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := m.NewSession(gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("NewSession with its ctx ended: %v", err)
	}
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n, waiting := len(m.pool), len(m.waiting)
	m.mu.Unlock()
	if n != 1 || waiting != 0 || m.starts.Load() != 2 {
		t.Fatalf("pool %d, waiting %d, %d kernels started; want the refill in the pool", n, waiting, m.starts.Load())
	}
}

// Cells and kernel starts wait for a slot; one that is cancelled, closed
// or killed while it waits or runs gives its slot back.
func TestCellsAreAdmitted(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) {
		c.Admission = 1
		c.Limits.Grace = 200 * time.Millisecond
	})
	s := newSessionOf(t, m)
	mustOK(t, s, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)")
	if !m.adm.idle() {
		t.Fatal("a slot is held after the cell ended")
	}

	// A queued cell: its ctx ends, or its session closes.
	hold, err := m.adm.acquire(context.Background(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	other := newSessionOf(t, m)
	errs := make(chan error)
	go func() { _, err := s.Exec(ctx, "1"); errs <- err }()
	go func() { _, err := other.Exec(context.Background(), "1"); errs <- err }()
	if !eventually(30*time.Second, func() bool {
		m.adm.mu.Lock()
		defer m.adm.mu.Unlock()
		return len(m.adm.fg) == 2
	}) {
		t.Fatal("the cells did not wait for the slot")
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while waiting: %v", err)
	}
	other.Close()
	if err := <-errs; !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("closed while waiting: %v", err)
	}
	hold()
	if !m.adm.idle() {
		t.Fatal("a slot or a place in line was left behind")
	}

	// A running cell that ignores the interrupt is killed.
	ctx, cancel = context.WithCancel(context.Background())
	running := make(chan struct{})
	var once sync.Once
	go func() {
		_, err := s.ExecStream(ctx, "import time\nprint('running', flush=True)\nwhile True:\n    time.sleep(1)",
			func(Stream, []byte) { once.Do(func() { close(running) }) })
		errs <- err
	}()
	select {
	case <-running:
	case err := <-errs:
		t.Fatalf("the cell ended before it was cancelled: %v", err)
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while running: %v", err)
	}
	if !m.adm.idle() {
		t.Fatal("the killed cell kept its slot")
	}
}

// A cell that sleeps keeps its turn for admissionHold only: another
// thread's cell runs, and ends, while it still sleeps.
func TestIdleCellDoesNotHoldOthersBack(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) { c.Admission = 1; c.PoolSize = -1 })
	sleeper, other := newSessionOf(t, m), newSessionOf(t, m)
	mustOK(t, sleeper, "1")
	mustOK(t, other, "1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	asleep, slept := make(chan struct{}), make(chan struct{})
	var once sync.Once
	go func() {
		defer close(slept)
		sleeper.ExecStream(ctx, "import time\nprint('asleep', flush=True)\ntime.sleep(120)",
			func(Stream, []byte) { once.Do(func() { close(asleep) }) })
	}()
	<-asleep
	if r := mustExec(t, other, "6 * 7"); r.Error != nil || *r.Value != "42" {
		t.Fatalf("the other cell: %+v", r.Error)
	}
	select {
	case <-slept:
		t.Fatal("the other cell waited for the sleeping one to end")
	default:
	}
	cancel()
	<-slept
}

// With DeferPool the pool starts filling at Fill, not at NewManager.
func TestDeferPoolFillsOnFill(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, func(c *Config) { c.PoolSize = 1; c.DeferPool = true })
	m.mu.Lock()
	starting, ready := m.starting, len(m.pool)
	m.mu.Unlock()
	if starting != 0 || ready != 0 || m.starts.Load() != 0 {
		t.Fatalf("before Fill: %d starting, %d ready", starting, ready)
	}
	m.Fill()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.starts.Load(); n != 1 {
		t.Fatalf("%d kernels started, want 1", n)
	}
}
