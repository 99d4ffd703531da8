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
				if u.run.id != "" {
					u.showPhase()
				}
			})
		case <-u.ctx.Done():
			return
		}
	}
}

// Pump handles the events waiting, and the work posted for Fyne's
// goroutine, and waits up to d for more until done holds; it is for a
// caller that set Services.Manual (tests), on the goroutine that owns the
// widgets.
func (u *UI) Pump(d time.Duration, done func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		for posted := true; posted; {
			select {
			case fn := <-u.uiq:
				fn()
			default:
				posted = false
			}
		}
		if done() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		ctx, cancel := context.WithTimeout(u.ctx, min(left, 20*time.Millisecond))
		ev, err := u.sub.Next(ctx)
		cancel()
		if err == nil {
			u.handle([]app.Event{ev})
		}
		if u.run.id != "" {
			u.showPhase()
		}
	}
}

// post runs fn on Fyne's goroutine: through fyne.Do, or, when the caller
// pumps events itself (Services.Manual), in its next Pump.
func (u *UI) post(fn func()) {
	if u.svc.Manual {
		select {
		case u.uiq <- fn:
		case <-u.ctx.Done():
		}
		return
	}
	fyne.Do(fn)
}

// onUI runs fn on Fyne's goroutine, for work that finishes on another
// one (a connection test, say).
func onUI(fn func()) { fyne.Do(fn) }

// handle applies engine events to the window (on Fyne's goroutine).
func (u *UI) handle(batch []app.Event) {
	changed := map[int]bool{}
	added := false
	threadsChanged, runsChanged := false, false
	for _, ev := range batch {
		if ev.Name == "thread.created" {
			threadsChanged = true
		}
		if ev.Name == "thread.message.created" || ev.Name == "thread.message.completed" {
			u.forgetText(ev.ThreadID) // searched again from the store
		}
		if u.follow(ev) {
			runsChanged = true
		}
		if ev.ThreadID != u.current || u.tl == nil {
			continue
		}
		if !endedRow(u.tl, ev) {
			c, a := u.tl.apply(ev)
			for _, i := range c {
				changed[i] = true
			}
			added = added || a
		}
		u.runEvent(ev)
	}
	if threadsChanged {
		u.reloadThreads()
	} else if runsChanged {
		u.sidebar.Refresh()
	}
	if added {
		u.conv.Refresh()
		if !u.scrolledAway() {
			u.scrollToEnd()
		}
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
	if ev.RunID == "" {
		return
	}
	switch ev.Name {
	case "thread.run.completed", "thread.run.cancelled", "thread.run.expired", "thread.run.incomplete":
		u.setStatus(runState{})
		if ev.Name == "thread.run.cancelled" {
			u.status.SetText("Stopped.")
		}
		return
	case "thread.run.failed":
		u.setStatus(runState{})
		if r, ok := ev.Data.(*app.Run); ok && r.LastError != nil {
			u.showRetryBanner(explainError(r.LastError), r.LastError.Code != app.ErrCodeRateLimit)
		}
		return
	}
	s := u.liveState(u.current)
	if s.id == "" {
		return // a run the window saw start before it opened: refreshRunState covers it
	}
	if s.id != u.run.id {
		u.setStatus(s)
		return
	}
	u.run.phase, u.run.started, u.run.retry = s.phase, s.started, s.retry
	u.showPhase()
}
