package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/engine"
	"plotline/app/modeltest"
	"plotline/app/openai"
)

// scripted is an app.Interpreter for engine tests: its sessions run no
// Python. Each cell is answered by cell, with the number of the session
// (from 1, counting every Open) and the code. Work folders are real
// folders under dir. Every behaviour these tests pin down that reaches
// Python also has a test on the real kernel.
type scripted struct {
	dir  string
	cell func(ctx context.Context, session int, code string) (*app.CellResult, error)

	mu     sync.Mutex
	opened int
	live   []*scriptedSession
}

func (s *scripted) Open(_ context.Context, threadID string) (app.Session, error) {
	dir := filepath.Join(s.dir, threadID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened++
	ss := &scriptedSession{s: s, n: s.opened, dir: dir}
	s.live = append(s.live, ss)
	return ss, nil
}

func (s *scripted) RemoveFolder(threadID string) error {
	return os.RemoveAll(filepath.Join(s.dir, threadID))
}

func (s *scripted) CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("bad name %q", name)
	}
	return nil
}

// end ends every open session, as the interpreter does at their lifetime.
func (s *scripted) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.live {
		ss.ended = true
	}
}

func (s *scripted) sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

type scriptedSession struct {
	s     *scripted
	n     int
	dir   string
	ended bool
}

func (ss *scriptedSession) Exec(ctx context.Context, code string, onOutput func([]byte)) (*app.CellResult, error) {
	ss.s.mu.Lock()
	ended := ss.ended
	ss.s.mu.Unlock()
	if ended {
		return nil, app.ErrSessionEnded
	}
	res, err := ss.s.cell(ctx, ss.n, code)
	if res != nil && res.Stdout != "" && onOutput != nil {
		onOutput([]byte(res.Stdout))
	}
	return res, err
}

func (ss *scriptedSession) AddFile(name string, r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	return name, os.WriteFile(filepath.Join(ss.dir, name), b, 0o600)
}

func (ss *scriptedSession) Unpack(string) (string, error) { return "", app.ErrNotArchive }

func (ss *scriptedSession) OpenFile(name string) (*os.File, error) {
	return os.Open(filepath.Join(ss.dir, filepath.FromSlash(name)))
}

func (ss *scriptedSession) Files() []app.WorkFile {
	ents, _ := os.ReadDir(ss.dir)
	var out []app.WorkFile
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			out = append(out, app.WorkFile{Name: e.Name(), Size: fi.Size()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (ss *scriptedSession) Close() error {
	ss.s.mu.Lock()
	ss.ended = true
	ss.s.mu.Unlock()
	return nil
}

// printed answers every cell by printing its code's first line.
func printed(_ context.Context, _ int, code string) (*app.CellResult, error) {
	return &app.CellResult{Stdout: strings.SplitN(code, "\n", 2)[0] + "\n"}, nil
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	changed chan struct{} // closed and replaced when a waiter is added
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_800_000_000, 0), changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// waitForWaiter returns once someone waits on the clock.
func (c *fakeClock) waitForWaiter(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		c.mu.Lock()
		n, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("nothing waited on the clock")
		}
	}
}

// Advance moves the clock on and fires the waits that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	rest := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			rest = append(rest, w)
		}
	}
	c.waiters = rest
}

// scriptedRig is an engine on a real store and the scripted model server,
// whose code runs in a scripted interpreter: no Python, no sandbox.
type scriptedRig struct {
	*rig
	interp *scripted
	clock  *fakeClock
}

func newScriptedRig(t *testing.T, cell func(context.Context, int, string) (*app.CellResult, error), turns ...modeltest.Turn) *scriptedRig {
	t.Helper()
	srv := modeltest.NewServer(t, turns...)
	data := t.TempDir()
	sr := &scriptedRig{interp: &scripted{dir: filepath.Join(data, "work"), cell: cell}, clock: newFakeClock()}
	sr.rig = &rig{t: t, model: srv, data: data}
	sr.e = sr.open()
	a, err := sr.e.CreateAssistant(context.Background(), app.AssistantParams{Name: ptr("Analyst"),
		Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}, weatherTool()}})
	if err != nil {
		t.Fatal(err)
	}
	sr.asst = a
	return sr
}

