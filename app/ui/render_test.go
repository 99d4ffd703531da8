package ui

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/modeltest"
)

// showMessage puts an assistant message with text in a fresh conversation
// and renders it as the list would.
func (w *window) showMessage(text string) fyne.CanvasObject {
	w.t.Helper()
	w.u.tl = newTimeline("t")
	w.u.tl.apply(app.Event{ThreadID: "t", Data: &app.Message{ID: "msg_1", Role: "assistant", Status: app.MessageCompleted,
		Content: []app.Content{{Type: "text", Text: &app.Text{Value: text}}}}})
	return w.rendered(0)
}

// find returns the first object under o that match accepts.
func find[T fyne.CanvasObject](o fyne.CanvasObject, match func(T) bool) (T, bool) {
	var zero T
	if v, ok := o.(T); ok && match(v) {
		return v, true
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		if _, isLabel := v.(*widget.Label); !isLabel {
			children = test.WidgetRenderer(v).Objects()
		}
	}
	for _, c := range children {
		if v, ok := find(c, match); ok {
			return v, true
		}
	}
	return zero, false
}

func clipboardText(w *window) string { return w.u.app.Clipboard().Content() }

// TestAnswerTableAlignsFiguresAndCopiesTSV: an answer's table puts
// figures on the right, draws its rules, keeps each cell inside its
// column, and copies as TSV, from its button and its context menu.
func TestAnswerTableAlignsFiguresAndCopiesTSV(t *testing.T) {
	w := newWindow(t)
	md := "Sales:\n\n| Region | Revenue | Share | Note |\n|---|---|---|:-:|\n" +
		"| North | 1,234,567 | 12.5% | a long note that does not fit in a narrow column |\n" +
		"| South | -$300 | (4.0%) | — |\n| **Total** | **1,234,267** | 100% | |\n"
	box := w.showMessage(md)

	tbl, ok := find(box, func(c *fyne.Container) bool { _, ok := c.Layout.(*tableLayout); return ok })
	if !ok {
		t.Fatal("the answer shows no table")
	}
	const rows, cols = 4, 4
	if len(tbl.Objects) != rows*cols+rows-1 {
		t.Fatalf("%d objects: want %d cells and %d rules", len(tbl.Objects), rows*cols, rows-1)
	}
	cell := func(r, c int) *widget.Label { return tbl.Objects[r*cols+c].(*widget.Label) }
	wantAlign := []fyne.TextAlign{fyne.TextAlignLeading, fyne.TextAlignTrailing, fyne.TextAlignTrailing, fyne.TextAlignCenter}
	for r := 0; r < rows; r++ {
		for c, want := range wantAlign {
			if got := cell(r, c).Alignment; got != want {
				t.Errorf("cell %d,%d (%q) aligned %v, want %v", r, c, cell(r, c).Text, got, want)
			}
		}
	}
	if !cell(0, 1).TextStyle.Bold || cell(1, 1).TextStyle.Bold || !cell(3, 1).TextStyle.Bold || cell(3, 1).Text != "1,234,267" {
		t.Fatalf("header and emphasis: %+v, %+v, %q", cell(0, 1).TextStyle, cell(1, 1).TextStyle, cell(3, 1).Text)
	}

	// Narrow: every cell stays in its column, the note gives way, the
	// region keeps its width.
	natural := tbl.Layout.(*tableLayout).natural
	tbl.Resize(fyne.NewSize(360, tbl.MinSize().Height))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			o := cell(r, c)
			right := o.Position().X + o.Size().Width
			if c+1 < cols && right > cell(r, c+1).Position().X+0.01 {
				t.Errorf("cell %d,%d runs into the next column: %v > %v", r, c, right, cell(r, c+1).Position().X)
			}
			if right > 360.01 {
				t.Errorf("cell %d,%d runs out of the table: %v", r, c, right)
			}
		}
	}
	if cell(1, 3).Size().Width >= natural[3] || cell(1, 0).Size().Width < natural[0] {
		t.Fatalf("narrow widths: note %v of %v, region %v of %v", cell(1, 3).Size().Width, natural[3], cell(1, 0).Size().Width, natural[0])
	}
	// The rules: a heavier one under the header, one under each row.
	header := tbl.Objects[rows*cols].(*surface)
	sep := tbl.Objects[rows*cols+1].(*surface)
	if header.Position().Y != cell(0, 0).Size().Height || header.Size().Height <= sep.Size().Height || sep.Size().Width < 300 {
		t.Fatalf("rules: header at %v size %v, row rule size %v", header.Position(), header.Size(), sep.Size())
	}
	if cell(1, 0).Position().Y != header.Position().Y+header.Size().Height {
		t.Fatalf("the first row is at %v, under a header rule at %v", cell(1, 0).Position(), header.Position())
	}
	// Wide: columns take their natural widths.
	tbl.Resize(fyne.NewSize(3000, tbl.MinSize().Height))
	if got := cell(1, 3).Size().Width; got < natural[3] {
		t.Fatalf("wide: the note is %v wide, needs %v", got, natural[3])
	}

	tsv := "Region\tRevenue\tShare\tNote\n" +
		"North\t1,234,567\t12.5%\ta long note that does not fit in a narrow column\n" +
		"South\t-$300\t(4.0%)\t—\nTotal\t1,234,267\t100%\t\n"
	test.Tap(findButton(t, box, "Copy as TSV"))
	if got := clipboardText(w); got != tsv {
		t.Fatalf("Copy as TSV put %q", got)
	}
	if !strings.Contains(w.u.status.Text, "copied") {
		t.Fatalf("status after copying: %q", w.u.status.Text)
	}

	// The context menu copies the message's Markdown and the table.
	menu, ok := find(box, func(*contextMenu) bool { return true })
	if !ok {
		t.Fatal("the message has no context menu")
	}
	var labels []string
	for _, it := range menu.items {
		labels = append(labels, it.Label)
	}
	if strings.Join(labels, ",") != "Copy text,Copy table as TSV" {
		t.Fatalf("menu items %q", labels)
	}
	w.u.app.Clipboard().SetContent("")
	menu.items[1].Action()
	if got := clipboardText(w); got != tsv {
		t.Fatalf("menu's Copy table as TSV put %q", got)
	}
	menu.items[0].Action()
	if got := clipboardText(w); got != md {
		t.Fatalf("menu's Copy text put %q", got)
	}
	// A right click opens it over the window.
	w.u.win.SetContent(box)
	menu.TappedSecondary(&fyne.PointEvent{AbsolutePosition: fyne.NewPos(5, 5)})
	if top := w.u.win.Canvas().Overlays().Top(); top == nil {
		t.Fatal("a right click opened no menu")
	}
	// The message's own Copy button copies its Markdown.
	w.u.app.Clipboard().SetContent("")
	test.Tap(findButton(t, box, "Copy"))
	if got := clipboardText(w); got != md {
		t.Fatalf("Copy put %q", got)
	}
}

