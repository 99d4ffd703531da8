package engine

import (
	"context"
	"errors"
	"time"

	"plotline/app"
)

// LocalFunctions keeps the handlers of function tools that run on this
// machine, and runs them (sandboxed Go files; see interpreter/goscript).
// The composition root gives the engine one.
type LocalFunctions interface {
	// Has reports whether the function name has a saved handler.
	Has(name string) bool
	// Call runs the saved handler of name with the model's JSON arguments.
	Call(ctx context.Context, name, args string) FunctionResult
	// Try runs source as the handler of name without saving it.
	Try(ctx context.Context, name, source, args string) FunctionResult
	// Source returns the saved handler of name.
	Source(name string) (string, error)
	// Save writes source as the handler of name.
	Save(name, source string) error
}

// FunctionResult is one call of a local handler.
type FunctionResult struct {
	// Output is what the model is told: the handler's value, or
	// {"error": "…"} when the call failed.
	Output string
	// Error says why the call failed, or is "".
	Error string
	// Logs is what the handler printed.
	Logs     string
	Duration time.Duration
}

// ErrNoLocalFunctions is returned when the engine was given no
// LocalFunctions.
var ErrNoLocalFunctions = errors.New("local functions are not available")

// RunsLocalFunctions reports whether runs call the local handlers of
// their functions, rather than leaving every call to the client.
func (e *Engine) RunsLocalFunctions() bool {
	return e.cfg.Functions != nil && e.cfg.RunLocalFunctions
}

// FunctionSource returns the saved handler of the function name.
func (e *Engine) FunctionSource(name string) (string, error) {
	if e.cfg.Functions == nil {
		return "", ErrNoLocalFunctions
	}
	return e.cfg.Functions.Source(name)
}

// HasFunctionHandler reports whether the function name has a saved
// handler.
func (e *Engine) HasFunctionHandler(name string) bool {
	return e.cfg.Functions != nil && e.cfg.Functions.Has(name)
}

// SaveFunction writes source as the handler of the function name. Runs
// call it from then on wherever an assistant has a function of that name.
func (e *Engine) SaveFunction(name, source string) error {
	if e.cfg.Functions == nil {
		return ErrNoLocalFunctions
	}
	return e.cfg.Functions.Save(name, source)
}

// TryFunction runs source as the handler of the function name with the
// JSON arguments args, without saving it, as a run would.
func (e *Engine) TryFunction(ctx context.Context, name, source, args string) (FunctionResult, error) {
	if e.cfg.Functions == nil {
		return FunctionResult{}, ErrNoLocalFunctions
	}
	return e.cfg.Functions.Try(ctx, name, source, args), nil
}

// runsLocally reports whether a call of the function name runs here.
func (l *loop) runsLocally(name string) bool {
	return l.e.RunsLocalFunctions() && l.e.cfg.Functions.Has(name)
}

// runLocal runs a function call's local handler and records its output
// in the call's step, as a submitted output would be, and for the model.
// A failed call is an output too ({"error": …}), which the model sees.
func (l *loop) runLocal(c app.ChatToolCall) error {
	res := l.e.cfg.Functions.Call(l.ctx, c.Name, c.Arguments)
	if l.ctx.Err() != nil {
		return errStopped
	}
	l.setCallOutput(c.ID, res.Output)
	if st := l.callStep(); st != nil {
		if err := l.e.cfg.Store.Save(l.sctx, stepRecord(st)); err != nil {
			return err
		}
	}
	l.conv = append(l.conv, app.ChatMessage{Role: "tool", ToolCallID: c.ID, Content: res.Output})
	return nil
}