// open opens another engine on the rig's data folder, as a second
// `plotline ask` would.
func (sr *scriptedRig) open() *engine.Engine {
	m, err := modelFor(sr.model.BaseURL())
	if err != nil {
		sr.t.Fatal(err)
	}
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: sr.data, Model: m, DefaultModel: "test-model",
		Interp: sr.interp, Engine: func(c *engine.Config) { c.Clock = sr.clock; c.ActionTimeout = time.Minute }})
	if err != nil {
		sr.t.Fatal(err)
	}
	sr.t.Cleanup(sys.Close)
	return sys.Engine
}

// modelFor is the openai-go model adapter on the scripted server.
func modelFor(baseURL string) (app.Model, error) {
	return openai.New(openai.Config{Provider: openai.ProviderCompatible, BaseURL: baseURL, APIKey: "test", MaxRetries: 3})
}

// lastRequest is the newest request the model got, as lines of role and
// content.
func lastRequest(srv *modeltest.Server) []string {
	reqs := srv.Requests()
	var out []string
	for _, m := range reqs[len(reqs)-1].Messages {
		line := m.Role + ": " + m.Content
		for _, c := range m.ToolCalls {
			line += " [call " + c.Name + "]"
		}
		out = append(out, line)
	}
	return out
}

func TestStopThenNewQuestionIsAnsweredFromNewCode(t *testing.T) {
	started := make(chan struct{})
	cell := func(ctx context.Context, _ int, code string) (*app.CellResult, error) {
		if strings.HasPrefix(code, "slow") {
			close(started)
			<-ctx.Done() // until the run is stopped
			return &app.CellResult{Stdout: "partial\n"}, ctx.Err()
		}
		return printed(ctx, 0, code)
	}
	r := newScriptedRig(t, cell,
		pythonCall("slow()"),
		pythonCall("fresh()"),
		modeltest.Turn{Text: "From the new code."},
	)
	ctx := context.Background()
	th, run, _, err := r.e.Ask(ctx, engine.AskParams{AssistantID: r.asst.ID, Text: "Q1"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	sub := r.e.Bus.Subscribe(th.ID)
	defer sub.Close()
	if _, err := r.e.CancelRun(ctx, th.ID, run.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.runWait(th.ID, run.ID); got.Status != app.RunCancelled {
		t.Fatalf("status %s", got.Status)
	}
	// The stopped step's end is announced before the run's.
	var names []string
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, ev.Name)
		if ev.Name == "thread.run.cancelled" {
			break
		}
	}
	if got := strings.Join(names, " "); !strings.HasSuffix(got, "thread.run.step.cancelled thread.run.cancelled") {
		t.Fatalf("events after Stop: %s", got)
	}
	_, run2, _, err := r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, AssistantID: r.asst.ID, Text: "Q2"})
	if err != nil {
		t.Fatal(err)
	}
	mustCompleted(t, r.runWait(th.ID, run2.ID))

	// The second run's first request: the stopped code where it ran, then
	// the new question last.
	reqs := r.model.Requests()
	var first []string
	for _, m := range reqs[1].Messages[1:] {
		first = append(first, m.Role+": "+m.Content)
	}
	want := []string{"user: Q1", "assistant: ", "tool: partial\n", "user: Q2"}
	if strings.Join(first, "|") != strings.Join(want, "|") {
		t.Fatalf("the model was sent %q, want %q", first, want)
	}
	// The answer came from the new code.
	last := lastRequest(r.model)
	if got := last[len(last)-1]; got != "tool: fresh()\n" {
		t.Fatalf("the last tool output was %q", got)
	}
	// The window and the export read the same order.
	tr, err := r.e.Transcript(ctx, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, en := range tr {
		if en.Message != nil {
			order = append(order, en.Message.Role+":"+app.TextOf(en.Message.Content))
		} else {
			order = append(order, "code:"+en.Step.StepDetails.ToolCalls[0].CodeInterpreter.Input+":"+en.Step.Status)
		}
	}
	if got := strings.Join(order, "|"); got != "user:Q1|code:slow():cancelled|user:Q2|code:fresh():completed|assistant:From the new code." {
		t.Fatalf("transcript %s", got)
	}
}

