package engine_test

// The engine's behaviour beyond its first tests (engine_test.go, loop_test.go):
// truncation, annotations, kill -9, attachments, tool_choice, models without
// tools, streaming, limits, validation, deletion and session expiry. They use
// the same rig: a real store, real sandboxed kernels and the scripted model.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/modeltest"
	"plotline/interpreter/interptest"
)

// --- helpers ---

// shape renders a request's messages after the system prompt compactly:
// "user:TEXT", "assistant:TEXT", "assistant→NAME#ID" for a call, and
// "tool#ID" for a result.
func shape(msgs []modeltest.Message) []string {
	var out []string
	for _, m := range msgs {
		switch {
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			s := "assistant"
			if m.Content != "" {
				s += ":" + m.Content
			}
			for _, c := range m.ToolCalls {
				s += "→" + c.Name + "#" + c.ID
			}
			out = append(out, s)
		case m.Role == "tool":
			out = append(out, "tool#"+m.ToolCallID)
		default:
			out = append(out, m.Role+":"+m.Content)
		}
	}
	return out
}

// checkRequestShape fails unless request i is the system prompt sys
// followed by want, and no tool result in it lacks its call.
func checkRequestShape(t *testing.T, srv *modeltest.Server, i int, sys string, want ...string) {
	t.Helper()
	reqs := srv.Requests()
	if i >= len(reqs) {
		t.Fatalf("request %d was never sent (%d requests)", i, len(reqs))
	}
	msgs := reqs[i].Messages
	if len(msgs) == 0 || msgs[0].Role != "system" || msgs[0].Content != sys {
		t.Fatalf("request %d does not start with the whole system prompt: %+v", i, msgs)
	}
	if got := shape(msgs[1:]); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("request %d messages:\n got  %q\n want %q", i, got, want)
	}
	checkNoOrphanResults(t, reqs[i])
}

// checkNoOrphanResults fails if a tool result comes without the call it
// answers earlier in the request: the chat API refuses that.
func checkNoOrphanResults(t *testing.T, req modeltest.Request) {
	t.Helper()
	calls := map[string]bool{}
	for _, m := range req.Messages {
		for _, c := range m.ToolCalls {
			calls[c.ID] = true
		}
		if m.Role == "tool" && !calls[m.ToolCallID] {
			t.Fatalf("tool result %s is sent without its call: %q", m.ToolCallID, shape(req.Messages))
		}
	}
}

// collect returns the events of sub up to the one that ends run runID.
func collect(t *testing.T, sub *app.Subscription, runID string) []app.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var evs []app.Event
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("run %s never ended; events so far: %q", runID, names(evs))
		}
		evs = append(evs, ev)
		if ev.RunID == runID && ev.Final() {
			return evs
		}
	}
}

// names lists the events' names, with runs of the same name made one.
func names(evs []app.Event) []string {
	var out []string
	for _, ev := range evs {
		if len(out) == 0 || out[len(out)-1] != ev.Name {
			out = append(out, ev.Name)
		}
	}
	return out
}

// waitForOutput waits until a code step of the thread prints want.
func waitForOutput(t *testing.T, sub *app.Subscription, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("the cell never printed %q", want)
		}
		if d, ok := ev.Data.(*app.RunStepDelta); ok {
			for _, tc := range d.Delta.StepDetails.ToolCalls {
				if ci := tc.CodeInterpreter; ci != nil {
					for _, o := range ci.Outputs {
						if strings.Contains(o.Logs, want) {
							return
						}
					}
				}
			}
		}
	}
}

// procsWith lists the host pids whose command line is exactly argv.
func procsWith(argv ...string) []int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Equal(b, want) {
			out = append(out, pid)
		}
	}
	return out
}

// sandboxInits lists the running sandbox init processes whose parent is ppid.
func sandboxInits(ppid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) < 2 || f[1] != strconv.Itoa(ppid) {
			continue
		}
		if isSandboxInit(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// killAll kills what a failed test found left behind, so that it does
// not outlive the test run.
func killAll(pids []int) {
	for _, pid := range pids {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

func isSandboxInit(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte("__plotline-sandbox-init"))
}

// uniqueSleep is an argument for sleep that no other process has.
func uniqueSleep() string {
	return fmt.Sprintf("4242.%d", time.Now().UnixNano()%1e9)
}

func isInputError(err error, param string) bool {
	var ie *app.InputError
	return errors.As(err, &ie) && ie.Param == param
}

func (r *rig) thread(msgs ...string) *app.Thread {
	r.t.Helper()
	var mp []app.MessageParams
	for _, m := range msgs {
		mp = append(mp, app.MessageParams{Role: "user", Content: text(m)})
	}
	th, err := r.e.CreateThread(context.Background(), app.ThreadParams{Messages: mp})
	if err != nil {
		r.t.Fatal(err)
	}
	return th
}

func (r *rig) say(threadID, msg string) {
	r.t.Helper()
	if _, err := r.e.CreateMessage(context.Background(), threadID, app.MessageParams{Role: "user", Content: text(msg)}); err != nil {
		r.t.Fatal(err)
	}
}

func callTurn(id, name, args string) modeltest.Turn {
	return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: id, Name: name, Arguments: args}}}
}

// --- 1. truncation ---

