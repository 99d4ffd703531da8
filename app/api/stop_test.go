//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package api_test

import (
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"plotline/app/modeltest"
)

// TestStopThenNewQuestion stops a run while its code runs in the real
// kernel, then asks again through the API: the new question is answered
// from new code, and the stopped call stays where it ran, before the
// question, in what the model is sent and in the thread's messages.
func TestStopThenNewQuestion(t *testing.T) {
	r := newRig(t, nil, nil,
		modeltest.PythonCall("import time\nprint('started', flush=True)\ntime.sleep(120)"),
		modeltest.PythonCall("print('fresh')"),
		text("From the new code."),
	)
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c, openai.AssistantToolUnionParam{OfCodeInterpreter: &openai.CodeInterpreterToolParam{}})
	th := userThread(t, c, "Q1")

	// Stop as soon as the cell has printed: the stream says when.
	s := c.Beta.Threads.Runs.NewStreaming(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	runID := ""
	for s.Next() {
		ev := s.Current()
		if v, ok := ev.AsAny().(openai.AssistantStreamEventThreadRunCreated); ok {
			runID = v.Data.ID
		}
		if v, ok := ev.AsAny().(openai.AssistantStreamEventThreadRunStepDelta); ok {
			started := false
			for _, tc := range v.Data.Delta.StepDetails.ToolCalls {
				for _, o := range tc.CodeInterpreter.Outputs {
					started = started || strings.Contains(o.Logs, "started")
				}
			}
			if started {
				if _, err := c.Beta.Threads.Runs.Cancel(ctx, th.ID, runID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ev.Event == "thread.run.cancelled" {
			break
		}
	}
	s.Close()
	mustStatus(t, pollRun(t, c, th.ID, runID), openai.RunStatusCancelled)

	if _, err := c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{Role: "user",
		Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String("Q2")}}); err != nil {
		t.Fatal(err)
	}
	run2, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, pollRun(t, c, th.ID, run2.ID), openai.RunStatusCompleted)

	// What the model was sent for Q2: the stopped call where it ran, and
	// the question last.
	reqs := r.model.Requests()
	var sent []string
	for _, m := range reqs[1].Messages[1:] {
		line := m.Role + ":" + strings.TrimSpace(m.Content)
		if len(m.ToolCalls) > 0 {
			line += ":call"
		}
		sent = append(sent, line)
	}
	if got := strings.Join(sent, "|"); !strings.HasPrefix(got, "user:Q1|assistant::call|tool:started") || !strings.HasSuffix(got, "|user:Q2") {
		t.Fatalf("the model was sent %s", got)
	}
	last := reqs[len(reqs)-1].Messages
	if m := last[len(last)-1]; m.Role != "tool" || strings.TrimSpace(m.Content) != "fresh" {
		t.Fatalf("the answer did not come from the new code: %+v", m)
	}
	// The thread's messages, oldest first.
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{Order: openai.BetaThreadMessageListParamsOrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs.Data {
		for _, part := range m.Content {
			if part.Type == "text" {
				texts = append(texts, string(m.Role)+":"+part.Text.Value)
			}
		}
	}
	if got := strings.Join(texts, "|"); got != "user:Q1|user:Q2|assistant:From the new code." {
		t.Fatalf("messages %s", got)
	}
}