func TestFreshKernelIsAnnouncedOnce(t *testing.T) {
	r := newScriptedRig(t, printed,
		modeltest.Turn{Text: "No code yet."},
		pythonCall("x = 1"), modeltest.Turn{Text: "Made x."},
		modeltest.Turn{Text: "Same kernel."},
		modeltest.Turn{Text: "New kernel."},
		modeltest.Turn{Text: "Same again."},
	)
	ctx := context.Background()
	note := "the Python session of this thread is new"
	has := func() bool { return strings.Contains(strings.Join(lastRequest(r.model), "\n"), note) }
	ask := func(e *engine.Engine, threadID, q string) string {
		th, run, _, err := e.Ask(ctx, engine.AskParams{ThreadID: threadID, AssistantID: r.asst.ID, Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.WaitRun(ctx, th.ID, run.ID); err != nil {
			t.Fatal(err)
		}
		return th.ID
	}
	id := ask(r.e, "", "Hello")
	if has() {
		t.Fatal("a thread that never ran code was told of a new kernel")
	}
	ask(r.e, id, "Make x")
	if has() {
		t.Fatal("told of a new kernel in the run that first ran code")
	}
	ask(r.e, id, "Again")
	if has() {
		t.Fatal("told of a new kernel while the kernel is the same")
	}
	// A second process (a second `plotline ask --thread`) has a new kernel.
	e2 := r.open()
	ask(e2, id, "Still x?")
	lines := lastRequest(r.model)
	at := -1
	for i, l := range lines {
		if strings.Contains(l, note) {
			at = i
		}
	}
	if at < 0 || lines[at+1] != "user: Still x?" || at != len(lines)-2 {
		t.Fatalf("the note is not right before the question:\n%s", strings.Join(lines, "\n"))
	}
	ask(e2, id, "And now?")
	if has() {
		t.Fatal("told twice of the same new kernel")
	}
}

func TestExpiredSessionIsReplacedAndTheModelTold(t *testing.T) {
	r := newScriptedRig(t, func(ctx context.Context, n int, code string) (*app.CellResult, error) {
		return &app.CellResult{Stdout: fmt.Sprintf("session %d\n", n)}, nil
	},
		pythonCall("x = 1"), modeltest.Turn{Text: "ok"},
		pythonCall("print(x)"), modeltest.Turn{Text: "done"},
	)
	ctx := context.Background()
	th, run, _, _ := r.e.Ask(ctx, engine.AskParams{AssistantID: r.asst.ID, Text: "Remember x."})
	mustCompleted(t, r.runWait(th.ID, run.ID))
	r.interp.end() // the session reaches its lifetime between runs
	_, run2, _, _ := r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, AssistantID: r.asst.ID, Text: "Still there?"})
	mustCompleted(t, r.runWait(th.ID, run2.ID))
	tm := toolMessages(r.model, 3)
	if len(tm) != 2 || !strings.Contains(tm[1], "variables and imports were reset") || !strings.HasSuffix(tm[1], "session 2\n") {
		t.Fatalf("the model was told %q", tm)
	}
	if r.interp.sessions() != 2 {
		t.Fatalf("%d sessions opened", r.interp.sessions())
	}
	// Told once: not again by the note before the question.
	if strings.Contains(strings.Join(lastRequest(r.model), "\n"), "the Python session of this thread is new") {
		t.Fatal("told twice")
	}
	steps := r.steps(th.ID, run2.ID)
	if logs := steps[0].StepDetails.ToolCalls[0].CodeInterpreter.Outputs[0].Logs; logs != "session 2\n" {
		t.Fatalf("logs = %q", logs)
	}
}