func TestTruncationLastMessages(t *testing.T) {
	r := newRig(t, nil,
		modeltest.Turn{Text: "r1"},
		modeltest.Turn{Text: "r2"},
		callTurn("call_x", "nosuch", `{}`),
		modeltest.Turn{Text: "r3"},
	)
	ctx := context.Background()
	th, err := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{
		{Role: "user", Content: text("u1")}, {Role: "assistant", Content: text("a1")},
		{Role: "user", Content: text("u2")}, {Role: "assistant", Content: text("a2")},
		{Role: "user", Content: text("u3")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	last := func(n int) app.RunParams {
		return app.RunParams{TruncationStrategy: &app.TruncationStrategy{Type: "last_messages", LastMessages: &n}}
	}
	run := r.runToEnd(th.ID, last(1))
	mustCompleted(t, run)
	if ts := run.TruncationStrategy; ts == nil || ts.Type != "last_messages" || ts.LastMessages == nil || *ts.LastMessages != 1 {
		t.Fatalf("run truncation_strategy = %+v", ts)
	}
	sys := r.model.Requests()[0].Messages[0].Content
	if !strings.HasPrefix(sys, "You analyse data.") {
		t.Fatalf("system prompt = %q", sys)
	}
	checkRequestShape(t, r.model, 0, sys, "user:u3")

	mustCompleted(t, r.runToEnd(th.ID, last(3)))
	checkRequestShape(t, r.model, 1, sys, "assistant:a2", "user:u3", "assistant:r1")

	// Within a run, the calls made since the last message stay with it.
	r.say(th.ID, "u4")
	mustCompleted(t, r.runToEnd(th.ID, last(1)))
	checkRequestShape(t, r.model, 2, sys, "user:u4")
	checkRequestShape(t, r.model, 3, sys, "user:u4", "assistant→nosuch#call_x", "tool#call_x")
}

func TestTruncationAutoKeepsCallsWithResults(t *testing.T) {
	big := strings.Repeat("x", 4000)
	r := newRig(t, nil,
		callTurn("call_big", "get_weather", `{"city":"`+big+`"}`),
		modeltest.Turn{Text: "a1"},
		modeltest.Turn{Text: "a2"},
		callTurn("call_y", "nosuch", `{}`),
		modeltest.Turn{Text: "a3"},
	)
	ctx := context.Background()
	th := r.thread("u1")
	tools := []app.Tool{{Type: app.ToolCodeInterpreter}, weatherTool()}
	run := r.runToEnd(th.ID, app.RunParams{Tools: &tools})
	if run.Status != app.RunRequiresAction {
		t.Fatalf("status = %s", run.Status)
	}
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_big", Output: "sunny"}}, false); err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, r.runWait(th.ID, run.ID))
	sys := r.model.Requests()[0].Messages[0].Content
	checkRequestShape(t, r.model, 1, sys, "user:u1", "assistant→get_weather#call_big", "tool#call_big")

	// The budget holds the system prompt, u2, a1 and the call's result,
	// but not the big call: the result goes with it.
	r.say(th.ID, "u2")
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{Tools: &tools, MaxPromptTokens: ptr[int64](300)}))
	checkRequestShape(t, r.model, 2, sys, "assistant:a1", "user:u2")

	// A budget smaller than the system prompt: the prompt stays whole, with
	// the newest message, and a newest tool result keeps its call.
	r.say(th.ID, "u3")
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{Tools: &tools, MaxPromptTokens: ptr[int64](1)}))
	checkRequestShape(t, r.model, 3, sys, "user:u3")
	checkRequestShape(t, r.model, 4, sys, "assistant→nosuch#call_y", "tool#call_y")
}

// --- 2. annotations ---

func TestAnnotationIndicesCountCodePoints(t *testing.T) {
	answer := "Prêt ✅ 📈 — voir [ici](sandbox:/mnt/data/out.csv). Copie : sandbox:/mnt/data/out.csv. " +
		"Résumé : [là](sandbox:/mnt/data/résumé.txt), absent : [x](sandbox:/mnt/data/absent.csv)."
	r := newRig(t, nil,
		pythonCall("open('out.csv', 'w').write('a,b\\n1,2\\n')\nopen('résumé.txt', 'w').write('ok ✅')"),
		modeltest.Turn{Text: answer},
	)
	th, run := r.ask("Make the files.")
	mustCompleted(t, run)
	msgs := r.messages(th.ID, run.ID)
	if len(msgs) != 1 || len(msgs[0].Content) != 1 || msgs[0].Content[0].Text == nil {
		t.Fatalf("answer = %+v", msgs)
	}
	txt := msgs[0].Content[0].Text
	if txt.Value != answer {
		t.Fatalf("text = %q", txt.Value)
	}
	runes := []rune(answer)
	// The code-point offsets of each link in the answer, in order.
	type want struct {
		link  string
		start int
		bytes string
	}
	var wants []want
	from := 0
	for _, w := range []struct{ link, bytes string }{
		{"sandbox:/mnt/data/out.csv", "a,b\n1,2\n"},
		{"sandbox:/mnt/data/out.csv", "a,b\n1,2\n"},
		{"sandbox:/mnt/data/résumé.txt", "ok ✅"},
	} {
		i := strings.Index(answer[from:], w.link) + from
		wants = append(wants, want{w.link, len([]rune(answer[:i])), w.bytes})
		from = i + len(w.link)
	}
	ann := txt.Annotations
	if len(ann) != len(wants) {
		t.Fatalf("annotations = %+v, want %d (none for the missing file)", ann, len(wants))
	}
	for i, w := range wants {
		a := ann[i]
		end := w.start + len([]rune(w.link))
		if a.Type != "file_path" || a.Text != w.link || a.StartIndex != w.start || a.EndIndex != end || a.FilePath == nil {
			t.Fatalf("annotation %d = %+v, want %q at [%d, %d)", i, a, w.link, w.start, end)
		}
		if got := string(runes[a.StartIndex:a.EndIndex]); got != w.link {
			t.Fatalf("annotation %d spans %q", i, got)
		}
		if got := string(r.fileBytes(a.FilePath.FileID)); got != w.bytes {
			t.Fatalf("annotation %d's file holds %q, want %q", i, got, w.bytes)
		}
	}
	if ann[0].FilePath.FileID != ann[1].FilePath.FileID {
		t.Fatalf("two links to out.csv point at two files: %s, %s", ann[0].FilePath.FileID, ann[1].FilePath.FileID)
	}
	// The full stop after the bare link is not part of it.
	if runes[ann[1].EndIndex] != '.' {
		t.Fatalf("the second link ends before %q", runes[ann[1].EndIndex])
	}
}

// --- 3. kill -9 ---

const childEnv = "PLOTLINE_ENGINE_CHILD"

// childIDs is what the child reports once its cell runs.
type childIDs struct {
	Thread, Message, Run, File string
}

