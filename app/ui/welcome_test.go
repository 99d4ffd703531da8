package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"plotline/app/modeltest"
)

func TestNewThreadShowsWhereToStart(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Columns: x."})
	shown := func() string { return texts(w.u.convStack) }
	if got := shown(); !strings.Contains(got, "Drop CSV or Excel files") || !strings.Contains(got, examples[0]) {
		t.Fatalf("a new thread shows %q", got)
	}
	test.Tap(findButton(t, w.u.convStack, examples[0]))
	if w.u.composer.Text != examples[0] {
		t.Fatalf("the example put %q in the composer", w.u.composer.Text)
	}
	w.u.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	w.waitIdle()
	if got := shown(); strings.Contains(got, "Drop CSV or Excel files") || w.u.convStack.Objects[0] != w.u.conv {
		t.Fatal("the thread's conversation is not shown after its first question")
	}
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	if !strings.Contains(shown(), examples[1]) {
		t.Fatal("New thread does not show where to start")
	}
}