func TestRequiresActionExpires(t *testing.T) {
	r := newScriptedRig(t, printed,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "get_weather", Arguments: `{}`}}},
	)
	ctx := context.Background()
	th, run, _, err := r.e.Ask(ctx, engine.AskParams{AssistantID: r.asst.ID, Text: "Weather?"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.e.WaitRun(ctx, th.ID, run.ID)
	if err != nil || got.Status != app.RunRequiresAction {
		t.Fatalf("status %v %v", got, err)
	}
	if want := r.clock.Now().Add(time.Minute).Unix(); got.ExpiresAt == nil || *got.ExpiresAt != want {
		t.Fatalf("expires_at %v, want %d", got.ExpiresAt, want)
	}
	r.clock.waitForWaiter(t)
	r.clock.Advance(59 * time.Second)
	if cur, _ := r.e.GetRun(ctx, th.ID, run.ID); cur.Status != app.RunRequiresAction {
		t.Fatalf("expired early: %s", cur.Status)
	}
	r.clock.Advance(time.Second)
	final := r.runWait(th.ID, run.ID)
	if final.Status != app.RunExpired || final.RequiredAction != nil {
		t.Fatalf("after the timeout: %+v", final)
	}
	if st := r.steps(th.ID, run.ID); len(st) != 1 || st[0].Status != app.StepExpired {
		t.Fatalf("steps = %+v", st)
	}
	// Expired: outputs are refused and the thread is free again.
	if _, _, err := r.e.SubmitToolOutputs(ctx, th.ID, run.ID, []app.ToolOutput{{ToolCallID: "call_1", Output: "x"}}, false); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("outputs for an expired run: %v", err)
	}
	if _, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("again")}); err != nil {
		t.Fatalf("thread still locked: %v", err)
	}
}

func TestTranscriptCacheFollowsEditsAndDeletes(t *testing.T) {
	r := newScriptedRig(t, printed,
		modeltest.Turn{Text: "A1"}, modeltest.Turn{Text: "A2"}, modeltest.Turn{Text: "A3"}, modeltest.Turn{Text: "A4"},
	)
	ctx := context.Background()
	th, run, _, _ := r.e.Ask(ctx, engine.AskParams{AssistantID: r.asst.ID, Text: "Q1"})
	mustCompleted(t, r.runWait(th.ID, run.ID))
	// Between runs, the API adds a message, and then deletes the first.
	extra, err := r.e.CreateMessage(ctx, th.ID, app.MessageParams{Role: "user", Content: text("Context")})
	if err != nil {
		t.Fatal(err)
	}
	_, run2, _, _ := r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, AssistantID: r.asst.ID, Text: "Q2"})
	mustCompleted(t, r.runWait(th.ID, run2.ID))
	if got := strings.Join(lastRequest(r.model)[1:], "|"); got != "user: Q1|assistant: A1|user: Context|user: Q2" {
		t.Fatalf("second run sent %s", got)
	}
	if err := r.e.DeleteMessage(ctx, th.ID, extra.ID); err != nil {
		t.Fatal(err)
	}
	_, run3, _, _ := r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, AssistantID: r.asst.ID, Text: "Q3"})
	mustCompleted(t, r.runWait(th.ID, run3.ID))
	if got := strings.Join(lastRequest(r.model)[1:], "|"); got != "user: Q1|assistant: A1|user: Q2|assistant: A2|user: Q3" {
		t.Fatalf("third run sent %s", got)
	}
	// Another process on the same data folder deletes a message: this
	// engine's cached transcript must not keep it.
	other := r.open()
	q2 := ""
	tr, _ := r.e.Transcript(ctx, th.ID)
	for _, en := range tr {
		if en.Message != nil && app.TextOf(en.Message.Content) == "Q2" {
			q2 = en.Message.ID
		}
	}
	if err := other.DeleteMessage(ctx, th.ID, q2); err != nil {
		t.Fatal(err)
	}
	_, run4, _, _ := r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, AssistantID: r.asst.ID, Text: "Q4"})
	mustCompleted(t, r.runWait(th.ID, run4.ID))
	if got := strings.Join(lastRequest(r.model)[1:], "|"); got != "user: Q1|assistant: A1|assistant: A2|user: Q3|assistant: A3|user: Q4" {
		t.Fatalf("after a delete by another process the run sent %s", got)
	}
}

