package ui

import (
	"reflect"
	"strings"
	"testing"

	"plotline/app"
)

// TestBuildTimelineKeepsTranscriptOrder: the window lays a thread out in
// its transcript's order, whatever the timestamps say; withoutRun leaves
// out one run's entries and keeps the rest in order.
func TestBuildTimelineKeepsTranscriptOrder(t *testing.T) {
	text := func(s string) []app.Content {
		return []app.Content{{Type: "text", Text: &app.Text{Value: s}}}
	}
	r2 := "run_2"
	msgs := []app.Message{
		{ID: "q1", CreatedAt: 100, Role: "user", Content: text("First?")},
		{ID: "q2", CreatedAt: 100, Role: "user", Content: text("Second?")},
		{ID: "a2", CreatedAt: 100, Role: "assistant", RunID: &r2, Content: text("Answer.")},
	}
	call := func(code string) app.StepDetails {
		return app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{{ID: "call_" + code,
			Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{Input: code}}}}
	}
	steps := []app.RunStep{
		// Stopped, and stamped later than the question after it.
		{ID: "s1", CreatedAt: 105, RunID: "run_1", Type: app.StepToolCalls, Status: app.StepCancelled, StepDetails: call("sleep()")},
		{ID: "s2", CreatedAt: 100, RunID: r2, Type: app.StepToolCalls, Status: app.StepCompleted, StepDetails: call("fresh()")},
		{ID: "c2", CreatedAt: 100, RunID: r2, Type: app.StepMessageCreation, Status: app.StepCompleted,
			StepDetails: app.StepDetails{Type: app.StepMessageCreation, MessageCreation: &app.MessageCreation{MessageID: "a2"}}},
	}
	tr := app.NewTranscript(msgs, []int64{1, 3, 6}, steps, []int64{2, 4, 5})
	rows := func(tl *timeline) []string {
		var out []string
		for _, r := range tl.rows {
			out = append(out, r.id+" "+r.status)
		}
		return out
	}
	tests := []struct {
		name string
		tr   app.Transcript
		want []string
	}{
		{"whole thread", tr, []string{"q1 ", "s1#0 cancelled", "q2 ", "s2#0 completed", "a2 "}},
		{"without the second run", withoutRun(tr, r2), []string{"q1 ", "s1#0 cancelled", "q2 "}},
		{"without the first run", withoutRun(tr, "run_1"), []string{"q1 ", "q2 ", "s2#0 completed", "a2 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rows(buildTimeline("thread_1", tt.tr)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows %q, want %q", got, tt.want)
			}
		})
	}
}

// codeStep is a tool_calls step with one python call.
func codeStep(id, runID, status, code string, outputs ...app.CodeOutput) *app.RunStep {
	return &app.RunStep{ID: id, RunID: runID, Type: app.StepToolCalls, Status: status, StepDetails: app.StepDetails{
		Type: app.StepToolCalls, ToolCalls: []app.ToolCall{{ID: "call_1", Type: app.ToolCodeInterpreter,
			CodeInterpreter: &app.CodeInterpreterCall{Input: code, Outputs: outputs}}}}}
}

// codeDelta is a step delta for call 0: a piece of code and of its logs.
func codeDelta(stepID, code, logs string) *app.RunStepDelta {
	idx := 0
	ci := &app.CodeInterpreterCall{Input: code}
	if logs != "" {
		ci.Outputs = []app.CodeOutput{{Index: &idx, Type: "logs", Logs: logs}}
	}
	return &app.RunStepDelta{ID: stepID, Delta: app.RunStepDeltaBody{StepDetails: app.StepDetails{Type: app.StepToolCalls,
		ToolCalls: []app.ToolCall{{Index: &idx, Type: app.ToolCodeInterpreter, CodeInterpreter: ci}}}}}
}