// engineChild plays the app for TestKillDuringCellThenRecover: it opens an
// engine on the data folder, asks a question whose code sleeps, reports the
// ids once the code runs, and waits to be killed.
func engineChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "engine child:", err)
		return 2
	}
	e, _, err := buildEngine(os.Getenv(childEnv+"_DATA"), os.Getenv(childEnv+"_MODEL"), nil, nil)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	a, err := e.CreateAssistant(ctx, app.AssistantParams{Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}}})
	if err != nil {
		return fail(err)
	}
	f, err := e.CreateFile(ctx, "input.csv", app.PurposeAssistants, strings.NewReader("x,y\n1,2\n"))
	if err != nil {
		return fail(err)
	}
	th, err := e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("Wait."),
		Attachments: []app.Attachment{{FileID: f.ID, Tools: []app.Tool{{Type: app.ToolCodeInterpreter}}}}}}})
	if err != nil {
		return fail(err)
	}
	msgs, err := e.ListMessages(ctx, th.ID, "", app.ListOptions{})
	if err != nil || len(msgs.Data) != 1 {
		return fail(fmt.Errorf("messages: %v", err))
	}
	run, sub, err := e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: a.ID, Stream: true})
	if err != nil {
		return fail(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for running := false; !running; {
		ev, err := sub.Next(wctx)
		if err != nil {
			return fail(errors.New("the cell never printed"))
		}
		if ev.Final() {
			return fail(fmt.Errorf("the run ended: %+v", ev.Data))
		}
		if d, ok := ev.Data.(*app.RunStepDelta); ok {
			for _, tc := range d.Delta.StepDetails.ToolCalls {
				if tc.CodeInterpreter != nil && len(tc.CodeInterpreter.Outputs) > 0 && strings.Contains(tc.CodeInterpreter.Outputs[0].Logs, "running") {
					running = true
				}
			}
		}
	}
	json.NewEncoder(os.Stdout).Encode(childIDs{Thread: th.ID, Message: msgs.Data[0].ID, Run: run.ID, File: f.ID})
	time.Sleep(10 * time.Minute) // the parent kills it long before
	return 3
}

func TestKillDuringCellThenRecover(t *testing.T) {
	marker := uniqueSleep()
	srv := modeltest.NewServer(t,
		pythonCall(fmt.Sprintf("import subprocess, time\nopen('partial.txt', 'w').write('partial')\n"+
			"child = subprocess.Popen(['sleep', %q])\nprint('running', flush=True)\ntime.sleep(3600)", marker)),
		pythonCall("import os\nprint(sorted(os.listdir('.')))"),
		modeltest.Turn{Text: "Still here."},
	)
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childEnv+"_DATA="+data, childEnv+"_MODEL="+srv.BaseURL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(out).ReadBytes('\n')
		line <- b
	}()
	var ids childIDs
	select {
	case b := <-line:
		if err := json.Unmarshal(b, &ids); err != nil {
			t.Fatalf("the child said %q: %v\nstderr:\n%s", b, err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the child never reported; stderr:\n%s", stderr.String())
	}
	// Kill only once there is something to leave behind: the kernel's
	// sandbox and the process the cell started.
	if !interptest.Eventually(10*time.Second, func() bool { return len(procsWith("sleep", marker)) == 1 }) {
		t.Fatal("the cell's sleep process never ran: the test would prove nothing")
	}
	inits := sandboxInits(cmd.Process.Pid)
	if len(inits) == 0 {
		t.Fatal("the child has no sandbox process")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	if !interptest.Eventually(10*time.Second, func() bool {
		for _, pid := range inits {
			if isSandboxInit(pid) {
				return false
			}
		}
		return len(procsWith("sleep", marker)) == 0
	}) {
		left := procsWith("sleep", marker)
		killAll(append(inits, left...))
		t.Fatalf("processes survived the kill: sandbox %v, sleep %v", inits, left)
	}

	e := openEngine(t, data, srv.BaseURL(), nil)
	r := &rig{t: t, e: e, model: srv, data: data}
	ctx := context.Background()
	run, err := e.GetRun(ctx, ids.Thread, ids.Run)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != app.RunFailed || run.FailedAt == nil || run.LastError == nil || run.LastError.Code != app.ErrCodeServer ||
		!strings.Contains(run.LastError.Message, "Plotline stopped") {
		t.Fatalf("the interrupted run = %s %+v", run.Status, run.LastError)
	}
	steps := r.steps(ids.Thread, ids.Run)
	if len(steps) != 1 || steps[0].Status != app.StepFailed || steps[0].FailedAt == nil || steps[0].LastError == nil ||
		steps[0].LastError.Code != app.ErrCodeServer || !strings.Contains(steps[0].LastError.Message, "Plotline stopped") {
		t.Fatalf("the interrupted step = %+v", steps)
	}
	if tc := steps[0].StepDetails.ToolCalls; len(tc) != 1 || tc[0].CodeInterpreter == nil || !strings.Contains(tc[0].CodeInterpreter.Input, marker) {
		t.Fatalf("the interrupted step's call = %+v", tc)
	}
	msgs := r.messages(ids.Thread, "")
	if len(msgs) != 1 || msgs[0].ID != ids.Message || textOfMessage(msgs[0]) != "Wait." ||
		len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].FileID != ids.File {
		t.Fatalf("messages = %+v", msgs)
	}
	if got := string(r.fileBytes(ids.File)); got != "x,y\n1,2\n" {
		t.Fatalf("the uploaded file holds %q", got)
	}
	dir := filepath.Join(data, "work", ids.Thread)
	for name, want := range map[string]string{"input.csv": "x,y\n1,2\n", "partial.txt": "partial"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Fatalf("work folder's %s: %q, %v", name, b, err)
		}
	}

	// The thread is free: a new message and run work, in the same folder.
	r.say(ids.Thread, "Still there?")
	rp := app.RunParams{AssistantID: run.AssistantID}
	mustCompleted(t, r.runToEnd(ids.Thread, rp))
	if tm := toolMessages(srv, 2); len(tm) != 2 || tm[0] != "(the run stopped before this code finished)" ||
		tm[1] != "['input.csv', 'partial.txt']\n" {
		t.Fatalf("tool results after the restart: %q", tm)
	}
}

func textOfMessage(m app.Message) string {
	var s []string
	for _, c := range m.Content {
		if c.Text != nil {
			s = append(s, c.Text.Value)
		}
	}
	return strings.Join(s, "\n")
}

// --- 4. attachments ---

func TestFilesOfAssistantThreadAndMessagesInMntData(t *testing.T) {
	r := newRig(t, nil,
		pythonCall("import os\nfor n in sorted(os.listdir('.')):\n    print(n, '=', open(n).read().strip())"),
		modeltest.Turn{Text: "Seen."},
	)
	ctx := context.Background()
	fa := r.upload("a.txt", "from assistant")
	fb := r.upload("b.txt", "from thread")
	fc1 := r.upload("c.csv", "first\n")
	fc2 := r.upload("c.csv", "second\n")
	a, err := r.e.CreateAssistant(ctx, app.AssistantParams{Instructions: ptr("Look."),
		Tools:         &[]app.Tool{{Type: app.ToolCodeInterpreter}},
		ToolResources: &app.ToolResources{CodeInterpreter: &app.CodeInterpreterResources{FileIDs: []string{fa.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	th, err := r.e.CreateThread(ctx, app.ThreadParams{
		ToolResources: &app.ToolResources{CodeInterpreter: &app.CodeInterpreterResources{FileIDs: []string{fb.ID}}},
		Messages: []app.MessageParams{
			{Role: "user", Content: text("One."), Attachments: []app.Attachment{{FileID: fc1.ID, Tools: []app.Tool{{Type: app.ToolCodeInterpreter}}}}},
			{Role: "user", Content: text("Two."), FileIDs: []string{fc2.ID}}, // the v1 shape
		}})
	if err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{AssistantID: a.ID}))
	if tm := toolMessages(r.model, 1); len(tm) != 1 ||
		tm[0] != "a.txt = from assistant\nb.txt = from thread\nc (1).csv = second\nc.csv = first\n" {
		t.Fatalf("/mnt/data held: %q", tm)
	}
	req := r.model.Requests()[0]
	sys := req.Messages[0].Content
	for _, n := range []string{"a.txt", "b.txt", "c.csv", "c (1).csv"} {
		if !strings.Contains(sys, "- /mnt/data/"+n+" (") {
			t.Fatalf("the system prompt does not list %s:\n%s", n, sys)
		}
	}
	// Each message tells the model the name its file actually got.
	if got := shape(req.Messages[1:]); !reflect.DeepEqual(got, []string{
		"user:One.\n\n(Attached: /mnt/data/c.csv)", "user:Two.\n\n(Attached: /mnt/data/c (1).csv)"}) {
		t.Fatalf("messages = %q", got)
	}
	msgs := r.messages(th.ID, "")
	if at := msgs[1].Attachments; len(at) != 1 || at[0].FileID != fc2.ID || len(at[0].Tools) != 1 || at[0].Tools[0].Type != app.ToolCodeInterpreter {
		t.Fatalf("the v1 file_ids became attachments %+v", at)
	}
}

func TestInputFilesKeepTheirNamesAfterARestart(t *testing.T) {
	list := pythonCall("import os\nfor n in sorted(os.listdir('.')):\n    print(n, '=', open(n).read().strip())")
	srv := modeltest.NewServer(t, list, modeltest.Turn{Text: "Seen."}, list, modeltest.Turn{Text: "Seen again."})
	data := t.TempDir()
	e1, close1, err := buildEngine(data, srv.BaseURL(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(close1) })
	r := &rig{t: t, e: e1, model: srv, data: data}
	if r.asst, err = e1.CreateAssistant(context.Background(), app.AssistantParams{Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}}}); err != nil {
		t.Fatal(err)
	}
	f1, f2 := r.upload("c.csv", "first\n"), r.upload("c.csv", "second\n")
	th, err := e1.CreateThread(context.Background(), app.ThreadParams{Messages: []app.MessageParams{
		{Role: "user", Content: text("One."), FileIDs: []string{f1.ID}},
		{Role: "user", Content: text("Two."), FileIDs: []string{f2.ID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{}))
	const want = "c (1).csv = second\nc.csv = first\n"
	if tm := toolMessages(srv, 1); len(tm) != 1 || tm[0] != want {
		t.Fatalf("/mnt/data held: %q", tm)
	}

	// The app restarts: the new engine finds each file under the name it
	// got, rather than adding another copy.
	once.Do(close1)
	r.e = openEngine(t, data, srv.BaseURL(), nil)
	r.say(th.ID, "Again.")
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{}))
	if tm := toolMessages(srv, 3); len(tm) != 2 || tm[1] != want {
		t.Fatalf("after the restart /mnt/data held: %q", tm)
	}
	req := srv.Requests()[2]
	if got := shape(req.Messages[1:3]); !reflect.DeepEqual(got, []string{
		"user:One.\n\n(Attached: /mnt/data/c.csv)", "user:Two.\n\n(Attached: /mnt/data/c (1).csv)"}) {
		t.Fatalf("after the restart the model was told %q", got)
	}
}

// --- 5. tool_choice ---

var pythonParams = map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{
	"type": "string", "description": "The Python code to run."}}, "required": []any{"code"}}

var weatherParams = map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}

