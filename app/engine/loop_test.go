package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/modeltest"
)

func TestErrorThenRetryThenSuccess(t *testing.T) {
	r := newRig(t, nil,
		pythonCall("total = sum([1, 2, 3]) / 0"),
		pythonCall("total = sum([1, 2, 3])\nprint('total', total)"),
		modeltest.Turn{Text: "The total is 6."},
	)
	th, run := r.ask("Add 1, 2 and 3.")
	mustCompleted(t, run)
	tm := toolMessages(r.model, 1)
	if len(tm) != 1 || !strings.Contains(tm[0], "ZeroDivisionError: division by zero") || !strings.Contains(tm[0], "Traceback") {
		t.Fatalf("the error was not fed back: %q", tm)
	}
	tm = toolMessages(r.model, 2)
	if len(tm) != 2 || tm[1] != "total 6\n" {
		t.Fatalf("the retry's output was not fed back: %q", tm)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 3 {
		t.Fatalf("steps = %d", len(steps))
	}
	logs := steps[0].StepDetails.ToolCalls[0].CodeInterpreter.Outputs[0].Logs
	if !strings.Contains(logs, "ZeroDivisionError") {
		t.Fatalf("first step's logs = %q", logs)
	}
}

func weatherTool() app.Tool {
	return app.Tool{Type: app.ToolFunction, Function: &app.FunctionDef{Name: "get_weather",
		Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}
}

func TestFunctionToolRequiresActionThenSubmit(t *testing.T) {
	r := newRig(t, nil,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		modeltest.Turn{Text: "It is 3°C in Oslo."},
	)
	ctx := context.Background()
	th, err := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Weather in Oslo?")}}})
	if err != nil {
		t.Fatal(err)
	}
	tools := []app.Tool{{Type: app.ToolCodeInterpreter}, weatherTool()}
	run := r.runToEnd(th.ID, app.RunParams{Tools: &tools})
	if run.Status != app.RunRequiresAction || run.RequiredAction == nil || run.ExpiresAt == nil {
		t.Fatalf("run = %+v", run)
	}
	calls := run.RequiredAction.SubmitToolOutputs.ToolCalls
	if len(calls) != 1 || calls[0].ID != "call_w1" || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"city":"Oslo"}` {
		t.Fatalf("required action = %+v", calls)
	}
	// The thread stays locked while the run waits.
	if _, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("hello?")}); !errors.Is(err, app.ErrThreadLocked) {
		t.Fatalf("CreateMessage while waiting: %v", err)
	}
	// Outputs for unknown calls, or missing ones, are refused.
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_nope", Output: "x"}}, false); err == nil {
		t.Fatal("an output for an unknown call was accepted")
	}
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, nil, false); err == nil {
		t.Fatal("no outputs were accepted")
	}
	queued, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_w1", Output: `{"celsius":3}`}}, false)
	if err != nil || queued.Status != app.RunQueued {
		t.Fatalf("submit: %v, %+v", err, queued)
	}
	final, err := r.e.WaitRun(ctx, th.ID, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, final)
	if tm := toolMessages(r.model, 1); len(tm) != 1 || tm[0] != `{"celsius":3}` {
		t.Fatalf("the output was not given to the model: %q", tm)
	}
	steps := r.steps(th.ID, run.ID)
	fn := steps[0].StepDetails.ToolCalls[0].Function
	if steps[0].Status != app.StepCompleted || fn == nil || fn.Output == nil || *fn.Output != `{"celsius":3}` {
		t.Fatalf("function step = %+v", steps[0])
	}
}

// runWait waits for a run that was already started.
func (r *rig) runWait(threadID, runID string) *app.Run {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		run, err := r.e.WaitRun(ctx, threadID, runID)
		if err != nil {
			r.t.Fatal(err)
		}
		if app.Terminal(run.Status) {
			return run
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCancelDuringLongCell(t *testing.T) {
	r := newRig(t, nil,
		pythonCall("import time\nprint('started', flush=True)\ntime.sleep(120)"),
	)
	ctx := context.Background()
	th, _ := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Wait.")}}})
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	run, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the cell's first output, then cancel.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		ev, err := sub.Next(wctx)
		if err != nil {
			t.Fatal("the cell never printed")
		}
		if d, ok := ev.Data.(*app.RunStepDelta); ok {
			if tc := d.Delta.StepDetails.ToolCalls; len(tc) > 0 && tc[0].CodeInterpreter != nil &&
				len(tc[0].CodeInterpreter.Outputs) > 0 && strings.Contains(tc[0].CodeInterpreter.Outputs[0].Logs, "started") {
				break
			}
		}
	}
	c, err := r.e.CancelRun(ctx, th.ID, run.ID)
	if err != nil || c.Status != app.RunCancelling {
		t.Fatalf("cancel: %v %+v", err, c)
	}
	final := r.runWait(th.ID, run.ID)
	if final.Status != app.RunCancelled || final.CancelledAt == nil {
		t.Fatalf("final = %+v", final)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 1 || steps[0].Status != app.StepCancelled {
		t.Fatalf("steps = %+v", steps)
	}
	// The thread is usable again, and so is its kernel.
	if _, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("Now add.")}); err != nil {
		t.Fatalf("thread locked after cancel: %v", err)
	}
	r.model.Add(pythonCall("print(2 + 2)"), modeltest.Turn{Text: "4"})
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{}))
	if tm := toolMessages(r.model, 2); len(tm) == 0 || tm[len(tm)-1] != "4\n" {
		t.Fatalf("after cancel, the kernel answered %q", tm)
	}
}

func TestThreadLock(t *testing.T) {
	r := newRig(t, nil, modeltest.Turn{Text: "slow answer", Delay: 2 * time.Second})
	ctx := context.Background()
	th, _ := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Hi")}}})
	run, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("more")}); !errors.Is(err, app.ErrThreadLocked) {
		t.Fatalf("CreateMessage during a run: %v", err)
	}
	if _, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID}); !errors.Is(err, app.ErrThreadLocked) {
		t.Fatalf("a second run: %v", err)
	}
	mustCompleted(t, r.runWait(th.ID, run.ID))
	if _, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("more")}); err != nil {
		t.Fatalf("after the run: %v", err)
	}
}

func TestStateKeptAcrossRunsOfAThread(t *testing.T) {
	r := newRig(t, nil,
		pythonCall("secret = 41"),
		modeltest.Turn{Text: "Stored."},
		pythonCall("print(secret + 1)"),
		modeltest.Turn{Text: "42"},
	)
	th, run := r.ask("Remember 41.")
	mustCompleted(t, run)
	if _, err := r.e.CreateMessage(context.Background(), th.ID, app.MessageParams{Role: "user", Content: text("Add one.")}); err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{}))
	if tm := toolMessages(r.model, 3); len(tm) != 2 || tm[1] != "42\n" {
		t.Fatalf("second run's output = %q", tm)
	}
	// The model saw the first run's code, so it knows what it defined.
	req := r.model.Requests()[2]
	found := false
	for _, m := range req.Messages {
		for _, c := range m.ToolCalls {
			if strings.Contains(c.Arguments, "secret = 41") {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("the second run's request does not show the first run's code")
	}
}

func TestTwoThreadsHaveIsolatedSessions(t *testing.T) {
	r := newRig(t, nil,
		pythonCall("x = 'A'\nopen('a.txt', 'w').write('from A')"),
		modeltest.Turn{Text: "done A"},
		pythonCall("import os\nprint(sorted(os.listdir('.')))\nprint(globals().get('x'))"),
		modeltest.Turn{Text: "done B"},
	)
	_, runA := r.ask("A")
	mustCompleted(t, runA)
	_, runB := r.ask("B")
	mustCompleted(t, runB)
	if tm := toolMessages(r.model, 3); len(tm) != 1 || tm[0] != "[]\nNone\n" {
		t.Fatalf("thread B saw thread A's state: %q", tm)
	}
}

func TestRateLimitedTwiceThenSucceeds(t *testing.T) {
	r := newRig(t, nil,
		modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
		modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
		modeltest.Turn{Text: "Hello."},
	)
	_, run := r.ask("Hi")
	mustCompleted(t, run)
	if n := len(r.model.Requests()); n != 3 {
		t.Fatalf("requests = %d, want 3", n)
	}
}

func TestRateLimitedForGoodFails(t *testing.T) {
	turns := make([]modeltest.Turn, 4)
	for i := range turns {
		turns[i] = modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", ErrorMessage: "Slow down.", RetryAfter: "0"}
	}
	r := newRig(t, nil, turns...)
	_, run := r.ask("Hi")
	if run.Status != app.RunFailed || run.LastError == nil || run.LastError.Code != app.ErrCodeRateLimit || run.LastError.Message != "Slow down." {
		t.Fatalf("run = %s %+v", run.Status, run.LastError)
	}
}

func TestServerErrorAndBadRequestMapToLastError(t *testing.T) {
	r := newRig(t, func(c *engine.Config) {}, modeltest.Turn{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "Too long."})
	_, run := r.ask("Hi")
	if run.Status != app.RunFailed || run.LastError.Code != app.ErrCodeInvalid || run.LastError.Message != "Too long." {
		t.Fatalf("400: %s %+v", run.Status, run.LastError)
	}
}
