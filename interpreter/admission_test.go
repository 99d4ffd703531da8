package interpreter

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// admitted reports whether t has been let through.
func admitted(t *ticket) bool {
	select {
	case <-t.ready:
		return true
	default:
		return false
	}
}

// idle reports whether a holds no slot and nothing waits.
func (a *admission) idle() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held == [2]int{} && len(a.fg) == 0 && len(a.bg) == 0
}

// runInLine waits for each ticket in a goroutine that, once admitted,
// says which one it is and releases its slot. After first, it returns the
// names in the order they were admitted, once all have released.
func runInLine(t *testing.T, a *admission, first func(), names []string, tickets []*ticket) []string {
	t.Helper()
	got := make(chan string)
	var wg sync.WaitGroup
	for i, tk := range tickets {
		wg.Go(func() {
			release, err := a.wait(context.Background(), nil, tk)
			if err != nil {
				t.Error(err)
			}
			got <- names[i]
			release()
		})
	}
	first()
	order := make([]string, 0, len(names))
	for range names {
		order = append(order, <-got)
	}
	wg.Wait()
	return order
}

func TestAdmissionServesInOrder(t *testing.T) {
	a := newAdmission(1)
	release, err := a.acquire(context.Background(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"b", "c", "d", "e"}
	var tickets []*ticket
	for range names {
		tickets = append(tickets, a.enqueue(false))
	}
	if admitted(tickets[0]) {
		t.Fatal("admitted past the only slot")
	}
	order := runInLine(t, a, release, names, tickets)
	if !slices.Equal(order, names) {
		t.Fatalf("admitted in the order %v, want %v", order, names)
	}
	if !a.idle() {
		t.Fatal("slots held after every release")
	}
}

// Background work waits for foreground work that came after it, holds no
// foreground work back, and joins the foreground line when promoted.
func TestAdmissionBackground(t *testing.T) {
	a := newAdmission(1)
	hold, _ := a.acquire(context.Background(), nil, false)
	bg, fg := a.enqueue(true), a.enqueue(false)
	order := runInLine(t, a, hold, []string{"bg", "fg"}, []*ticket{bg, fg})
	if order[0] != "fg" {
		t.Fatalf("admitted in the order %v, want fg first", order)
	}

	// A background slot does not count against foreground work.
	releaseBg, _ := a.acquire(context.Background(), nil, true)
	fg = a.enqueue(false)
	if !admitted(fg) {
		t.Fatal("foreground work waited for a background slot")
	}
	if bg := a.enqueue(true); admitted(bg) {
		t.Fatal("background work admitted past the slots in use")
	} else {
		a.promote()
		fg2 := a.enqueue(false)
		order = runInLine(t, a, func() { releaseBg(); a.release(fg) }, []string{"bg", "fg2"}, []*ticket{bg, fg2})
		if order[0] != "bg" {
			t.Fatalf("after promotion admitted in the order %v, want bg first", order)
		}
	}
	if !a.idle() {
		t.Fatal("slots held after every release")
	}
}

// Work whose ctx ends, or whose stop closes, leaves the line without
// keeping a slot, even one it was given as it gave up.
func TestAdmissionGivingUpLeaksNoSlot(t *testing.T) {
	a := newAdmission(1)
	hold, _ := a.acquire(context.Background(), nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := a.acquire(ctx, nil, false)
		done <- err
	}()
	stop := make(chan struct{})
	go func() {
		_, err := a.acquire(context.Background(), stop, true)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	close(stop)
	if err := <-done; !errors.Is(err, errStopped) {
		t.Fatalf("stopped wait: %v", err)
	}
	hold()
	hold() // a second release is a no-op
	if !a.idle() {
		t.Fatal("a slot or a place in line was left behind")
	}

	// Admitted and cancelled at once: whichever wins, nothing is kept.
	for range 100 {
		hold, _ := a.acquire(context.Background(), nil, false)
		tk := a.enqueue(false)
		hold()
		release, err := a.wait(ctx, nil, tk)
		if err == nil {
			release()
		}
		if !a.idle() {
			t.Fatal("a slot was kept by work that gave up as it was admitted")
		}
	}
}

func TestAdmissionCloseWakesWaiters(t *testing.T) {
	a := newAdmission(1)
	hold, _ := a.acquire(context.Background(), nil, false)
	fg, bg := a.enqueue(false), a.enqueue(true)
	a.close()
	for _, tk := range []*ticket{fg, bg} {
		if !admitted(tk) {
			t.Fatal("close left work waiting")
		}
	}
	if !admitted(a.enqueue(false)) {
		t.Fatal("work after close waited")
	}
	hold()
}
