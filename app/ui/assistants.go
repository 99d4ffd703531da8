package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
)

// editAssistant edits the selected assistant's name, instructions, model
// and tools, or makes a new one.
func (u *UI) editAssistant() {
	var cur *app.Assistant
	for i := range u.assts {
		if u.assts[i].ID == u.asstID {
			cur = &u.assts[i]
		}
	}
	name := widget.NewEntry()
	instr := widget.NewMultiLineEntry()
	instr.SetMinRowsVisible(6)
	instr.Wrapping = fyne.TextWrapWord
	model := widget.NewEntry()
	code := widget.NewCheck("Code interpreter (runs Python in the sandbox)", nil)
	code.SetChecked(true)
	asNew := widget.NewCheck("Save as a new assistant", nil)
	if cur != nil {
		if cur.Name != nil {
			name.SetText(*cur.Name)
		}
		if cur.Instructions != nil {
			instr.SetText(*cur.Instructions)
		}
		model.SetText(cur.Model)
		code.SetChecked(false)
		for _, t := range cur.Tools {
			if t.Type == app.ToolCodeInterpreter {
				code.SetChecked(true)
			}
		}
	} else {
		asNew.SetChecked(true)
		asNew.Disable()
		model.SetText(u.cfg.Model)
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Instructions", instr),
		widget.NewFormItem("Model", model),
		widget.NewFormItem("Tools", code),
		widget.NewFormItem("", asNew),
	}
	d := dialog.NewForm("Assistant", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		tools := []app.Tool{}
		if code.Checked {
			tools = append(tools, app.Tool{Type: app.ToolCodeInterpreter})
		}
		n, in, m := strings.TrimSpace(name.Text), instr.Text, strings.TrimSpace(model.Text)
		p := app.AssistantParams{Name: &n, Instructions: &in, Tools: &tools}
		if m != "" {
			p.Model = &m
		}
		var a *app.Assistant
		var err error
		if cur == nil || asNew.Checked {
			a, err = u.eng.CreateAssistant(u.ctx, p)
		} else {
			a, err = u.eng.UpdateAssistant(u.ctx, cur.ID, p)
		}
		if err != nil {
			u.showBanner("The assistant was not saved: "+err.Error(), nil)
			return
		}
		u.asstID = a.ID
		u.reloadAssistants()
	}, u.win)
	d.Resize(fyne.NewSize(620, 480))
	d.Show()
}
