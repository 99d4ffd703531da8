package ui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"plotline/app/modeltest"
)

// TestStateIsRestored: the next start opens the thread the analyst was
// in, at the window's size and the thread list's width, with the files
// panel as it was.
func TestStateIsRestored(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "First."}, modeltest.Turn{Text: "Second."})
	w.ask("First thread")
	w.waitIdle()
	first := w.u.current
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	w.ask("Second thread")
	w.waitIdle()
	w.u.openThread(first)
	w.u.win.Resize(fyne.NewSize(1000, 700))
	w.u.split.SetOffset(0.3)
	w.u.toggleFiles()
	w.u.Close()

	again := New(test.NewTempApp(t), w.u.svc)
	t.Cleanup(again.Close)
	if again.current != first || len(again.tl.rows) != 2 {
		t.Fatalf("the next start shows thread %q, want %q", again.current, first)
	}
	if s := again.win.Canvas().Size(); s.Width != 1000 || s.Height != 700 {
		t.Fatalf("the next start's size is %v", s)
	}
	if again.split.Offset != 0.3 || !again.files.box.Visible() {
		t.Fatalf("the next start: sidebar %v, files shown %v", again.split.Offset, again.files.box.Visible())
	}

	// A damaged state file is ignored.
	os.WriteFile(filepath.Join(w.data, stateFile), []byte(`{"width": -5, "thread": 7`), 0o600)
	if s := loadState(w.data); s.Width != defaultSize.Width || s.Thread != "" {
		t.Fatalf("a damaged state gives %+v", s)
	}
}
