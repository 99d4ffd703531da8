package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/engine"
	"plotline/app/modeltest"
	"plotline/interpreter/interptest"
)

// The benchmarks measure the engine's own cost per run: storing the run,
// its steps and messages, building the model's view of the thread,
// publishing events, with a model that answers at once and no code run.
// Like interpreter/bench_test.go, they report the median of their
// iterations as "median-ms".

// instantModel is a scripted model without latency or HTTP: it calls
// get_weather when the conversation does not end in a tool result and
// call is set, and otherwise answers text.
type instantModel struct{ call bool }

func (m instantModel) Chat(_ context.Context, req app.ChatRequest, onDelta func(app.ChatDelta)) (*app.ChatResult, error) {
	usage := app.Usage{PromptTokens: 20, CompletionTokens: 5, TotalTokens: 25}
	if m.call && req.Messages[len(req.Messages)-1].Role != "tool" {
		c := app.ChatToolCall{ID: "call_w", Name: "get_weather", Arguments: `{"city":"Oslo"}`}
		onDelta(app.ChatDelta{Call: &app.ChatCallDelta{ID: c.ID, Name: c.Name, Arguments: c.Arguments}})
		return &app.ChatResult{ToolCalls: []app.ChatToolCall{c}, FinishReason: "tool_calls", Usage: usage}, nil
	}
	const text = "Revenue peaks in February."
	for _, piece := range strings.SplitAfter(text, " ") {
		onDelta(app.ChatDelta{Text: piece})
	}
	return &app.ChatResult{Text: text, FinishReason: "stop", Usage: usage}, nil
}

// benchEngine is an engine on a fresh folder with an assistant that has
// code_interpreter (so each run gets its work folder) and get_weather.
func benchEngine(b *testing.B, baseURL string, m app.Model) (*engine.Engine, *app.Assistant) {
	var tune func(*engine.Config)
	if m != nil {
		tune = func(c *engine.Config) { c.Model = m }
	}
	e := openEngine(b, b.TempDir(), baseURL, tune)
	a, err := e.CreateAssistant(context.Background(), app.AssistantParams{Instructions: ptr("You analyse data."),
		Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}, weatherTool()}})
	if err != nil {
		b.Fatal(err)
	}
	return e, a
}

// runOnce runs one question in a new thread (made outside the timing)
// and returns how long the run took, from CreateRun to its end.
func runOnce(b *testing.B, e *engine.Engine, a *app.Assistant, withCall bool) time.Duration {
	ctx := context.Background()
	b.StopTimer()
	th, err := e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Which month has the most revenue?")}}})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	run, _, err := e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: a.ID})
	if err != nil {
		b.Fatal(err)
	}
	final, err := e.WaitRun(ctx, th.ID, run.ID)
	if err != nil {
		b.Fatal(err)
	}
	if withCall {
		if final.Status != app.RunRequiresAction {
			b.Fatalf("run %s: %s %+v", run.ID, final.Status, final.LastError)
		}
		id := final.RequiredAction.SubmitToolOutputs.ToolCalls[0].ID
		if _, _, err := e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: id, Output: `{"celsius":3}`}}, false); err != nil {
			b.Fatal(err)
		}
		if final, err = e.WaitRun(ctx, th.ID, run.ID); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(start)
	if final.Status != app.RunCompleted {
		b.Fatalf("run %s: %s %+v", run.ID, final.Status, final.LastError)
	}
	return d
}

func benchRuns(b *testing.B, e *engine.Engine, a *app.Assistant, withCall bool) {
	runOnce(b, e, a, withCall) // warm-up
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d = append(d, runOnce(b, e, a, withCall))
	}
	b.StopTimer()
	interptest.ReportMedian(b, d)
}

// BenchmarkRunStep is a run whose model answers text at once: one
// message_creation step, the engine's whole overhead for a turn.
func BenchmarkRunStep(b *testing.B) {
	e, a := benchEngine(b, "http://127.0.0.1:1/v1", instantModel{})
	benchRuns(b, e, a, false)
}

// BenchmarkRunStepWithFunctionCall is a run that calls a client function:
// a tool_calls step, requires_action, the submitted output, and a
// message_creation step on a second model turn.
func BenchmarkRunStepWithFunctionCall(b *testing.B) {
	e, a := benchEngine(b, "http://127.0.0.1:1/v1", instantModel{call: true})
	benchRuns(b, e, a, true)
}

// BenchmarkRunStepScripted is BenchmarkRunStep with the model behind
// HTTP: the scripted server, reached through the openai-go adapter and
// streamed as server-sent events, as a real model is.
func BenchmarkRunStepScripted(b *testing.B) {
	srv := modeltest.NewServer(b)
	for i := 0; i <= b.N; i++ {
		srv.Add(modeltest.Turn{Text: "Revenue peaks in February.", ChunkSize: 8})
	}
	e, a := benchEngine(b, srv.BaseURL(), nil)
	benchRuns(b, e, a, false)
}

