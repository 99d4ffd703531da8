package ui

import (
	"time"

	"plotline/app"
)

// liveRun follows a run of any thread from its first event, so that a
// thread opened while its run streams shows what the run streamed before
// (the store has a message's text only once it is complete), and so that
// the thread list can mark the threads that are running.
type liveRun struct {
	runID   string
	tl      *timeline // only this run's rows
	phase   string
	started time.Time        // when the phase began
	retry   *app.RunRetrying // while phase is phaseRetrying
}

// Phases of a run, as the status bar shows them.
const (
	phaseThinking = "Thinking"
	phaseCode     = "Running code"
	phaseWriting  = "Writing"
	phaseWaiting  = "Waiting for tool outputs"
	phaseStopping = "Stopping"
	phaseRetrying = "Retrying" // the status says why and when
)

// follow applies an event to the live run of its thread, starting one at
// a run's first event. It reports whether a run started or ended, which
// the thread list shows.
func (u *UI) follow(ev app.Event) (changed bool) {
	if ev.RunID == "" || ev.ThreadID == "" {
		return false
	}
	lr := u.live[ev.ThreadID]
	switch ev.Name {
	case "thread.run.created", "thread.run.queued":
		if lr == nil || lr.runID != ev.RunID {
			lr = &liveRun{runID: ev.RunID, tl: newTimeline(ev.ThreadID), phase: phaseThinking, started: time.Now()}
			u.live[ev.ThreadID] = lr
			changed = true
		}
	}
	if lr == nil || lr.runID != ev.RunID {
		return changed
	}
	if !endedRow(lr.tl, ev) {
		lr.tl.apply(ev)
	}
	phase := lr.phase
	switch ev.Name {
	case "thread.run.in_progress", "thread.run.step.completed":
		phase = phaseThinking
	case "thread.run.step.created":
		if st, ok := ev.Data.(*app.RunStep); ok && st.Type == app.StepToolCalls {
			phase = phaseCode
		}
	case "thread.message.created":
		phase = phaseWriting
	case "thread.run.requires_action":
		phase = phaseWaiting
	case "thread.run.cancelling":
		phase = phaseStopping
	case app.EventRunRetrying:
		if r, ok := ev.Data.(*app.RunRetrying); ok {
			lr.phase, lr.started, lr.retry = phaseRetrying, time.Now(), r
			return changed
		}
	}
	if phase == phaseRetrying && ev.Name != app.EventRunRetrying {
		phase = phaseThinking // the call went through
	}
	if phase != lr.phase {
		lr.phase, lr.started, lr.retry = phase, time.Now(), nil
	}
	if app.Terminal(runStatusOf(ev)) {
		delete(u.live, ev.ThreadID)
		changed = true
	}
	return changed
}

// runStatusOf is the status a run event carries, or "".
func runStatusOf(ev app.Event) string {
	if r, ok := ev.Data.(*app.Run); ok && r.ID == ev.RunID {
		return r.Status
	}
	return ""
}

// endedRow reports whether ev is a delta for a row that has already ended:
// a thread opened from the store after its message was complete must not
// get that message's last pieces a second time.
func endedRow(t *timeline, ev app.Event) bool {
	id := ""
	switch d := ev.Data.(type) {
	case *app.MessageDelta:
		id = d.ID
	case *app.RunStepDelta:
		if calls := d.Delta.StepDetails.ToolCalls; len(calls) > 0 {
			idx := 0
			if calls[0].Index != nil {
				idx = *calls[0].Index
			}
			id = callRowID(d.ID, idx)
		}
	default:
		return false
	}
	i, ok := t.index[id]
	if !ok {
		return false
	}
	switch t.rows[i].status {
	case app.MessageInProgress, "": // app.StepInProgress is the same word
		return false
	}
	return true
}

// liveState is the status bar's view of a thread's run.
func (u *UI) liveState(threadID string) runState {
	if lr := u.live[threadID]; lr != nil {
		return runState{id: lr.runID, phase: lr.phase, started: lr.started, retry: lr.retry}
	}
	return runState{}
}

// running reports whether a thread has a run the window follows.
func (u *UI) running(threadID string) bool { return u.live[threadID] != nil }

// withLive is a thread's timeline from its transcript, with the rows of
// the run the window follows on it taken from that run's events.
func (u *UI) withLive(id string, tr app.Transcript) *timeline {
	lr := u.live[id]
	if lr == nil {
		return buildTimeline(id, tr)
	}
	t := buildTimeline(id, withoutRun(tr, lr.runID))
	for _, r := range lr.tl.rows {
		c := *r
		t.add(&c)
	}
	return t
}