func forced(name string) any {
	return map[string]any{"type": "function", "function": map[string]any{"name": name}}
}

// checkTools fails unless request req offered exactly the python and
// get_weather functions (or nothing) and chose choice.
func checkTools(t *testing.T, req modeltest.Request, withTools bool, choice any) {
	t.Helper()
	if !reflect.DeepEqual(req.ToolChoice, choice) {
		t.Fatalf("tool_choice = %#v, want %#v", req.ToolChoice, choice)
	}
	if !withTools {
		if len(req.Tools) != 0 {
			t.Fatalf("tools = %+v, want none", req.Tools)
		}
		return
	}
	if len(req.Tools) != 2 || req.Tools[0].Name != "python" || !reflect.DeepEqual(req.Tools[0].Parameters, pythonParams) ||
		!strings.Contains(req.Tools[0].Description, "/mnt/data") ||
		req.Tools[1].Name != "get_weather" || !reflect.DeepEqual(req.Tools[1].Parameters, weatherParams) {
		t.Fatalf("tools = %+v", req.Tools)
	}
}

func TestToolChoiceMapping(t *testing.T) {
	tools := []app.Tool{{Type: app.ToolCodeInterpreter}, weatherTool()}
	for _, c := range []struct {
		name, choice string
		tools        bool
		want         any
	}{
		{"none", `"none"`, false, nil},
		{"auto", `"auto"`, true, "auto"},
		{"absent", ``, true, "auto"},
		{"required", `"required"`, true, "required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, nil, modeltest.Turn{Text: "ok"})
			th := r.thread("Hi")
			run := r.runToEnd(th.ID, app.RunParams{Tools: &tools, ToolChoice: json.RawMessage(c.choice)})
			mustCompleted(t, run)
			checkTools(t, r.model.Requests()[0], c.tools, c.want)
			if want := c.choice; want != "" && string(run.ToolChoice) != want {
				t.Fatalf("run tool_choice = %s", run.ToolChoice)
			}
		})
	}

	t.Run("function", func(t *testing.T) {
		r := newRig(t, nil, callTurn("call_w", "get_weather", `{"city":"Oslo"}`), modeltest.Turn{Text: "3°C"})
		ctx := context.Background()
		th := r.thread("Weather?")
		choice := json.RawMessage(`{"type":"function","function":{"name":"get_weather"}}`)
		run := r.runToEnd(th.ID, app.RunParams{Tools: &tools, ToolChoice: choice})
		if run.Status != app.RunRequiresAction {
			t.Fatalf("status = %s", run.Status)
		}
		checkTools(t, r.model.Requests()[0], true, forced("get_weather"))
		if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_w", Output: "3"}}, false); err != nil {
			t.Fatal(err)
		}
		mustCompleted(t, r.runWait(th.ID, run.ID))
		// Forced once: after the call the model is free to answer.
		checkTools(t, r.model.Requests()[1], true, "auto")
	})

	t.Run("code_interpreter", func(t *testing.T) {
		r := newRig(t, nil, pythonCall("print(1)"), modeltest.Turn{Text: "1"})
		th := r.thread("Run it.")
		mustCompleted(t, r.runToEnd(th.ID, app.RunParams{Tools: &tools, ToolChoice: json.RawMessage(`{"type":"code_interpreter"}`)}))
		checkTools(t, r.model.Requests()[0], true, forced("python"))
		checkTools(t, r.model.Requests()[1], true, "auto")
	})

	t.Run("invalid", func(t *testing.T) {
		r := newRig(t, nil)
		ctx := context.Background()
		th := r.thread("Hi")
		weatherOnly := []app.Tool{weatherTool()}
		for _, c := range []struct {
			choice string
			tools  []app.Tool
		}{
			{`{"type":"function","function":{"name":"get_time"}}`, tools},
			{`{"type":"code_interpreter"}`, weatherOnly},
			{`"sometimes"`, tools},
			{`{"type":"browser"}`, tools},
			{`42`, tools},
		} {
			_, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID, Tools: &c.tools, ToolChoice: json.RawMessage(c.choice)})
			if !isInputError(err, "tool_choice") {
				t.Errorf("tool_choice %s: %v, want an InputError on tool_choice", c.choice, err)
			}
		}
		if runs, err := r.e.ListRuns(ctx, th.ID, app.ListOptions{}); err != nil || len(runs.Data) != 0 {
			t.Fatalf("runs stored: %+v %v", runs, err)
		}
	})
}