func TestAskIsOneStep(t *testing.T) {
	block := make(chan struct{})
	r := newScriptedRig(t, func(ctx context.Context, _ int, code string) (*app.CellResult, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return &app.CellResult{}, nil
	}, pythonCall("wait()"), modeltest.Turn{Text: "Done."})
	ctx := context.Background()
	// A new thread: titled after the question, remembering its assistant.
	th, run, _, err := r.e.Ask(ctx, engine.AskParams{Text: "  What is   the total revenue by region?  ",
		Files: []engine.AskFile{{Name: "sales.csv", Data: strings.NewReader("region,revenue\nnorth,1\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	def, err := r.e.DefaultAssistant(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if th.Metadata["title"] != "What is the total revenue by region?" || th.Metadata["assistant_id"] != def.ID || run.AssistantID != def.ID {
		t.Fatalf("thread metadata %v, run assistant %s, default %s", th.Metadata, run.AssistantID, def.ID)
	}
	// While it runs, a second question is refused whole: no message, no
	// stored file.
	files := func() int {
		l, err := r.e.ListFiles(ctx, "", app.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Data)
	}
	before := files()
	_, _, _, err = r.e.Ask(ctx, engine.AskParams{ThreadID: th.ID, Text: "And by month?",
		Files: []engine.AskFile{{Name: "more.csv", Data: strings.NewReader("a\n1\n")}}})
	var le *app.LockedError
	if app.ErrorCode(err) != app.ELOCKED || !errors.As(err, &le) || le.RunID != run.ID {
		t.Fatalf("second question: %v", err)
	}
	if files() != before {
		t.Fatal("the refused question left a file behind")
	}
	close(block)
	mustCompleted(t, r.runWait(th.ID, run.ID))
	tr, _ := r.e.Transcript(ctx, th.ID)
	for _, en := range tr {
		if en.Message != nil && app.TextOf(en.Message.Content) == "And by month?" {
			t.Fatal("the refused question was stored")
		}
	}
	// A thread that does not exist.
	if _, _, _, err := r.e.Ask(ctx, engine.AskParams{ThreadID: "thread_nope", Text: "Hi"}); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("missing thread: %v", err)
	}
	if _, _, _, err := r.e.Ask(ctx, engine.AskParams{Text: "  "}); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("empty question: %v", err)
	}
	// The default assistant is made once.
	all, _ := r.e.AllAssistants(ctx)
	n := 0
	for i := range all {
		if engine.IsDefaultAssistant(&all[i]) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d default assistants", n)
	}
}

func TestAskTitlesAreUnique(t *testing.T) {
	r := newScriptedRig(t, nil, modeltest.Turn{Text: "One."}, modeltest.Turn{Text: "Two."}, modeltest.Turn{Text: "Three."})
	ctx := context.Background()
	var titles []string
	for range 3 {
		th, _, _, err := r.e.Ask(ctx, engine.AskParams{Text: "Revenue by region?"})
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, th.Metadata["title"])
	}
	if want := []string{"Revenue by region?", "Revenue by region? (2)", "Revenue by region? (3)"}; !reflect.DeepEqual(titles, want) {
		t.Fatalf("titles %q, want %q", titles, want)
	}
}
