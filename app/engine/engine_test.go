package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/apptest"
	"plotline/app/engine"
	"plotline/app/modeltest"
	"plotline/interpreter"
	"plotline/interpreter/interptest"
)

var testPython *interpreter.Python

func TestMain(m *testing.M) {
	testPython = interptest.Setup()
	if os.Getenv(childEnv) != "" {
		// A re-executed test binary playing the app that gets killed
		// (TestKillDuringCellThenRecover).
		os.Exit(engineChild())
	}
	os.Exit(m.Run())
}

// rig is an engine wired to a real store, real sandboxed kernels and the
// scripted model server.
type rig struct {
	t     *testing.T
	e     *engine.Engine
	model *modeltest.Server
	data  string
	asst  *app.Assistant
}

func newRig(t *testing.T, tune func(*engine.Config), turns ...modeltest.Turn) *rig {
	t.Helper()
	srv := modeltest.NewServer(t, turns...)
	data := t.TempDir()
	r := &rig{t: t, model: srv, data: data}
	r.e = openEngine(t, data, srv.BaseURL(), tune)
	a, err := r.e.CreateAssistant(context.Background(), app.AssistantParams{
		Name: ptr("Analyst"), Instructions: ptr("You analyse data."),
		Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.asst = a
	return r
}

func openEngine(t testing.TB, data, baseURL string, tune func(*engine.Config)) *engine.Engine {
	return openEngineWith(t, data, baseURL, nil, tune)
}

// openEngineWith is openEngine with the interpreter's Config tuned too.
func openEngineWith(t testing.TB, data, baseURL string, tuneInterp func(*interpreter.Config), tune func(*engine.Config)) *engine.Engine {
	e, closeAll, err := buildEngine(data, baseURL, tuneInterp, tune)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAll)
	return e
}

// buildEngine wires an engine on the data folder as the app does, and
// recovers it; closeAll closes it with its interpreter and store.
func buildEngine(data, baseURL string, tuneInterp func(*interpreter.Config), tune func(*engine.Config)) (e *engine.Engine, closeAll func(), err error) {
	return apptest.Build(testPython, data, baseURL, apptest.Options{Interpreter: tuneInterp, Engine: tune})
}

func ptr[T any](v T) *T { return &v }

func text(s string) json.RawMessage { b, _ := json.Marshal(s); return b }

var pythonCall = modeltest.PythonCall

// upload stores a file for the tests.
func (r *rig) upload(name, body string) *app.File {
	f, err := r.e.CreateFile(context.Background(), name, app.PurposeAssistants, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	return f
}

// ask creates a thread with one user message and runs it to its end.
func (r *rig) ask(question string, atts ...string) (*app.Thread, *app.Run) {
	r.t.Helper()
	ctx := context.Background()
	mp := app.MessageParams{Role: "user", Content: text(question)}
	for _, id := range atts {
		mp.Attachments = append(mp.Attachments, app.Attachment{FileID: id, Tools: []app.Tool{{Type: app.ToolCodeInterpreter}}})
	}
	th, err := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{mp}})
	if err != nil {
		r.t.Fatal(err)
	}
	return th, r.runToEnd(th.ID, app.RunParams{AssistantID: r.asst.ID})
}

