package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"plotline/app"
	"sync"
	"sync/atomic"
)

// Why an active run was told to stop.
type stopReason int32

const (
	stopNone stopReason = iota
	stopCancel
	stopShutdown
)

// activeRun is a run whose loop is going. Only the loop changes the run,
// except for cancel, which goes through update too.
type activeRun struct {
	e        *Engine
	runID    string
	threadID string

	mu  sync.Mutex
	run *app.Run

	ctx    context.Context
	cancel context.CancelFunc
	reason atomic.Int32
	submit chan []app.ToolOutput
	done   chan struct{}
}

func (ar *activeRun) stop(r stopReason) {
	ar.reason.CompareAndSwap(int32(stopNone), int32(r))
	ar.cancel()
}

// update changes the run under its lock, saves it with extra records in
// one transaction, and publishes the new run as event (if not "").
func (ar *activeRun) update(event string, change func(*app.Run), extra ...app.Record) (*app.Run, error) {
	return ar.updateAfter(event, nil, change, extra...)
}

// updateAfter is update that publishes first the events of the extra
// records (the steps and messages a run's end settles), after they are
// saved and before the run's own event.
func (ar *activeRun) updateAfter(event string, first []app.Event, change func(*app.Run), extra ...app.Record) (*app.Run, error) {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	change(ar.run)
	snap := clone(ar.run)
	// A run's changes are saved even when its context was cancelled.
	if err := ar.e.cfg.Store.Save(context.WithoutCancel(ar.ctx), append(extra, runRecord(snap))...); err != nil {
		return nil, err
	}
	for _, ev := range first {
		ar.e.Bus.Publish(ev)
	}
	if event != "" {
		ar.e.Bus.Publish(app.Event{Name: event, ThreadID: ar.threadID, RunID: ar.runID, Data: snap})
	}
	return snap, nil
}

func (ar *activeRun) snapshot() *app.Run {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return clone(ar.run)
}

// toolChoice is a run's parsed tool_choice.
type toolChoice struct {
	mode     string // none, auto or required
	function string // a function to force (the code tool's for code_interpreter)
}

