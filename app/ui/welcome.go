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
	body := widget.NewLabel("Plotline answers questions about your CSV and Excel files. An AI model writes Python, " +
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

func (u *UI) hideWelcome() {
	u.convStack.Objects = []fyne.CanvasObject{u.conv}
	u.convStack.Refresh()
}

// welcomeShown reports whether the welcome is on screen.
func (u *UI) welcomeShown() bool {
	return len(u.convStack.Objects) == 1 && u.convStack.Objects[0] == u.welcome
}
