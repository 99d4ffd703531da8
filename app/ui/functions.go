package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
)

// The assistant editor's functions: function tools whose handler, a Go
// file in the data folder (functions/NAME.go), Plotline runs in the
// sandbox when the model calls them.

// newHandler is the handler a new function starts with.
const newHandler = `package main

// Run answers one call. args holds the model's
// arguments (JSON numbers arrive as float64).
// A string result reaches the model as it is,
// any other value as JSON; an error as
// {"error": "..."}.
func Run(args map[string]any) (any, error) {
	return args, nil
}
`

// newParameters is the JSON Schema a new function's arguments start with.
const newParameters = `{"type": "object", "properties": {}}`

// tryTimeout bounds a test run from the editor; the call's own time limit
// is shorter.
const tryTimeout = time.Minute

// showFunctions lists the form's functions, each with Edit and Remove,
// and Add function.
func (f *assistantForm) showFunctions() {
	var rows []fyne.CanvasObject
	if !f.u.eng.RunsLocalFunctions() {
		off := widget.NewLabel("Local functions are turned off (PLOTLINE_LOCAL_FUNCTIONS=0): every call waits for a client.")
		off.Wrapping = fyne.TextWrapWord
		off.Importance = widget.WarningImportance
		rows = append(rows, off)
	}
	for i, def := range f.fns {
		label := def.Name
		if !f.u.eng.HasFunctionHandler(def.Name) {
			label += " (no handler: a client answers it)"
		}
		edit := widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() { f.editFunction(i) })
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			f.fns = append(f.fns[:i:i], f.fns[i+1:]...)
			f.showFunctions()
		})
		rows = append(rows, container.NewBorder(nil, nil, nil, container.NewHBox(edit, remove), widget.NewLabel(label)))
	}
	add := widget.NewButtonWithIcon("Add function…", theme.ContentAddIcon(), func() { f.editFunction(-1) })
	rows = append(rows, container.NewHBox(add))
	f.fnList.Objects = rows
	f.fnList.Refresh()
}

// editFunction opens the function editor on function i of the form, or
// on a new function when i is -1.
func (f *assistantForm) editFunction(i int) {
	ff := f.newFunctionForm(i)
	d := dialog.NewCustomWithoutButtons("Function", ff.content, f.u.win)
	ff.close = d.Hide
	d.SetOnClosed(ff.stopTest)
	d.Resize(fyne.NewSize(760, 700))
	d.Show()
}

// functionForm edits one function: its name, description and parameters,
// which the assistant keeps, and its Go handler, which the data folder
// keeps; Test runs the draft with sample arguments.
type functionForm struct {
	f       *assistantForm
	index   int // in f.fns, or -1 for a new function
	name    *widget.Entry
	desc    *widget.Entry
	params  *widget.Entry
	body    *widget.Entry
	sample  *widget.Entry
	output  *widget.Label
	message *widget.Label
	test    *widget.Button
	save    *widget.Button
	content fyne.CanvasObject
	close   func() // closes the editor's dialog

	cancel context.CancelFunc // ends a test in progress; nil when none is
	tested func()             // if set, called once a test's outcome is shown (for tests)
}

// monospaceEntry is a multi-line entry for code and JSON.
func monospaceEntry(rows int) *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.SetMinRowsVisible(rows)
	return e
}

