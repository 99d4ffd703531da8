package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/apptest"
	"plotline/app/modeltest"
	"plotline/app/settings"
	"plotline/interpreter"
	"plotline/interpreter/interptest"
)

var testPython *interpreter.Python

func TestMain(m *testing.M) {
	testPython = interptest.Setup()
	os.Exit(m.Run())
}

// window is a headless Plotline window on a real engine, with the scripted
// model behind it.
type window struct {
	t     *testing.T
	u     *UI
	model *modeltest.Server
	data  string
}

func newWindow(t *testing.T, turns ...modeltest.Turn) *window {
	t.Helper()
	srv := modeltest.NewServer(t, turns...)
	w := openWindow(t, srv.BaseURL(), apptest.Options{})
	w.model = srv
	return w
}

// openWindow is a headless window on a real engine whose model is at
// modelURL, with the default assistant made.
func openWindow(t *testing.T, modelURL string, o apptest.Options) *window {
	t.Helper()
	data := t.TempDir()
	eng := apptest.New(t, testPython, data, modelURL, o)
	name, instr := "Data analyst", "Analyse."
	if _, err := eng.CreateAssistant(context.Background(), app.AssistantParams{Name: &name, Instructions: &instr,
		Tools: &[]app.Tool{{Type: app.ToolCodeInterpreter}}, Metadata: &app.Metadata{"plotline_default": "data-analyst"}}); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	u := New(a, Services{Engine: eng, DataDir: data, Keys: settings.Keys{Dir: data, Service: "plotline-test"}, EnvConfigured: true, Manual: true})
	u.win.Resize(fyne.NewSize(1200, 800))
	t.Cleanup(u.Close)
	return &window{t: t, u: u, data: data}
}

func pythonTurn(code string) modeltest.Turn {
	args, _ := json.Marshal(map[string]string{"code": code})
	return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(args)}}}
}

// ask types a question and presses Enter.
func (w *window) ask(q string) {
	w.t.Helper()
	w.u.win.Canvas().Focus(w.u.composer)
	test.Type(w.u.composer, q)
	w.u.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

// waitIdle pumps events until no run is active.
func (w *window) waitIdle() {
	w.t.Helper()
	if !w.u.Pump(90*time.Second, func() bool { return w.u.run.id == "" }) {
		w.t.Fatalf("the run did not end; status %q", w.u.status.Text)
	}
}

// rowsOf returns the conversation's rows of a kind.
func (w *window) rowsOf(kind rowKind) []*row {
	var out []*row
	if w.u.tl == nil {
		return nil
	}
	for _, r := range w.u.tl.rows {
		if r.kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// rendered renders row i of the conversation as the list would.
func (w *window) rendered(i int) fyne.CanvasObject {
	box := w.u.conv.CreateItem().(*fyne.Container)
	w.u.renderRow(i, box)
	return box
}

// texts collects the text of every label and rich text under o.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *widget.RichText:
			b.WriteString(v.String() + "\n")
		case *widget.Button:
			b.WriteString("[" + v.Text + "]\n")
		case *widget.RadioGroup:
			b.WriteString("(" + strings.Join(v.Options, ")\n(") + ")\n")
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			if r := test.WidgetRenderer(w); r != nil {
				for _, c := range r.Objects() {
					if _, isLabel := c.(*widget.Label); !isLabel {
						walk(c)
					}
				}
			}
		}
	}
	walk(o)
	return b.String()
}

