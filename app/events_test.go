package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"plotline/app"
)

// result is what one Next call returned.
type result struct {
	ev  app.Event
	err error
}

// nextAsync calls Next on its own goroutine; started is closed just before
// the call, and the result arrives on the returned channel.
func nextAsync(ctx context.Context, s *app.Subscription) (started <-chan struct{}, res <-chan result) {
	st := make(chan struct{})
	r := make(chan result, 1)
	go func() {
		close(st)
		ev, err := s.Next(ctx)
		r <- result{ev, err}
	}()
	return st, r
}

// within waits for a result, failing the test if none comes before the
// test's own deadline would leave it hanging (a bound, not a sleep).
func within(t *testing.T, res <-chan result) result {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return")
		return result{}
	}
}

func TestCloseWakesBlockedNext(t *testing.T) {
	var bus app.Bus
	s := bus.Subscribe("thread_1")
	started, res := nextAsync(context.Background(), s)
	<-started
	// Whether Next is already blocked or not yet called, Close must end it.
	s.Close()
	r := within(t, res)
	if !errors.Is(r.err, app.ErrSubscriptionClosed) {
		t.Fatalf("Next after Close: err = %v, want ErrSubscriptionClosed", r.err)
	}
	// And every later call says the same, at once.
	if _, err := s.Next(context.Background()); !errors.Is(err, app.ErrSubscriptionClosed) {
		t.Fatalf("second Next: err = %v, want ErrSubscriptionClosed", err)
	}
}

func TestEventsBeforeCloseAreDelivered(t *testing.T) {
	var bus app.Bus
	s := bus.Subscribe("")
	names := []string{"thread.run.created", "thread.message.delta", "thread.run.completed"}
	for _, n := range names {
		bus.Publish(app.Event{Name: n, ThreadID: "thread_1"})
	}
	s.Close()
	for _, want := range names {
		ev, err := s.Next(context.Background())
		if err != nil {
			t.Fatalf("Next: %v, want %s", err, want)
		}
		if ev.Name != want {
			t.Fatalf("Next = %s, want %s", ev.Name, want)
		}
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, app.ErrSubscriptionClosed) {
		t.Fatalf("Next after the queue drained: err = %v, want ErrSubscriptionClosed", err)
	}
}

func TestPublishAfterClose(t *testing.T) {
	var bus app.Bus
	s := bus.Subscribe("")
	s.Close()
	s.Close() // idempotent
	// Far more events than any buffer: Publish must neither block nor
	// queue them for the closed subscription.
	for range 10000 {
		bus.Publish(app.Event{Name: "thread.message.delta", ThreadID: "thread_1"})
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, app.ErrSubscriptionClosed) {
		t.Fatalf("Next: err = %v, want ErrSubscriptionClosed", err)
	}
}

func TestNextHonoursContext(t *testing.T) {
	var bus app.Bus
	s := bus.Subscribe("")
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started, res := nextAsync(ctx, s)
	<-started
	cancel()
	if r := within(t, res); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Next: err = %v, want context.Canceled", r.err)
	}
}

func TestThreadFilter(t *testing.T) {
	var bus app.Bus
	one := bus.Subscribe("thread_1")
	all := bus.Subscribe("")
	defer one.Close()
	defer all.Close()
	bus.Publish(app.Event{Name: "thread.run.created", ThreadID: "thread_2"})
	bus.Publish(app.Event{Name: "thread.run.created", ThreadID: "thread_1"})
	bus.Publish(app.Event{Name: "thread.run.completed", ThreadID: "thread_2"})
	one.Close() // ends one's stream after what it already holds

	var got []string
	for {
		ev, err := one.Next(context.Background())
		if errors.Is(err, app.ErrSubscriptionClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.ThreadID+" "+ev.Name)
	}
	if len(got) != 1 || got[0] != "thread_1 thread.run.created" {
		t.Fatalf("thread_1 subscriber got %q, want only thread_1's event", got)
	}

	for _, want := range []string{"thread_2", "thread_1", "thread_2"} {
		ev, err := all.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ev.ThreadID != want {
			t.Fatalf("all-threads subscriber got %s, want %s", ev.ThreadID, want)
		}
	}
}

// TestCloseConcurrent closes subscriptions while events are published and
// read; run with -race. Every reader must end with ErrSubscriptionClosed
// after receiving, in order, a prefix of what was published.
func TestCloseConcurrent(t *testing.T) {
	var bus app.Bus
	const subs, events = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	ss := make([]*app.Subscription, subs)
	for i := range ss {
		ss[i] = bus.Subscribe("thread_1")
	}
	for _, s := range ss {
		wg.Go(func() {
			want := 0
			for {
				ev, err := s.Next(context.Background())
				if errors.Is(err, app.ErrSubscriptionClosed) {
					errs <- nil
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if ev.RunID != string(rune('a'+want%26)) {
					errs <- errors.New("events out of order")
					return
				}
				want++
			}
		})
	}
	publishing := make(chan struct{})
	go func() {
		defer close(publishing)
		for i := range events {
			bus.Publish(app.Event{ThreadID: "thread_1", RunID: string(rune('a' + i%26))})
		}
	}()
	// Close half while publishing, twice each and from two goroutines.
	var closers sync.WaitGroup
	for _, s := range ss[:subs/2] {
		closers.Go(s.Close)
		closers.Go(s.Close)
	}
	closers.Wait()
	<-publishing
	for _, s := range ss[subs/2:] {
		s.Close()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
