package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/modeltest"
)

// fakeFunctions are local handlers written in Go for the test: name to
// what the handler answers for the arguments.
type fakeFunctions struct {
	handlers map[string]func(ctx context.Context, args string) string
	mu       sync.Mutex
	calls    []string // name(args), in order
}

func (f *fakeFunctions) Has(name string) bool { return f.handlers[name] != nil }

func (f *fakeFunctions) Call(ctx context.Context, name, args string) engine.FunctionResult {
	f.mu.Lock()
	f.calls = append(f.calls, name+"("+args+")")
	f.mu.Unlock()
	return engine.FunctionResult{Output: f.handlers[name](ctx, args)}
}

func (f *fakeFunctions) Try(ctx context.Context, name, source, args string) engine.FunctionResult {
	return f.Call(ctx, name, args)
}
func (f *fakeFunctions) Source(name string) (string, error) { return "", os.ErrNotExist }
func (f *fakeFunctions) Save(name, source string) error     { return nil }

func (f *fakeFunctions) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func withFunctions(f engine.LocalFunctions, run bool) func(*engine.Config) {
	return func(c *engine.Config) { c.Functions, c.RunLocalFunctions = f, run }
}

func weather(context.Context, string) string { return `{"celsius":3}` }

// askWithTools starts a run on a new thread with tools, and returns the
// thread, the run as it settled (ended or waiting for outputs) and every
// event's name up to then.
func (r *rig) askWithTools(question string, tools []app.Tool) (*app.Thread, *app.Run, []string) {
	r.t.Helper()
	ctx := context.Background()
	th, err := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text(question)}}})
	if err != nil {
		r.t.Fatal(err)
	}
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	run := r.runToEnd(th.ID, app.RunParams{Tools: &tools})
	var names []string
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		names = append(names, ev.Name)
		if ev.RunID == run.ID && ev.Final() {
			return th, run, names
		}
	}
}