func TestAskWithCSVShowsAnswerCodeAndChart(t *testing.T) {
	w := newWindow(t,
		pythonTurn("import pandas as pd\ndf = pd.read_csv('sales.csv')\ndf.plot(x='month', y='revenue')\nprint(df.revenue.sum())"),
		modeltest.Turn{Text: "Total revenue is **60**.\n\n| month | revenue |\n|---|---|\n| 1 | 10 |"},
	)
	csv := filepath.Join(t.TempDir(), "sales.csv")
	os.WriteFile(csv, []byte("month,revenue\n1,10\n2,20\n3,30\n"), 0o644)
	w.u.attach(csv)
	if len(w.u.chips.Objects) != 1 || !strings.Contains(texts(w.u.chips), "sales.csv") {
		t.Fatalf("attachment chip = %v", w.u.chips.Objects)
	}
	w.ask("Plot revenue by month")
	w.waitIdle()

	if len(w.u.threads) != 1 || threadTitle(w.u.threads[0]) != "Plot revenue by month" {
		t.Fatalf("threads = %+v", w.u.threads)
	}
	if len(w.u.chips.Objects) != 0 || w.u.composer.Text != "" {
		t.Fatal("the composer was not cleared after sending")
	}
	users, code, answers := w.rowsOf(rowUser), w.rowsOf(rowCode), w.rowsOf(rowAssistant)
	if len(users) != 1 || len(users[0].attachments) != 1 || len(code) != 1 || len(answers) != 1 {
		t.Fatalf("rows: %d user, %d code, %d answers", len(users), len(code), len(answers))
	}
	if code[0].expanded || code[0].logs != "60\n" || len(code[0].images) != 1 {
		t.Fatalf("code row = %+v", code[0])
	}
	a := answers[0]
	if !strings.Contains(a.text, "Total revenue is **60**") || len(a.images) != 1 || a.images[0] != code[0].images[0] {
		t.Fatalf("answer row = %+v", a)
	}
	// The answer renders its text, its table as a grid, and the chart.
	ai := w.u.tl.index[a.id]
	out := texts(w.rendered(ai))
	for _, want := range []string{"Assistant", "Total revenue is", "month", "revenue", "[Save]", "[Full size]"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the answer does not show %q:\n%s", want, out)
		}
	}
	// The code step is collapsed: a one-line summary until opened.
	ci := w.u.tl.index[code[0].id]
	collapsed := texts(w.rendered(ci))
	if !strings.Contains(collapsed, "Python, 4 lines, ran, 1 chart(s)") || strings.Contains(collapsed, "read_csv") {
		t.Fatalf("collapsed code step:\n%s", collapsed)
	}
	code[0].expanded = true
	if opened := texts(w.rendered(ci)); !strings.Contains(opened, "read_csv") || !strings.Contains(opened, "60") {
		t.Fatalf("opened code step:\n%s", opened)
	}
	// The files panel lists the input and the chart.
	w.u.files.refresh()
	if len(w.u.files.ids) != 2 {
		t.Fatalf("files panel = %v", w.u.files.ids)
	}
}

func TestStopDuringLongCell(t *testing.T) {
	w := newWindow(t,
		pythonTurn("import time\nprint('working', flush=True)\ntime.sleep(120)"),
		modeltest.Turn{Text: "Back again."},
	)
	w.ask("Take your time")
	if !w.u.Pump(60*time.Second, func() bool {
		rows := w.rowsOf(rowCode)
		return len(rows) == 1 && strings.Contains(rows[0].logs, "working")
	}) {
		t.Fatal("the long cell never started")
	}
	if !w.u.stop.Visible() || !strings.HasPrefix(w.u.status.Text, "Running code") {
		t.Fatalf("while running: stop visible %v, status %q", w.u.stop.Visible(), w.u.status.Text)
	}
	test.Tap(w.u.stop)
	w.waitIdle()
	if w.u.status.Text != "Stopped." || w.u.stop.Visible() {
		t.Fatalf("after stop: status %q", w.u.status.Text)
	}
	runs, _ := w.u.eng.ListRuns(context.Background(), w.u.current, app.ListOptions{Limit: 1})
	if runs.Data[0].Status != app.RunCancelled {
		t.Fatalf("run status = %s", runs.Data[0].Status)
	}
	// The thread is usable again.
	w.ask("Are you there?")
	w.waitIdle()
	answers := w.rowsOf(rowAssistant)
	if len(answers) != 1 || answers[0].text != "Back again." {
		t.Fatalf("after stopping, answers = %+v", answers)
	}
}

