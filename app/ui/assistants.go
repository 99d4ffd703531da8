package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
)

// assistantForm edits an assistant's name, instructions, model and tools,
// its functions among them, or makes a new one.
type assistantForm struct {
	u     *UI
	cur   *app.Assistant // nil for a new assistant
	name  *widget.Entry
	instr *widget.Entry
	model *widget.Entry
	code  *widget.Check
	asNew *widget.Check
	items []*widget.FormItem

	fns    []app.FunctionDef // the assistant's functions, as edited
	others []app.Tool        // tools the form does not edit (file_search), kept
	fnList *fyne.Container   // the functions, a row each (functions.go)
}

// newAssistantForm is the form for the selected assistant, or for a new
// one when none is selected.
func (u *UI) newAssistantForm() *assistantForm {
	f := &assistantForm{u: u}
	for i := range u.assts {
		if u.assts[i].ID == u.asstID {
			f.cur = &u.assts[i]
		}
	}
	f.name = widget.NewEntry()
	f.instr = widget.NewMultiLineEntry()
	f.instr.SetMinRowsVisible(6)
	f.instr.Wrapping = fyne.TextWrapWord
	f.model = widget.NewEntry()
	f.code = widget.NewCheck(codeInterpreterLabel(u.eng.CodeTool().Language), nil)
	f.code.SetChecked(true)
	f.asNew = widget.NewCheck("Save as a new assistant", nil)
	if cur := f.cur; cur != nil {
		if cur.Name != nil {
			f.name.SetText(*cur.Name)
		}
		if cur.Instructions != nil {
			f.instr.SetText(*cur.Instructions)
		}
		f.model.SetText(cur.Model)
		f.code.SetChecked(false)
		for _, t := range cur.Tools {
			switch {
			case t.Type == app.ToolCodeInterpreter:
				f.code.SetChecked(true)
			case t.Type == app.ToolFunction && t.Function != nil:
				f.fns = append(f.fns, *t.Function)
			default:
				f.others = append(f.others, t)
			}
		}
	} else {
		f.asNew.SetChecked(true)
		f.asNew.Disable()
		f.model.SetText(u.cfg.Model)
	}
	f.fnList = container.NewVBox()
	f.showFunctions()
	f.items = []*widget.FormItem{
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Instructions", f.instr),
		widget.NewFormItem("Model", f.model),
		widget.NewFormItem("Tools", f.code),
		widget.NewFormItem("Functions", f.fnList),
		widget.NewFormItem("", f.asNew),
	}
	f.items[4].HintText = "A handler is saved when you save its function; the functions are kept on the assistant when you save it"
	return f
}

// editAssistant edits the selected assistant, or makes a new one.
func (u *UI) editAssistant() {
	f := u.newAssistantForm()
	d := dialog.NewForm("Assistant", "Save", "Cancel", f.items, func(ok bool) {
		if ok {
			f.submit()
		}
	}, u.win)
	d.Resize(fyne.NewSize(680, 560))
	d.Show()
}

// submit saves the assistant as the form has it, its functions among its
// tools (their handlers were saved by the function editor).
func (f *assistantForm) submit() {
	u := f.u
	tools := []app.Tool{}
	if f.code.Checked {
		tools = append(tools, app.Tool{Type: app.ToolCodeInterpreter})
	}
	tools = append(tools, f.others...)
	for i := range f.fns {
		def := f.fns[i]
		tools = append(tools, app.Tool{Type: app.ToolFunction, Function: &def})
	}
	n, in, m := strings.TrimSpace(f.name.Text), f.instr.Text, strings.TrimSpace(f.model.Text)
	p := app.AssistantParams{Name: &n, Instructions: &in, Tools: &tools}
	if m != "" {
		p.Model = &m
	}
	var a *app.Assistant
	var err error
	if f.cur == nil || f.asNew.Checked {
		a, err = u.eng.CreateAssistant(u.ctx, p)
	} else {
		a, err = u.eng.UpdateAssistant(u.ctx, f.cur.ID, p)
	}
	if err != nil {
		u.showBanner("The assistant was not saved: "+err.Error(), nil)
		return
	}
	u.asstID = a.ID
	u.reloadAssistants()
}

// codeInterpreterLabel names the code interpreter tool for an assistant,
// in the language the model's code runs in.
func codeInterpreterLabel(language string) string {
	if language == "Python" {
		return "Code interpreter (runs Python in the sandbox)"
	}
	return "Code interpreter (runs " + language + ")"
}
