//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"plotline/app/modeltest"
)

// Conformance: the real openai-go SDK drives every endpoint and decodes
// every answer, as code written for the hosted Assistants API does.

var codeInterpreter = openai.AssistantToolUnionParam{OfCodeInterpreter: &openai.CodeInterpreterToolParam{}}

func weatherTool() openai.AssistantToolUnionParam {
	return openai.AssistantToolUnionParam{OfFunction: &openai.FunctionToolParam{Function: shared.FunctionDefinitionParam{
		Name:       "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	}}}
}

// chartCode makes a chart (an image output) and a CSV (a file the answer
// links to) from the uploaded sales.csv.
const chartCode = `import pandas as pd, matplotlib.pyplot as plt
df = pd.read_csv("/mnt/data/sales.csv")
by = df.groupby("month").revenue.sum()
by.plot(kind="bar", title="Revenue by month")
by.to_csv("by_month.csv")
print(by.to_dict())`

const salesCSV = "month,revenue\nJan,10\nFeb,30\nJan,5\n"

const chartAnswer = "Revenue peaks in Feb. Data: [by month](sandbox:/mnt/data/by_month.csv)."

func newAssistant(t *testing.T, c openai.Client, tools ...openai.AssistantToolUnionParam) *openai.Assistant {
	t.Helper()
	a, err := c.Beta.Assistants.New(ctxT(t), openai.BetaAssistantNewParams{
		Model: "test-model", Name: openai.String("Analyst"), Instructions: openai.String("You analyse data."), Tools: tools,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func upload(t *testing.T, c openai.Client, name, body string) *openai.FileObject {
	t.Helper()
	f, err := c.Files.New(ctxT(t), openai.FileNewParams{
		File: openai.File(strings.NewReader(body), name, "text/csv"), Purpose: openai.FilePurposeAssistants,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func userThread(t *testing.T, c openai.Client, question string) *openai.Thread {
	t.Helper()
	th, err := c.Beta.Threads.New(ctxT(t), openai.BetaThreadNewParams{Messages: []openai.BetaThreadNewParamsMessage{{
		Role: "user", Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String(question)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// pollRun polls a run, as the SDK users' loops do, until it leaves the
// queued, in_progress and cancelling statuses.
func pollRun(t *testing.T, c openai.Client, threadID, runID string) *openai.Run {
	t.Helper()
	ctx := ctxT(t)
	for {
		run, err := c.Beta.Threads.Runs.Get(ctx, threadID, runID)
		if err != nil {
			t.Fatal(err)
		}
		switch run.Status {
		case openai.RunStatusQueued, openai.RunStatusInProgress, openai.RunStatusCancelling:
			time.Sleep(20 * time.Millisecond)
			continue
		}
		return run
	}
}

func mustStatus(t *testing.T, run *openai.Run, want openai.RunStatus) {
	t.Helper()
	if run.Status != want {
		t.Fatalf("run %s: status %s, want %s; last_error %+v", run.ID, run.Status, want, run.LastError)
	}
}

// statusOf returns the HTTP status of an SDK error (0 if it is not one).
func statusOf(err error) int {
	var e *openai.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

func asstID(a openai.Assistant) string { return a.ID }

func TestAssistantsCRUDAndPagination(t *testing.T) {
	r := newRig(t, nil, nil)
	c := r.client()
	ctx := ctxT(t)

	a, err := c.Beta.Assistants.New(ctx, openai.BetaAssistantNewParams{
		Model: "gpt-4o", Name: openai.String("Analyst"), Description: openai.String("Charts"),
		Instructions: openai.String("You analyse data."), Temperature: openai.Float(0.5),
		Tools:    []openai.AssistantToolUnionParam{codeInterpreter, weatherTool()},
		Metadata: shared.Metadata{"team": "finance"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "asst_") || a.Object != "assistant" || a.Model != "gpt-4o" || a.Name != "Analyst" ||
		a.Instructions != "You analyse data." || a.Temperature != 0.5 || a.Metadata["team"] != "finance" || a.CreatedAt == 0 {
		t.Fatalf("created assistant = %s", a.RawJSON())
	}
	if len(a.Tools) != 2 || a.Tools[0].Type != "code_interpreter" || a.Tools[1].Type != "function" || a.Tools[1].Function.Name != "get_weather" {
		t.Fatalf("tools = %s", a.RawJSON())
	}
	if d := time.Since(time.Unix(a.CreatedAt, 0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("created_at %d is not in seconds", a.CreatedAt)
	}

	got, err := c.Beta.Assistants.Get(ctx, a.ID)
	if err != nil || got.ID != a.ID || got.Name != "Analyst" {
		t.Fatalf("get: %v %+v", err, got)
	}
	up, err := c.Beta.Assistants.Update(ctx, a.ID, openai.BetaAssistantUpdateParams{
		Name: openai.String("Analyst 2"), Metadata: shared.Metadata{"team": "ops"},
	})
	if err != nil || up.Name != "Analyst 2" || up.Metadata["team"] != "ops" || up.Instructions != "You analyse data." || len(up.Tools) != 2 {
		t.Fatalf("update: %v %s", err, up.RawJSON())
	}

	// Five assistants in all, paged two at a time.
	created := []string{a.ID}
	for i := 0; i < 4; i++ {
		created = append(created, newAssistant(t, c).ID)
	}
	page, err := c.Beta.Assistants.List(ctx, openai.BetaAssistantListParams{Limit: openai.Int(2), Order: openai.BetaAssistantListParamsOrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Data, asstID); !slices.Equal(got, created[:2]) || !page.HasMore {
		t.Fatalf("first asc page = %v has_more=%v, want %v", got, page.HasMore, created[:2])
	}
	var raw struct {
		Object  string `json:"object"`
		FirstID string `json:"first_id"`
		LastID  string `json:"last_id"`
	}
	json.Unmarshal([]byte(page.RawJSON()), &raw)
	if raw.Object != "list" || raw.FirstID != created[0] || raw.LastID != created[1] {
		t.Fatalf("list envelope = %s", page.RawJSON())
	}
	page, err = page.GetNextPage()
	if err != nil || !slices.Equal(ids(page.Data, asstID), created[2:4]) || !page.HasMore {
		t.Fatalf("second page: %v %v", err, ids(page.Data, asstID))
	}
	page, err = page.GetNextPage()
	if err != nil || !slices.Equal(ids(page.Data, asstID), created[4:]) || page.HasMore {
		t.Fatalf("last page: %v %v has_more=%v", err, ids(page.Data, asstID), page.HasMore)
	}
	// Default order is newest first; before pages backwards.
	desc, err := c.Beta.Assistants.List(ctx, openai.BetaAssistantListParams{})
	if err != nil || !slices.Equal(ids(desc.Data, asstID), reversed(created)) || desc.HasMore {
		t.Fatalf("desc list: %v %v", err, ids(desc.Data, asstID))
	}
	before, err := c.Beta.Assistants.List(ctx, openai.BetaAssistantListParams{Before: openai.String(created[3]), Limit: openai.Int(2), Order: openai.BetaAssistantListParamsOrderAsc})
	if err != nil || !slices.Equal(ids(before.Data, asstID), created[1:3]) {
		t.Fatalf("before %s: %v %v, want %v", created[3], err, ids(before.Data, asstID), created[1:3])
	}
	var all []string
	iter := c.Beta.Assistants.ListAutoPaging(ctx, openai.BetaAssistantListParams{Limit: openai.Int(2), Order: openai.BetaAssistantListParamsOrderAsc})
	for iter.Next() {
		all = append(all, iter.Current().ID)
	}
	if iter.Err() != nil || !slices.Equal(all, created) {
		t.Fatalf("auto-paging: %v %v, want %v", iter.Err(), all, created)
	}

	del, err := c.Beta.Assistants.Delete(ctx, a.ID)
	if err != nil || !del.Deleted || del.ID != a.ID || del.Object != "assistant.deleted" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if _, err := c.Beta.Assistants.Get(ctx, a.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestThreadsAndMessages(t *testing.T) {
	r := newRig(t, nil, nil)
	c := r.client()
	ctx := ctxT(t)
	f := upload(t, c, "sales.csv", salesCSV)

	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{
		Metadata: shared.Metadata{"k": "v"},
		ToolResources: openai.BetaThreadNewParamsToolResources{
			CodeInterpreter: openai.BetaThreadNewParamsToolResourcesCodeInterpreter{FileIDs: []string{f.ID}},
		},
		Messages: []openai.BetaThreadNewParamsMessage{
			{Role: "user", Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String("Plot this.")},
				Attachments: []openai.BetaThreadNewParamsMessageAttachment{{FileID: openai.String(f.ID),
					Tools: []openai.BetaThreadNewParamsMessageAttachmentToolUnion{{OfCodeInterpreter: &openai.CodeInterpreterToolParam{}}}}}},
			{Role: "assistant", Content: openai.BetaThreadNewParamsMessageContentUnion{OfArrayOfContentParts: []openai.MessageContentPartParamUnion{
				{OfText: &openai.TextContentBlockParam{Text: "Sure."}},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(th.ID, "thread_") || th.Object != "thread" || th.Metadata["k"] != "v" ||
		!slices.Equal(th.ToolResources.CodeInterpreter.FileIDs, []string{f.ID}) {
		t.Fatalf("thread = %s", th.RawJSON())
	}
	got, err := c.Beta.Threads.Get(ctx, th.ID)
	if err != nil || got.ID != th.ID || !slices.Equal(got.ToolResources.CodeInterpreter.FileIDs, []string{f.ID}) {
		t.Fatalf("get thread: %v %+v", err, got)
	}
	up, err := c.Beta.Threads.Update(ctx, th.ID, openai.BetaThreadUpdateParams{Metadata: shared.Metadata{"k": "w"}})
	if err != nil || up.Metadata["k"] != "w" {
		t.Fatalf("update thread: %v %+v", err, up)
	}

	// The thread's first messages, oldest first.
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{Order: openai.BetaThreadMessageListParamsOrderAsc})
	if err != nil || len(msgs.Data) != 2 {
		t.Fatalf("messages: %v %d", err, len(msgs.Data))
	}
	m0, m1 := msgs.Data[0], msgs.Data[1]
	if m0.Role != "user" || m0.Object != "thread.message" || m0.ThreadID != th.ID || m0.Status != "completed" ||
		m0.Content[0].Type != "text" || m0.Content[0].Text.Value != "Plot this." || len(m0.Attachments) != 1 ||
		m0.Attachments[0].FileID != f.ID || m0.Attachments[0].Tools[0].Type != "code_interpreter" {
		t.Fatalf("first message = %s", m0.RawJSON())
	}
	if m1.Role != "assistant" || m1.Content[0].Text.Value != "Sure." {
		t.Fatalf("second message = %s", m1.RawJSON())
	}

	m, err := c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{
		Role: openai.BetaThreadMessageNewParamsRoleUser, Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String("And the total?")},
		Metadata: shared.Metadata{"n": "3"},
	})
	if err != nil || !strings.HasPrefix(m.ID, "msg_") || m.Content[0].Text.Value != "And the total?" || m.Metadata["n"] != "3" || m.RunID != "" {
		t.Fatalf("new message: %v %s", err, m.RawJSON())
	}
	gm, err := c.Beta.Threads.Messages.Get(ctx, th.ID, m.ID)
	if err != nil || gm.ID != m.ID || gm.Content[0].Text.Value != "And the total?" {
		t.Fatalf("get message: %v %+v", err, gm)
	}
	um, err := c.Beta.Threads.Messages.Update(ctx, th.ID, m.ID, openai.BetaThreadMessageUpdateParams{Metadata: shared.Metadata{"n": "4"}})
	if err != nil || um.Metadata["n"] != "4" || um.Content[0].Text.Value != "And the total?" {
		t.Fatalf("update message: %v %+v", err, um)
	}
	// Paging one at a time, newest first, with the auto-pager.
	var all []string
	iter := c.Beta.Threads.Messages.ListAutoPaging(ctx, th.ID, openai.BetaThreadMessageListParams{Limit: openai.Int(1)})
	for iter.Next() {
		all = append(all, iter.Current().ID)
	}
	if iter.Err() != nil || !slices.Equal(all, []string{m.ID, m1.ID, m0.ID}) {
		t.Fatalf("auto-paged messages: %v %v", iter.Err(), all)
	}
	dm, err := c.Beta.Threads.Messages.Delete(ctx, th.ID, m1.ID)
	if err != nil || !dm.Deleted || dm.ID != m1.ID || dm.Object != "thread.message.deleted" {
		t.Fatalf("delete message: %v %+v", err, dm)
	}
	if _, err := c.Beta.Threads.Messages.Get(ctx, th.ID, m1.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("get deleted message: %v", err)
	}
	// A message is only found through its own thread.
	other := userThread(t, c, "other")
	if _, err := c.Beta.Threads.Messages.Get(ctx, other.ID, m.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("message through another thread: %v", err)
	}

	dt, err := c.Beta.Threads.Delete(ctx, th.ID)
	if err != nil || !dt.Deleted || dt.Object != "thread.deleted" {
		t.Fatalf("delete thread: %v %+v", err, dt)
	}
	if _, err := c.Beta.Threads.Get(ctx, th.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("get deleted thread: %v", err)
	}
	if _, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{}); statusOf(err) != http.StatusNotFound {
		t.Fatalf("messages of a deleted thread: %v", err)
	}
}

// TestRunChartAndFileOutputs runs python that draws a chart and writes a
// CSV; the SDK must decode the image_file part and the file_path
// annotation, and download both files.
func TestRunChartAndFileOutputs(t *testing.T) {
	r := newRig(t, nil, nil, pythonCall(chartCode), text(chartAnswer))
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c, codeInterpreter)
	f := upload(t, c, "sales.csv", salesCSV)
	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{Messages: []openai.BetaThreadNewParamsMessage{{
		Role: "user", Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String("Plot revenue by month")},
		Attachments: []openai.BetaThreadNewParamsMessageAttachment{{FileID: openai.String(f.ID),
			Tools: []openai.BetaThreadNewParamsMessageAttachmentToolUnion{{OfCodeInterpreter: &openai.CodeInterpreterToolParam{}}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID, Metadata: shared.Metadata{"x": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(run.ID, "run_") || run.Object != "thread.run" || run.ThreadID != th.ID || run.AssistantID != a.ID ||
		(run.Status != openai.RunStatusQueued && run.Status != openai.RunStatusInProgress) || run.Metadata["x"] != "1" {
		t.Fatalf("new run = %s", run.RawJSON())
	}
	final := pollRun(t, c, th.ID, run.ID)
	mustStatus(t, final, openai.RunStatusCompleted)
	if final.CompletedAt == 0 || final.Usage.TotalTokens == 0 {
		t.Fatalf("completed run = %s", final.RawJSON())
	}

	// Only the run's own message, with the run_id filter.
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{RunID: openai.String(run.ID)})
	if err != nil || len(msgs.Data) != 1 {
		t.Fatalf("run messages: %v %d", err, len(msgs.Data))
	}
	m := msgs.Data[0]
	if m.Role != "assistant" || m.RunID != run.ID || m.AssistantID != a.ID || len(m.Content) != 2 {
		t.Fatalf("answer = %s", m.RawJSON())
	}
	// The parts are found by type: their order is the engine's choice.
	var tc, ic openai.MessageContentUnion
	for _, part := range m.Content {
		switch part.Type {
		case "text":
			tc = part
		case "image_file":
			ic = part
		}
	}
	if tc.Type != "text" || tc.Text.Value != chartAnswer || len(tc.Text.Annotations) != 1 {
		t.Fatalf("text part = %s", tc.RawJSON())
	}
	ann := tc.Text.Annotations[0]
	link := "sandbox:/mnt/data/by_month.csv"
	start := int64(strings.Index(chartAnswer, link))
	fp, ok := ann.AsAny().(openai.FilePathAnnotation)
	if !ok || ann.Text != link || ann.StartIndex != start || ann.EndIndex != start+int64(len(link)) || fp.FilePath.FileID == "" {
		t.Fatalf("annotation = %s", ann.RawJSON())
	}
	img, ok := ic.AsAny().(openai.ImageFileContentBlock)
	if !ok || img.ImageFile.FileID == "" {
		t.Fatalf("image part = %s", ic.RawJSON())
	}

	// The chart downloads as a PNG, the CSV as the bytes the code wrote.
	resp, err := c.Files.Content(ctx, img.ImageFile.FileID)
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("image content: %q, %d bytes starting %q", resp.Header.Get("Content-Type"), len(png), png[:min(8, len(png))])
	}
	resp, err = c.Files.Content(ctx, fp.FilePath.FileID)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(csv) != "month,revenue\nFeb,30\nJan,15\n" {
		t.Fatalf("by_month.csv = %q", csv)
	}
	of, err := c.Files.Get(ctx, fp.FilePath.FileID)
	if err != nil || of.Purpose != "assistants_output" || of.Bytes != int64(len(csv)) {
		t.Fatalf("output file: %v %s", err, of.RawJSON())
	}

	// Steps: the code call (with its logs and image output) and the message.
	steps, err := c.Beta.Threads.Runs.Steps.List(ctx, th.ID, run.ID, openai.BetaThreadRunStepListParams{Order: openai.BetaThreadRunStepListParamsOrderAsc})
	if err != nil || len(steps.Data) != 2 {
		t.Fatalf("steps: %v %d", err, len(steps.Data))
	}
	s0, s1 := steps.Data[0], steps.Data[1]
	if s0.Type != "tool_calls" || s0.Status != "completed" || s0.RunID != run.ID || len(s0.StepDetails.ToolCalls) != 1 {
		t.Fatalf("first step = %s", s0.RawJSON())
	}
	ci := s0.StepDetails.ToolCalls[0].CodeInterpreter
	if s0.StepDetails.ToolCalls[0].Type != "code_interpreter" || ci.Input != chartCode || len(ci.Outputs) != 2 ||
		ci.Outputs[0].Type != "logs" || !strings.Contains(ci.Outputs[0].Logs, "'Feb': 30") ||
		ci.Outputs[1].Type != "image" || ci.Outputs[1].Image.FileID != img.ImageFile.FileID {
		t.Fatalf("code step = %s", s0.RawJSON())
	}
	if s1.Type != "message_creation" || s1.StepDetails.MessageCreation.MessageID != m.ID {
		t.Fatalf("message step = %s", s1.RawJSON())
	}
	gs, err := c.Beta.Threads.Runs.Steps.Get(ctx, th.ID, run.ID, s0.ID, openai.BetaThreadRunStepGetParams{})
	if err != nil || gs.ID != s0.ID || gs.Object != "thread.run.step" {
		t.Fatalf("get step: %v %+v", err, gs)
	}

	runs, err := c.Beta.Threads.Runs.List(ctx, th.ID, openai.BetaThreadRunListParams{})
	if err != nil || len(runs.Data) != 1 || runs.Data[0].ID != run.ID || runs.Data[0].Status != openai.RunStatusCompleted {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	ur, err := c.Beta.Threads.Runs.Update(ctx, th.ID, run.ID, openai.BetaThreadRunUpdateParams{Metadata: shared.Metadata{"x": "2"}})
	if err != nil || ur.Metadata["x"] != "2" || ur.Status != openai.RunStatusCompleted {
		t.Fatalf("update run: %v %+v", err, ur)
	}
	// A finished run cannot be cancelled.
	if _, err := c.Beta.Threads.Runs.Cancel(ctx, th.ID, run.ID); statusOf(err) != http.StatusBadRequest {
		t.Fatalf("cancel a completed run: %v", err)
	}
}

// streamed is what a stream delivered.
type streamed struct {
	events []string
	text   string                    // the text of the message deltas, in order
	code   string                    // the code of the step deltas, in order
	logs   string                    // the logs of the step deltas
	msgs   map[string]openai.Message // the completed messages, by id
	last   openai.Run
}

// drain reads a stream to its end, assembling what the SDK's users
// assemble from it.
func drain(t *testing.T, s *ssestream.Stream[openai.AssistantStreamEventUnion]) streamed {
	t.Helper()
	defer s.Close()
	out := streamed{msgs: map[string]openai.Message{}}
	for s.Next() {
		ev := s.Current()
		out.events = append(out.events, ev.Event)
		switch v := ev.AsAny().(type) {
		case openai.AssistantStreamEventThreadMessageDelta:
			for _, c := range v.Data.Delta.Content {
				if c.Type == "text" {
					out.text += c.Text.Value
				}
			}
		case openai.AssistantStreamEventThreadRunStepDelta:
			for _, tc := range v.Data.Delta.StepDetails.ToolCalls {
				out.code += tc.CodeInterpreter.Input
				for _, o := range tc.CodeInterpreter.Outputs {
					out.logs += o.Logs
				}
			}
		case openai.AssistantStreamEventThreadMessageCompleted:
			out.msgs[v.Data.ID] = v.Data
		}
		if strings.HasPrefix(ev.Event, "thread.run.") && !strings.HasPrefix(ev.Event, "thread.run.step.") {
			var env struct {
				Data openai.Run `json:"data"`
			}
			if err := json.Unmarshal([]byte(ev.RawJSON()), &env); err != nil || env.Data.ID == "" {
				t.Fatalf("%s: %v %s", ev.Event, err, ev.RawJSON())
			}
			out.last = env.Data
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream ended with %v after %v", err, out.events)
	}
	return out
}

// has reports whether want occurs in events in this order (not
// necessarily next to each other).
func has(events []string, want ...string) bool {
	i := 0
	for _, e := range events {
		if i < len(want) && e == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestRunStreaming(t *testing.T) {
	answer := "The total is 45 — per month: Jan 15, Feb 30."
	r := newRig(t, nil, nil, pythonCall("print(10 + 5 + 30)"), modeltest.Turn{Text: answer, ChunkSize: 3})
	c := r.client()
	a := newAssistant(t, c, codeInterpreter)
	th := userThread(t, c, "Sum it.")

	st := drain(t, c.Beta.Threads.Runs.NewStreaming(ctxT(t), th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID}))
	if !has(st.events, "thread.run.created", "thread.run.queued", "thread.run.in_progress",
		"thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta", "thread.run.step.completed",
		"thread.message.created", "thread.message.in_progress", "thread.message.delta", "thread.message.completed",
		"thread.run.completed") {
		t.Fatalf("event sequence = %v", st.events)
	}
	if st.events[0] != "thread.run.created" || st.events[len(st.events)-1] != "thread.run.completed" {
		t.Fatalf("stream starts with %s and ends with %s", st.events[0], st.events[len(st.events)-1])
	}
	if st.code != "print(10 + 5 + 30)" || st.logs != "45\n" {
		t.Fatalf("step deltas: code %q, logs %q", st.code, st.logs)
	}
	if st.text != answer || st.last.Status != openai.RunStatusCompleted {
		t.Fatalf("assembled %q, final run %s", st.text, st.last.Status)
	}
	// The assembled text is the stored message's, and the completed event's.
	msgs, err := c.Beta.Threads.Messages.List(ctxT(t), th.ID, openai.BetaThreadMessageListParams{RunID: openai.String(st.last.ID)})
	if err != nil || len(msgs.Data) != 1 || msgs.Data[0].Content[0].Text.Value != st.text {
		t.Fatalf("stored message: %v %+v", err, msgs)
	}
	if done, ok := st.msgs[msgs.Data[0].ID]; !ok || done.Content[0].Text.Value != answer || done.Status != "completed" {
		t.Fatalf("thread.message.completed = %+v", st.msgs)
	}
}

// TestStreamEndsWithDone reads the raw stream: every event is named, its
// data is JSON, and the last one is "data: [DONE]".
func TestStreamEndsWithDone(t *testing.T) {
	r := newRig(t, nil, nil, text("Hi there."))
	c := r.client()
	a := newAssistant(t, c)
	th := userThread(t, c, "Hi")
	code, h, b := r.do("POST", "/v1/threads/"+th.ID+"/runs", strings.NewReader(`{"assistant_id":"`+a.ID+`","stream":true}`),
		map[string]string{"Content-Type": "application/json"})
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream answer %d %q", code, h.Get("Content-Type"))
	}
	blocks := strings.Split(strings.TrimSpace(string(b)), "\n\n")
	if blocks[len(blocks)-1] != "event: done\ndata: [DONE]" {
		t.Fatalf("last block = %q", blocks[len(blocks)-1])
	}
	for _, blk := range blocks[:len(blocks)-1] {
		name, data, ok := strings.Cut(blk, "\n")
		if !ok || !strings.HasPrefix(name, "event: thread.") || !strings.HasPrefix(data, "data: {") || !json.Valid([]byte(data[6:])) {
			t.Fatalf("bad event block %q", blk)
		}
	}
}

func TestFunctionToolRoundTrip(t *testing.T) {
	r := newRig(t, nil, nil,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		text("It is 3°C in Oslo."),
	)
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c, codeInterpreter, weatherTool())
	th := userThread(t, c, "Weather in Oslo?")
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	waiting := pollRun(t, c, th.ID, run.ID)
	mustStatus(t, waiting, openai.RunStatusRequiresAction)
	calls := waiting.RequiredAction.SubmitToolOutputs.ToolCalls
	if waiting.RequiredAction.Type != "submit_tool_outputs" || len(calls) != 1 || calls[0].ID != "call_w1" ||
		calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"city":"Oslo"}` || waiting.ExpiresAt == 0 {
		t.Fatalf("required action = %s", waiting.RawJSON())
	}
	// An output for a call the run does not wait for is refused.
	_, err = c.Beta.Threads.Runs.SubmitToolOutputs(ctx, th.ID, run.ID, openai.BetaThreadRunSubmitToolOutputsParams{
		ToolOutputs: []openai.BetaThreadRunSubmitToolOutputsParamsToolOutput{{ToolCallID: openai.String("call_nope"), Output: openai.String("x")}},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "tool_outputs[0].tool_call_id" {
		t.Fatalf("unknown call id: %v", err)
	}
	queued, err := c.Beta.Threads.Runs.SubmitToolOutputs(ctx, th.ID, run.ID, openai.BetaThreadRunSubmitToolOutputsParams{
		ToolOutputs: []openai.BetaThreadRunSubmitToolOutputsParamsToolOutput{{ToolCallID: openai.String("call_w1"), Output: openai.String(`{"celsius":3}`)}},
	})
	if err != nil || queued.Status != openai.RunStatusQueued || queued.RequiredAction.Type != "" {
		t.Fatalf("submit: %v %+v", err, queued)
	}
	final := pollRun(t, c, th.ID, run.ID)
	mustStatus(t, final, openai.RunStatusCompleted)
	reqs := r.model.Requests()
	if last := reqs[len(reqs)-1].Messages; last[len(last)-1].Role != "tool" || last[len(last)-1].Content != `{"celsius":3}` {
		t.Fatalf("the model did not get the output: %+v", last[len(last)-1])
	}
	steps, err := c.Beta.Threads.Runs.Steps.List(ctx, th.ID, run.ID, openai.BetaThreadRunStepListParams{Order: openai.BetaThreadRunStepListParamsOrderAsc})
	if err != nil || len(steps.Data) != 2 {
		t.Fatalf("steps: %v %+v", err, steps)
	}
	fn := steps.Data[0].StepDetails.ToolCalls[0]
	if fn.Type != "function" || fn.ID != "call_w1" || fn.Function.Name != "get_weather" || fn.Function.Output != `{"celsius":3}` {
		t.Fatalf("function step = %s", steps.Data[0].RawJSON())
	}
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{})
	if err != nil || msgs.Data[0].Content[0].Text.Value != "It is 3°C in Oslo." {
		t.Fatalf("answer: %v %+v", err, msgs.Data[0])
	}
}

func TestSubmitToolOutputsStreaming(t *testing.T) {
	r := newRig(t, nil, nil,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_a", Name: "get_weather", Arguments: `{"city":"Oslo"}`},
			{ID: "call_b", Name: "get_weather", Arguments: `{"city":"Rome"}`}}},
		text("Oslo 3°C, Rome 18°C."),
	)
	c := r.client()
	a := newAssistant(t, c, weatherTool())
	th := userThread(t, c, "Weather in Oslo and Rome?")

	first := drain(t, c.Beta.Threads.Runs.NewStreaming(ctxT(t), th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID}))
	if first.events[len(first.events)-1] != "thread.run.requires_action" || first.last.Status != openai.RunStatusRequiresAction {
		t.Fatalf("first stream = %v", first.events)
	}
	calls := first.last.RequiredAction.SubmitToolOutputs.ToolCalls
	if len(calls) != 2 || calls[0].ID != "call_a" || calls[1].ID != "call_b" {
		t.Fatalf("calls = %+v", calls)
	}
	second := drain(t, c.Beta.Threads.Runs.SubmitToolOutputsStreaming(ctxT(t), th.ID, first.last.ID, openai.BetaThreadRunSubmitToolOutputsParams{
		ToolOutputs: []openai.BetaThreadRunSubmitToolOutputsParamsToolOutput{
			{ToolCallID: openai.String("call_b"), Output: openai.String("18")},
			{ToolCallID: openai.String("call_a"), Output: openai.String("3")},
		},
	}))
	// The function step completes when the outputs come, and then the run
	// is queued again (in the hosted API's order), and goes on to the
	// answer.
	if !has(second.events, "thread.run.step.completed", "thread.run.queued", "thread.run.in_progress",
		"thread.message.created", "thread.message.delta", "thread.message.completed", "thread.run.completed") ||
		slices.Index(second.events, "thread.run.queued") < slices.Index(second.events, "thread.run.step.completed") ||
		second.events[len(second.events)-1] != "thread.run.completed" {
		t.Fatalf("second stream = %v", second.events)
	}
	if second.text != "Oslo 3°C, Rome 18°C." || second.last.ID != first.last.ID {
		t.Fatalf("second stream text %q, run %s", second.text, second.last.ID)
	}
}

func TestNewAndRun(t *testing.T) {
	r := newRig(t, nil, nil, text("First answer."), modeltest.Turn{Text: "Second answer.", ChunkSize: 2})
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c)

	run, err := c.Beta.Threads.NewAndRun(ctx, openai.BetaThreadNewAndRunParams{
		AssistantID: a.ID, Instructions: openai.String("Be brief."),
		Thread: openai.BetaThreadNewAndRunParamsThread{Metadata: shared.Metadata{"via": "new_and_run"},
			Messages: []openai.BetaThreadNewAndRunParamsThreadMessage{{Role: "user",
				Content: openai.BetaThreadNewAndRunParamsThreadMessageContentUnion{OfString: openai.String("Hi")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.Instructions != "Be brief." {
		t.Fatalf("run instructions = %q", run.Instructions)
	}
	final := pollRun(t, c, run.ThreadID, run.ID)
	mustStatus(t, final, openai.RunStatusCompleted)
	th, err := c.Beta.Threads.Get(ctx, run.ThreadID)
	if err != nil || th.Metadata["via"] != "new_and_run" {
		t.Fatalf("thread: %v %+v", err, th)
	}
	msgs, err := c.Beta.Threads.Messages.List(ctx, run.ThreadID, openai.BetaThreadMessageListParams{Order: openai.BetaThreadMessageListParamsOrderAsc})
	if err != nil || len(msgs.Data) != 2 || msgs.Data[0].Content[0].Text.Value != "Hi" || msgs.Data[1].Content[0].Text.Value != "First answer." {
		t.Fatalf("messages: %v %+v", err, msgs)
	}

	st := drain(t, c.Beta.Threads.NewAndRunStreaming(ctxT(t), openai.BetaThreadNewAndRunParams{
		AssistantID: a.ID,
		Thread: openai.BetaThreadNewAndRunParamsThread{Messages: []openai.BetaThreadNewAndRunParamsThreadMessage{{Role: "user",
			Content: openai.BetaThreadNewAndRunParamsThreadMessageContentUnion{OfString: openai.String("Again")}}}},
	}))
	if st.events[0] != "thread.created" || !has(st.events, "thread.created", "thread.run.created", "thread.message.delta", "thread.run.completed") {
		t.Fatalf("events = %v", st.events)
	}
	if st.text != "Second answer." {
		t.Fatalf("assembled %q", st.text)
	}
}

func TestRunCancel(t *testing.T) {
	r := newRig(t, nil, nil, modeltest.Turn{Text: "too late", Delay: time.Minute})
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c)
	th := userThread(t, c, "Take your time.")
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.Beta.Threads.Runs.Cancel(ctx, th.ID, run.ID)
	if err != nil || (cr.Status != openai.RunStatusCancelling && cr.Status != openai.RunStatusCancelled) {
		t.Fatalf("cancel: %v %+v", err, cr)
	}
	final := pollRun(t, c, th.ID, run.ID)
	mustStatus(t, final, openai.RunStatusCancelled)
	if final.CancelledAt == 0 {
		t.Fatalf("cancelled run = %s", final.RawJSON())
	}
	// The thread takes messages again.
	if _, err := c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{Role: "user",
		Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String("ok")}}); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestFiles(t *testing.T) {
	r := newRig(t, nil, nil)
	c := r.client()
	ctx := ctxT(t)
	body := "a,b\n1,2\n"
	f, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(body), "data.csv", "text/csv"), Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.ID, "file-") || f.Object != "file" || f.Filename != "data.csv" || f.Bytes != int64(len(body)) ||
		f.Purpose != "assistants" || f.CreatedAt == 0 {
		t.Fatalf("file = %s", f.RawJSON())
	}
	g, err := c.Files.Get(ctx, f.ID)
	if err != nil || g.ID != f.ID || g.Filename != "data.csv" {
		t.Fatalf("get: %v %+v", err, g)
	}
	vis, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("{}"), "v.json", "application/json"), Purpose: openai.FilePurposeVision})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.Files.List(ctx, openai.FileListParams{Purpose: openai.String("assistants")})
	if err != nil || !slices.Equal(ids(list.Data, func(f openai.FileObject) string { return f.ID }), []string{f.ID}) {
		t.Fatalf("list purpose=assistants: %v %+v", err, list)
	}
	list, err = c.Files.List(ctx, openai.FileListParams{})
	if err != nil || len(list.Data) != 2 || list.Data[0].ID != vis.ID {
		t.Fatalf("list all: %v %+v", err, list)
	}

	resp, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if string(got) != body || ct != "text/csv" || err != nil || disp != "attachment" || params["filename"] != "data.csv" {
		t.Fatalf("content: %q, Content-Type %q, Content-Disposition %q", got, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}

	del, err := c.Files.Delete(ctx, f.ID)
	if err != nil || !del.Deleted || del.ID != f.ID {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if _, err := c.Files.Get(ctx, f.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.Files.Content(ctx, f.ID); statusOf(err) != http.StatusNotFound {
		t.Fatalf("content after delete: %v", err)
	}
}

// --- Azure OpenAI ---

// TestAzureWalkthrough follows the Azure OpenAI Assistants code
// interpreter walkthrough with the azure options of openai-go.
func TestAzureWalkthrough(t *testing.T) {
	r := newRig(t, nil, nil, pythonCall(chartCode), text(chartAnswer), text("Feb is the best month."))
	c := r.azureClient("2024-05-01-preview")
	ctx := ctxT(t)

	a := newAssistant(t, c, codeInterpreter)
	f, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(salesCSV), "sales.csv", "text/csv"), Purpose: openai.FilePurposeAssistants})
	if err != nil {
		t.Fatal(err)
	}
	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{
		ToolResources: openai.BetaThreadNewParamsToolResources{CodeInterpreter: openai.BetaThreadNewParamsToolResourcesCodeInterpreter{FileIDs: []string{f.ID}}},
		Messages: []openai.BetaThreadNewParamsMessage{{Role: "user",
			Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String("Plot revenue by month")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, pollRun(t, c, th.ID, run.ID), openai.RunStatusCompleted)
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{})
	if err != nil || len(msgs.Data) != 2 {
		t.Fatalf("messages: %v %+v", err, msgs)
	}
	newest := msgs.Data[0]
	var imageID string
	for _, part := range newest.Content {
		if part.Type == "image_file" {
			imageID = part.ImageFile.FileID
		}
	}
	if imageID == "" {
		t.Fatalf("the newest message has no image: %s", newest.RawJSON())
	}
	resp, err := c.Files.Content(ctx, imageID)
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("the image is not a PNG")
	}
	// A follow-up on the same thread, streamed.
	if _, err := c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{Role: "user",
		Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String("Which month is best?")}}); err != nil {
		t.Fatal(err)
	}
	st := drain(t, c.Beta.Threads.Runs.NewStreaming(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID}))
	if st.last.Status != openai.RunStatusCompleted || st.text != "Feb is the best month." {
		t.Fatalf("follow-up stream: %v %q", st.events, st.text)
	}
	// The model saw the whole thread, the chart's turn included.
	reqs := r.model.Requests()
	if msgs := reqs[len(reqs)-1].Messages; len(msgs) < 5 || msgs[len(msgs)-1].Content != "Which month is best?" {
		t.Fatalf("follow-up request: %+v", msgs)
	}
}

// TestAzureV1Shapes: on 2024-02-15-preview, file_ids on assistants and
// messages are accepted, and answers carry file_ids.
func TestAzureV1Shapes(t *testing.T) {
	r := newRig(t, nil, nil)
	f := upload(t, r.client(), "sales.csv", salesCSV)
	const v1 = "?api-version=2024-02-15-preview"
	hdr := map[string]string{"Authorization": "", "api-key": testKey, "Content-Type": "application/json"}

	code, _, b := r.do("POST", "/openai/assistants"+v1, strings.NewReader(`{"model":"gpt-4","tools":[{"type":"code_interpreter"}],"file_ids":["`+f.ID+`"]}`), hdr)
	var a struct {
		ID            string   `json:"id"`
		FileIDs       []string `json:"file_ids"`
		ToolResources struct {
			CodeInterpreter struct {
				FileIDs []string `json:"file_ids"`
			} `json:"code_interpreter"`
		} `json:"tool_resources"`
	}
	if json.Unmarshal(b, &a); code != 200 || !slices.Equal(a.FileIDs, []string{f.ID}) || !slices.Equal(a.ToolResources.CodeInterpreter.FileIDs, []string{f.ID}) {
		t.Fatalf("v1 assistant: %d %s", code, b)
	}
	code, _, b = r.do("POST", "/openai/threads"+v1, strings.NewReader(`{"messages":[{"role":"user","content":"hi","file_ids":["`+f.ID+`"]}]}`), hdr)
	var th struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &th); code != 200 || th.ID == "" {
		t.Fatalf("v1 thread: %d %s", code, b)
	}
	code, _, b = r.do("POST", "/openai/threads/"+th.ID+"/messages"+v1, strings.NewReader(`{"role":"user","content":"more","file_ids":["`+f.ID+`"]}`), hdr)
	var m struct {
		FileIDs     []string `json:"file_ids"`
		Attachments []struct {
			FileID string `json:"file_id"`
		} `json:"attachments"`
	}
	if json.Unmarshal(b, &m); code != 200 || !slices.Equal(m.FileIDs, []string{f.ID}) || len(m.Attachments) != 1 || m.Attachments[0].FileID != f.ID {
		t.Fatalf("v1 message: %d %s", code, b)
	}
	// Lists carry file_ids on every item too.
	code, _, b = r.do("GET", "/openai/threads/"+th.ID+"/messages"+v1, nil, hdr)
	var l struct {
		Data []struct {
			FileIDs []string `json:"file_ids"`
		} `json:"data"`
	}
	if json.Unmarshal(b, &l); code != 200 || len(l.Data) != 2 || !slices.Equal(l.Data[0].FileIDs, []string{f.ID}) || !slices.Equal(l.Data[1].FileIDs, []string{f.ID}) {
		t.Fatalf("v1 message list: %d %s", code, b)
	}
	// The v2 version does not add them.
	code, _, b = r.do("GET", "/openai/threads/"+th.ID+"/messages?api-version=2024-05-01-preview", nil, hdr)
	if code != 200 || strings.Contains(string(b), `"file_ids"`) {
		t.Fatalf("v2 message list: %d %s", code, b)
	}
}

func TestAzureAPIVersionErrors(t *testing.T) {
	r := newRig(t, nil, nil)
	hdr := map[string]string{"Authorization": "", "api-key": testKey}
	code, _, b := r.do("GET", "/openai/assistants", nil, hdr)
	if code != 404 || strings.TrimSpace(string(b)) != `{"error":{"code":"404","message":"Resource not found"}}` {
		t.Fatalf("missing api-version: %d %s", code, b)
	}
	for _, v := range []string{"2023-05-15", "2024-02-15", "banana", "2024-13-45-preview-x"} {
		code, _, b := r.do("GET", "/openai/assistants?api-version="+v, nil, hdr)
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e); code != 400 || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("api-version %s: %d %s", v, code, b)
		}
	}
	// The SDK sees the same error.
	old := r.azureClient("2023-05-15")
	_, err := old.Beta.Assistants.List(ctxT(t), openai.BetaAssistantListParams{})
	if statusOf(err) != 400 {
		t.Fatalf("SDK with an unsupported version: %v", err)
	}
	// A later dated version is accepted.
	later := r.azureClient("2025-04-01-preview")
	if _, err := later.Beta.Assistants.List(ctxT(t), openai.BetaAssistantListParams{}); err != nil {
		t.Fatalf("2025-04-01-preview: %v", err)
	}
}
