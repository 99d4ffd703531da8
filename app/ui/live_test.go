package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"plotline/app/modeltest"
)

// TestThreadOpenedMidRunShowsItsAnswerOnce: leaving a thread while its
// answer streams and coming back, before and after the answer ends, shows
// the whole answer once; the thread list marks the thread while it runs.
func TestThreadOpenedMidRunShowsItsAnswerOnce(t *testing.T) {
	answer := strings.Repeat("Revenue rose in every region. ", 12)
	w := newWindow(t, modeltest.Turn{Text: answer, ChunkSize: 6, ChunkDelay: 15 * time.Millisecond})
	w.ask("How did revenue change?")
	id := w.u.current
	assistantText := func() string {
		if rows := w.rowsOf(rowAssistant); len(rows) == 1 {
			return rows[0].text
		}
		return ""
	}
	if !w.u.Pump(30*time.Second, func() bool { return len(assistantText()) > 20 }) {
		t.Fatal("no streamed text")
	}
	// Away, while it streams on.
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	if !w.u.Pump(10*time.Second, func() bool { return w.u.running(id) && len(w.u.live[id].tl.rows) > 0 }) {
		t.Fatal("the window does not follow the run of a thread it left")
	}
	if got := texts(w.u.sidebar); !strings.Contains(got, "● ") {
		t.Fatalf("the thread list does not mark the running thread: %q", got)
	}
	// Back, mid-run: the text streamed while away is there, once.
	w.u.openThread(id)
	if got := assistantText(); !strings.HasPrefix(answer, got) || len(got) < 20 {
		t.Fatalf("reopened mid-run, the answer reads %q", got)
	}
	if !strings.HasPrefix(w.u.status.Text, phaseWriting) {
		t.Fatalf("reopened mid-run, the status reads %q", w.u.status.Text)
	}
	w.waitIdle()
	if got := assistantText(); got != answer {
		t.Fatalf("after the run, the answer reads %q, want %q", got, answer)
	}
	// Away and back after the end: from the store, once.
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	w.u.openThread(id)
	if got := assistantText(); got != answer {
		t.Fatalf("reopened after the run, the answer reads %q", got)
	}
	if w.u.running(id) || strings.Contains(texts(w.u.sidebar), "● ") {
		t.Fatal("the thread is still marked running")
	}
}

// TestConversationKeepsItsEnd: every row gets drawn, so an answer at the
// end is seen; the end stays in view as the window shrinks, and a reader
// who scrolled up is left where they are.
func TestConversationKeepsItsEnd(t *testing.T) {
	w := newWindow(t,
		pythonTurn("import matplotlib.pyplot as plt\nplt.bar(['a', 'b'], [1, 2])\nprint(3)"),
		modeltest.Turn{Text: "**North** leads.\n\n| region | revenue |\n|---|---|\n| North | 1,240 |\n| South | 980 |"},
		pythonTurn("df['profit'].mean()"),
		modeltest.Turn{Text: "The file has no `profit` column."},
		modeltest.Turn{Text: strings.Repeat("A long later answer. ", 40), ChunkSize: 20, ChunkDelay: 10 * time.Millisecond},
	)
	w.u.win.Resize(fyne.NewSize(1440, 900))
	w.ask("Which region?")
	w.waitIdle()
	w.ask("Mean profit?")
	w.waitIdle()
	scroll := test.WidgetRenderer(w.u.conv).Objects()[0].(*container.Scroll)
	atEnd := func() bool {
		w.u.Pump(5*time.Second, func() bool { return !w.u.endPending })
		return scroll.Offset.Y+scroll.Size().Height >= scroll.Content.Size().Height-1
	}
	last := len(w.u.tl.rows) - 1
	if _, drawn := w.u.rowsHeights[last]; !drawn || !atEnd() {
		t.Fatalf("the last answer: drawn %v, at the end %v", drawn, atEnd())
	}
	w.u.win.Resize(fyne.NewSize(1024, 700))
	if !atEnd() {
		t.Fatalf("after shrinking the window: offset %v of %v in %v", scroll.Offset.Y, scroll.Content.Size().Height, scroll.Size().Height)
	}
	// Scrolled up to read while an answer streams: it does not pull the
	// view down.
	w.ask("Again?")
	if !w.u.Pump(10*time.Second, func() bool {
		rows := w.rowsOf(rowAssistant)
		return len(rows) == 3 && rows[2].text != ""
	}) {
		t.Fatal("the third answer did not start")
	}
	w.u.conv.ScrollToTop()
	w.waitIdle()
	if atEnd() || scroll.Offset.Y != 0 {
		t.Fatalf("the view moved to %v while the analyst read the top", scroll.Offset.Y)
	}
}

// TestRateLimitedRunSaysWhenItRetries: while the model's service rate
// limits a run, the status says so and counts down; the answer follows.
func TestRateLimitedRunSaysWhenItRetries(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "2"}, modeltest.Turn{Text: "After the wait."})
	w.ask("Quick question")
	if !w.u.Pump(10*time.Second, func() bool { return strings.HasPrefix(w.u.status.Text, "Rate limited; retrying in ") }) {
		t.Fatalf("status %q while rate limited", w.u.status.Text)
	}
	w.waitIdle()
	if rows := w.rowsOf(rowAssistant); len(rows) != 1 || rows[0].text != "After the wait." {
		t.Fatalf("after the wait: %q", w.rowSummary())
	}
}