func (f *assistantForm) newFunctionForm(i int) *functionForm {
	ff := &functionForm{f: f, index: i}
	ff.name = widget.NewEntry()
	ff.name.SetPlaceHolder("get_weather")
	ff.desc = widget.NewEntry()
	ff.desc.SetPlaceHolder("What it does, for the model")
	ff.params = monospaceEntry(4)
	ff.body = monospaceEntry(14)
	ff.sample = monospaceEntry(2)
	ff.sample.SetText("{}")
	ff.output = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	ff.output.Wrapping = fyne.TextWrapBreak
	ff.output.Selectable = true
	ff.message = widget.NewLabel("")
	ff.message.Wrapping = fyne.TextWrapWord
	ff.test = widget.NewButtonWithIcon("Test", theme.MediaPlayIcon(), ff.runTest)
	ff.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), ff.submit)
	ff.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { ff.closeEditor() })

	ff.params.SetText(newParameters)
	ff.body.SetText(newHandler)
	if i >= 0 {
		def := f.fns[i]
		ff.name.SetText(def.Name)
		ff.desc.SetText(def.Description)
		if len(def.Parameters) > 0 {
			ff.params.SetText(string(def.Parameters))
		}
		src, err := f.u.eng.FunctionSource(def.Name)
		switch {
		case err == nil:
			ff.body.SetText(src)
		case errors.Is(err, os.ErrNotExist):
			ff.message.SetText("This function has no handler yet: a client answers its calls until you save one.")
		default:
			ff.fail("The handler could not be read: " + err.Error())
		}
	}
	form := widget.NewForm(
		widget.NewFormItem("Name", ff.name),
		widget.NewFormItem("Description", ff.desc),
		widget.NewFormItem("Parameters", ff.params),
		widget.NewFormItem("Go handler", ff.body),
		widget.NewFormItem("Sample arguments", ff.sample),
	)
	form.Items[2].HintText = "A JSON Schema object"
	form.Items[3].HintText = "Saved as functions/NAME.go in the data folder; it runs in the sandbox, without network or files"
	out := container.NewVScroll(ff.output)
	out.SetMinSize(fyne.NewSize(0, 90))
	ff.content = container.NewBorder(form,
		container.NewVBox(ff.message, container.NewHBox(ff.test, layout.NewSpacer(), cancel, ff.save)),
		nil, nil, out)
	return ff
}

func (ff *functionForm) fail(msg string) {
	ff.message.Importance = widget.DangerImportance
	ff.message.SetText(msg)
}

// runTest runs the handler as drafted with the sample arguments, in the
// sandbox as a run would, and shows its output (or error) and what it
// printed.
func (ff *functionForm) runTest() {
	if ff.cancel != nil {
		return
	}
	name := strings.TrimSpace(ff.name.Text)
	if name == "" {
		ff.fail("Name the function first.")
		return
	}
	ctx, cancel := context.WithTimeout(ff.f.u.ctx, tryTimeout)
	ff.cancel = cancel
	ff.test.Disable()
	ff.message.Importance = widget.MediumImportance
	ff.message.SetText("Running…")
	body, args := ff.body.Text, ff.sample.Text
	go func() {
		res, err := ff.f.u.eng.TryFunction(ctx, name, body, args)
		cancel()
		onUI(func() {
			ff.cancel = nil
			ff.test.Enable()
			switch {
			case err != nil:
				ff.fail("The function could not run: " + err.Error())
				ff.output.SetText("")
			case res.Error != "":
				ff.fail("The call failed; the model would be told the output below.")
				ff.output.SetText(outputText(res.Output, res.Logs))
			default:
				ff.message.Importance = widget.SuccessImportance
				ff.message.SetText(fmt.Sprintf("It ran in %d ms; the model would be told the output below.", res.Duration.Milliseconds()))
				ff.output.SetText(outputText(res.Output, res.Logs))
			}
			if ff.tested != nil {
				ff.tested()
			}
		})
	}()
}

// outputText is a test's output, then what the handler printed.
func outputText(output, logs string) string {
	if logs == "" {
		return output
	}
	return output + "\n\nPrinted:\n" + logs
}

// stopTest ends a test in progress.
func (ff *functionForm) stopTest() {
	if ff.cancel != nil {
		ff.cancel()
	}
}

func (ff *functionForm) closeEditor() {
	ff.stopTest()
	if ff.close != nil {
		ff.close()
	}
}

// submit checks the function, saves its handler in the data folder and
// puts the function in the assistant's form, which keeps it on the
// assistant when that is saved.
func (ff *functionForm) submit() {
	f := ff.f
	name := strings.TrimSpace(ff.name.Text)
	for j, def := range f.fns {
		if def.Name == name && j != ff.index {
			ff.fail(fmt.Sprintf("The assistant already has a function named %s.", name))
			return
		}
	}
	var schema map[string]any
	params := strings.TrimSpace(ff.params.Text)
	if params == "" {
		params = newParameters
	}
	if err := json.Unmarshal([]byte(params), &schema); err != nil || schema == nil {
		ff.fail("The parameters are not a JSON Schema object.")
		return
	}
	if err := f.u.eng.SaveFunction(name, ff.body.Text); err != nil {
		ff.fail("Not saved: " + err.Error())
		return
	}
	def := app.FunctionDef{Name: name, Description: strings.TrimSpace(ff.desc.Text), Parameters: json.RawMessage(params)}
	if ff.index >= 0 {
		f.fns[ff.index] = def
	} else {
		f.fns = append(f.fns, def)
		ff.index = len(f.fns) - 1
	}
	f.showFunctions()
	ff.closeEditor()
}
