package engine

import (
	"context"

	"plotline/app"
)

// AllThreads returns every thread, newest first: the window's sidebar.
func (e *Engine) AllThreads(ctx context.Context) ([]app.Thread, error) {
	return listAll[app.Thread](ctx, e.cfg.Store, app.Query{Kind: app.KindThread}, "desc")
}

// AllAssistants returns every assistant, oldest first.
func (e *Engine) AllAssistants(ctx context.Context) ([]app.Assistant, error) {
	return listAll[app.Assistant](ctx, e.cfg.Store, app.Query{Kind: app.KindAssistant}, "asc")
}

// RunMessages returns the messages and steps a run made, oldest first.
func (e *Engine) RunMessages(ctx context.Context, threadID, runID string) ([]app.Message, []app.RunStep, error) {
	if _, err := e.GetRun(ctx, threadID, runID); err != nil {
		return nil, nil, err
	}
	msgs, err := listAll[app.Message](ctx, e.cfg.Store, app.Query{Kind: app.KindMessage, Parent: threadID, Tag: runID}, "asc")
	if err != nil {
		return nil, nil, err
	}
	steps, err := listAll[app.RunStep](ctx, e.cfg.Store, app.Query{Kind: app.KindRunStep, Tag: runID}, "asc")
	return msgs, steps, err
}

// ActiveRun returns the thread's active run (queued, in progress, waiting
// for tool outputs or cancelling), or nil.
func (e *Engine) ActiveRun(threadID string) *app.Run {
	e.mu.Lock()
	ar := e.active[threadID]
	e.mu.Unlock()
	if ar == nil {
		return nil
	}
	return ar.snapshot()
}
