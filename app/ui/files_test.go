package ui

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/encoding/unicode"

	"plotline/app/modeltest"
	"plotline/plotting"
)

// drawn collects the text that o draws: the canvas texts under its visible
// containers and widgets, as a label draws them once truncated.
func drawn(o fyne.CanvasObject) []*canvas.Text {
	var out []*canvas.Text
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *canvas.Text:
			out = append(out, v)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func drawnStrings(o fyne.CanvasObject) []string {
	var out []string
	for _, t := range drawn(o) {
		out = append(out, t.Text)
	}
	return out
}

// askWithFiles writes the files (name → bytes), attaches them and asks q,
// in the current thread or a new one.
func (w *window) askWithFiles(q string, files map[string]string) {
	w.t.Helper()
	dir := w.t.TempDir()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o600); err != nil {
			w.t.Fatal(err)
		}
		w.u.attach(p)
	}
	w.ask(q)
	w.waitIdle()
}

// File names are readable in the files panel at the usual window widths;
// only a name too long for the panel ends in an ellipsis. The panel fills
// the window's height.
func TestFilesPanelShowsNames(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "Got them."})
	short := "quarterly_revenue.csv"
	long := strings.Repeat("a_very_long_file_name_", 8) + "end.csv"
	w.askWithFiles("Here they are", map[string]string{short: "region,revenue\nNorth,10\n", long: "x\n1\n"})
	w.u.toggleFiles()
	p := w.u.files
	if !p.box.Visible() || len(p.ids) != 2 {
		t.Fatalf("files panel: visible %v, %d files", p.box.Visible(), len(p.ids))
	}
	for _, size := range []fyne.Size{{Width: 1024, Height: 768}, {Width: 1440, Height: 900}, {Width: 1920, Height: 1080}} {
		w.u.win.Resize(size)
		got := drawnStrings(p.list)
		if !slices.Contains(got, short) {
			t.Errorf("at %v px the list draws %q, not %q", size.Width, got, short)
		}
		if !slices.Contains(got, "CSV table · 24 B") {
			t.Errorf("at %v px the list does not draw the type and size: %q", size.Width, got)
		}
		var cut string
		for _, s := range got {
			if strings.HasPrefix(s, "a_very_long") {
				cut = s
			}
		}
		if !strings.HasSuffix(cut, "…") || len(cut) < 20 {
			t.Errorf("at %v px the long name draws as %q", size.Width, cut)
		}
		if wantW := filesPanelWidth(w.u.win.Canvas().Size().Width); p.box.Size().Width != wantW {
			t.Errorf("at %v px the panel is %v wide, want %v", size.Width, p.box.Size().Width, wantW)
		}
		// The list and the preview fill the window's height, but for the
		// menu, the panel's title and a little padding.
		var split *container.Split
		var find func(fyne.CanvasObject)
		find = func(o fyne.CanvasObject) {
			switch v := o.(type) {
			case *container.Split:
				split = v
			case *fyne.Container:
				for _, c := range v.Objects {
					find(c)
				}
			}
		}
		find(p.box)
		if h := w.u.win.Canvas().Size().Height; split == nil || split.Size().Height < h-120 {
			t.Errorf("at %v px the panel's split is %v in a window %v high", size.Width, split.Size(), h)
		}
	}
}

