package interpreter

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// admissionHold is how long a cell keeps its admission slot: long enough
// for the cells analysts run most, which take well under a second, to go
// in turn; short enough that a long or idle cell does not hold the others.
const admissionHold = 2 * time.Second

// errStopped is acquire's error when its stop channel closed first.
var errStopped = errors.New("interpreter: stopped while waiting to run")

// admission lets the heavy work of kernels, a kernel starting or a cell
// running, go about as many at a time as the machine has cores; the rest
// waits its turn, in the order it came, so that under load cells finish
// roughly in that order rather than all together at the end.
//
// Sessions' work is foreground. The pool's refills are background: one
// starts only in a slot that is free while no foreground work waits, and
// the slots they hold are not counted against foreground work, so a refill
// never holds a session back (the machine is then briefly shared by more
// than n); a refill that a new session waits for joins the foreground line
// (promote). After close everything is let through at once.
type admission struct {
	n int

	mu     sync.Mutex
	fg, bg []*ticket // waiting, in the order they came
	held   [2]int    // slots in use by foreground and background work
	closed bool
}

// ticket is one piece of work's place in line.
type ticket struct {
	ready chan struct{} // closed when admitted
	bg    bool          // in the background line, or admitted from it
	held  bool          // admitted and not yet released
}

func newAdmission(n int) *admission { return &admission{n: max(n, 1)} }

// acquire waits for a slot until ctx ends or stop closes, and returns the
// function that releases it. Work that stops waiting leaves the line, and
// a slot it was given meanwhile goes to the next in line.
func (a *admission) acquire(ctx context.Context, stop <-chan struct{}, background bool) (release func(), err error) {
	return a.wait(ctx, stop, a.enqueue(background))
}

// enqueue puts new work at the end of its line.
func (a *admission) enqueue(background bool) *ticket {
	t := &ticket{ready: make(chan struct{}), bg: background}
	a.mu.Lock()
	defer a.mu.Unlock()
	if background {
		a.bg = append(a.bg, t)
	} else {
		a.fg = append(a.fg, t)
	}
	a.admit()
	return t
}

// wait is acquire for work already in line.
func (a *admission) wait(ctx context.Context, stop <-chan struct{}, t *ticket) (release func(), err error) {
	select {
	case <-t.ready:
		return func() { a.release(t) }, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-stop:
		err = errStopped
	}
	a.mu.Lock()
	a.fg = slices.DeleteFunc(a.fg, func(w *ticket) bool { return w == t })
	a.bg = slices.DeleteFunc(a.bg, func(w *ticket) bool { return w == t })
	a.mu.Unlock()
	a.release(t)
	return nil, err
}

// release gives t's slot, if it holds one, to the next in line.
func (a *admission) release(t *ticket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !t.held {
		return
	}
	t.held = false
	a.held[b2i(t.bg)]--
	a.admit()
}

// promote moves the background work that waits to the end of the
// foreground line: a session now waits for it.
func (a *admission) promote() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.bg {
		t.bg = false
	}
	a.fg = append(a.fg, a.bg...)
	a.bg = nil
	a.admit()
}

// close lets everything that waits, and everything that comes later,
// through.
func (a *admission) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.admit()
}

// admit hands free slots out in order: foreground first, background only
// when no foreground work waits. Called with a.mu held.
func (a *admission) admit() {
	for len(a.fg) > 0 && (a.closed || a.held[0] < a.n) {
		a.grant(a.fg[0])
		a.fg = a.fg[1:]
	}
	for len(a.fg) == 0 && len(a.bg) > 0 && (a.closed || a.held[0]+a.held[1] < a.n) {
		a.grant(a.bg[0])
		a.bg = a.bg[1:]
	}
}

func (a *admission) grant(t *ticket) {
	if !a.closed {
		t.held = true
		a.held[b2i(t.bg)]++
	}
	close(t.ready)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