// --- 6. models without tools ---

func TestModelWithoutToolsRunsFencedPython(t *testing.T) {
	first := "Let me compute.\n```python\nprint(6 * 7)\n```\n"
	r := newRig(t, func(c *engine.Config) { c.NoTools = true },
		modeltest.Turn{Text: first},
		modeltest.Turn{Text: "The answer is 42."},
	)
	th, run := r.ask("What is 6 times 7?")
	mustCompleted(t, run)
	reqs := r.model.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d", len(reqs))
	}
	for i, req := range reqs {
		if len(req.Tools) != 0 || req.ToolChoice != nil {
			t.Fatalf("request %d offered tools %+v, tool_choice %v", i, req.Tools, req.ToolChoice)
		}
	}
	if sys := reqs[0].Messages[0].Content; !strings.Contains(sys, "write the Python you want to run in a fenced block") {
		t.Fatalf("the system prompt does not explain fenced blocks:\n%s", sys)
	}
	if got := shape(reqs[1].Messages[1:]); !reflect.DeepEqual(got, []string{
		"user:What is 6 times 7?", "assistant:" + first, "user:Output of python block 1:\n42"}) {
		t.Fatalf("second request = %q", got)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 3 || steps[0].Type != app.StepMessageCreation || steps[1].Type != app.StepToolCalls || steps[2].Type != app.StepMessageCreation {
		t.Fatalf("steps = %+v", steps)
	}
	for _, st := range steps {
		if st.Status != app.StepCompleted {
			t.Fatalf("step %s is %s", st.ID, st.Status)
		}
	}
	tc := steps[1].StepDetails.ToolCalls
	if len(tc) != 1 || tc[0].Type != app.ToolCodeInterpreter || tc[0].CodeInterpreter.Input != "print(6 * 7)\n" ||
		len(tc[0].CodeInterpreter.Outputs) != 1 || tc[0].CodeInterpreter.Outputs[0].Logs != "42\n" {
		t.Fatalf("code step = %+v", tc)
	}
	msgs := r.messages(th.ID, run.ID)
	if len(msgs) != 2 || textOfMessage(msgs[0]) != first || textOfMessage(msgs[1]) != "The answer is 42." {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestModelRefusingToolsSwitchesInTheSameRun(t *testing.T) {
	r := newRig(t, nil,
		modeltest.Turn{Status: 400, ErrorMessage: "This model does not support tools"},
		modeltest.Turn{Text: "Hello without tools."},
	)
	th, run := r.ask("Hi")
	mustCompleted(t, run)
	reqs := r.model.Requests()
	if len(reqs) != 2 || len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Name != "python" {
		t.Fatalf("first request's tools: %+v", reqs)
	}
	if len(reqs[1].Tools) != 0 || reqs[1].ToolChoice != nil {
		t.Fatalf("the retry still offered tools: %+v %v", reqs[1].Tools, reqs[1].ToolChoice)
	}
	sys0, sys1 := reqs[0].Messages[0].Content, reqs[1].Messages[0].Content
	const fenced = "write the Python you want to run in a fenced block"
	if strings.Contains(sys0, fenced) || strings.Count(sys1, fenced) != 1 || !strings.HasPrefix(sys1, sys0) {
		t.Fatalf("system prompts:\n%s\n---\n%s", sys0, sys1)
	}
	if msgs := r.messages(th.ID, run.ID); len(msgs) != 1 || textOfMessage(msgs[0]) != "Hello without tools." {
		t.Fatalf("messages = %+v", msgs)
	}
}

// --- 7. tool calls without index ---

func TestToolCallsStreamedWithoutIndex(t *testing.T) {
	a1, _ := json.Marshal(map[string]string{"code": "print('first')"})
	a2, _ := json.Marshal(map[string]string{"code": "print('second')"})
	r := newRig(t, nil,
		modeltest.Turn{OmitIndex: true, ChunkSize: 3, ToolCalls: []modeltest.ToolCall{
			{ID: "call_a", Name: "python", Arguments: string(a1)},
			{ID: "call_b", Name: "python", Arguments: string(a2)},
		}},
		modeltest.Turn{Text: "Both ran."},
	)
	th := r.thread("Two cells.")
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	run := r.runToEnd(th.ID, app.RunParams{})
	mustCompleted(t, run)
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 2 {
		t.Fatalf("steps = %+v", steps)
	}
	tc := steps[0].StepDetails.ToolCalls
	if len(tc) != 2 {
		t.Fatalf("tool calls = %+v", tc)
	}
	for i, w := range []struct{ id, code, logs string }{{"call_a", "print('first')", "first\n"}, {"call_b", "print('second')", "second\n"}} {
		ci := tc[i].CodeInterpreter
		if tc[i].ID != w.id || tc[i].Type != app.ToolCodeInterpreter || ci == nil || ci.Input != w.code ||
			len(ci.Outputs) != 1 || ci.Outputs[0].Logs != w.logs {
			t.Fatalf("call %d = %+v", i, tc[i])
		}
	}
	if got := shape(r.model.Requests()[1].Messages[1:]); !reflect.DeepEqual(got, []string{
		"user:Two cells.", "assistant→python#call_a→python#call_b", "tool#call_a", "tool#call_b"}) {
		t.Fatalf("second request = %q", got)
	}
	if tm := toolMessages(r.model, 1); !reflect.DeepEqual(tm, []string{"first\n", "second\n"}) {
		t.Fatalf("results = %q", tm)
	}
	// The streamed code went to the right call.
	inputs := map[int]string{}
	for _, ev := range collect(t, sub, run.ID) {
		if d, ok := ev.Data.(*app.RunStepDelta); ok {
			for _, c := range d.Delta.StepDetails.ToolCalls {
				if c.Index != nil && c.CodeInterpreter != nil {
					inputs[*c.Index] += c.CodeInterpreter.Input
				}
			}
		}
	}
	if inputs[0] != "print('first')" || inputs[1] != "print('second')" {
		t.Fatalf("streamed inputs = %v", inputs)
	}
}

// --- 8. streaming events ---

func TestStreamedEventsOfARun(t *testing.T) {
	// Escapes that arrive cut: \u00e9, a surrogate pair, \" and \n.
	args := `{"code": "x = \"caf\u00e9 \ud83d\udcc8\"\nprint(x, 1 < 2)"}`
	code := "x = \"café 📈\"\nprint(x, 1 < 2)"
	answer := "The café 📈 line printed True — done."
	r := newRig(t, nil,
		modeltest.Turn{ChunkSize: 3, ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: args}}},
		modeltest.Turn{ChunkSize: 5, Text: answer},
	)
	th := r.thread("Print it.")
	run, sub, err := r.e.CreateRun(context.Background(), th.ID, app.RunParams{AssistantID: r.asst.ID, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	evs := collect(t, sub, run.ID)
	want := []string{
		"thread.run.created", "thread.run.queued", "thread.run.in_progress",
		"thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta", "thread.run.step.completed",
		"thread.run.step.created", "thread.run.step.in_progress",
		"thread.message.created", "thread.message.in_progress", "thread.message.delta", "thread.message.completed",
		"thread.run.step.completed", "thread.run.completed",
	}
	if got := names(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got  %q\n want %q", got, want)
	}
	var (
		input, logs, msgText string
		codeStep, msgStep    *app.RunStep
		msg                  *app.Message
		final                *app.Run
	)
	for _, ev := range evs {
		if ev.ThreadID != th.ID || ev.RunID != run.ID {
			t.Fatalf("event %s of thread %s run %s", ev.Name, ev.ThreadID, ev.RunID)
		}
		switch d := ev.Data.(type) {
		case *app.RunStepDelta:
			if codeStep == nil || d.ID != codeStep.ID {
				t.Fatalf("a step delta for %s outside its step", d.ID)
			}
			for _, c := range d.Delta.StepDetails.ToolCalls {
				input += c.CodeInterpreter.Input
				for _, o := range c.CodeInterpreter.Outputs {
					logs += o.Logs
				}
			}
		case *app.MessageDelta:
			if msg == nil || d.ID != msg.ID {
				t.Fatalf("a message delta for %s outside its message", d.ID)
			}
			for _, c := range d.Delta.Content {
				if c.Text != nil {
					msgText += c.Text.Value
				}
			}
		case *app.RunStep:
			if ev.Name == "thread.run.step.created" {
				if d.Type == app.StepToolCalls {
					codeStep = d
				} else {
					msgStep = d
				}
			}
		case *app.Message:
			msg = d
		case *app.Run:
			final = d
		}
	}
	if final.Status != app.RunCompleted {
		t.Fatalf("final event's run = %+v", final)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 2 || steps[0].ID != codeStep.ID || steps[1].ID != msgStep.ID {
		t.Fatalf("steps = %+v", steps)
	}
	if stored := steps[0].StepDetails.ToolCalls[0].CodeInterpreter.Input; input != code || stored != code {
		t.Fatalf("streamed input %q, stored %q, want %q", input, stored, code)
	}
	if logs != "café 📈 True\n" {
		t.Fatalf("streamed logs %q", logs)
	}
	msgs := r.messages(th.ID, run.ID)
	if msgText != answer || len(msgs) != 1 || msgs[0].ID != msg.ID || textOfMessage(msgs[0]) != answer {
		t.Fatalf("streamed text %q, message %+v", msgText, msgs)
	}
}

// --- 9. limits ---

// parallel_tool_calls: false reaches the model with the tools; the
// default, true, is the model's own and is not sent.
func TestParallelToolCallsFalseReachesTheModel(t *testing.T) {
	r := newRig(t, nil, modeltest.Turn{Text: "one"}, modeltest.Turn{Text: "two"})
	th := r.thread("Hi.")
	run := r.runToEnd(th.ID, app.RunParams{ParallelToolCalls: ptr(false)})
	mustCompleted(t, run)
	if run.ParallelToolCalls {
		t.Fatal("the run does not echo parallel_tool_calls: false")
	}
	r.say(th.ID, "Again.")
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{}))
	reqs := r.model.Requests()
	if len(reqs) != 2 || reqs[0].Body["tools"] == nil {
		t.Fatalf("%d requests; tools %v", len(reqs), reqs[0].Body["tools"])
	}
	if v, ok := reqs[0].Body["parallel_tool_calls"]; !ok || v != false {
		t.Errorf("parallel_tool_calls sent = %v, %v; want false", v, ok)
	}
	if v, ok := reqs[1].Body["parallel_tool_calls"]; ok {
		t.Errorf("the default was sent: %v", v)
	}
}

func TestMaxCompletionTokensMakesTheRunIncomplete(t *testing.T) {
	r := newRig(t, nil, modeltest.Turn{Text: "A long answer that was", FinishReason: "length",
		Usage: &modeltest.Usage{PromptTokens: 40, CompletionTokens: 5}})
	th := r.thread("Tell me everything.")
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	run := r.runToEnd(th.ID, app.RunParams{MaxCompletionTokens: ptr[int64](5)})
	evs := names(collect(t, sub, run.ID))
	if want := []string{"thread.message.delta", "thread.message.incomplete", "thread.run.step.completed", "thread.run.incomplete"}; !reflect.DeepEqual(evs[len(evs)-4:], want) {
		t.Fatalf("events = %q", evs)
	}
	if run.Status != app.RunIncomplete || run.IncompleteDetails == nil || run.IncompleteDetails.Reason != "max_completion_tokens" ||
		run.LastError != nil || run.CompletedAt != nil {
		t.Fatalf("run = %s %+v %+v", run.Status, run.IncompleteDetails, run.LastError)
	}
	if u := run.Usage; u == nil || *u != (app.Usage{PromptTokens: 40, CompletionTokens: 5, TotalTokens: 45}) {
		t.Fatalf("usage = %+v", u)
	}
	// A compatible server is given the limit as max_tokens.
	if mt := r.model.Requests()[0].Body["max_tokens"]; mt != float64(5) {
		t.Fatalf("max_tokens sent = %v", mt)
	}
	msgs := r.messages(th.ID, run.ID)
	if len(msgs) != 1 || textOfMessage(msgs[0]) != "A long answer that was" || msgs[0].Status != app.MessageIncomplete ||
		msgs[0].IncompleteDetails == nil || msgs[0].IncompleteDetails.Reason != "max_tokens" || msgs[0].CompletedAt != nil {
		t.Fatalf("the cut message = %+v", msgs)
	}
	if st := r.steps(th.ID, run.ID); len(st) != 1 || st[0].Status != app.StepCompleted {
		t.Fatalf("steps = %+v", st)
	}
}

func TestMaxCompletionTokensSpentOnACallStopsBeforeRunningIt(t *testing.T) {
	r := newRig(t, nil, modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: `{"code":"print('never')"}`}},
		Usage: &modeltest.Usage{PromptTokens: 40, CompletionTokens: 12}})
	th := r.thread("Compute.")
	run := r.runToEnd(th.ID, app.RunParams{MaxCompletionTokens: ptr[int64](10)})
	if run.Status != app.RunIncomplete || run.IncompleteDetails == nil || run.IncompleteDetails.Reason != "max_completion_tokens" {
		t.Fatalf("run = %s %+v %+v", run.Status, run.IncompleteDetails, run.LastError)
	}
	for _, st := range r.steps(th.ID, run.ID) {
		for _, tc := range st.StepDetails.ToolCalls {
			if tc.CodeInterpreter != nil && len(tc.CodeInterpreter.Outputs) > 0 {
				t.Fatalf("the call ran: %+v", tc)
			}
		}
	}
	if n := len(r.model.Requests()); n != 1 {
		t.Fatalf("requests = %d", n)
	}
}

