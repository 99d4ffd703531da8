package ui

import (
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/plotting"
)

// saveFile asks where to save a stored file, and saves it there.
func (u *UI) saveFile(id string) {
	u.saveDialog(u.win, u.images.name(id), func(w fyne.URIWriteCloser) error { return u.copyFileTo(id, w) })
}

func (u *UI) copyFileTo(id string, w io.Writer) error {
	_, rc, err := u.eng.OpenFile(u.ctx, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return err
}

// filesPanel lists the thread's files (inputs and outputs) with a preview
// of the one picked. The preview follows the thread: a file that is not the
// current thread's is not shown.
type filesPanel struct {
	u       *UI
	box     *fyne.Container
	list    *widget.List
	ids     []string
	info    map[string]fileInfo // by file id; a file's name, type and size do not change
	preview *fyne.Container
	save    *widget.Button
	look    *widget.Button // Quick look, for a table
	hint    *widget.Label  // what the preview shows with no file picked
	sheet   *widget.Select
	picked  string
}

// fileInfo is what a row of the files list shows.
type fileInfo struct {
	name   string // the base name
	detail string // "CSV table · 2.5 KB"
	kind   string // plotting.KindOf
}

// The files panel is a quarter of the window wide, within these bounds.
const (
	filesMinWidth = 300
	filesMaxWidth = 480
)

func newFilesPanel(u *UI) *filesPanel {
	p := &filesPanel{u: u, info: map[string]fileInfo{}}
	p.list = widget.NewList(
		func() int { return len(p.ids) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("file name")
			name.Truncation = fyne.TextTruncateEllipsis
			detail := widget.NewLabel("type · size")
			detail.Truncation = fyne.TextTruncateEllipsis
			detail.SizeName = theme.SizeNameCaptionText
			// The names fill the row's width: in a box they would get
			// only their minimum, an ellipsis.
			return container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), nil,
				container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), name, detail))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(p.ids) {
				return
			}
			fi := p.fileInfo(p.ids[id])
			row := o.(*fyne.Container)
			lines := row.Objects[0].(*fyne.Container)
			lines.Objects[0].(*widget.Label).SetText(fi.name)
			lines.Objects[1].(*widget.Label).SetText(fi.detail)
			row.Objects[1].(*widget.Icon).SetResource(kindIcon(fi.kind))
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		if id < len(p.ids) && p.ids[id] != p.picked {
			p.show(p.ids[id])
		}
	}
	p.preview = container.NewStack()
	p.save = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() {
		if p.picked != "" {
			u.saveFile(p.picked)
		}
	})
	p.look = widget.NewButtonWithIcon("Quick look", theme.VisibilityIcon(), func() {
		if p.picked != "" {
			u.quickLookStored(p.picked)
		}
	})
	p.clear()
	split := container.NewVSplit(p.list, container.NewBorder(nil, container.NewGridWithColumns(2, p.save, p.look), nil, nil, p.preview))
	split.Offset = 0.35
	title := widget.NewLabelWithStyle("Files", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.box = container.New(&panelLayout{win: u.win}, container.NewBorder(title, nil, nil, nil, split))
	return p
}

// panelLayout gives the files panel a width that follows the window's and
// the whole height it is given.
type panelLayout struct{ win fyne.Window }

func (l *panelLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objects {
		if o.Visible() {
			h = max(h, o.MinSize().Height)
		}
	}
	var w float32
	if l.win != nil {
		w = l.win.Canvas().Size().Width
	}
	return fyne.NewSize(filesPanelWidth(w), h)
}

