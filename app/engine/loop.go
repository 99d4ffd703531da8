package engine

import (
	"context"
	"errors"
	"fmt"
	"plotline/app"
)

// errStopped ends the loop when the run was cancelled or the app shuts down.
var errStopped = errors.New("run stopped")

// runFailure ends the loop with a failed run.
type runFailure struct{ app.LastError }

func (f *runFailure) Error() string { return f.Message }

// runIncomplete ends the loop with an incomplete run.
type runIncomplete struct{ reason string }

func (r *runIncomplete) Error() string { return "incomplete: " + r.reason }

// execute runs ar's loop and settles how the run ended. It runs on its own
// goroutine, and unlocks the thread when done.
func (e *Engine) execute(ar *activeRun) {
	defer func() {
		e.mu.Lock()
		if e.active[ar.threadID] == ar { // finish may have freed it already
			delete(e.active, ar.threadID)
		}
		e.mu.Unlock()
		ar.cancel()
		close(ar.done)
	}()
	l := &loop{e: e, ar: ar, ctx: ar.ctx, sctx: context.WithoutCancel(ar.ctx)}
	err := l.start()
	if err == nil {
		err = l.turns()
	}
	l.finish(err)
}

// finish records the end of the run from the loop's result.
func (l *loop) finish(err error) {
	now := l.e.now()
	var (
		event  string
		change func(r *app.Run)
		fail   *runFailure
		inc    *runIncomplete
	)
	stepStatus, msgStatus := app.StepCompleted, app.MessageCompleted
	switch {
	case err == nil:
		event = "thread.run.completed"
		change = func(r *app.Run) { r.Status, r.CompletedAt = app.RunCompleted, &now }
	case errors.As(err, &inc):
		event = "thread.run.incomplete"
		stepStatus, msgStatus = app.StepCompleted, app.MessageIncomplete
		change = func(r *app.Run) {
			r.Status, r.IncompleteDetails = app.RunIncomplete, &app.IncompleteDetails{Reason: inc.reason}
		}
	case stopReason(l.ar.reason.Load()) == stopCancel:
		event = "thread.run.cancelled"
		stepStatus, msgStatus = app.StepCancelled, app.MessageIncomplete
		change = func(r *app.Run) { r.Status, r.CancelledAt = app.RunCancelled, &now }
	case errors.Is(err, errExpired):
		event = "thread.run.expired"
		stepStatus, msgStatus = app.StepExpired, app.MessageIncomplete
		change = func(r *app.Run) { r.Status = app.RunExpired }
	default:
		le := app.LastError{Code: app.ErrCodeServer, Message: err.Error()}
		var me *app.ModelError
		switch {
		case errors.As(err, &fail):
			le = fail.LastError
		case errors.As(err, &me):
			le = app.LastError{Code: me.LastErrorCode(), Message: me.Message}
		case stopReason(l.ar.reason.Load()) == stopShutdown:
			le.Message = "Plotline shut down during the run."
		}
		event = "thread.run.failed"
		stepStatus, msgStatus = app.StepFailed, app.MessageIncomplete
		change = func(r *app.Run) { r.Status, r.FailedAt, r.LastError = app.RunFailed, &now, &le }
	}
	extra, settled := l.settle(stepStatus, msgStatus, now)
	// The thread is freed in the same step as the run's end is saved and
	// published: a client that sees the run ended (polling, or the
	// stream's last event) may add a message at once, and was refused
	// while the thread stayed locked until execute returned.
	l.e.mu.Lock()
	defer l.e.mu.Unlock()
	l.ar.updateAfter(event, settled, func(r *app.Run) {
		r.RequiredAction, r.ExpiresAt = nil, nil
		if l.usage.TotalTokens > 0 {
			r.Usage = &l.usage
		}
		change(r)
	}, extra...)
	if l.e.active[l.ar.threadID] == l.ar {
		delete(l.e.active, l.ar.threadID)
	}
}

