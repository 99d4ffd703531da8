package ui

import (
	"strings"
	"testing"
	"time"

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