// TestFencedCodeIsSelectableOnABackground: fenced code in an answer shows
// in a selectable monospace label over a background, with Copy code.
func TestFencedCodeIsSelectableOnABackground(t *testing.T) {
	w := newWindow(t)
	code := "df = pd.read_csv('sales.csv')\ndf.groupby('month').sum()"
	box := w.showMessage("Try:\n\n```python\n" + code + "\n```\n\nDone.")
	l, ok := find(box, func(l *widget.Label) bool { return l.Text == code })
	if !ok {
		t.Fatalf("the code is not shown in a label:\n%s", texts(box))
	}
	if !l.Selectable || !l.TextStyle.Monospace {
		t.Fatalf("code label: selectable %v, monospace %v", l.Selectable, l.TextStyle.Monospace)
	}
	stack, ok := find(box, func(c *fyne.Container) bool {
		if len(c.Objects) != 2 {
			return false
		}
		_, bg := c.Objects[0].(*surface)
		_, has := find(c.Objects[1], func(x *widget.Label) bool { return x == l })
		return bg && has
	})
	if !ok {
		t.Fatal("the code has no background")
	}
	if bg := stack.Objects[0].(*surface); bg.color() != theme.Color(theme.ColorNameInputBackground) {
		t.Fatalf("code background %v", bg.color())
	}
	if out := texts(box); !strings.Contains(out, "Try:") || !strings.Contains(out, "Done.") || strings.Contains(out, "```") {
		t.Fatalf("the prose around the code:\n%s", out)
	}
	test.Tap(findButton(t, box, "Copy code"))
	if got := clipboardText(w); got != code {
		t.Fatalf("Copy code put %q", got)
	}
}