// loop is the state of one run's loop.
type loop struct {
	e    *Engine
	ar   *activeRun
	ctx  context.Context // cancelled when the run is cancelled
	sctx context.Context // for saving: what happened is recorded even then

	run       *app.Run // the loop's own copy of the run's settings
	assistant *app.Assistant
	choice    toolChoice
	conv      []app.ChatMessage // the model's view of the thread, growing
	usage     app.Usage
	noTools   bool
	images    []string        // image file ids made by this run, for the answer
	called    map[string]bool // the tools this run called
	ws        *workspace

	open []*openStep // steps and messages not yet finished
}

// openStep is a step (and for message_creation, its message) in progress.
type openStep struct {
	step *app.RunStep
	msg  *app.Message
}

func (l *loop) start() error {
	r, err := l.ar.update("thread.run.in_progress", func(r *app.Run) {
		r.Status, r.StartedAt = app.RunInProgress, ptr(l.e.now())
	})
	if err != nil {
		return err
	}
	l.run = r
	l.assistant, err = l.e.GetAssistant(l.ctx, r.AssistantID)
	if err != nil {
		return &runFailure{app.LastError{Code: app.ErrCodeServer, Message: "The run's assistant was deleted."}}
	}
	l.choice, _, _ = parseToolChoice(r.ToolChoice, r.Tools, l.e.cfg.Code.Name)
	l.noTools = l.e.cfg.NoTools
	rc, err := l.e.runTranscript(l.ctx, l.ar.threadID)
	if err != nil {
		return err
	}
	if l.hasCode() {
		l.ws, err = l.e.workspaceFor(l.ctx, l.ar.threadID)
		if err != nil {
			return &runFailure{app.LastError{Code: app.ErrCodeServer, Message: err.Error()}}
		}
		if err := l.ws.materialize(l.ctx, l.inputFiles(rc.t)); err != nil {
			return &runFailure{app.LastError{Code: app.ErrCodeServer, Message: err.Error()}}
		}
	}
	l.conv = l.e.buildContext(l.run, rc, l.ws, l.noTools)
	return nil
}

func (l *loop) hasCode() bool {
	for _, t := range l.run.Tools {
		if t.Type == app.ToolCodeInterpreter {
			return true
		}
	}
	return false
}

// turns is the loop: ask the model, run its code (and its functions that
// have local handlers), feed the results back, until it answers in text,
// calls a function of the client's, or a limit or error ends it.
func (l *loop) turns() error {
	for turn := 0; ; turn++ {
		if turn >= l.e.cfg.MaxSteps {
			return &runFailure{app.LastError{Code: app.ErrCodeServer, Message: fmt.Sprintf(
				"The run stopped after %d model turns without a final answer.", turn)}}
		}
		if l.ctx.Err() != nil {
			return errStopped
		}
		res, err := l.ask()
		if err != nil {
			return err
		}
		calls := res.ToolCalls
		if len(calls) == 0 {
			if l.noTools && l.hasCode() {
				if blocks := l.e.codeBlocks(res.Text); len(blocks) > 0 {
					if err := l.runFencedBlocks(res.Text, blocks); err != nil {
						return err
					}
					continue
				}
			}
			if res.FinishReason == "length" {
				return &runIncomplete{reason: "max_completion_tokens"}
			}
			return nil
		}
		l.conv = append(l.conv, app.ChatMessage{Role: "assistant", Content: res.Text, ToolCalls: calls})
		pending, err := l.runCalls(calls)
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			if err := l.waitForOutputs(pending); err != nil {
				return err
			}
		}
	}
}

// ask sends the conversation to the model, streaming its answer into a
// message and a tool_calls step as it comes.
func (l *loop) ask() (*app.ChatResult, error) {
	req := l.request()
	out := &answerWriter{l: l}
	res, err := l.e.cfg.Model.Chat(l.ctx, req, out.delta)
	if err != nil && !l.noTools && len(req.Tools) > 0 && l.e.cfg.ToolsUnsupported(err) {
		// A model or server that refuses tools: run the python blocks of
		// its answers instead, for the rest of this run.
		l.noTools = true
		l.conv[0].Content += "\n\n" + l.e.cfg.Prompts.Fenced
		return l.ask()
	}
	if out.failed != nil {
		return nil, out.failed
	}
	if err != nil {
		if l.ctx.Err() != nil {
			return nil, errStopped // settle marks the cut message incomplete
		}
		return nil, err
	}
	l.usage.PromptTokens += res.Usage.PromptTokens
	l.usage.CompletionTokens += res.Usage.CompletionTokens
	l.usage.TotalTokens = l.usage.PromptTokens + l.usage.CompletionTokens
	if err := out.finishText(res.Text, res.FinishReason == "length" && len(res.ToolCalls) == 0); err != nil {
		return nil, err
	}
	if max := l.run.MaxCompletionTokens; max != nil && l.usage.CompletionTokens >= *max && len(res.ToolCalls) > 0 {
		return nil, &runIncomplete{reason: "max_completion_tokens"}
	}
	if err := out.startCalls(res.ToolCalls); err != nil {
		return nil, err
	}
	return res, nil
}

