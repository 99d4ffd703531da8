package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"plotline/app"
)

// bridge carries engine events to the window. It is the only place that
// hands work to Fyne's goroutine.
func (u *UI) bridge() {
	sub := u.sub
	defer sub.Close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	events := make(chan app.Event, 64)
	go func() {
		defer close(events)
		for {
			ev, err := sub.Next(u.ctx)
			if err != nil {
				return
			}
			events <- ev
		}
	}()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			// Gather what is already waiting (a burst of tokens) into
			// one hand-over, so a fast stream does not flood the UI.
			batch := []app.Event{ev}
		more:
			for len(batch) < 256 {
				select {
				case ev, ok := <-events:
					if !ok {
						break more
					}
					batch = append(batch, ev)
				default:
					break more
				}
			}
			fyne.Do(func() { u.handle(batch) })
		case <-tick.C:
			fyne.Do(func() {
				if u.run.id != "" && u.run.phase == "Running code" {
					u.showPhase()
				}
			})
		case <-u.ctx.Done():
			return
		}
	}
}

// Pump handles the events waiting, and waits up to d for more until done
// holds; it is for a caller that set Services.Manual (tests), on the
// goroutine that owns the widgets.
func (u *UI) Pump(d time.Duration, done func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if done() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		ctx, cancel := context.WithTimeout(u.ctx, min(left, 50*time.Millisecond))
		ev, err := u.sub.Next(ctx)
		cancel()
		if err == nil {
			u.handle([]app.Event{ev})
		}
		if u.run.id != "" && u.run.phase == "Running code" {
			u.showPhase()
		}
	}
}

// onUI runs fn on Fyne's goroutine, for work that finishes on another
// one (a connection test, say).
func onUI(fn func()) { fyne.Do(fn) }

// handle applies engine events to the window (on Fyne's goroutine).
func (u *UI) handle(batch []app.Event) {
	changed := map[int]bool{}
	added := false
	threadsChanged := false
	for _, ev := range batch {
		if ev.Name == "thread.created" {
			threadsChanged = true
		}
		if ev.Name == "thread.message.created" || ev.Name == "thread.message.completed" {
			delete(u.textIndex, ev.ThreadID) // searched again from the store
		}
		if ev.ThreadID != u.current || u.tl == nil {
			continue
		}
		c, a := u.tl.apply(ev)
		for _, i := range c {
			changed[i] = true
		}
		added = added || a
		u.runEvent(ev)
	}
	if threadsChanged {
		u.reloadThreads()
	}
	if added {
		u.conv.Refresh()
		u.conv.ScrollToBottom()
		u.files.refresh()
		return
	}
	for i := range changed {
		u.conv.RefreshItem(i)
	}
	if len(changed) > 0 {
		u.files.refresh()
	}
}

// runEvent follows the current thread's run in the status bar.
func (u *UI) runEvent(ev app.Event) {
	switch ev.Name {
	case "thread.run.created", "thread.run.queued", "thread.run.in_progress":
		if u.run.id != ev.RunID {
			u.setStatus(runState{id: ev.RunID, phase: "Thinking…", started: time.Now()})
		} else {
			u.run.phase = "Thinking…"
			u.showPhase()
		}
	case "thread.run.step.created":
		if st, ok := ev.Data.(*app.RunStep); ok && st.Type == app.StepToolCalls {
			u.run.phase, u.run.started = "Running code", time.Now()
			u.showPhase()
		}
	case "thread.run.step.completed":
		u.run.phase = "Thinking…"
		u.showPhase()
	case "thread.message.created":
		u.run.phase = "Writing…"
		u.showPhase()
	case "thread.run.requires_action":
		u.run.phase = "Waiting for tool outputs"
		u.showPhase()
	case "thread.run.cancelling":
		u.status.SetText("Stopping…")
	case "thread.run.completed", "thread.run.cancelled", "thread.run.expired", "thread.run.incomplete":
		u.setStatus(runState{})
		if ev.Name == "thread.run.cancelled" {
			u.status.SetText("Stopped.")
		}
	case "thread.run.failed":
		u.setStatus(runState{})
		if r, ok := ev.Data.(*app.Run); ok && r.LastError != nil {
			u.showRetryBanner(explainError(r.LastError), r.LastError.Code != app.ErrCodeRateLimit)
		}
	}
}