func TestSettingsRejectsBadEndpoints(t *testing.T) {
	w := newWindow(t)
	f := w.u.newSettingsForm()
	for _, tc := range []struct{ endpoint, want string }{
		{"", "the endpoint is empty"},
		{"not a url", "is not a web address"},
		{"ftp://example.com", "is not a web address"},
	} {
		f.provider.SetSelected(providerLabels[2])
		f.endpoint.SetText(tc.endpoint)
		test.Tap(f.save)
		if !strings.Contains(f.message.Text, tc.want) || !strings.HasPrefix(f.message.Text, "Not saved") {
			t.Fatalf("endpoint %q: message %q", tc.endpoint, f.message.Text)
		}
		if _, err := os.Stat(filepath.Join(w.data, "settings.json")); err == nil {
			t.Fatalf("endpoint %q: settings were saved", tc.endpoint)
		}
	}
	// A good one is saved.
	f.endpoint.SetText("http://localhost:11434/v1")
	f.model.SetText("llama3.1")
	test.Tap(f.save)
	s, err := settings.Load(w.data)
	if err != nil || s.Provider != settings.ProviderCompatible || s.Endpoint != "http://localhost:11434/v1" || s.Model != "llama3.1" {
		t.Fatalf("saved settings = %+v, %v (message %q)", s, err, f.message.Text)
	}
}

func TestDroppedFilesAreAttached(t *testing.T) {
	w := newWindow(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.xlsx")
	os.WriteFile(a, []byte("x\n1\n"), 0o644)
	os.WriteFile(b, []byte("x"), 0o644)
	w.u.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(a), storage.NewFileURI(b), storage.NewFileURI(a)})
	if len(w.u.attached) != 2 || len(w.u.chips.Objects) != 2 {
		t.Fatalf("attached = %v", w.u.attached)
	}
	// Dropping a table opens Quick look on it, once.
	looks := 0
	for _, x := range w.u.app.Driver().AllWindows() {
		if x.Title() == "Quick look — a.csv" {
			looks++
		}
	}
	if looks != 1 {
		t.Errorf("%d Quick look windows on a.csv", looks)
	}
	// A table's chip has Quick look and remove; remove removes its file.
	actions := w.u.chips.Objects[0].(*fyne.Container).Objects[2].(*fyne.Container)
	test.Tap(actions.Objects[1].(*widget.Button))
	if len(w.u.attached) != 1 || w.u.attached[0] != b {
		t.Fatalf("after removing a chip: %v", w.u.attached)
	}
}

func TestRenameDeleteAndSearchThreads(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Sales answer."}, modeltest.Turn{Text: "Weather answer."})
	w.ask("Quarterly sales")
	w.waitIdle()
	first := w.u.current
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	w.ask("Rain in Oslo")
	w.waitIdle()
	if len(w.u.threads) != 2 {
		t.Fatalf("threads = %d", len(w.u.threads))
	}
	if err := w.u.setThreadTitle(first, "Sales Q3"); err != nil {
		t.Fatal(err)
	}
	titles := func() []string {
		var out []string
		for _, th := range w.u.shown {
			out = append(out, threadTitle(th))
		}
		return out
	}
	if got := strings.Join(titles(), ","); got != "Rain in Oslo,Sales Q3" {
		t.Fatalf("titles after rename = %s", got)
	}
	// Search by title, then by message text.
	shows := func(want string) bool {
		return w.u.Pump(10*time.Second, func() bool { return strings.Join(titles(), ",") == want })
	}
	test.Type(w.u.search, "q3")
	if !shows("Sales Q3") {
		t.Fatalf("search by title: %s", strings.Join(titles(), ","))
	}
	w.u.search.SetText("weather answer")
	if !shows("Rain in Oslo") {
		t.Fatalf("search by text: %s", strings.Join(titles(), ","))
	}
	w.u.search.SetText("")
	// Delete (the confirmation's action).
	w.u.doDeleteThread(first)
	if got := strings.Join(titles(), ","); got != "Rain in Oslo" {
		t.Fatalf("after delete: %s", got)
	}
	if _, err := w.u.eng.GetThread(context.Background(), first); err == nil {
		t.Fatal("the deleted thread is still stored")
	}
}