// request builds the model request for the next turn.
func (l *loop) request() app.ChatRequest {
	req := app.ChatRequest{Model: l.run.Model, Messages: app.Truncate(l.conv, l.run.TruncationStrategy, l.run.MaxPromptTokens), Temperature: l.run.Temperature,
		TopP: l.run.TopP, ResponseFormat: l.run.ResponseFormat, NoParallelToolCalls: !l.run.ParallelToolCalls}
	if string(req.ResponseFormat) == `"auto"` {
		req.ResponseFormat = nil
	}
	if max := l.run.MaxCompletionTokens; max != nil {
		left := *max - l.usage.CompletionTokens
		req.MaxCompletionTokens = &left
	}
	if l.choice.mode == "none" {
		return req
	}
	for _, t := range l.run.Tools {
		switch {
		case t.Type == app.ToolCodeInterpreter && !l.noTools:
			code := l.e.cfg.Code
			req.Tools = append(req.Tools, app.ChatTool{Name: code.Name, Description: code.Description, Parameters: code.Parameters()})
		case t.Type == app.ToolFunction && t.Function != nil:
			req.Tools = append(req.Tools, app.ChatTool{Name: t.Function.Name, Description: t.Function.Description,
				Parameters: t.Function.Parameters, Strict: t.Function.Strict})
		}
	}
	if len(req.Tools) == 0 {
		return req
	}
	req.ToolChoice = l.choice.mode
	// A forced tool is forced once: after it ran, the model must be free
	// to answer, or it would call it forever.
	if l.choice.function != "" && !l.calledTool(l.choice.function) && !(l.noTools && l.choice.function == l.e.cfg.Code.Name) {
		req.ForceFunction = l.choice.function
	} else if l.choice.mode == "required" && (l.choice.function != "" || l.calledAnyTool()) {
		// "required" asks for a tool call, not for one on every turn: once
		// one was made, the model must be free to answer.
		req.ToolChoice = "auto"
	}
	return req
}

// calledAnyTool and calledTool look at this run's calls only: a thread's
// earlier runs do not count.
func (l *loop) calledAnyTool() bool { return len(l.called) > 0 }

func (l *loop) calledTool(name string) bool { return l.called[name] }