// TestCodeThatRaisesIsLabelledError: a cell that raised KeyError is
// labelled with the error, not "ran".
func TestCodeThatRaisesIsLabelledError(t *testing.T) {
	w := newWindow(t,
		pythonTurn("data = {'a': 1}\nprint('looking')\ndata['x']"),
		modeltest.Turn{Text: "There is no x."},
	)
	w.ask("Find x")
	w.waitIdle()
	code := w.rowsOf(rowCode)
	if len(code) != 1 || code[0].err != "KeyError: 'x'" {
		t.Fatalf("code rows: %+v", code)
	}
	ci := w.u.tl.index[code[0].id]
	if out := texts(w.rendered(ci)); !strings.Contains(out, "Python, 3 lines, error: KeyError: 'x'") {
		t.Fatalf("collapsed code step:\n%s", out)
	}
	code[0].expanded = true
	out := w.rendered(ci)
	menu, ok := find(out, func(*contextMenu) bool { return true })
	if !ok || len(menu.items) != 2 || menu.items[0].Label != "Copy code" || menu.items[1].Label != "Copy output" {
		t.Fatalf("code step menu: %v", menu)
	}
	menu.items[1].Action()
	if got := clipboardText(w); !strings.HasPrefix(got, "looking\n") || !strings.HasSuffix(got, "KeyError: 'x'") {
		t.Fatalf("Copy output put %q", got)
	}
	if _, ok := find(out, func(l *widget.Label) bool {
		return l.Selectable && l.TextStyle.Monospace && strings.Contains(l.Text, "looking") && strings.HasSuffix(l.Text, "KeyError: 'x'")
	}); !ok {
		t.Fatalf("the output is not shown, selectable:\n%s", texts(out))
	}
}

// TestStoppedCellKeepsItsOutput: after Stop, the cell says stopped and
// still shows what it printed.
func TestStoppedCellKeepsItsOutput(t *testing.T) {
	w := newWindow(t, pythonTurn("import time\nprint('working', flush=True)\ntime.sleep(120)"))
	w.ask("Take your time")
	if !w.u.Pump(60*time.Second, func() bool {
		rows := w.rowsOf(rowCode)
		return len(rows) == 1 && strings.Contains(rows[0].logs, "working")
	}) {
		t.Fatal("the long cell never started")
	}
	ci := w.u.tl.index[w.rowsOf(rowCode)[0].id]
	if out := texts(w.rendered(ci)); !strings.Contains(out, "Python, 3 lines, running") {
		t.Fatalf("while running:\n%s", out)
	}
	test.Tap(w.u.stop)
	w.waitIdle()
	r := w.rowsOf(rowCode)[0]
	if r.status != app.StepCancelled || !strings.Contains(r.logs, "working") {
		t.Fatalf("stopped row: status %q, logs %q", r.status, r.logs)
	}
	r.expanded = true
	out := texts(w.rendered(ci))
	if !strings.Contains(out, "Python, 3 lines, stopped") || !strings.Contains(out, "working") {
		t.Fatalf("stopped code step:\n%s", out)
	}
}

// fakeClipboard records the images written to it.
type fakeClipboard struct {
	data [][]byte
	err  error
}

func (f *fakeClipboard) WritePNG(b []byte) error {
	if f.err != nil {
		return f.err
	}
	f.data = append(f.data, b)
	return nil
}

// storeImage stores an image of w×h pixels under name, encoded as PNG or
// JPEG by name.
func (w *window) storeImage(name string, wd, ht int) (string, []byte) {
	w.t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, wd, ht))
	for x := 0; x < wd; x++ {
		img.Set(x, ht/2, color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff})
	}
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(name, ".jpg") {
		err = jpeg.Encode(&b, img, nil)
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	f, err := w.u.eng.CreateFile(context.Background(), name, app.PurposeAssistantsOutput, bytes.NewReader(b.Bytes()))
	if err != nil {
		w.t.Fatal(err)
	}
	return f.ID, b.Bytes()
}

