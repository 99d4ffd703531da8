package ui

import (
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// shortcut is a keyboard shortcut of the window: its keys and what it
// does, for the menus and the shortcuts sheet.
type shortcut struct {
	key  fyne.KeyName
	what string
	do   func()
}

// shortcuts are the window's shortcuts with the platform's modifier
// (Ctrl, or Cmd on macOS), in the order the sheet lists them.
func (u *UI) shortcuts() []shortcut {
	return []shortcut{
		{fyne.KeyN, "New thread", u.newThread},
		{fyne.KeyK, "Search threads", u.focusSearch},
		{fyne.KeyO, "Attach files", u.pickAttachment},
		{fyne.KeyE, "Export the thread", u.showExport},
		{fyne.KeyComma, "Settings", u.showSettings},
		{fyne.KeySlash, "Keyboard shortcuts", u.showShortcuts},
	}
}

// keys returns the desktop shortcut for key with the platform's modifier.
func keys(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// menuItem is a menu item that shows, and answers to, a shortcut.
func (u *UI) menuItem(label string, s shortcut) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, s.do)
	it.Shortcut = keys(s.key)
	return it
}

// modifierName is how the sheet writes the platform's modifier.
func modifierName() string {
	if runtime.GOOS == "darwin" {
		return "⌘"
	}
	return "Ctrl+"
}

// keyLabel is how the sheet writes a key.
func keyLabel(k fyne.KeyName) string {
	switch k {
	case fyne.KeyComma:
		return ","
	case fyne.KeySlash:
		return "/"
	}
	return string(k)
}

// showShortcuts shows the sheet of keyboard shortcuts.
func (u *UI) showShortcuts() {
	grid := container.NewGridWithColumns(2)
	add := func(keys, what string) {
		grid.Add(widget.NewLabelWithStyle(keys, fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true}))
		grid.Add(widget.NewLabel(what))
	}
	for _, s := range u.shortcuts() {
		add(modifierName()+keyLabel(s.key), s.what)
	}
	add("Enter", "Send the question")
	add(modifierName()+"Enter", "Send the question")
	add("Shift+Enter", "New line in the question")
	add("Esc", "Close a dialog or view; stop the answer")
	d := dialog.NewCustom("Keyboard shortcuts", "Close", grid, u.win)
	d.Show()
}

// focusSearch puts the cursor in the thread search box.
func (u *UI) focusSearch() {
	u.win.Canvas().Focus(u.search)
	u.search.TypedShortcut(&fyne.ShortcutSelectAll{}) // typing replaces what was searched before
}

// escape closes what is on top: a dialog, else it stops the run.
func (u *UI) escape() {
	c := u.win.Canvas()
	if top := c.Overlays().Top(); top != nil {
		top.Hide()
		c.Overlays().Remove(top)
		return
	}
	if u.run.id != "" {
		u.stopRun()
	}
}

// escEntry is an entry whose Escape goes to the window.
type escEntry struct {
	widget.Entry
	onEscape func()
	onSubmit func()
	onFocus  func()
}

// FocusGained tells onFocus, if set.
func (e *escEntry) FocusGained() {
	if e.onFocus != nil {
		e.onFocus()
	}
	e.Entry.FocusGained()
}

func newEscEntry(onEscape func()) *escEntry {
	e := &escEntry{onEscape: onEscape}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey hands Escape to the window, and Enter to onSubmit if set.
func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	switch {
	case k.Name == fyne.KeyEscape && e.onEscape != nil:
		e.onEscape()
	case (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && e.onSubmit != nil:
		e.onSubmit()
	default:
		e.Entry.TypedKey(k)
	}
}