func TestMaxStepsFailsTheRun(t *testing.T) {
	r := newRig(t, func(c *engine.Config) { c.MaxSteps = 2 },
		pythonCall("print(1)"),
		pythonCall("print(2)"),
	)
	th, run := r.ask("Loop forever.")
	if run.Status != app.RunFailed || run.LastError == nil || run.LastError.Code != app.ErrCodeServer ||
		run.LastError.Message != "The run stopped after 2 model turns without a final answer." {
		t.Fatalf("run = %s %+v", run.Status, run.LastError)
	}
	if n := len(r.model.Requests()); n != 2 {
		t.Fatalf("requests = %d", n)
	}
	steps := r.steps(th.ID, run.ID)
	if len(steps) != 2 || steps[0].Status != app.StepCompleted || steps[1].Status != app.StepCompleted ||
		steps[1].StepDetails.ToolCalls[0].CodeInterpreter.Outputs[0].Logs != "2\n" {
		t.Fatalf("steps = %+v", steps)
	}
}

// --- 10. overrides and validation ---

func TestRunOverridesReachTheModel(t *testing.T) {
	r := newRig(t, nil, modeltest.Turn{Text: "ok"})
	th := r.thread("u1")
	run := r.runToEnd(th.ID, app.RunParams{
		Model: ptr("other-model"), Instructions: ptr("Override."), AdditionalInstructions: ptr("Be brief."),
		AdditionalMessages: []app.MessageParams{{Role: "user", Content: text("extra")}},
		Temperature:        ptr(0.5), TopP: ptr(0.25), Metadata: &app.Metadata{"k": "v"},
	})
	mustCompleted(t, run)
	if run.Model != "other-model" || run.Instructions != "Override.\n\nBe brief." || run.Temperature == nil || *run.Temperature != 0.5 ||
		run.TopP == nil || *run.TopP != 0.25 || run.Metadata["k"] != "v" {
		t.Fatalf("run = %+v", run)
	}
	req := r.model.Requests()[0]
	if req.Model != "other-model" || req.Body["temperature"] != 0.5 || req.Body["top_p"] != 0.25 {
		t.Fatalf("request model %q, temperature %v, top_p %v", req.Model, req.Body["temperature"], req.Body["top_p"])
	}
	if sys := req.Messages[0].Content; !strings.HasPrefix(sys, "Override.\n\nBe brief.\n\n") || strings.Contains(sys, "You analyse data.") {
		t.Fatalf("system prompt = %q", sys)
	}
	if got := shape(req.Messages[1:]); !reflect.DeepEqual(got, []string{"user:u1", "user:extra"}) {
		t.Fatalf("messages = %q", got)
	}
	if msgs := r.messages(th.ID, ""); len(msgs) != 3 || textOfMessage(msgs[1]) != "extra" || msgs[1].Role != "user" {
		t.Fatalf("thread messages = %+v", msgs)
	}
}

