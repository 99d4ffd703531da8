package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// composerEntry is a multi-line entry where Enter sends and Shift+Enter
// starts a new line, as in chat apps.
type composerEntry struct {
	widget.Entry
	onSend   func()
	onEscape func()
	shift    bool
}

func newComposer(onSend func()) *composerEntry {
	e := &composerEntry{onSend: onSend}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// KeyDown tracks Shift.
func (e *composerEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

// KeyUp tracks Shift.
func (e *composerEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

// TypedKey sends on Enter; with Shift held, the entry adds a new line.
// Escape goes to the window.
func (e *composerEntry) TypedKey(k *fyne.KeyEvent) {
	switch {
	case (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift:
		if e.onSend != nil {
			e.onSend()
		}
	case k.Name == fyne.KeyEscape && e.onEscape != nil:
		e.onEscape()
	default:
		e.Entry.TypedKey(k)
	}
}

// TypedShortcut sends on Ctrl+Enter (Cmd+Enter on macOS) too.
func (e *composerEntry) TypedShortcut(s fyne.Shortcut) {
	if c, ok := s.(*desktop.CustomShortcut); ok && (c.KeyName == fyne.KeyReturn || c.KeyName == fyne.KeyEnter) &&
		c.Modifier == fyne.KeyModifierShortcutDefault {
		if e.onSend != nil {
			e.onSend()
		}
		return
	}
	e.Entry.TypedShortcut(s)
}

// AcceptsTab is false: Tab moves to the next control, as in a form.
func (e *composerEntry) AcceptsTab() bool { return false }