// BenchmarkRunInLongThread is a run in a thread of 5,000 messages (half of
// them answers, with a code step every tenth question), against a run in
// a fresh thread, each asked with Ask and answered at once by an
// in-process model, its code run by the scripted interpreter: the
// engine's own cost, which must not grow with the thread. It reports
// both medians and their ratio ("x-fresh").
func BenchmarkRunInLongThread(b *testing.B) {
	ctx := context.Background()
	data := b.TempDir()
	sys, err := wiring.Open(ctx, wiring.Options{Data: data, Model: instantModel{}, DefaultModel: "test-model",
		Interp: &scripted{dir: filepath.Join(data, "work"), cell: printed}})
	if err != nil {
		b.Fatal(err)
	}
	defer sys.Close()
	e := sys.Engine
	a, err := e.CreateAssistant(ctx, app.AssistantParams{Instructions: ptr("You analyse data."),
		Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}}})
	if err != nil {
		b.Fatal(err)
	}
	// The long thread, stored as the engine stores it.
	long, err := e.CreateThread(ctx, app.ThreadParams{})
	if err != nil {
		b.Fatal(err)
	}
	seedThread(b, sys.Store, long.ID, a.ID, 5000)
	ask := func(threadID string) time.Duration {
		start := time.Now()
		th, run, _, err := e.Ask(ctx, engine.AskParams{ThreadID: threadID, AssistantID: a.ID, Text: "Which month has the most revenue?"})
		if err != nil {
			b.Fatal(err)
		}
		final, err := e.WaitRun(ctx, th.ID, run.ID)
		if err != nil || final.Status != app.RunCompleted {
			b.Fatalf("run: %v %v", final, err)
		}
		return time.Since(start)
	}
	ask(long.ID) // reads the long thread once, as the first run after a start does
	ask("")
	var inLong, fresh []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inLong = append(inLong, ask(long.ID))
		fresh = append(fresh, ask(""))
	}
	b.StopTimer()
	m1, m2 := interptest.Median(inLong), interptest.Median(fresh)
	b.ReportMetric(float64(m1)/1e6, "long-thread-ms")
	b.ReportMetric(float64(m2)/1e6, "fresh-thread-ms")
	b.ReportMetric(float64(m1)/float64(m2), "x-fresh")
}

// seedThread stores n messages in a thread, in the engine's records: a
// question, then an answer of its run, with a code step before every
// tenth answer.
func seedThread(b *testing.B, st app.Store, threadID, assistantID string, n int) {
	ctx := context.Background()
	var recs []app.Record
	for i := 0; i < n; i++ {
		m := app.Message{ID: fmt.Sprintf("msg_seed%05d", i), Object: app.KindMessage, CreatedAt: 1, ThreadID: threadID,
			Status: app.MessageCompleted, Role: "user", Metadata: app.Metadata{}, Attachments: []app.Attachment{},
			Content: []app.Content{{Type: "text", Text: &app.Text{Value: fmt.Sprintf("Question %d about revenue by region and month.", i), Annotations: []app.Annotation{}}}}}
		runID := fmt.Sprintf("run_seed%05d", i/2)
		if i%2 == 1 {
			m.Role, m.RunID, m.AssistantID = "assistant", &runID, &assistantID
			if i%20 == 1 {
				s := app.RunStep{ID: fmt.Sprintf("step_seed%05d", i), Object: app.KindRunStep, CreatedAt: 1, AssistantID: assistantID,
					ThreadID: threadID, RunID: runID, Type: app.StepToolCalls, Status: app.StepCompleted, Metadata: app.Metadata{},
					StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{{ID: fmt.Sprintf("call_seed%05d", i),
						Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{Input: "df.groupby('region').revenue.sum()",
							Outputs: []app.CodeOutput{{Type: "logs", Logs: "region\nnorth    10\nsouth    20\n"}}}}}}}
				sb, _ := json.Marshal(s)
				recs = append(recs, app.Record{Kind: app.KindRunStep, ID: s.ID, Parent: threadID, Tag: runID, CreatedAt: 1, Data: sb})
			}
		}
		mb, _ := json.Marshal(m)
		recs = append(recs, app.Record{Kind: app.KindMessage, ID: m.ID, Parent: threadID, Tag: deref(m.RunID), CreatedAt: 1, Data: mb})
		if len(recs) >= 500 {
			if err := st.Save(ctx, recs...); err != nil {
				b.Fatal(err)
			}
			recs = nil
		}
	}
	if err := st.Save(ctx, recs...); err != nil {
		b.Fatal(err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
