package ui

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/plotting"
)

// quickLookMaxBytes is the largest table Quick look reads: a bigger one is
// for plotline chart, which does not share the window's memory.
const quickLookMaxBytes = 1 << 30

// quickLook is a window that shows a table file's profile and a chart of
// it at once, drawn natively: no model and no Python. The analyst picks
// the columns, grouping, aggregate and kind; the chart can be saved, or
// sent to the thread as a starting point.
type quickLook struct {
	u    *UI
	win  fyne.Window
	name string // the file's base name
	path string // a local file's path, or "" for a stored one

	frame   *plotting.Frame
	summary string // the status line for the frame: its profile's summary
	chart   *plotting.Chart
	req     plotting.ChartRequest
	gen     int // counts reads and charts asked for, so that a late one is dropped
	drawn   int // the gen last shown

	body     *fyne.Container // the profile and the chart, once read
	img      *canvas.Image
	status   *widget.Label
	controls *fyne.Container
	choices  map[string]*widget.Select // the controls, by their label
	save     *widget.Button
	ask      *widget.Button
	sheet    *widget.Select
}

// quickLookLocal opens Quick look on a file of the analyst's.
func (u *UI) quickLookLocal(p string) *quickLook {
	q := u.newQuickLook(filepath.Base(p), p)
	q.load(func(opts plotting.ReadOptions) (*plotting.Frame, []string, error) {
		f, err := openLocal(p) // as attaching opens it
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, nil, err
		}
		return readTable(f, fi.Size(), q.name, opts)
	})
	return q
}

// quickLookStored opens Quick look on a file of the thread's.
func (u *UI) quickLookStored(id string) *quickLook {
	f, err := u.eng.GetFile(u.ctx, id)
	if err != nil {
		u.showBanner("Could not open the file: "+err.Error(), nil)
		return nil
	}
	if !plotting.IsTable(f.Filename) {
		u.showBanner("Quick look shows CSV, TSV and Excel tables; "+path.Base(f.Filename)+" is not one.", nil)
		return nil
	}
	q := u.newQuickLook(path.Base(f.Filename), "")
	q.load(func(opts plotting.ReadOptions) (*plotting.Frame, []string, error) {
		_, rc, err := u.eng.OpenFile(u.ctx, id)
		if err != nil {
			return nil, nil, err
		}
		defer rc.Close()
		ra, ok := rc.(io.ReaderAt)
		if !ok {
			return nil, nil, fmt.Errorf("the file cannot be read in place")
		}
		return readTable(ra, f.Bytes, q.name, opts)
	})
	return q
}

// readTable reads a table for Quick look, and a workbook's sheet names.
func readTable(r io.ReaderAt, size int64, name string, opts plotting.ReadOptions) (*plotting.Frame, []string, error) {
	if size > quickLookMaxBytes {
		return nil, nil, fmt.Errorf("the file is %s; Quick look reads tables up to %s (plotline chart draws larger ones)", plotting.FormatSize(size), plotting.FormatSize(quickLookMaxBytes))
	}
	if !plotting.IsWorkbook(name) {
		f, err := plotting.ReadCSVFrame(r, size, name, opts)
		return f, nil, err
	}
	sheets, err := plotting.SheetsFrom(r, size, name)
	if err != nil {
		return nil, nil, err
	}
	f, err := plotting.ReadXLSXFrame(r, size, name, opts)
	return f, sheets, err
}

func (u *UI) newQuickLook(name, local string) *quickLook {
	q := &quickLook{u: u, name: name, path: local}
	q.win = u.app.NewWindow("Quick look — " + name)
	q.status = widget.NewLabel("Reading " + name + "…")
	q.status.Truncation = fyne.TextTruncateEllipsis
	q.img = canvas.NewImageFromImage(nil)
	q.img.FillMode = canvas.ImageFillContain
	q.img.ScaleMode = canvas.ImageScaleSmooth
	q.save = widget.NewButtonWithIcon("Save chart…", theme.DocumentSaveIcon(), q.saveChart)
	q.ask = widget.NewButtonWithIcon("Ask about this chart", theme.MailSendIcon(), q.sendToThread)
	closeBtn := widget.NewButtonWithIcon("Close", theme.CancelIcon(), q.win.Close)
	q.save.Disable()
	q.ask.Disable()
	if local == "" {
		q.ask.SetText("Ask about this chart")
	}
	q.controls = container.NewStack()
	q.body = container.NewStack(widget.NewProgressBarInfinite())
	bottom := container.NewBorder(nil, nil, nil, container.NewHBox(q.save, q.ask, closeBtn), q.status)
	q.win.SetContent(container.NewBorder(q.controls, bottom, nil, nil, q.body))
	q.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			q.win.Close()
		}
	})
	q.win.Resize(fyne.NewSize(1100, 720))
	q.win.Show()
	return q
}

// load reads the table off Fyne's goroutine, then shows it.
func (q *quickLook) load(read func(plotting.ReadOptions) (*plotting.Frame, []string, error)) {
	q.loadSheet(read, "")
}

