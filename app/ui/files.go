package ui

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/plotting"
)

// saveFile asks where to save a stored file, and saves it there.
func (u *UI) saveFile(id string) {
	name := u.images.name(id)
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if err := u.copyFileTo(id, w); err != nil {
			u.showBanner("Could not save "+name+": "+err.Error(), nil)
			return
		}
		u.status.SetText("Saved " + w.URI().Path())
	}, u.win)
	d.SetFileName(name)
	d.Show()
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

// filesPanel lists the thread's files (inputs and outputs) with a preview.
type filesPanel struct {
	u       *UI
	box     *fyne.Container
	list    *widget.List
	ids     []string
	preview *fyne.Container
	sheet   *widget.Select
	picked  string
}

func newFilesPanel(u *UI) *filesPanel {
	p := &filesPanel{u: u}
	p.list = widget.NewList(
		func() int { return len(p.ids) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("file name")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewHBox(widget.NewIcon(theme.FileIcon()), l)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.ids) {
				o.(*fyne.Container).Objects[1].(*widget.Label).SetText(u.images.name(p.ids[id]))
			}
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		if id < len(p.ids) {
			p.show(p.ids[id])
		}
	}
	p.preview = container.NewStack(widget.NewLabel("Select a file to preview it."))
	save := widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() {
		if p.picked != "" {
			u.saveFile(p.picked)
		}
	})
	split := container.NewVSplit(p.list, container.NewBorder(nil, save, nil, nil, p.preview))
	split.Offset = 0.35
	title := widget.NewLabelWithStyle("Files", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.box = container.NewBorder(title, nil, nil, nil, container.NewGridWrap(fyne.NewSize(340, 700), split))
	return p
}

func (u *UI) toggleFiles() {
	if u.files.box.Visible() {
		u.files.box.Hide()
	} else {
		u.files.refresh()
		u.files.box.Show()
	}
}

// refresh lists the current thread's files.
func (p *filesPanel) refresh() {
	if p.u.tl == nil {
		p.ids = nil
	} else {
		p.ids = p.u.tl.fileIDs()
	}
	p.list.Refresh()
}

// show previews a file: tables as a grid (with a sheet choice for
// workbooks), images as pictures.
func (p *filesPanel) show(id string) {
	p.picked = id
	f, err := p.u.eng.GetFile(p.u.ctx, id)
	if err != nil {
		p.setPreview(widget.NewLabel(err.Error()))
		return
	}
	ext := strings.ToLower(path.Ext(f.Filename))
	switch ext {
	case ".png", ".jpg", ".jpeg", ".gif":
		res, err := p.u.images.resource(id)
		if err != nil {
			p.setPreview(widget.NewLabel(err.Error()))
			return
		}
		img := canvas.NewImageFromResource(res)
		img.FillMode = canvas.ImageFillContain
		p.setPreview(img)
	case ".csv", ".tsv", ".txt":
		_, rc, err := p.u.eng.OpenFile(p.u.ctx, id)
		if err != nil {
			p.setPreview(widget.NewLabel(err.Error()))
			return
		}
		defer rc.Close()
		t, err := plotting.ReadCSV(rc, 200)
		if err != nil {
			p.setPreview(widget.NewLabel("No preview: " + err.Error()))
			return
		}
		p.setPreview(previewTable(t))
	case ".xlsx", ".xlsm":
		p.showWorkbook(id, f)
	default:
		p.setPreview(widget.NewLabel(fmt.Sprintf("%s\n%s, %s", path.Base(f.Filename), plotting.KindOf(f.Filename), plotting.FormatSize(f.Bytes))))
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
		p.setPreview(widget.NewLabel(err.Error()))
		return
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		p.setPreview(widget.NewLabel("No preview: the file cannot be read in place"))
		return
	}
	sheets, tables, err := plotting.ReadXLSXFrom(ra, f.Bytes, 200)
	if err != nil {
		p.setPreview(widget.NewLabel("No preview: " + err.Error()))
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
	if len(sheets) > 0 {
		p.sheet.SetSelected(sheets[0])
	}
	p.setPreview(container.NewBorder(p.sheet, nil, nil, nil, body))
}

// previewTable shows a table's head in a scrolling grid.
func previewTable(t *plotting.Table) fyne.CanvasObject {
	rows := append([][]string{t.Columns}, t.Rows...)
	tbl := widget.NewTable(
		func() (int, int) { return len(rows), len(t.Columns) },
		func() fyne.CanvasObject { return widget.NewLabel("cell value") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			if id.Row < len(rows) && id.Col < len(rows[id.Row]) {
				l.SetText(rows[id.Row][id.Col])
			} else {
				l.SetText("")
			}
		})
	return tbl
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
