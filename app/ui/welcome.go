package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// welcomeView greets a first start: it asks for a provider and key, and
// links to the settings. It never shows anything technical.
func (u *UI) welcomeView() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Welcome to Plotline", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	body := widget.NewLabel("Plotline answers questions about your CSV and Excel files. An AI model writes code, " +
		"and Plotline runs it on this computer, in a sandbox, and shows you the results and charts.\n\n" +
		"To start, choose the AI model to use: OpenAI, Azure OpenAI, or a model running on this computer " +
		"(Ollama, LM Studio), and enter its key.")
	body.Wrapping = fyne.TextWrapWord
	body.Alignment = fyne.TextAlignCenter
	open := widget.NewButtonWithIcon("Open settings", theme.SettingsIcon(), u.showSettings)
	open.Importance = widget.HighImportance
	card := container.NewVBox(title, body, container.NewCenter(open))
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(560, 300), card))
}

// examples are questions an analyst might start with.
var examples = []string{
	"What columns does this file have, and what is in them?",
	"Chart revenue by month.",
	"Which region grew fastest this year?",
	"Find rows that look like outliers, and explain why.",
}

// emptyView is what a new thread shows before its first question: where
// files go, and questions to start from.
func (u *UI) emptyView() fyne.CanvasObject {
	// A larger size rather than bold: a window that starts here then
	// loads no bold face (fonts are most of its memory).
	title := widget.NewLabelWithStyle("Ask about your data", fyne.TextAlignCenter, fyne.TextStyle{})
	title.SizeName = theme.SizeNameSubHeadingText
	drop := widget.NewLabel("Drop CSV or Excel files anywhere on this window, or attach them with + (" +
		modifierName() + "O): a table's columns and a first chart show at once. Then ask a question in plain words.")
	drop.Wrapping = fyne.TextWrapWord
	drop.Alignment = fyne.TextAlignCenter
	box := container.NewVBox(title, drop, widget.NewSeparator())
	for _, q := range examples {
		b := widget.NewButton(q, func() {
			u.composer.SetText(q)
			u.win.Canvas().Focus(u.composer)
		})
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		box.Add(b)
	}
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(560, box.MinSize().Height), box))
}

// showWelcomeIfNeeded shows the welcome in place of the conversation when
// no model is configured.
func (u *UI) showWelcomeIfNeeded() {
	if u.cfg.Configured() || u.svc.EnvConfigured {
		u.hideWelcome()
		return
	}
	u.convStack.Objects = []fyne.CanvasObject{u.welcome}
	u.convStack.Refresh()
}

// hideWelcome shows the conversation, or the new thread's start.
func (u *UI) hideWelcome() {
	var view fyne.CanvasObject = u.conv
	if u.current == "" {
		if u.empty == nil {
			u.empty = u.emptyView()
		}
		view = u.empty
	}
	u.convStack.Objects = []fyne.CanvasObject{view}
	u.convStack.Refresh()
}

// welcomeShown reports whether the welcome is on screen.
func (u *UI) welcomeShown() bool {
	return len(u.convStack.Objects) == 1 && u.convStack.Objects[0] == u.welcome
}