// TestStoppedStepKeepsStreamedOutput: a cell stopped mid-run keeps the
// code and output that streamed when its cancelled step carries none,
// and is no longer running, however its end arrives.
func TestStoppedStepKeepsStreamedOutput(t *testing.T) {
	ev := func(data any) app.Event { return app.Event{ThreadID: "t", RunID: "run_1", Data: data} }
	streamed := func() *timeline {
		tl := newTimeline("t")
		tl.apply(ev(&app.RunStep{ID: "s1", RunID: "run_1", Type: app.StepToolCalls, Status: app.StepInProgress,
			StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{}}}))
		tl.apply(ev(codeDelta("s1", "import time\n", "")))
		tl.apply(ev(codeDelta("s1", "time.sleep(60)", "")))
		tl.apply(ev(codeDelta("s1", "", "working\n")))
		tl.apply(ev(codeDelta("s1", "", "still working\n")))
		if r := tl.rows[0]; r.status != app.StepInProgress || stepState(r) != "running" {
			t.Fatalf("while streaming: %+v", r)
		}
		return tl
	}
	tests := []struct {
		name string
		end  any
	}{
		{"cancelled step with its call and no outputs", codeStep("s1", "run_1", app.StepCancelled, "import time\ntime.sleep(60)")},
		{"cancelled step without its calls", &app.RunStep{ID: "s1", RunID: "run_1", Type: app.StepToolCalls, Status: app.StepCancelled,
			StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{}}}},
		{"only the run's end", &app.Run{ID: "run_1", Status: app.RunCancelled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := streamed()
			changed, _ := tl.apply(ev(tt.end))
			r := tl.rows[0]
			if !reflect.DeepEqual(changed, []int{0}) || r.status != app.StepCancelled {
				t.Fatalf("changed %v, row status %q", changed, r.status)
			}
			if r.logs != "working\nstill working\n" || r.code != "import time\ntime.sleep(60)" {
				t.Fatalf("the stopped row lost what streamed: code %q, logs %q", r.code, r.logs)
			}
			if got := codeTitle(r, "Python"); got != "Python, 2 lines, stopped" {
				t.Fatalf("title %q", got)
			}
		})
	}
	// A stopped cell whose step does carry its output shows that output.
	tl := streamed()
	tl.apply(ev(codeStep("s1", "run_1", app.StepCancelled, "import time\ntime.sleep(60)",
		app.CodeOutput{Type: "logs", Logs: "working\nstill working\nTraceback (most recent call last):\nKeyboardInterrupt\n"})))
	if r := tl.rows[0]; !strings.HasSuffix(r.logs, "KeyboardInterrupt\n") || stepState(r) != "stopped" {
		t.Fatalf("stopped with output: state %q, logs %q", stepState(r), r.logs)
	}
	// The end of another run leaves the row alone.
	tl = streamed()
	if changed, _ := tl.apply(ev(&app.Run{ID: "run_2", Status: app.RunCancelled})); len(changed) != 0 || tl.rows[0].status != app.StepInProgress {
		t.Fatalf("another run's end changed %v", changed)
	}
}

func TestCellError(t *testing.T) {
	tests := []struct{ name, logs, want string }{
		{"none", "60\n", ""},
		{"key error", "before\nTraceback (most recent call last):\n  File \"<cell 3>\", line 2, in <module>\n    d['x']\n    ~^^^^^\nKeyError: 'x'\n", "KeyError: 'x'"},
		{"inside a library", "Traceback (most recent call last):\n  File \"<cell 1>\", line 1, in <module>\n  File \"/usr/lib/python3/dist-packages/pandas/core/frame.py\", line 4102, in __getitem__\n    indexer = self.columns.get_loc(key)\npandas.errors.InvalidIndexError: (slice(None, None, None), 0)\n", "pandas.errors.InvalidIndexError: (slice(None, None, None), 0)"},
		{"chained", "Traceback (most recent call last):\n  File \"<cell 1>\", line 2, in <module>\nKeyError: 'a'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"<cell 1>\", line 4, in <module>\nValueError: bad\nsecond line\n", "ValueError: bad"},
		{"syntax error", "  File \"<cell 2>\", line 1\n    x = \n        ^\nSyntaxError: invalid syntax\nSyntaxError: invalid syntax (<cell 2>, line 1)", "SyntaxError: invalid syntax"},
		{"interrupted", "working\nTraceback (most recent call last):\n  File \"<cell 1>\", line 3, in <module>\nKeyboardInterrupt\n", "KeyboardInterrupt"},
		{"a traceback line that is no exception", "Traceback (most recent call last):\n  File \"<cell 1>\", line 3\n... more text\n", ""},
	}
	for _, tt := range tests {
		if got := cellError(tt.logs); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestStepWithErrorIsLabelledError: a completed step whose code raised
// says error, with the error, and one stopped or running says so whatever
// its output.
func TestStepWithErrorIsLabelledError(t *testing.T) {
	tl := newTimeline("t")
	logs := "Traceback (most recent call last):\n  File \"<cell 1>\", line 4, in <module>\nKeyError: 'x'\n"
	tl.apply(app.Event{ThreadID: "t", Data: codeStep("s1", "r", app.StepCompleted, "a\nb\nc\nd['x']", app.CodeOutput{Type: "logs", Logs: logs})})
	if got := codeTitle(tl.rows[0], "Python"); got != "Python, 4 lines, error: KeyError: 'x'" {
		t.Fatalf("title %q", got)
	}
	tl.rows[0].images = []string{"file_1"}
	if got := codeTitle(tl.rows[0], "Starlark"); got != "Starlark, 4 lines, 1 chart(s), error: KeyError: 'x'" {
		t.Fatalf("title with a chart %q", got)
	}
	tl.apply(app.Event{ThreadID: "t", Data: codeStep("s1", "r", app.StepCompleted, "print(1)", app.CodeOutput{Type: "logs", Logs: "1\n"})})
	if r := tl.rows[0]; r.err != "" || stepState(r) != "ran" {
		t.Fatalf("after a clean run: err %q, state %q", r.err, stepState(r))
	}
}