func parseToolChoice(raw json.RawMessage, tools []app.Tool, code string) (toolChoice, json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return toolChoice{mode: "auto"}, json.RawMessage(`"auto"`), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "none", "auto", "required":
			return toolChoice{mode: s}, raw, nil
		}
		return toolChoice{}, nil, invalid("tool_choice", "tool_choice must be none, auto, required or an object")
	}
	var o struct {
		Type     string `json:"type"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return toolChoice{}, nil, invalid("tool_choice", "tool_choice must be none, auto, required or an object")
	}
	has := func(typ, name string) bool {
		for _, t := range tools {
			if t.Type == typ && (name == "" || t.Function != nil && t.Function.Name == name) {
				return true
			}
		}
		return false
	}
	switch {
	case o.Type == app.ToolCodeInterpreter:
		if !has(app.ToolCodeInterpreter, "") {
			return toolChoice{}, nil, invalid("tool_choice", "tool_choice asks for code_interpreter, which the run does not have")
		}
		return toolChoice{mode: "required", function: code}, raw, nil
	case o.Type == app.ToolFunction && o.Function != nil:
		if !has(app.ToolFunction, o.Function.Name) {
			return toolChoice{}, nil, invalid("tool_choice", "tool_choice names function %q, which the run does not have", o.Function.Name)
		}
		return toolChoice{mode: "required", function: o.Function.Name}, raw, nil
	case o.Type == app.ToolFileSearch:
		return toolChoice{mode: "auto"}, raw, nil
	}
	return toolChoice{}, nil, invalid("tool_choice", "invalid tool_choice type %q", o.Type)
}

// CreateRun starts a run of an assistant on a thread. With p.Stream, the
// returned subscription delivers the run's events from its creation on;
// the caller must Close it.
func (e *Engine) CreateRun(ctx context.Context, threadID string, p app.RunParams) (*app.Run, *app.Subscription, error) {
	t, err := e.GetThread(ctx, threadID)
	if err != nil {
		return nil, nil, err
	}
	return e.startRun(ctx, t, p, nil)
}

// CreateThreadAndRun creates a thread and starts a run on it.
func (e *Engine) CreateThreadAndRun(ctx context.Context, p app.ThreadRunParams) (*app.Run, *app.Subscription, error) {
	tp := app.ThreadParams{}
	if p.Thread != nil {
		tp = *p.Thread
	}
	if tp.ToolResources == nil && p.ToolResources != nil {
		tp.ToolResources = p.ToolResources
	}
	t, recs, err := e.newThread(ctx, tp)
	if err != nil {
		return nil, nil, err
	}
	return e.startRun(ctx, t, p.RunParams, recs)
}

func (e *Engine) startRun(ctx context.Context, t *app.Thread, p app.RunParams, pre []app.Record) (*app.Run, *app.Subscription, error) {
	if p.AssistantID == "" {
		return nil, nil, invalid("assistant_id", "Missing required parameter: 'assistant_id'.")
	}
	a, err := e.GetAssistant(ctx, p.AssistantID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, nil, &app.NotFoundError{Kind: app.KindAssistant, ID: p.AssistantID}
	}
	if err != nil {
		return nil, nil, err
	}
	tools := a.Tools
	if p.Tools != nil {
		if err := e.checkTools("tools", *p.Tools); err != nil {
			return nil, nil, err
		}
		tools = *p.Tools
	}
	if err := checkMetadata(p.Metadata); err != nil {
		return nil, nil, err
	}
	if err := checkSampling(p.Temperature, p.TopP); err != nil {
		return nil, nil, err
	}
	if err := checkResponseFormat(p.ResponseFormat); err != nil {
		return nil, nil, err
	}
	for name, v := range map[string]*int64{"max_prompt_tokens": p.MaxPromptTokens, "max_completion_tokens": p.MaxCompletionTokens} {
		if v != nil && *v < 1 {
			return nil, nil, invalid(name, "%s must be a positive number", name)
		}
	}
	trunc := &app.TruncationStrategy{Type: "auto"}
	if ts := p.TruncationStrategy; ts != nil {
		switch {
		case ts.Type == "auto":
		case ts.Type == "last_messages" && ts.LastMessages != nil && *ts.LastMessages >= 1:
		default:
			return nil, nil, invalid("truncation_strategy", "truncation_strategy must be auto, or last_messages with last_messages of at least 1")
		}
		trunc = ts
	}
	_, choice, err := parseToolChoice(p.ToolChoice, tools, e.cfg.Code.Name)
	if err != nil {
		return nil, nil, err
	}

	run := &app.Run{ID: newID("run_"), Object: app.KindRun, CreatedAt: e.now(), AssistantID: a.ID, ThreadID: t.ID,
		Status: app.RunQueued, Model: a.Model, Instructions: deref(a.Instructions), Tools: append([]app.Tool{}, tools...),
		Metadata: app.Metadata{}, Temperature: a.Temperature, TopP: a.TopP,
		MaxPromptTokens: p.MaxPromptTokens, MaxCompletionTokens: p.MaxCompletionTokens,
		TruncationStrategy: trunc, ResponseFormat: a.ResponseFormat, ToolChoice: choice, ParallelToolCalls: true}
	if p.Model != nil && *p.Model != "" {
		run.Model = *p.Model
	}
	if run.Model == "" {
		run.Model = e.cfg.DefaultModel
	}
	if p.Instructions != nil {
		run.Instructions = *p.Instructions
	}
	if p.AdditionalInstructions != nil && *p.AdditionalInstructions != "" {
		run.Instructions += "\n\n" + *p.AdditionalInstructions
	}
	if p.Metadata != nil {
		run.Metadata = *p.Metadata
	}
	if p.Temperature != nil {
		run.Temperature = p.Temperature
	}
	if p.TopP != nil {
		run.TopP = p.TopP
	}
	if p.ParallelToolCalls != nil {
		run.ParallelToolCalls = *p.ParallelToolCalls
	}
	if len(p.ResponseFormat) > 0 && string(p.ResponseFormat) != "null" {
		run.ResponseFormat = p.ResponseFormat
	}
	if run.ResponseFormat == nil {
		run.ResponseFormat = json.RawMessage(`"auto"`)
	}
	var added []*app.Message
	for i, mp := range p.AdditionalMessages {
		m, err := e.newMessage(ctx, t.ID, mp)
		if err != nil {
			var ie *app.InputError
			if errors.As(err, &ie) {
				ie.Param = fmt.Sprintf("additional_messages[%d].%s", i, ie.Param)
			}
			return nil, nil, err
		}
		added = append(added, m)
		pre = append(pre, messageRecord(m))
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ar := &activeRun{e: e, runID: run.ID, threadID: t.ID, run: run, ctx: runCtx, cancel: cancel,
		submit: make(chan []app.ToolOutput, 1), done: make(chan struct{})}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		cancel()
		return nil, nil, app.Errorf(app.EUNAVAILABLE, "Plotline is shutting down.")
	}
	for e.saving[t.ID] > 0 { // a message is being added: the run must see it
		e.saved.Wait()
	}
	if other := e.active[t.ID]; other != nil {
		e.mu.Unlock()
		cancel()
		return nil, nil, &app.LockedError{ThreadID: t.ID, RunID: other.runID}
	}
	if err := e.cfg.Store.Save(ctx, append(pre, runRecord(run))...); err != nil {
		e.mu.Unlock()
		cancel()
		return nil, nil, err
	}
	var sub *app.Subscription
	if p.Stream {
		sub = e.Bus.Subscribe(t.ID)
	}
	e.active[t.ID] = ar
	e.mu.Unlock()

	if len(pre) > len(added) { // a new thread
		e.Bus.Publish(app.Event{Name: "thread.created", ThreadID: t.ID, Data: clone(t)})
	}
	for _, m := range added {
		e.Bus.Publish(app.Event{Name: "thread.message.created", ThreadID: t.ID, Data: clone(m)})
	}
	snap := clone(run)
	e.Bus.Publish(app.Event{Name: "thread.run.created", ThreadID: t.ID, RunID: run.ID, Data: snap})
	e.Bus.Publish(app.Event{Name: "thread.run.queued", ThreadID: t.ID, RunID: run.ID, Data: clone(run)})
	go e.execute(ar)
	return snap, sub, nil
}

// GetRun returns a run of a thread.
func (e *Engine) GetRun(ctx context.Context, threadID, runID string) (*app.Run, error) {
	r, err := load[app.Run](ctx, e.cfg.Store, app.KindRun, runID)
	if err == nil && r.ThreadID != threadID {
		return nil, &app.NotFoundError{Kind: app.KindRun, ID: runID}
	}
	return r, err
}

// ListRuns lists a thread's runs.
func (e *Engine) ListRuns(ctx context.Context, threadID string, o app.ListOptions) (*app.List[app.Run], error) {
	if _, err := e.GetThread(ctx, threadID); err != nil {
		return nil, err
	}
	return listPage[app.Run](ctx, e.cfg.Store, app.Query{Kind: app.KindRun, Parent: threadID, ListOptions: o}, 100)
}

// UpdateRun changes a run's metadata.
func (e *Engine) UpdateRun(ctx context.Context, threadID, runID string, md *app.Metadata) (*app.Run, error) {
	if err := checkMetadata(md); err != nil {
		return nil, err
	}
	if ar := e.activeRunOf(threadID, runID); ar != nil {
		return ar.update("", func(r *app.Run) {
			if md != nil {
				r.Metadata = *md
			}
		})
	}
	r, err := e.GetRun(ctx, threadID, runID)
	if err != nil {
		return nil, err
	}
	if md != nil {
		r.Metadata = *md
	}
	return r, e.cfg.Store.Save(ctx, runRecord(r))
}

func (e *Engine) activeRunOf(threadID, runID string) *activeRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ar := e.active[threadID]; ar != nil && ar.runID == runID {
		return ar
	}
	return nil
}

// CancelRun asks an active run to stop: it becomes cancelling at once and
// cancelled when its loop has stopped (a running cell is interrupted).
func (e *Engine) CancelRun(ctx context.Context, threadID, runID string) (*app.Run, error) {
	ar := e.activeRunOf(threadID, runID)
	if ar == nil {
		r, err := e.GetRun(ctx, threadID, runID)
		if err != nil {
			return nil, err
		}
		return nil, invalid("", "Cannot cancel run with status '%s'.", r.Status)
	}
	r, err := ar.update("thread.run.cancelling", func(r *app.Run) {
		if !app.Terminal(r.Status) {
			r.Status = app.RunCancelling
		}
	})
	ar.stop(stopCancel)
	return r, err
}

// SubmitToolOutputs gives a run that requires action the outputs of its
// function calls, and resumes it. Every call must get an output.
func (e *Engine) SubmitToolOutputs(ctx context.Context, threadID, runID string, outputs []app.ToolOutput, stream bool) (*app.Run, *app.Subscription, error) {
	ar := e.activeRunOf(threadID, runID)
	if ar == nil {
		r, err := e.GetRun(ctx, threadID, runID)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, invalid("", "Runs in status \"%s\" do not accept tool outputs.", r.Status)
	}
	var sub *app.Subscription
	if stream {
		sub = e.Bus.Subscribe(threadID)
	}
	fail := func(err error) (*app.Run, *app.Subscription, error) {
		if sub != nil {
			sub.Close()
		}
		return nil, nil, err
	}
	ar.mu.Lock()
	r := ar.run
	if r.Status != app.RunRequiresAction || r.RequiredAction == nil {
		status := r.Status
		ar.mu.Unlock()
		return fail(invalid("", "Runs in status \"%s\" do not accept tool outputs.", status))
	}
	want := map[string]bool{}
	for _, c := range r.RequiredAction.SubmitToolOutputs.ToolCalls {
		want[c.ID] = true
	}
	got := map[string]bool{}
	for i, o := range outputs {
		if !want[o.ToolCallID] {
			ar.mu.Unlock()
			return fail(invalid(fmt.Sprintf("tool_outputs[%d].tool_call_id", i), "No tool call found with id '%s'.", o.ToolCallID))
		}
		if got[o.ToolCallID] {
			ar.mu.Unlock()
			return fail(invalid(fmt.Sprintf("tool_outputs[%d].tool_call_id", i), "Duplicate output for tool call '%s'.", o.ToolCallID))
		}
		got[o.ToolCallID] = true
	}
	for id := range want {
		if !got[id] {
			ar.mu.Unlock()
			return fail(invalid("tool_outputs", "Expected tool outputs for call ids %s, got %d outputs.", keys(want), len(outputs)))
		}
	}
	// Queue the run again before answering, so that a client polling right
	// after this call never sees requires_action twice. The event waits
	// for the run's loop, which first completes the function step: the
	// hosted API's streams said thread.run.step.completed, then
	// thread.run.queued.
	r.Status, r.RequiredAction, r.ExpiresAt = app.RunQueued, nil, nil
	snap := clone(r)
	err := e.cfg.Store.Save(ctx, runRecord(snap))
	ar.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	ar.submit <- outputs
	return snap, sub, nil
}

func keys(m map[string]bool) string {
	b, _ := json.Marshal(func() []string {
		var s []string
		for k := range m {
			s = append(s, k)
		}
		return s
	}())
	return string(b)
}

// ListRunSteps lists a run's steps.
func (e *Engine) ListRunSteps(ctx context.Context, threadID, runID string, o app.ListOptions) (*app.List[app.RunStep], error) {
	if _, err := e.GetRun(ctx, threadID, runID); err != nil {
		return nil, err
	}
	return listPage[app.RunStep](ctx, e.cfg.Store, app.Query{Kind: app.KindRunStep, Tag: runID, ListOptions: o}, 100)
}

// GetRunStep returns a step of a run.
func (e *Engine) GetRunStep(ctx context.Context, threadID, runID, stepID string) (*app.RunStep, error) {
	s, err := load[app.RunStep](ctx, e.cfg.Store, app.KindRunStep, stepID)
	if err == nil && (s.ThreadID != threadID || s.RunID != runID) {
		return nil, &app.NotFoundError{Kind: app.KindRunStep, ID: stepID}
	}
	return s, err
}

// WaitRun waits until a run is terminal or requires action, and returns it.
func (e *Engine) WaitRun(ctx context.Context, threadID, runID string) (*app.Run, error) {
	sub := e.Bus.Subscribe(threadID)
	defer sub.Close()
	for {
		r, err := e.GetRun(ctx, threadID, runID)
		if err != nil {
			return nil, err
		}
		if app.Terminal(r.Status) || r.Status == app.RunRequiresAction {
			return r, nil
		}
		for {
			ev, err := sub.Next(ctx)
			if err != nil {
				return nil, err
			}
			if ev.RunID == runID && ev.Final() {
				break
			}
		}
	}
}