func (q *quickLook) loadSheet(read func(plotting.ReadOptions) (*plotting.Frame, []string, error), sheet string) {
	q.gen++
	gen := q.gen
	go func() {
		f, sheets, err := read(plotting.ReadOptions{Sheet: sheet})
		var prof *plotting.Profile
		if err == nil {
			prof = plotting.ProfileFrame(f) // here too, not on Fyne's goroutine
		}
		q.u.post(func() {
			if gen != q.gen {
				return
			}
			q.drawn = gen
			if err != nil {
				q.body.Objects = []fyne.CanvasObject{note("No Quick look: " + err.Error())}
				q.body.Refresh()
				q.status.SetText(q.name)
				return
			}
			q.frame = f
			q.req = plotting.ChartRequest{}
			if len(sheets) > 1 && q.sheet == nil {
				q.sheet = widget.NewSelect(sheets, func(s string) { q.loadSheet(read, s) })
				q.sheet.Selected = f.Source.Sheet // not SetSelected: that would read the sheet again
			}
			q.showFrame(prof)
		})
	}()
}

// showFrame lays out the frame's profile, the controls and the automatic
// chart.
func (q *quickLook) showFrame(prof *plotting.Profile) {
	q.summary = quickLookSummary(prof, q.frame)
	q.status.SetText(q.summary)
	split := container.NewVSplit(newChartPane(q.img, func() { q.u.post(q.redraw) }), profileTable(prof))
	split.Offset = 0.62
	q.body.Objects = []fyne.CanvasObject{split}
	q.body.Refresh()
	q.buildControls()
	q.redraw()
}

// quickLookSummary is the status line: the profile's summary and the
// first of what the reader found wrong.
func quickLookSummary(p *plotting.Profile, f *plotting.Frame) string {
	s := p.Summary()
	if n := len(f.Warnings); n > 0 {
		s += fmt.Sprintf(" · %s", f.Warnings[0])
		if n > 1 {
			s += fmt.Sprintf(" (and %d more)", n-1)
		}
	}
	return s
}

// Choices of the controls that mean "let Plotline pick".
const (
	choiceAuto = "auto"
	choiceNone = "none"
)

// buildControls makes the x, y, by, aggregate, period and kind choices.
func (q *quickLook) buildControls() {
	names := q.frame.Names()
	var numbers []string
	for _, c := range q.frame.Columns {
		if c.Type.Numeric() {
			numbers = append(numbers, c.Name)
		}
	}
	x := widget.NewSelect(append([]string{choiceAuto}, names...), func(s string) { q.req.X = pick(s); q.redraw() })
	y := widget.NewSelect(append([]string{choiceAuto}, numbers...), func(s string) {
		q.req.Y = nil
		if s != choiceAuto {
			q.req.Y = []string{s}
		}
		q.redraw()
	})
	by := widget.NewSelect(append([]string{choiceNone}, names...), func(s string) { q.req.By = pick(s); q.redraw() })
	agg := widget.NewSelect([]string{choiceAuto, "sum", "mean", "count", "min", "max", "median"}, func(s string) { q.req.Agg = pick(s); q.redraw() })
	every := widget.NewSelect([]string{choiceNone, "day", "week", "month", "year"}, func(s string) { q.req.Every = pick(s); q.redraw() })
	kinds := []string{choiceAuto}
	for _, k := range plotting.Kinds {
		kinds = append(kinds, string(k))
	}
	kind := widget.NewSelect(kinds, func(s string) { q.req.Kind = plotting.Kind(pick(s)); q.redraw() })
	for _, s := range []*widget.Select{x, y, agg, kind} {
		s.Selected = choiceAuto
	}
	by.Selected, every.Selected = choiceNone, choiceNone
	labelled := func(label string, o fyne.CanvasObject) fyne.CanvasObject {
		return container.NewBorder(nil, nil, widget.NewLabel(label), nil, o)
	}
	cells := []fyne.CanvasObject{
		labelled("x", x), labelled("y", y), labelled("by", by),
		labelled("combine", agg), labelled("every", every), labelled("chart", kind),
	}
	q.choices = map[string]*widget.Select{"x": x, "y": y, "by": by, "combine": agg, "every": every, "chart": kind}
	if q.sheet != nil {
		cells = append([]fyne.CanvasObject{labelled("sheet", q.sheet)}, cells...)
	}
	q.controls.Objects = []fyne.CanvasObject{container.NewGridWithColumns(len(cells), cells...)}
	q.win.Content().Refresh() // the controls' row takes its height
}

// pick is a control's choice as a request field: "" for auto or none.
func pick(s string) string {
	if s == choiceAuto || s == choiceNone {
		return ""
	}
	return s
}

// Quick look draws its chart at the size of its pane, and at this size
// before the pane has one.
const (
	quickLookChartW = 960
	quickLookChartH = 540
)