// TestCopyImageWritesPNG: Copy puts the image's PNG bytes on the
// clipboard (a JPEG converted), and where the clipboard takes no images,
// the image's file path as text, saying so.
func TestCopyImageWritesPNG(t *testing.T) {
	w := newWindow(t)
	clip := &fakeClipboard{}
	w.u.images.clip = clip
	chart, data := w.storeImage("01JCHARTSTEP0000000000-image-1.png", 8, 6)
	photo, _ := w.storeImage("photo.jpg", 5, 4)

	w.u.copyImage(chart)
	if len(clip.data) != 1 || !bytes.Equal(clip.data[0], data) || w.u.status.Text != "Image copied." {
		t.Fatalf("copied %d images, status %q", len(clip.data), w.u.status.Text)
	}
	w.u.copyImage(photo)
	if len(clip.data) != 2 {
		t.Fatalf("the JPEG was not copied")
	}
	img, err := png.Decode(bytes.NewReader(clip.data[1]))
	if err != nil || img.Bounds().Dx() != 5 || img.Bounds().Dy() != 4 {
		t.Fatalf("the JPEG was copied as %v, %v", img, err)
	}

	// No image clipboard: the path of a copy of the image, as text.
	clip.err = errNoImageClipboard
	w.u.copyImage(chart)
	u, err := url.Parse(clipboardText(w))
	if err != nil || u.Scheme != "file" {
		t.Fatalf("clipboard %q", clipboardText(w))
	}
	if got, err := os.ReadFile(u.Path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the copied path holds %d bytes, %v", len(got), err)
	}
	if !strings.Contains(w.u.status.Text, "file path") || strings.Contains(w.u.status.Text, "Image copied") {
		t.Fatalf("fallback status %q", w.u.status.Text)
	}
}

// TestFullSizeWindow: the full-size window is titled with the chart's
// readable name, and Escape closes it.
func TestFullSizeWindow(t *testing.T) {
	w := newWindow(t)
	titled, _ := w.storeImage("01JCHARTSTEP0000000000-image-1.png", 8, 6)
	untitled, _ := w.storeImage("01JCHARTSTEP0000000001-image-1.png", 8, 6)
	named, _ := w.storeImage("/mnt/data/revenue.png", 8, 6)
	w.u.tl = newTimeline("t")
	w.u.tl.apply(app.Event{ThreadID: "t", Data: codeStep("s1", "r", app.StepCompleted,
		"ax = df.plot(x='month', y='revenue')\nax.set_title('Revenue: by month')\n",
		app.CodeOutput{Type: "image", Image: &app.FileRef{FileID: titled}})})
	w.u.tl.apply(app.Event{ThreadID: "t", Data: codeStep("s2", "r", app.StepCompleted, "plt.plot(x, y)",
		app.CodeOutput{Type: "image", Image: &app.FileRef{FileID: untitled}})})

	for id, want := range map[string]string{titled: "Revenue by month.png", untitled: "chart-2.png", named: "revenue.png"} {
		if got := w.u.chartName(id); got != want {
			t.Errorf("chart name %q, want %q", got, want)
		}
	}
	win := w.u.openFullSize(titled)
	if win == nil || win.Title() != "Chart — Revenue by month.png" {
		t.Fatalf("full-size window %v", win)
	}
	open := func() bool {
		for _, x := range w.u.app.Driver().AllWindows() {
			if x == win {
				return true
			}
		}
		return false
	}
	if !open() {
		t.Fatal("the full-size window is not open")
	}
	findButton(t, win.Content(), "Save…")
	win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if open() {
		t.Fatal("Escape did not close the full-size window")
	}
}

func TestChartTitle(t *testing.T) {
	tests := []struct {
		code string
		i, n int
		want string
	}{
		{"plt.title('Sales')", 0, 1, "Sales"},
		{`df.plot(kind="bar", title="Revenue / month")`, 0, 1, "Revenue month"},
		{"fig.suptitle('All')\naxes[0].set_title('A')\naxes[1].set_title('B')", 0, 1, "All"},
		{"axes[0].set_title('A')\naxes[1].set_title('B')", 0, 1, ""},
		{"plt.title('A')\nplt.figure()\nplt.title('B')", 1, 2, "B"},
		{"plt.title(f'{n} rows')", 0, 1, ""},
		{"plt.plot(x)", 0, 1, ""},
	}
	for _, tt := range tests {
		if got := chartTitle(tt.code, tt.i, tt.n); got != tt.want {
			t.Errorf("%q image %d of %d: %q, want %q", tt.code, tt.i, tt.n, got, tt.want)
		}
	}
}

// TestDarkThemeDimsImages: a dark theme veils images; a light one does not.
func TestDarkThemeDimsImages(t *testing.T) {
	dark := variantTheme{theme.DefaultTheme(), theme.VariantDark}
	light := variantTheme{theme.DefaultTheme(), theme.VariantLight}
	if !isDark(dark, theme.VariantLight) || isDark(light, theme.VariantDark) {
		t.Fatal("isDark does not follow the theme's background")
	}
	if _, _, _, a := dimColor(dark, theme.VariantDark).RGBA(); a == 0 {
		t.Fatal("no veil in the dark theme")
	}
	if _, _, _, a := dimColor(light, theme.VariantLight).RGBA(); a != 0 {
		t.Fatal("a veil in the light theme")
	}
}
