package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
)

const addHandler = `package main

import "fmt"

func Run(args map[string]any) (any, error) {
	fmt.Println("adding")
	return args["a"].(float64) + args["b"].(float64), nil
}
`

// tapTest taps Test and waits until its outcome is shown.
func tapTest(t *testing.T, ff *functionForm) {
	t.Helper()
	done := make(chan struct{})
	ff.tested = func() { close(done) }
	test.Tap(ff.test)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the test run did not end")
	}
}

// Adding a function: its handler is tested with sample arguments in the
// sandbox, its output (or error) shown; Save writes functions/NAME.go,
// and saving the assistant keeps the function on it.
func TestAddFunctionTestAndSave(t *testing.T) {
	w := newWindow(t)
	f := w.u.newAssistantForm()
	if f.cur == nil || len(f.fns) != 0 {
		t.Fatalf("the form is not on the default assistant: %+v", f.cur)
	}
	ff := f.newFunctionForm(-1)
	if !strings.Contains(ff.body.Text, "func Run(args map[string]any) (any, error)") || !ff.body.TextStyle.Monospace {
		t.Fatalf("a new function's handler starts as %q", ff.body.Text)
	}
	ff.name.SetText("add")
	ff.desc.SetText("Adds a and b.")
	ff.params.SetText(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}`)
	ff.body.SetText(addHandler)
	ff.sample.SetText(`{"a": 1, "b": 2}`)
	tapTest(t, ff)
	if ff.output.Text != "3\n\nPrinted:\nadding\n" || ff.message.Importance != widget.SuccessImportance || !strings.HasPrefix(ff.message.Text, "It ran in") {
		t.Fatalf("output %q, message %q", ff.output.Text, ff.message.Text)
	}
	// An error is shown as the model would get it.
	ff.sample.SetText(`{"a": "one"}`)
	tapTest(t, ff)
	if !strings.Contains(ff.output.Text, `{"error":"the function add panicked:`) || !strings.HasPrefix(ff.message.Text, "The call failed") {
		t.Fatalf("output %q, message %q", ff.output.Text, ff.message.Text)
	}
	if _, err := os.Stat(filepath.Join(w.data, "functions", "add.go")); !os.IsNotExist(err) {
		t.Fatalf("Test saved the handler: %v", err)
	}

	// Save: bad parameters are refused; good ones write the handler.
	ff.params.SetText(`[1, 2]`)
	test.Tap(ff.save)
	if ff.message.Text != "The parameters are not a JSON Schema object." || len(f.fns) != 0 {
		t.Fatalf("bad parameters: message %q, functions %+v", ff.message.Text, f.fns)
	}
	ff.params.SetText(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}`)
	test.Tap(ff.save)
	if b, err := os.ReadFile(filepath.Join(w.data, "functions", "add.go")); err != nil || string(b) != addHandler {
		t.Fatalf("functions/add.go: %q, %v", b, err)
	}
	if len(f.fns) != 1 || f.fns[0].Name != "add" || f.fns[0].Description != "Adds a and b." {
		t.Fatalf("the form's functions = %+v", f.fns)
	}
	if !strings.Contains(texts(f.fnList), "add\n") || strings.Contains(texts(f.fnList), "no handler") {
		t.Fatalf("the function list shows %q", texts(f.fnList))
	}

	f.submit()
	a, err := w.u.eng.GetAssistant(w.u.ctx, f.cur.ID)
	if err != nil {
		t.Fatal(err)
	}
	var fn *app.FunctionDef
	code := false
	for _, tl := range a.Tools {
		code = code || tl.Type == app.ToolCodeInterpreter
		if tl.Type == app.ToolFunction {
			fn = tl.Function
		}
	}
	var schema map[string]any
	if !code || fn == nil || fn.Name != "add" || json.Unmarshal(fn.Parameters, &schema) != nil || schema["type"] != "object" {
		t.Fatalf("the assistant's tools = %+v", a.Tools)
	}

	// Editing it again opens its saved handler; saving the assistant with
	// no change keeps its function.
	f = w.u.newAssistantForm()
	if ff = f.newFunctionForm(0); ff.body.Text != addHandler || ff.name.Text != "add" {
		t.Fatalf("the editor reopened on %q, %q", ff.name.Text, ff.body.Text)
	}
	f.submit()
	if a, _ := w.u.eng.GetAssistant(w.u.ctx, f.cur.ID); len(a.Tools) != 2 {
		t.Fatalf("the assistant's tools after a second save = %+v", a.Tools)
	}
}

// A function name the API refuses is not saved, and never becomes a path.
func TestFunctionWithBadNameIsNotSaved(t *testing.T) {
	w := newWindow(t)
	f := w.u.newAssistantForm()
	ff := f.newFunctionForm(-1)
	ff.name.SetText("../evil")
	test.Tap(ff.save)
	if !strings.HasPrefix(ff.message.Text, "Not saved:") || len(f.fns) != 0 {
		t.Fatalf("message %q, functions %+v", ff.message.Text, f.fns)
	}
	if _, err := os.Stat(filepath.Join(w.data, "evil.go")); !os.IsNotExist(err) {
		t.Fatalf("a file was written outside functions/: %v", err)
	}
}

// The editor opens from the assistant's dialog: Add function… shows it on
// top, and Cancel closes it and leaves the assistant's dialog.
func TestFunctionEditorOpensFromTheAssistantDialog(t *testing.T) {
	w := newWindow(t)
	w.u.editAssistant()
	overlays := w.u.win.Canvas().Overlays()
	asst := overlays.Top()
	if asst == nil {
		t.Fatal("no assistant dialog")
	}
	test.Tap(findButton(t, asst, "Add function…"))
	editor := overlays.Top()
	if editor == asst || findButton(t, editor, "Test") == nil {
		t.Fatal("the function editor is not on top")
	}
	test.Tap(findButton(t, editor, "Cancel"))
	if overlays.Top() != asst {
		t.Fatal("Cancel did not close the function editor alone")
	}
}