// style is how the chart is drawn: for the theme in use, the size of its
// pane, and the screen's density.
func (q *quickLook) style() plotting.Style {
	st := plotting.Style{Dark: isDark(q.u.app.Settings().Theme(), q.u.app.Settings().ThemeVariant()), Width: quickLookChartW, Height: quickLookChartH}
	if sz := q.img.Size(); sz.Width >= 200 && sz.Height >= 150 {
		st.Width, st.Height = int(sz.Width), int(sz.Height)
	}
	if sc := q.win.Canvas().Scale(); sc > 1 {
		st.Scale = float64(sc)
	}
	return st
}

// redraw builds and draws the chart off Fyne's goroutine; a chart asked
// for later wins over one still being drawn.
func (q *quickLook) redraw() {
	if q.frame == nil {
		return
	}
	q.gen++
	gen, f, req := q.gen, q.frame, q.req
	st := q.style()
	go func() {
		c, err := plotting.BuildChart(f, req)
		var img image.Image
		if err == nil {
			img, err = c.RenderImage(st)
		}
		q.u.post(func() {
			if gen != q.gen {
				return
			}
			q.drawn = gen
			if err != nil {
				q.chart = nil
				q.img.Image = nil
				q.img.Refresh()
				q.save.Disable()
				q.ask.Disable()
				q.status.SetText("No chart: " + err.Error())
				return
			}
			q.chart = c
			q.img.Image = img
			q.img.Refresh()
			q.save.Enable()
			q.ask.Enable()
			q.status.SetText(q.summary)
		})
	}()
}

// saveChart asks where to save the chart, as PNG or SVG by the name given.
func (q *quickLook) saveChart() {
	c := q.chart
	if c == nil {
		return
	}
	st := q.style()
	st.Scale = 1
	name := exportBase(c.Title) + ".png"
	q.u.saveDialog(q.win, name, func(w fyne.URIWriteCloser) error {
		format := "png"
		if strings.EqualFold(w.URI().Extension(), ".svg") {
			format = "svg"
		}
		var buf bytes.Buffer
		if err := c.Render(&buf, format, st); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// sendToThread asks the assistant for the chart shown: the file is
// attached (a local one) and the question says which chart.
func (q *quickLook) sendToThread() {
	if q.chart == nil {
		return
	}
	u := q.u
	if q.path != "" {
		u.attach(q.path)
	}
	u.composer.SetText(chartQuestion(q.chart, q.req, q.name))
	q.win.Close()
	u.win.RequestFocus()
	u.sendMessage()
}

// chartQuestion is the question that asks for a chart like c of a file.
func chartQuestion(c *plotting.Chart, req plotting.ChartRequest, file string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Chart this: a %s chart of %s, titled %q", c.Kind, file, c.Title)
	if c.XLabel != "" {
		fmt.Fprintf(&b, ", with %s along x", c.XLabel)
	}
	if c.YLabel != "" {
		fmt.Fprintf(&b, " and %s up y", c.YLabel)
	}
	if req.By != "" {
		fmt.Fprintf(&b, ", a series for each %s", req.By)
	}
	if req.Every != "" {
		fmt.Fprintf(&b, ", resampled by %s", req.Every)
	}
	b.WriteString(". Then tell me what stands out.")
	return b.String()
}

// profileTable shows a profile: a row per column with its type, missing
// and distinct values, range, mean and most common values.
func profileTable(p *plotting.Profile) fyne.CanvasObject {
	rows := p.Table()
	t := widget.NewTable(
		func() (int, int) { return len(rows), len(rows[0]) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("cell value")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			l.Alignment = fyne.TextAlignLeading
			if id.Row > 0 && plotting.ProfileNumeric[id.Col] {
				l.Alignment = fyne.TextAlignTrailing
			}
			l.SetText(cellText(rows[id.Row][id.Col]))
		})
	t.StickyRowCount = 1
	t.StickyColumnCount = 1
	for col := range rows[0] {
		t.SetColumnWidth(col, columnWidth(rows, col))
	}
	return t
}

// chartPane shows a chart image and asks for it to be drawn again, once
// the pane has settled, when its size changes: a chart scaled to fit has
// text too small or too big to read. redraw may be called from any
// goroutine.
type chartPane struct {
	widget.BaseWidget
	img    *canvas.Image
	redraw func()
	drawn  fyne.Size   // the size the chart was last asked for at
	timer  *time.Timer // the redraw waiting for the size to settle
}

func newChartPane(img *canvas.Image, redraw func()) *chartPane {
	p := &chartPane{img: img, redraw: redraw}
	p.ExtendBaseWidget(p)
	return p
}

func (p *chartPane) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(p.img)
}

// MinSize lets the split give the chart any height; the profile below it
// scrolls.
func (p *chartPane) MinSize() fyne.Size { return fyne.NewSize(200, 150) }

// Resize lays the image out at size, and draws the chart again at it
// after the size has held for a moment.
func (p *chartPane) Resize(size fyne.Size) {
	p.BaseWidget.Resize(size)
	if p.drawn == (fyne.Size{}) {
		p.drawn = size
	}
	if abs32(size.Width-p.drawn.Width) < 8 && abs32(size.Height-p.drawn.Height) < 8 {
		return
	}
	p.drawn = size
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(150*time.Millisecond, p.redraw)
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