func TestComposerEnterSendsShiftEnterBreaksLine(t *testing.T) {
	sent := 0
	c := newComposer(func() { sent++ })
	w := test.NewTempWindow(t, c)
	w.Canvas().Focus(c)
	test.Type(c, "first")
	c.KeyDown(&fyne.KeyEvent{Name: "LeftShift"})
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	c.KeyUp(&fyne.KeyEvent{Name: "LeftShift"})
	test.Type(c, "second")
	if sent != 0 || c.Text != "first\nsecond" {
		t.Fatalf("after Shift+Enter: sent %d, text %q", sent, c.Text)
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if sent != 1 || c.Text != "first\nsecond" {
		t.Fatalf("after Enter: sent %d, text %q", sent, c.Text)
	}
}

func TestWelcomeWithoutModel(t *testing.T) {
	w := newWindow(t)
	w.u.svc.EnvConfigured = false
	w.u.showWelcomeIfNeeded()
	if !w.u.welcomeShown() {
		t.Fatal("no welcome without a configured model")
	}
	out := texts(w.u.welcome)
	if !strings.Contains(out, "Welcome to Plotline") || !strings.Contains(out, "[Open settings]") {
		t.Fatalf("welcome:\n%s", out)
	}
}

func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil {
			return
		}
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			found = b
			return
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				walk(x)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, x := range test.WidgetRenderer(w).Objects() {
				walk(x)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no button %q", text)
	}
	return found
}

// BenchmarkStreamToken is what one streamed token costs the window at the
// end of a long answer: applying the delta to the conversation and
// re-rendering that one row. The reference is rendering a short row.
func BenchmarkStreamToken(b *testing.B) {
	a := test.NewTempApp(b)
	u := &UI{app: a, rowsHeights: map[int]float32{}}
	u.conv = widget.NewList(func() int { return len(u.tl.rows) }, func() fyne.CanvasObject { return container.NewStack() },
		func(id widget.ListItemID, o fyne.CanvasObject) {})
	u.images = newImageCache(nil)
	text := strings.Repeat("Revenue grew in **every** region; the table below has the details.\n\n", 300)
	u.tl = newTimeline("t")
	u.tl.apply(app.Event{ThreadID: "t", Data: &app.MessageDelta{ID: "short", Delta: app.MessageDeltaBody{Content: []app.ContentDelta{{Type: "text", Text: &app.Text{Value: "Hello"}}}}}})
	u.tl.apply(app.Event{ThreadID: "t", Data: &app.MessageDelta{ID: "m", Delta: app.MessageDeltaBody{Content: []app.ContentDelta{{Type: "text", Text: &app.Text{Value: text}}}}}})
	box := container.NewStack()
	tok := app.Event{ThreadID: "t", Data: &app.MessageDelta{ID: "m", Delta: app.MessageDeltaBody{Content: []app.ContentDelta{{Type: "text", Text: &app.Text{Value: " more"}}}}}}
	var long, short []time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		changed, _ := u.tl.apply(tok)
		u.renderRow(changed[0], box)
		long = append(long, time.Since(t0))
		t0 = time.Now()
		u.renderRow(0, box)
		short = append(short, time.Since(t0))
	}
	interptest.ReportMedian(b, long)
	b.ReportMetric(interptest.Ms(interptest.Median(short)), "short-row-ms")
}

// A failed run shows a banner in plain words, with Retry.
func TestFailedRunShowsBannerWithRetry(t *testing.T) {
	turns := make([]modeltest.Turn, 4)
	for i := range turns {
		turns[i] = modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", ErrorMessage: "Slow down.", RetryAfter: "0"}
	}
	w := newWindow(t, turns...)
	w.ask("Hello?")
	w.waitIdle()
	if got := w.u.bannerText(); got != "The model's service is rate limiting requests. Try again in a moment." {
		t.Fatalf("banner = %q", got)
	}
	findButton(t, w.u.banner, "Retry")
}

// waitEvent reads sub until an event matches, failing the test after d.
func waitEvent(t *testing.T, sub *app.Subscription, d time.Duration, match func(app.Event) bool) app.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for an event: %v", err)
		}
		if match(ev) {
			return ev
		}
	}
}