func TestLocalFunctionRunsWithoutRequiresAction(t *testing.T) {
	fns := &fakeFunctions{handlers: map[string]func(context.Context, string) string{"get_weather": weather}}
	r := newRig(t, withFunctions(fns, true),
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		modeltest.Turn{Text: "It is 3°C in Oslo."},
	)
	th, run, events := r.askWithTools("Weather in Oslo?", []app.Tool{weatherTool()})
	mustCompleted(t, run)
	for _, name := range events {
		if name == "thread.run.requires_action" {
			t.Fatalf("the run asked for outputs: %v", events)
		}
	}
	if got := fns.called(); len(got) != 1 || got[0] != `get_weather({"city":"Oslo"})` {
		t.Fatalf("calls = %q", got)
	}
	if tm := toolMessages(r.model, 1); len(tm) != 1 || tm[0] != `{"celsius":3}` {
		t.Fatalf("the model was told %q", tm)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 2 || steps[0].Type != app.StepToolCalls || steps[0].Status != app.StepCompleted {
		t.Fatalf("steps = %+v", steps)
	}
	fn := steps[0].StepDetails.ToolCalls[0].Function
	if fn == nil || fn.Name != "get_weather" || fn.Arguments != `{"city":"Oslo"}` || fn.Output == nil || *fn.Output != `{"celsius":3}` {
		t.Fatalf("the step's call = %+v", fn)
	}
}

// In a turn that calls a local function and a client's one, the local one
// runs and the run waits for the other only.
func TestOnlyFunctionsWithoutHandlersRequireAction(t *testing.T) {
	fns := &fakeFunctions{handlers: map[string]func(context.Context, string) string{"get_weather": weather}}
	r := newRig(t, withFunctions(fns, true),
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{
			{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`},
			{ID: "call_b1", Name: "book_trip", Arguments: `{"to":"Oslo"}`},
		}},
		modeltest.Turn{Text: "Booked; pack a coat."},
	)
	book := app.Tool{Type: app.ToolFunction, Function: &app.FunctionDef{Name: "book_trip"}}
	th, run, _ := r.askWithTools("Book Oslo if it is warm.", []app.Tool{weatherTool(), book})
	if run.Status != app.RunRequiresAction {
		t.Fatalf("run = %+v", run)
	}
	calls := run.RequiredAction.SubmitToolOutputs.ToolCalls
	if len(calls) != 1 || calls[0].ID != "call_b1" {
		t.Fatalf("required action = %+v", calls)
	}
	// The local output is recorded while the run waits.
	steps := r.steps(th.ID, run.ID)
	if fn := steps[0].StepDetails.ToolCalls[0].Function; fn.Output == nil || *fn.Output != `{"celsius":3}` {
		t.Fatalf("the local call while waiting = %+v", fn)
	}
	ctx := context.Background()
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_w1", Output: "x"}}, false); err == nil {
		t.Fatal("an output for the local call was accepted")
	}
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_b1", Output: "booked"}}, false); err != nil {
		t.Fatal(err)
	}
	final, err := r.e.WaitRun(ctx, th.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, final)
	if tm := toolMessages(r.model, 1); len(tm) != 2 || tm[0] != `{"celsius":3}` || tm[1] != "booked" {
		t.Fatalf("the model was told %q", tm)
	}
}

func TestLocalFunctionsTurnedOffRequireAction(t *testing.T) {
	fns := &fakeFunctions{handlers: map[string]func(context.Context, string) string{"get_weather": weather}}
	r := newRig(t, withFunctions(fns, false),
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
	)
	_, run, _ := r.askWithTools("Weather in Oslo?", []app.Tool{weatherTool()})
	if run.Status != app.RunRequiresAction || len(run.RequiredAction.SubmitToolOutputs.ToolCalls) != 1 {
		t.Fatalf("run = %+v", run)
	}
	if got := fns.called(); len(got) != 0 {
		t.Fatalf("a handler ran while turned off: %q", got)
	}
	if _, err := r.e.CancelRun(context.Background(), run.ThreadID, run.ID); err != nil {
		t.Fatal(err)
	}
}

func TestCancelDuringLocalFunction(t *testing.T) {
	started := make(chan struct{})
	slow := func(ctx context.Context, _ string) string {
		close(started)
		<-ctx.Done()
		return `{"error":"the call of slow was stopped"}`
	}
	fns := &fakeFunctions{handlers: map[string]func(context.Context, string) string{"slow": slow}}
	r := newRig(t, withFunctions(fns, true),
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_s1", Name: "slow", Arguments: `{}`}}},
	)
	ctx := context.Background()
	th, _ := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Go slow.")}}})
	tools := []app.Tool{{Type: app.ToolFunction, Function: &app.FunctionDef{Name: "slow"}}}
	run, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID, Tools: &tools})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the handler never started")
	}
	if _, err := r.e.CancelRun(ctx, th.ID, run.ID); err != nil {
		t.Fatal(err)
	}
	if final := r.runWait(th.ID, run.ID); final.Status != app.RunCancelled {
		t.Fatalf("final = %+v", final)
	}
}

// Through the composition root, a handler saved in the data folder's
// functions/ runs in the sandbox (interpreter/goscript).
func TestLocalFunctionInTheSandbox(t *testing.T) {
	r := newRig(t, nil,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		modeltest.Turn{Text: "It is 3°C in Oslo."},
	)
	if !r.e.RunsLocalFunctions() {
		t.Fatal("local functions are off by default")
	}
	if err := r.e.SaveFunction("get_weather", `package main

import "strings"

func Run(args map[string]any) (any, error) {
	return map[string]any{"city": strings.ToUpper(args["city"].(string)), "celsius": 3}, nil
}
`); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.data, "functions", "get_weather.go")); err != nil {
		t.Fatal(err)
	}
	th, run, _ := r.askWithTools("Weather in Oslo?", []app.Tool{weatherTool()})
	mustCompleted(t, run)
	want := `{"celsius":3,"city":"OSLO"}`
	if tm := toolMessages(r.model, 1); len(tm) != 1 || tm[0] != want {
		t.Fatalf("the model was told %q", tm)
	}
	if fn := r.steps(th.ID, run.ID)[0].StepDetails.ToolCalls[0].Function; fn.Output == nil || *fn.Output != want {
		t.Fatalf("the step's call = %+v", fn)
	}
	// TryFunction runs a draft without saving it.
	res, err := r.e.TryFunction(context.Background(), "get_weather", "package main\nfunc Run(args map[string]any) (any, error) { panic(\"draft\") }\n", `{}`)
	if err != nil || !strings.Contains(res.Error, "panicked: draft") {
		t.Fatalf("TryFunction = %+v, %v", res, err)
	}
	if src, _ := r.e.FunctionSource("get_weather"); !strings.Contains(src, "strings.ToUpper") {
		t.Fatal("TryFunction changed the saved handler")
	}
}