func (r *rig) runToEnd(threadID string, p app.RunParams) *app.Run {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if p.AssistantID == "" {
		p.AssistantID = r.asst.ID
	}
	run, _, err := r.e.CreateRun(ctx, threadID, p)
	if err != nil {
		r.t.Fatal(err)
	}
	final, err := r.e.WaitRun(ctx, threadID, run.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return final
}

func (r *rig) messages(threadID, runID string) []app.Message {
	l, err := r.e.ListMessages(context.Background(), threadID, runID, app.ListOptions{Order: "asc", Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	return l.Data
}

func (r *rig) steps(threadID, runID string) []app.RunStep {
	l, err := r.e.ListRunSteps(context.Background(), threadID, runID, app.ListOptions{Order: "asc", Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	return l.Data
}

func (r *rig) fileBytes(id string) []byte {
	_, rc, err := r.e.OpenFile(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

func mustCompleted(t *testing.T, run *app.Run) {
	t.Helper()
	if run.Status != app.RunCompleted {
		t.Fatalf("run %s: status %s, last_error %+v", run.ID, run.Status, run.LastError)
	}
}

// toolMessages returns the tool results the model was sent in request i.
func toolMessages(srv *modeltest.Server, i int) []string {
	reqs := srv.Requests()
	var out []string
	if i < len(reqs) {
		for _, m := range reqs[i].Messages {
			if m.Role == "tool" {
				out = append(out, m.Content)
			}
		}
	}
	return out
}

func TestChartFromCSVEndToEnd(t *testing.T) {
	r := newRig(t, nil,
		pythonCall(`import pandas as pd, matplotlib.pyplot as plt
df = pd.read_csv("/mnt/data/sales.csv")
by = df.groupby("month").revenue.sum()
by.plot(kind="bar", title="Revenue by month")
by.to_csv("by_month.csv")
print(by.to_dict())`),
		modeltest.Turn{Text: "Revenue peaks in Feb. Data: [by month](sandbox:/mnt/data/by_month.csv)."},
	)
	csv := r.upload("sales.csv", "month,revenue\nJan,10\nFeb,30\nJan,5\n")
	th, run := r.ask("Plot revenue by month", csv.ID)
	mustCompleted(t, run)

	// The model was told about the file, and got the code's output back.
	reqs := r.model.Requests()
	if len(reqs) != 2 {
		t.Fatalf("model requests = %d", len(reqs))
	}
	sys := reqs[0].Messages[0]
	if sys.Role != "system" || !strings.Contains(sys.Content, "/mnt/data/sales.csv") || !strings.Contains(sys.Content, "month (text), revenue (int)") {
		t.Fatalf("system prompt lacks the file preview:\n%s", sys.Content)
	}
	if len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Name != "python" {
		t.Fatalf("tools = %+v", reqs[0].Tools)
	}
	if tm := toolMessages(r.model, 1); len(tm) != 1 || !strings.Contains(tm[0], "{'Feb': 30, 'Jan': 15}") || !strings.Contains(tm[0], "1 image") {
		t.Fatalf("tool result sent to the model: %q", tm)
	}

	steps := r.steps(th.ID, run.ID)
	if len(steps) != 2 || steps[0].Type != app.StepToolCalls || steps[1].Type != app.StepMessageCreation {
		t.Fatalf("steps = %+v", steps)
	}
	ci := steps[0].StepDetails.ToolCalls[0].CodeInterpreter
	if ci == nil || !strings.Contains(ci.Input, "groupby") || len(ci.Outputs) != 2 ||
		ci.Outputs[0].Type != "logs" || ci.Outputs[1].Type != "image" {
		t.Fatalf("code step = %+v", steps[0].StepDetails.ToolCalls[0])
	}
	if png := r.fileBytes(ci.Outputs[1].Image.FileID); !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("the image output is not a stored PNG")
	}

	msgs := r.messages(th.ID, run.ID)
	if len(msgs) != 1 {
		t.Fatalf("run messages = %d", len(msgs))
	}
	m := msgs[0]
	if m.Role != "assistant" || m.Status != app.MessageCompleted || len(m.Content) != 2 ||
		m.Content[0].Type != "image_file" || m.Content[1].Type != "text" {
		t.Fatalf("answer = %+v", m)
	}
	if m.Content[0].ImageFile.FileID != ci.Outputs[1].Image.FileID {
		t.Fatal("the answer's image is not the step's image")
	}
	ann := m.Content[1].Text.Annotations
	if len(ann) != 1 {
		t.Fatalf("annotations = %+v", ann)
	}
	want := "sandbox:/mnt/data/by_month.csv"
	start := strings.Index(m.Content[1].Text.Value, want)
	if ann[0].Type != "file_path" || ann[0].Text != want || ann[0].StartIndex != start || ann[0].EndIndex != start+len(want) {
		t.Fatalf("annotation = %+v, want %q at %d", ann[0], want, start)
	}
	f, err := r.e.GetFile(context.Background(), ann[0].FilePath.FileID)
	if err != nil || f.Purpose != app.PurposeAssistantsOutput || f.Filename != "/mnt/data/by_month.csv" {
		t.Fatalf("linked file = %+v, %v", f, err)
	}
	if got := string(r.fileBytes(f.ID)); got != "month,revenue\nFeb,30\nJan,15\n" {
		t.Fatalf("by_month.csv = %q", got)
	}
}
