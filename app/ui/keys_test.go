package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"plotline/app/modeltest"
)

// menuShortcuts maps each main-menu item that has a shortcut to its keys.
func menuShortcuts(u *UI) map[string]string {
	out := map[string]string{}
	for _, m := range u.win.MainMenu().Items {
		for _, it := range m.Items {
			if s, ok := it.Shortcut.(*desktop.CustomShortcut); ok {
				out[it.Label] = string(s.KeyName)
				if s.Modifier != fyne.KeyModifierShortcutDefault {
					out[it.Label] += " (wrong modifier)"
				}
			}
		}
	}
	return out
}

func TestShortcutsInMenus(t *testing.T) {
	w := newWindow(t)
	got := menuShortcuts(w.u)
	want := map[string]string{"New thread": "N", "Search threads": "K", "Attach files…": "O", "Export…": "E",
		"Settings…": ",", "Keyboard shortcuts": "/"}
	for label, key := range want {
		if got[label] != key {
			t.Errorf("menu item %q: shortcut %q, want %q", label, got[label], key)
		}
	}
	// The sheet lists them, and Escape closes it.
	w.u.showShortcuts()
	top := w.u.win.Canvas().Overlays().Top()
	if top == nil || !strings.Contains(texts(top), "Search threads") || !strings.Contains(texts(top), modifierName()+"K") {
		t.Fatal("the shortcuts sheet does not list the shortcuts")
	}
	w.u.win.Canvas().(test.WindowlessCanvas).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape did not close the sheet")
	}
	// Ctrl+K puts the cursor in the search box.
	w.u.focusSearch()
	if w.u.win.Canvas().Focused() != w.u.search {
		t.Fatal("search is not focused")
	}
}

func TestComposerKeys(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Sent with Ctrl+Enter."})
	if w.u.composer.AcceptsTab() {
		t.Error("Tab is typed into the composer instead of moving on")
	}
	w.u.win.Canvas().Focus(w.u.composer)
	test.Type(w.u.composer, "First line")
	w.u.composer.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault})
	w.waitIdle()
	if rows := w.rowSummary(); len(rows) != 2 || rows[0] != "user: First line" {
		t.Fatalf("after Ctrl+Enter: %q", rows)
	}
}

func TestEscapeStopsTheRun(t *testing.T) {
	w := newWindow(t, pythonTurn("import time\nprint('working', flush=True)\ntime.sleep(30)"), modeltest.Turn{Text: "unused"})
	w.ask("Long job")
	if !w.u.Pump(60*time.Second, func() bool { return strings.HasPrefix(w.u.status.Text, phaseCode) }) {
		t.Fatalf("status %q", w.u.status.Text)
	}
	w.u.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	w.waitIdle()
	if w.u.status.Text != "Stopped." {
		t.Fatalf("after Escape: status %q", w.u.status.Text)
	}
}

func TestRenameDialogKeys(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Answer."})
	w.ask("Old title")
	w.waitIdle()
	w.u.renameThread()
	e, ok := w.u.win.Canvas().Focused().(*escEntry)
	if !ok {
		t.Fatalf("the rename field is not focused: %T", w.u.win.Canvas().Focused())
	}
	if got := e.SelectedText(); got != "Old title" {
		t.Fatalf("the rename field selects %q, want the whole old title", got)
	}
	e.SetText("New title")
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := w.u.currentTitle(); got != "New title" {
		t.Fatalf("after Enter: title %q", got)
	}
	// Escape closes it without renaming.
	w.u.renameThread()
	e = w.u.win.Canvas().Focused().(*escEntry)
	e.SetText("Not this")
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.u.win.Canvas().Overlays().Top() != nil || w.u.currentTitle() != "New title" {
		t.Fatalf("after Escape: overlay %v, title %q", w.u.win.Canvas().Overlays().Top(), w.u.currentTitle())
	}
}

func TestDeleteCanBeUndone(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Kept."}, modeltest.Turn{Text: "Gone."})
	w.ask("Keep me")
	w.waitIdle()
	kept := w.u.current
	w.u.deleteLater(kept, "Keep me")
	if w.u.current != "" || len(w.u.threads) != 0 {
		t.Fatal("a deleted thread is still shown")
	}
	test.Tap(findButton(t, w.u.banner, "Undo"))
	if w.u.current != kept || len(w.u.threads) != 1 || len(w.rowsOf(rowAssistant)) != 1 {
		t.Fatalf("after Undo: current %q, %d threads", w.u.current, len(w.u.threads))
	}
	w.u.deleteLater(kept, "Keep me")
	w.u.flushDeletes() // what the undo time, or closing the window, does
	if _, err := w.u.eng.GetThread(context.Background(), kept); err == nil {
		t.Fatal("the thread is still stored after its undo time")
	}
}

func TestTitlesAndDates(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.Local)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "Today 14:00"},
		{now.Add(-20 * time.Hour), "Yesterday 19:00"},
		{now.AddDate(0, 0, -3), "Saturday 15:00"},
		{now.AddDate(0, -2, 0), "1 Oct"},
		{now.AddDate(-1, 0, 0), "1 Dec 2025"},
	} {
		if got := threadWhen(c.t, now); got != c.want {
			t.Errorf("threadWhen(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}
