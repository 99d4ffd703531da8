package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"plotline/app/modeltest"
)

func TestExportBase(t *testing.T) {
	for in, want := range map[string]string{
		"What is the total revenue by region?": "What is the total revenue by region",
		`a/b\c: "d" <e> |f| *g*`:               "a b c d e f g",
		"...hidden":                            "hidden",
		"tab\there\nnewline":                   "tab here newline",
		"CON":                                  "CON thread",
		"lpt1":                                 "lpt1 thread",
		"   ":                                  "thread",
		strings.Repeat("é", 80):                strings.Repeat("é", 60),
	} {
		if got := exportBase(in); got != want {
			t.Errorf("exportBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExportDialogAndMarkdown(t *testing.T) {
	w := newWindow(t, pythonTurn("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])"), modeltest.Turn{Text: "A rising line."})
	w.ask("What is the trend?")
	w.waitIdle()
	w.u.showExport()
	top := w.u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no export dialog")
	}
	got := texts(top)
	for _, want := range []string{formatMarkdown, formatNotebook, "[Cancel]", "[Export…]"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the export dialog lacks %q:\n%s", want, got)
		}
	}
	test.Tap(findButton(t, top, "Cancel"))
	if w.u.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Cancel did not close the export dialog")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, exportBase(w.u.currentTitle())+".md")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.u.writeMarkdown(f, p); err != nil {
		t.Fatal(err)
	}
	f.Close()
	md, _ := os.ReadFile(p)
	imgs, _ := filepath.Glob(filepath.Join(dir, "What is the trend-files", "*.png"))
	if !strings.Contains(string(md), "A rising line.") || len(imgs) != 1 || !strings.Contains(string(md), "What%20is%20the%20trend-files/") {
		t.Fatalf("export wrote %d images and:\n%s", len(imgs), md)
	}
}
