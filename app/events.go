package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrSubscriptionClosed is returned by Subscription.Next once the
// subscription is closed and every event published before Close has been
// delivered.
var ErrSubscriptionClosed = errors.New("event subscription closed")

// Event is one change in the engine, named as the Assistants API's
// streaming events are: thread.created, thread.run.created, …,
// thread.message.delta, thread.run.step.delta, thread.run.completed.
// Data holds a snapshot that is never changed after publishing: *Thread,
// *Run, *RunStep, *Message, *MessageDelta or *RunStepDelta.
type Event struct {
	Name     string
	ThreadID string
	RunID    string
	Data     any
}

// Final reports whether the event ends a run's stream: the run finished
// or waits for tool outputs.
func (e Event) Final() bool {
	switch e.Name {
	case "thread.run.completed", "thread.run.failed", "thread.run.cancelled",
		"thread.run.expired", "thread.run.incomplete", "thread.run.requires_action":
		return true
	}
	return false
}

// EventRunRetrying is an event of Plotline's own, not of the Assistants
// API (the local API does not send it): a run waits to call its model
// again. Its data is a *RunRetrying.
const EventRunRetrying = "plotline.run.retrying"

// RunRetrying is the body of a plotline.run.retrying event.
type RunRetrying struct {
	After  time.Duration // the wait before the next call
	Status int           // why: 429 rate limited, 5xx the service's trouble, 0 no answer
}

// Say is the wait in plain words, with left of it to go: "Rate limited;
// retrying in 20 s".
func (r *RunRetrying) Say(left time.Duration) string {
	why := "The model's service is rate limiting"
	switch {
	case r.Status >= 500:
		why = "The model's service had a problem"
	case r.Status == 0:
		why = "The model's service did not answer"
	case r.Status == 429:
		why = "Rate limited"
	}
	secs := int((max(left, 0) + time.Second - 1) / time.Second)
	return fmt.Sprintf("%s; retrying in %d s", why, secs)
}

// MessageDelta is the body of a thread.message.delta event.
type MessageDelta struct {
	ID     string           `json:"id"`
	Object string           `json:"object"`
	Delta  MessageDeltaBody `json:"delta"`
}

// MessageDeltaBody holds the new content parts or pieces of them.
type MessageDeltaBody struct {
	Content []ContentDelta `json:"content"`
}

// ContentDelta is a piece of one content part.
type ContentDelta struct {
	Index     int        `json:"index"`
	Type      string     `json:"type"`
	Text      *Text      `json:"text,omitempty"`
	ImageFile *ImageFile `json:"image_file,omitempty"`
}

// RunStepDelta is the body of a thread.run.step.delta event.
type RunStepDelta struct {
	ID     string           `json:"id"`
	Object string           `json:"object"`
	Delta  RunStepDeltaBody `json:"delta"`
}

// RunStepDeltaBody holds the new pieces of a step's details.
type RunStepDeltaBody struct {
	StepDetails StepDetails `json:"step_details"`
}

// Bus delivers events to subscribers. Each subscriber has its own queue,
// so a slow one (a browser on a slow link) never stalls the engine or the
// others, and never loses an event.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription receives the events of one thread, or of all threads.
type Subscription struct {
	bus      *Bus
	threadID string
	done     chan struct{} // closed by Close
	once     sync.Once
	mu       sync.Mutex
	queue    []Event
	wake     chan struct{}
}

// Subscribe starts receiving the events of threadID ("" for every thread).
func (b *Bus) Subscribe(threadID string) *Subscription {
	s := &Subscription{bus: b, threadID: threadID,
		done: make(chan struct{}), wake: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*Subscription]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers ev to every interested subscriber.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.threadID != "" && s.threadID != ev.ThreadID {
			continue
		}
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Next returns the next event, waiting for one until ctx ends or the
// subscription is closed. Events published before Close are still
// delivered; after them Next returns ErrSubscriptionClosed.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return ev, nil
		}
		s.mu.Unlock()
		select {
		case <-s.done:
			// Close removed s from the bus before closing done, so the
			// queue can no longer grow: drain it, then report the end.
			s.mu.Lock()
			n := len(s.queue)
			s.mu.Unlock()
			if n > 0 {
				continue
			}
			return Event{}, ErrSubscriptionClosed
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-s.wake:
		}
	}
}

// Close stops the subscription and wakes a Next waiting on it. It may be
// called more than once, from any goroutine.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
		close(s.done)
	})
}