// The preview follows the thread: switching to a thread without the file
// shown clears it, and refreshing the same thread keeps it.
func TestFilesPreviewFollowsThread(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Text: "A."}, modeltest.Turn{Text: "B."})
	utf16 := func(s string) string {
		out, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(s)
		return out
	}
	w.askWithFiles("First", map[string]string{"a.csv": utf16("city;temp\nOslo;-3,5\nBergen;2\n")})
	threadA := w.u.current
	w.u.toggleFiles()
	w.u.win.Resize(fyne.NewSize(1440, 900))
	p := w.u.files
	// What the preview draws, its labels' lines and its table's cells.
	preview := func() string { return strings.Join(drawnStrings(p.preview), "\n") }
	p.list.Select(0)
	if !strings.Contains(preview(), "UTF-16 LE · 2 rows shown\nSeparated by ;, decimal comma") || !strings.Contains(preview(), "Bergen") {
		t.Fatalf("preview of a.csv:\n%s", preview())
	}
	aID := p.picked
	shown := p.preview.Objects[0]
	p.refresh() // as an event of the same thread does
	if p.picked != aID || p.preview.Objects[0] != shown {
		t.Fatal("refreshing the same thread dropped its preview")
	}

	// A new thread has no files, and no preview.
	test.Tap(findButton(t, w.u.win.Content(), "New thread"))
	if p.picked != "" || len(p.ids) != 0 || !strings.Contains(preview(), "This thread has no files yet.") {
		t.Fatalf("new thread: picked %q, files %v, preview:\n%s", p.picked, p.ids, preview())
	}
	w.askWithFiles("Second", map[string]string{"b.csv": "name,score\nAda,9\n"})
	if p.picked != "" || len(p.ids) != 1 || strings.Contains(preview(), "Bergen") {
		t.Fatalf("thread B: picked %q, files %v, preview:\n%s", p.picked, p.ids, preview())
	}
	p.list.Select(0)
	if !strings.Contains(preview(), "Ada") {
		t.Fatalf("preview of b.csv:\n%s", preview())
	}

	// Back to thread A: b.csv is not its file.
	for i, th := range w.u.shown {
		if th.ID == threadA {
			w.u.sidebar.Select(i)
		}
	}
	if w.u.current != threadA {
		t.Fatal("thread A did not open")
	}
	if p.picked != "" || !slices.Equal(p.ids, []string{aID}) || strings.Contains(preview(), "Ada") ||
		!strings.Contains(preview(), "Select a file to preview it.") {
		t.Fatalf("back in thread A: picked %q, files %v, preview:\n%s", p.picked, p.ids, preview())
	}

	// The model was told how to read a.csv.
	reqs := w.model.Requests()
	var system string
	for _, m := range reqs[0].Messages {
		if m.Role == "system" {
			system += m.Content
		}
	}
	if !strings.Contains(system, "read_csv: encoding='utf-16', sep=';', decimal=','") {
		t.Fatalf("the model's description of a.csv:\n%s", system)
	}
}

// A preview's cells stay inside their columns: a long value is cut with an
// ellipsis, a value over lines shows on one, a row longer than the header
// shows whole, and the table says how it was read and what is wrong with it.
func TestPreviewTableClipsCells(t *testing.T) {
	long := strings.Repeat("Lorem ipsum dolor sit amet ", 6)
	tbl, err := plotting.ReadCSV(strings.NewReader("id,note,revenue\n1,\""+long+"\",2\n2,\"two\nlines\",3\n3,x\n4,y,5,extra\n"), 200)
	if err != nil {
		t.Fatal(err)
	}
	view := previewTable(tbl)
	win := test.NewTempWindow(t, view)
	win.Resize(fyne.NewSize(900, 400))

	var grid *widget.Table
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if g, ok := o.(*widget.Table); ok {
			grid = g
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				walk(x)
			}
		}
	}
	walk(view)
	if grid == nil {
		t.Fatal("no table in the preview")
	}
	texts := drawn(grid)
	var cells []string
	for _, tx := range texts {
		cells = append(cells, tx.Text)
		if w := fyne.MeasureText(tx.Text, tx.TextSize, tx.TextStyle).Width; w > maxColumnWidth {
			t.Errorf("%q is drawn %v wide, past its column", tx.Text, w)
		}
	}
	for _, want := range []string{"id", "note", "revenue", "1", "2", "two lines", "x", "extra"} {
		if !slices.Contains(cells, want) {
			t.Errorf("cell %q is not drawn: %q", want, cells)
		}
	}
	cut := false
	for _, c := range cells {
		if strings.HasPrefix(c, "Lorem ipsum") && strings.HasSuffix(c, "…") && len(c) < len(long) {
			cut = true
		}
	}
	if !cut {
		t.Errorf("the long value is not cut short: %q", cells)
	}

	head := strings.Join(drawnStrings(view), "\n")
	for _, want := range []string{"UTF-8 · 4 rows shown", "Line 5 has 2 fields, the header has 3", "Line 6 has 4 fields, the header has 3"} {
		if !strings.Contains(head, want) {
			t.Errorf("the preview does not say %q:\n%s", want, head)
		}
	}
}