func (l *panelLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// filesPanelWidth is the files panel's width in a window this wide.
func filesPanelWidth(window float32) float32 {
	return min(max(window/4, filesMinWidth), filesMaxWidth)
}

func kindIcon(kind string) fyne.Resource {
	switch kind {
	case "image":
		return theme.FileImageIcon()
	case "CSV table", "TSV table", "Excel workbook", "old Excel workbook", "text":
		return theme.FileTextIcon()
	}
	return theme.FileIcon()
}

// fileInfo is a file's row, read from the store once.
func (p *filesPanel) fileInfo(id string) fileInfo {
	if fi, ok := p.info[id]; ok {
		return fi
	}
	f, err := p.u.eng.GetFile(p.u.ctx, id)
	if err != nil {
		return fileInfo{name: id, detail: "not found"}
	}
	fi := fileInfo{name: path.Base(f.Filename), kind: plotting.KindOf(f.Filename)}
	if generatedImage.MatchString(fi.name) {
		fi.name = p.u.chartName(id) // a chart's title, not its step's id
	}
	fi.detail = fi.kind + " · " + plotting.FormatSize(f.Bytes)
	if f.Purpose == app.PurposeAssistantsOutput {
		fi.detail += " · made by the assistant"
	}
	p.info[id] = fi
	return fi
}

func (u *UI) toggleFiles() {
	if u.files.box.Visible() {
		u.files.box.Hide()
	} else {
		u.files.refresh()
		u.files.box.Show()
	}
}

// refresh lists the current thread's files, and keeps the preview only if
// its file is one of them.
func (p *filesPanel) refresh() {
	var ids []string
	if p.u.tl != nil {
		ids = p.u.tl.fileIDs()
	}
	if !slices.Equal(ids, p.ids) {
		p.ids = ids
		p.list.Refresh()
	}
	i := slices.Index(p.ids, p.picked)
	if i < 0 {
		p.clear()
		p.list.UnselectAll()
		return
	}
	p.list.Select(i)
}

// clear shows no file: a hint, which it only updates if it shows already.
func (p *filesPanel) clear() {
	msg := "Select a file to preview it."
	if len(p.ids) == 0 {
		msg = "This thread has no files yet."
	}
	if p.picked == "" && p.hint != nil && len(p.preview.Objects) == 1 && p.preview.Objects[0] == p.hint {
		if p.hint.Text != msg {
			p.hint.SetText(msg)
		}
		return
	}
	p.picked = ""
	p.sheet = nil
	p.save.Disable()
	p.look.Disable()
	p.hint = note(msg)
	p.setPreview(p.hint)
}

// note is a label for the preview, its lines cut short with an ellipsis
// at the panel's width. (Wrapped text would ask for one word a line until
// it has a width, and stretch the panel meanwhile.)
func note(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// show previews a file: tables as a grid (with a sheet choice for
// workbooks), images as pictures.
func (p *filesPanel) show(id string) {
	p.picked = id
	p.sheet = nil
	p.save.Enable()
	p.look.Disable()
	f, err := p.u.eng.GetFile(p.u.ctx, id)
	if err != nil {
		p.setPreview(note(err.Error()))
		return
	}
	if plotting.IsTable(f.Filename) {
		p.look.Enable()
	}
	ext := strings.ToLower(path.Ext(f.Filename))
	switch ext {
	case ".png", ".jpg", ".jpeg", ".gif":
		res, err := p.u.images.resource(id)
		if err != nil {
			p.setPreview(note(err.Error()))
			return
		}
		img := canvas.NewImageFromResource(res)
		img.FillMode = canvas.ImageFillContain
		p.setPreview(img)
	case ".csv", ".tsv", ".txt":
		_, rc, err := p.u.eng.OpenFile(p.u.ctx, id)
		if err != nil {
			p.setPreview(note(err.Error()))
			return
		}
		defer rc.Close()
		t, err := plotting.ReadCSV(rc, 200)
		if err != nil {
			p.setPreview(note("No preview: " + err.Error()))
			return
		}
		p.setPreview(previewTable(t))
	case ".xlsx", ".xlsm":
		p.showWorkbook(id, f)
	default:
		p.setPreview(note(fmt.Sprintf("%s\n%s, %s", path.Base(f.Filename), plotting.KindOf(f.Filename), plotting.FormatSize(f.Bytes))))
	}
}

func (p *filesPanel) setPreview(o fyne.CanvasObject) {
	p.preview.Objects = []fyne.CanvasObject{o}
	p.preview.Refresh()
}

func (p *filesPanel) showWorkbook(id string, f *app.File) {
	// The stored bytes are read in place, bounded: a workbook is never
	// copied out whole to preview its first rows.
	_, rc, err := p.u.eng.OpenFile(p.u.ctx, id)
	if err != nil {
		p.setPreview(note(err.Error()))
		return
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		p.setPreview(note("No preview: the file cannot be read in place"))
		return
	}
	sheets, tables, err := plotting.ReadXLSXFrom(ra, f.Bytes, 200)
	if err != nil {
		p.setPreview(note("No preview: " + err.Error()))
		return
	}
	body := container.NewStack()
	pick := func(name string) {
		for i, s := range sheets {
			if s == name && i < len(tables) {
				body.Objects = []fyne.CanvasObject{previewTable(tables[i])}
				body.Refresh()
			}
		}
	}
	p.sheet = widget.NewSelect(sheets[:len(tables)], pick)
	if len(tables) > 0 {
		p.sheet.SetSelected(sheets[0])
	}
	p.setPreview(container.NewBorder(p.sheet, nil, nil, nil, body))
}

// previewTable shows a table's head in a scrolling grid, under lines that
// say how it was read (its encoding, its separator, the rows shown) and
// what is wrong with it.
func previewTable(t *plotting.Table) fyne.CanvasObject {
	top := container.NewVBox(note(tableSummary(t)))
	if w := tableWarnings(t); w != "" {
		l := note(w)
		l.Importance = widget.WarningImportance
		l.SizeName = theme.SizeNameCaptionText
		top.Add(l)
	}
	return container.NewBorder(top, nil, nil, nil, tableGrid(t))
}

// tableSummary is the text over a preview: "UTF-16 LE · 12 rows shown",
// then how the text is written if that is not the usual way, and why the
// preview stops.
func tableSummary(t *plotting.Table) string {
	var first, second []string
	if t.Encoding != "" {
		first = append(first, t.Encoding)
	}
	if n := len(t.Rows); n == 1 {
		first = append(first, "1 row shown")
	} else {
		first = append(first, fmt.Sprintf("%d rows shown", n))
	}
	if t.MoreColumns > 0 {
		first = append(first, fmt.Sprintf("%d of %d columns", len(t.Columns), len(t.Columns)+t.MoreColumns))
	}
	switch t.Separator {
	case 0, ',':
	case '\t':
		second = append(second, "Tab-separated")
	default:
		second = append(second, "Separated by "+string(t.Separator))
	}
	if t.DecimalComma {
		second = append(second, "decimal comma")
	}
	lines := []string{strings.Join(first, " · ")}
	if len(second) > 0 {
		lines = append(lines, strings.Join(second, ", "))
	}
	if t.Stopped != "" {
		lines = append(lines, strings.ToUpper(t.Stopped[:1])+t.Stopped[1:]+".")
	}
	return strings.Join(lines, "\n")
}

// tableWarnings is what the preview found wrong, a line each.
func tableWarnings(t *plotting.Table) string {
	lines := slices.Clone(t.Warnings)
	if t.MoreWarnings > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", t.MoreWarnings))
	}
	return strings.Join(lines, "\n")
}

// Preview columns are as wide as their widest value, within these bounds;
// longer values end in an ellipsis inside their column.
const (
	minColumnWidth = 48
	maxColumnWidth = 220
)

// tableGrid is a table's header and rows as a grid whose header stays in
// view, each cell on one line and clipped to its column. A row longer than
// the header shows all its cells.
func tableGrid(t *plotting.Table) *widget.Table {
	rows := append([][]string{t.Columns}, t.Rows...)
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	tbl := widget.NewTable(
		func() (int, int) { return len(rows), cols },
		func() fyne.CanvasObject {
			l := widget.NewLabel("cell value")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			if id.Row < len(rows) && id.Col < len(rows[id.Row]) {
				l.SetText(cellText(rows[id.Row][id.Col]))
			} else {
				l.SetText("")
			}
		})
	tbl.StickyRowCount = 1
	for col := range cols {
		tbl.SetColumnWidth(col, columnWidth(rows, col))
	}
	return tbl
}

// cellText is a value on one line.
func cellText(s string) string {
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	}
	return s
}

// columnWidth fits a column to its longest value among the header and the
// first rows, within bounds.
func columnWidth(rows [][]string, col int) float32 {
	longest, n := "", -1
	for i, r := range rows {
		if i > 50 {
			break
		}
		if col < len(r) {
			if c := utf8.RuneCountInString(r[col]); c > n {
				longest, n = r[col], c
			}
		}
	}
	w := widget.NewLabelWithStyle(cellText(longest), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}).MinSize().Width
	// A label cuts its text to a whole number of pixels: the fraction of
	// one would cost a value that fits its ellipsis.
	w = float32(math.Ceil(float64(w))) + 1
	return min(max(w, minColumnWidth), maxColumnWidth)
}

func openLocal(p string) (*os.File, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a file", p)
	}
	return os.Open(p)
}