func TestBadInputIsRefusedAndNothingStored(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	th := r.thread("Hi")
	extra := []app.MessageParams{{Role: "user", Content: text("must not be stored")}}
	run := func(p app.RunParams) error {
		if p.AssistantID == "" {
			p.AssistantID = r.asst.ID
		}
		if p.AdditionalMessages == nil {
			p.AdditionalMessages = extra
		}
		_, _, err := r.e.CreateRun(ctx, th.ID, p)
		return err
	}
	msg := func(p app.MessageParams) error {
		_, err := r.e.CreateMessage(ctx, th.ID, p)
		return err
	}
	md17 := app.Metadata{}
	for i := range 17 {
		md17[fmt.Sprint("k", i)] = "v"
	}
	dup := []app.Tool{weatherTool(), weatherTool()}
	bad := []app.Tool{{Type: "retrieval"}}
	notFound := errors.New("ErrNotFound")
	before := r.counts(th.ID)
	all := r.e.Bus.Subscribe("")
	defer all.Close()
	for _, c := range []struct {
		name  string
		err   error
		param any // a param name, or notFound
	}{
		{"unknown assistant", run(app.RunParams{AssistantID: "asst_nope"}), notFound},
		{"unknown thread", func() error {
			_, _, err := r.e.CreateRun(ctx, "thread_nope", app.RunParams{AssistantID: r.asst.ID})
			return err
		}(), notFound},
		{"bad role", run(app.RunParams{AdditionalMessages: []app.MessageParams{{Role: "system", Content: text("x")}}}), "additional_messages[0].role"},
		{"empty content", run(app.RunParams{AdditionalMessages: []app.MessageParams{{Role: "user", Content: text("")}}}), "additional_messages[0].content"},
		{"empty text part", msg(app.MessageParams{Role: "user", Content: json.RawMessage(`[{"type":"text","text":""}]`)}), "content[0].text"},
		{"no content", msg(app.MessageParams{Role: "user"}), "content"},
		{"empty message", msg(app.MessageParams{Role: "user", Content: text("")}), "content"},
		{"message role", msg(app.MessageParams{Role: "system", Content: text("x")}), "role"},
		{"unknown attachment", msg(app.MessageParams{Role: "user", Content: text("x"), Attachments: []app.Attachment{{FileID: "file-nope"}}}), "attachments[0].file_id"},
		{"unknown v1 file", msg(app.MessageParams{Role: "user", Content: text("x"), FileIDs: []string{"file-nope"}}), "attachments[0].file_id"},
		{"unknown image", msg(app.MessageParams{Role: "user", Content: json.RawMessage(`[{"type":"image_file","image_file":{"file_id":"file-nope"}}]`)}), "content[0].image_file.file_id"},
		{"17 metadata keys", run(app.RunParams{Metadata: &md17}), "metadata"},
		{"17 message metadata keys", msg(app.MessageParams{Role: "user", Content: text("x"), Metadata: &md17}), "metadata"},
		{"temperature 3", run(app.RunParams{Temperature: ptr(3.0)}), "temperature"},
		{"top_p 2", run(app.RunParams{TopP: ptr(2.0)}), "top_p"},
		{"bad tool type", run(app.RunParams{Tools: &bad}), "tools[0].type"},
		{"duplicate functions", run(app.RunParams{Tools: &dup}), "tools[1].function.name"},
		{"bad truncation", run(app.RunParams{TruncationStrategy: &app.TruncationStrategy{Type: "last_messages"}}), "truncation_strategy"},
		{"max_prompt_tokens 0", run(app.RunParams{MaxPromptTokens: ptr[int64](0)}), "max_prompt_tokens"},
		{"thread with an empty message", func() error {
			_, err := r.e.CreateThread(ctx, app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("ok")}, {Role: "user", Content: text("")}}})
			return err
		}(), "messages[1].content"},
		{"thread and run, bad run", func() error {
			_, _, err := r.e.CreateThreadAndRun(ctx, app.ThreadRunParams{RunParams: app.RunParams{AssistantID: r.asst.ID, Temperature: ptr(3.0)},
				Thread: &app.ThreadParams{Messages: []app.MessageParams{{Role: "user", Content: text("x")}}}})
			return err
		}(), "temperature"},
		{"assistant with 17 metadata keys", func() error {
			_, err := r.e.CreateAssistant(ctx, app.AssistantParams{Metadata: &md17})
			return err
		}(), "metadata"},
		{"assistant with an unknown file", func() error {
			_, err := r.e.CreateAssistant(ctx, app.AssistantParams{FileIDs: []string{"file-nope"}})
			return err
		}(), "tool_resources.code_interpreter.file_ids"},
	} {
		switch want := c.param.(type) {
		case error:
			var ie *app.InputError
			if !errors.Is(c.err, app.ErrNotFound) || errors.As(c.err, &ie) {
				t.Errorf("%s: %v, want ErrNotFound", c.name, c.err)
			}
		case string:
			if !isInputError(c.err, want) {
				t.Errorf("%s: %#v, want an InputError on %s", c.name, c.err, want)
			}
		}
	}
	if after := r.counts(th.ID); after != before {
		t.Fatalf("objects stored by refused calls: before %+v, after %+v", before, after)
	}
	// Events are published before the calls return: a done context only
	// stops Next from waiting for more.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if ev, err := all.Next(done); err == nil {
		t.Fatalf("a refused call published %s", ev.Name)
	}
}