// rowSummary is the window's conversation, one line a row: its kind and
// what it shows.
func (w *window) rowSummary() []string {
	var out []string
	for _, r := range w.u.tl.rows {
		switch r.kind {
		case rowUser:
			out = append(out, "user: "+r.text)
		case rowAssistant:
			out = append(out, "assistant: "+r.text)
		case rowCode:
			out = append(out, "code: "+r.code)
		case rowFunction:
			out = append(out, "function: "+r.function.Name)
		}
	}
	return out
}

// TestStopKeepsStoppedCodeBeforeNextQuestion: code stopped mid-cell stays
// where it ran, before the next question, for the model, in the window and
// when the thread is opened again.
func TestStopKeepsStoppedCodeBeforeNextQuestion(t *testing.T) {
	const slow = "import time\nprint('sleeping', flush=True)\ntime.sleep(30)"
	const fresh = `print("fresh")`
	w := newWindow(t, pythonTurn(slow), pythonTurn(fresh), modeltest.Turn{Text: "Fresh answer."})
	sub := w.u.eng.Bus.Subscribe("")
	defer sub.Close()

	w.ask("First question")
	// The cell is running once its first output arrives.
	waitEvent(t, sub, 60*time.Second, func(ev app.Event) bool {
		d, ok := ev.Data.(*app.RunStepDelta)
		if !ok {
			return false
		}
		for _, tc := range d.Delta.StepDetails.ToolCalls {
			if ci := tc.CodeInterpreter; ci != nil {
				for _, o := range ci.Outputs {
					if strings.Contains(o.Logs, "sleeping") {
						return true
					}
				}
			}
		}
		return false
	})
	if !w.u.Pump(10*time.Second, func() bool {
		rows := w.rowsOf(rowCode)
		return len(rows) == 1 && strings.Contains(rows[0].logs, "sleeping")
	}) {
		t.Fatal("the window does not show the running cell")
	}
	test.Tap(w.u.stop)
	w.waitIdle()
	if w.u.status.Text != "Stopped." {
		t.Fatalf("after stop: status %q", w.u.status.Text)
	}

	w.ask("Second question")
	w.waitIdle()

	// (a) The model saw the stopped call before the second question, which
	// is the last message of the request that answers it.
	reqs := w.model.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model requests, want 3", len(reqs))
	}
	msgs := reqs[1].Messages
	if last := msgs[len(msgs)-1]; last.Role != "user" || last.Content != "Second question" {
		t.Fatalf("the second question's request ends with %s %q:\n%+v", last.Role, last.Content, msgs)
	}
	q1, call, result := -1, -1, -1
	var callID string
	for i, m := range msgs {
		switch {
		case m.Role == "user" && strings.HasPrefix(m.Content, "First question"):
			q1 = i
		case m.Role == "assistant" && len(m.ToolCalls) == 1 && strings.Contains(m.ToolCalls[0].Arguments, "time.sleep(30)"):
			call, callID = i, m.ToolCalls[0].ID
		case m.Role == "tool" && callID != "" && m.ToolCallID == callID:
			result = i
		}
	}
	if !(q1 >= 0 && q1 < call && call < result && result < len(msgs)-1) {
		t.Fatalf("request for the second question: Q1 at %d, stopped call at %d, its result at %d, Q2 at %d:\n%+v",
			q1, call, result, len(msgs)-1, msgs)
	}

	// (b) The window shows them in the order they happened.
	want := []string{"user: First question", "code: " + slow, "user: Second question", "code: " + fresh, "assistant: Fresh answer."}
	if got := w.rowSummary(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n%q\nwant:\n%q", got, want)
	}

	// (c) Opening the thread again, from its transcript, shows the same.
	id := w.u.current
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	if w.u.tl != nil {
		t.Fatal("a new thread still shows the old conversation")
	}
	w.u.sidebar.Select(0)
	if w.u.current != id {
		t.Fatalf("selected %q, want %q", w.u.current, id)
	}
	if got := w.rowSummary(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows after reopening:\n%q\nwant:\n%q", got, want)
	}
	if rows := w.rowsOf(rowCode); rows[0].status != app.StepCancelled || rows[1].logs != "fresh\n" {
		t.Fatalf("reopened code rows: %+v, %+v", rows[0], rows[1])
	}
}