// runCalls runs the python calls of a model turn, and the function calls
// that have a local handler, and returns the calls of client functions,
// which the run must wait for.
func (l *loop) runCalls(calls []app.ChatToolCall) ([]app.ChatToolCall, error) {
	var pending []app.ChatToolCall
	if l.called == nil {
		l.called = map[string]bool{}
	}
	for _, c := range calls {
		l.called[c.Name] = true
		switch {
		case c.Name == l.e.cfg.Code.Name && l.hasCode() && !l.noTools:
			out, err := l.runCode(c)
			if err != nil {
				return nil, err
			}
			l.conv = append(l.conv, app.ChatMessage{Role: "tool", ToolCallID: c.ID, Content: out})
		case l.isFunction(c.Name) && l.runsLocally(c.Name):
			// A function with a local handler runs here; the others
			// of the same turn still wait for the client.
			if err := l.runLocal(c); err != nil {
				return nil, err
			}
		case l.isFunction(c.Name):
			pending = append(pending, c)
		default:
			msg := fmt.Sprintf("Error: there is no tool named %q.", c.Name)
			l.setCallOutput(c.ID, msg)
			l.conv = append(l.conv, app.ChatMessage{Role: "tool", ToolCallID: c.ID, Content: msg})
		}
	}
	if len(pending) == 0 {
		if err := l.closeStep(app.StepCompleted); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

func (l *loop) isFunction(name string) bool {
	for _, t := range l.run.Tools {
		if t.Type == app.ToolFunction && t.Function != nil && t.Function.Name == name {
			return true
		}
	}
	return false
}

// errExpired ends a run whose tool outputs did not come in time.
var errExpired = errors.New("run expired")

// waitForOutputs puts the run in requires_action until the client submits
// outputs for every pending call, cancels, or the run expires.
func (l *loop) waitForOutputs(pending []app.ChatToolCall) error {
	calls := make([]app.FunctionToolCall, len(pending))
	for i, c := range pending {
		calls[i] = app.FunctionToolCall{ID: c.ID, Type: app.ToolFunction, Function: app.FunctionCall{Name: c.Name, Arguments: c.Arguments}}
	}
	deadline := l.e.cfg.Clock.Now().Add(l.e.cfg.ActionTimeout)
	_, err := l.ar.update("thread.run.requires_action", func(r *app.Run) {
		r.Status, r.ExpiresAt = app.RunRequiresAction, ptr(deadline.Unix())
		r.RequiredAction = &app.RequiredAction{Type: "submit_tool_outputs", SubmitToolOutputs: app.SubmitToolOutputs{ToolCalls: calls}}
	})
	if err != nil {
		return err
	}
	select {
	case <-l.ctx.Done():
		return errStopped
	case <-l.e.cfg.Clock.After(l.e.cfg.ActionTimeout):
		return errExpired
	case outs := <-l.ar.submit:
		for _, o := range outs {
			l.setCallOutput(o.ToolCallID, o.Output)
			l.conv = append(l.conv, app.ChatMessage{Role: "tool", ToolCallID: o.ToolCallID, Content: o.Output})
		}
		if err := l.closeStep(app.StepCompleted); err != nil {
			return err
		}
		// SubmitToolOutputs queued the run; its event follows the step's.
		if _, err := l.ar.update("thread.run.queued", func(r *app.Run) { r.Status = app.RunQueued }); err != nil {
			return err
		}
		_, err := l.ar.update("thread.run.in_progress", func(r *app.Run) { r.Status = app.RunInProgress })
		return err
	}
}

// settle finishes what is still open when the run ends, and returns the
// records to save with the run's end and the events that say so.
func (l *loop) settle(stepStatus, msgStatus string, now int64) ([]app.Record, []app.Event) {
	var recs []app.Record
	var evs []app.Event
	ev := func(name string, data any) {
		evs = append(evs, app.Event{Name: name, ThreadID: l.ar.threadID, RunID: l.ar.runID, Data: data})
	}
	for _, o := range l.open {
		if o.msg != nil && o.msg.Status == app.MessageInProgress {
			o.msg.Status = msgStatus
			if msgStatus == app.MessageCompleted {
				o.msg.CompletedAt = &now
			} else {
				o.msg.IncompleteAt = &now
				reason := "max_tokens"
				switch stepStatus {
				case app.StepCancelled:
					reason = "run_cancelled"
				case app.StepExpired:
					reason = "run_expired"
				case app.StepFailed:
					reason = "run_failed"
				}
				o.msg.IncompleteDetails = &app.IncompleteDetails{Reason: reason}
			}
			recs = append(recs, messageRecord(o.msg))
			if msgStatus == app.MessageCompleted {
				ev("thread.message.completed", clone(o.msg))
			} else {
				ev("thread.message.incomplete", clone(o.msg))
			}
		}
		if o.step.Status == app.StepInProgress {
			o.step.Status = stepStatus
			switch stepStatus {
			case app.StepCompleted:
				o.step.CompletedAt = &now
			case app.StepCancelled:
				o.step.CancelledAt = &now
			case app.StepFailed:
				o.step.FailedAt = &now
			case app.StepExpired:
				o.step.ExpiredAt = &now
			}
			recs = append(recs, stepRecord(o.step))
			ev("thread.run.step."+stepStatus, clone(o.step))
		}
	}
	l.open = nil
	return recs, evs
}