type counts struct{ assistants, threads, messages, runs, files int }

func (r *rig) counts(threadID string) counts {
	r.t.Helper()
	ctx := context.Background()
	o := app.ListOptions{Limit: 100}
	as, err1 := r.e.ListAssistants(ctx, o)
	ths, err2 := r.e.ListThreads(ctx, o)
	ms, err3 := r.e.ListMessages(ctx, threadID, "", o)
	rs, err4 := r.e.ListRuns(ctx, threadID, o)
	fs, err5 := r.e.ListFiles(ctx, "", o)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		r.t.Fatal(err)
	}
	return counts{len(as.Data), len(ths.Data), len(ms.Data), len(rs.Data), len(fs.Data)}
}

// --- 11. deleting threads, session expiry ---

func TestDeleteThreadCancelsAndRemovesEverything(t *testing.T) {
	marker := uniqueSleep()
	r := newRig(t, nil,
		pythonCall("open('made.txt', 'w').write('x')"),
		modeltest.Turn{Text: "Made [it](sandbox:/mnt/data/made.txt)."},
		pythonCall(fmt.Sprintf("import subprocess, time\nsubprocess.Popen(['sleep', %q])\nprint('started', flush=True)\ntime.sleep(3600)", marker)),
	)
	ctx := context.Background()
	th, run1 := r.ask("Make a file.")
	mustCompleted(t, run1)
	dir := filepath.Join(r.data, "work", th.ID)
	if _, err := os.Stat(filepath.Join(dir, "made.txt")); err != nil {
		t.Fatal(err)
	}
	steps1 := r.steps(th.ID, run1.ID)
	r.say(th.ID, "Now wait.")
	msgs := r.messages(th.ID, "")
	if len(msgs) != 3 || len(msgs[1].Content[0].Text.Annotations) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	made := msgs[1].Content[0].Text.Annotations[0].FilePath.FileID
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	run2, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitForOutput(t, sub, "started")
	if !interptest.Eventually(10*time.Second, func() bool { return len(procsWith("sleep", marker)) == 1 }) {
		t.Fatal("the cell's sleep never ran: the test would prove nothing")
	}
	steps2 := r.steps(th.ID, run2.ID)

	if err := r.e.DeleteThread(ctx, th.ID); err != nil {
		t.Fatal(err)
	}
	// The run was cancelled first, and said so.
	if evs := collect(t, sub, run2.ID); evs[len(evs)-1].Name != "thread.run.cancelled" {
		t.Fatalf("the active run ended with %s", evs[len(evs)-1].Name)
	}
	if _, err := r.e.GetThread(ctx, th.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("thread: %v", err)
	}
	if _, err := r.e.ListMessages(ctx, th.ID, "", app.ListOptions{}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("messages: %v", err)
	}
	for _, run := range []*app.Run{run1, run2} {
		if _, err := r.e.GetRun(ctx, th.ID, run.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("run %s: %v", run.ID, err)
		}
	}
	for _, m := range msgs {
		if _, err := r.e.GetMessage(ctx, th.ID, m.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("message %s: %v", m.ID, err)
		}
	}
	for _, st := range append(steps1, steps2...) {
		if _, err := r.e.GetRunStep(ctx, th.ID, st.RunID, st.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("step %s: %v", st.ID, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the work folder is still there: %v", err)
	}
	if !interptest.Eventually(10*time.Second, func() bool { return len(procsWith("sleep", marker)) == 0 }) {
		left := procsWith("sleep", marker)
		killAll(left)
		t.Fatalf("the thread's kernel left %v running", left)
	}
	// Files the code made are the user's: they outlive the thread.
	if got := string(r.fileBytes(made)); got != "x" {
		t.Fatalf("made.txt = %q", got)
	}
	if _, _, err := r.e.CreateRun(ctx, th.ID, app.RunParams{AssistantID: r.asst.ID}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("a run on the deleted thread: %v", err)
	}
}

// TestFilePreviewsNeverLeaveTheWorkFolder plants, from a cell, what would
// have the host put its own files in the model's prompt or hang before a
// run: a link to a host folder that holds a table, a link to a host
// table, and a FIFO named like a table. The next run's prompt lists the
// real table with its preview, and nothing of the host's.
func TestFilePreviewsNeverLeaveTheWorkFolder(t *testing.T) {
	host := t.TempDir()
	canary := "host-canary-" + uniqueSleep()
	if err := os.WriteFile(host+"/secret.csv", []byte("name,value\n"+canary+",1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, nil,
		pythonCall(fmt.Sprintf(`
import os
open("real.csv", "w").write("region,revenue\nnorth,10\n")
os.symlink(%q, "linked")
os.symlink(%q, "linked.csv")
os.mkfifo("fifo.csv")
print("planted")`, host, host+"/secret.csv")),
		modeltest.Turn{Text: "Planted."},
		modeltest.Turn{Text: "Done."},
	)
	th, run := r.ask("Plant.")
	mustCompleted(t, run)
	r.say(th.ID, "Again.")
	mustCompleted(t, r.runToEnd(th.ID, app.RunParams{AssistantID: r.asst.ID}))
	reqs := r.model.Requests()
	sys := reqs[len(reqs)-1].Messages[0].Content
	if !strings.Contains(sys, "- /mnt/data/real.csv (") || !strings.Contains(sys, "north") {
		t.Fatalf("the prompt does not show the real table:\n%s", sys)
	}
	if strings.Contains(sys, canary) || strings.Contains(sys, "secret.csv") || strings.Contains(sys, "linked.csv") {
		t.Fatalf("the prompt shows a host file:\n%s", sys)
	}
}
