package ui

import (
	"reflect"
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
