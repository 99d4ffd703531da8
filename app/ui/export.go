package ui

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"plotline/app/export"
)

// Export formats, as the export dialog names them.
const (
	formatMarkdown = "Markdown, with its charts in a folder beside it (.md)"
	formatNotebook = "Jupyter notebook (.ipynb)"
)

// showExport asks for a format, then where to save.
func (u *UI) showExport() {
	if u.current == "" {
		u.showBanner("Open a thread to export it.", nil)
		return
	}
	format := widget.NewRadioGroup([]string{formatMarkdown, formatNotebook}, nil)
	format.SetSelected(formatMarkdown)
	format.Required = true
	d := dialog.NewCustomConfirm("Export “"+u.currentTitle()+"”", "Export…", "Cancel", format, func(ok bool) {
		if !ok {
			return
		}
		if format.Selected == formatNotebook {
			u.exportNotebook()
		} else {
			u.exportMarkdown()
		}
	}, u.win)
	d.Show()
}

// saveDialog asks where to save a file, starting from name, over win; it
// is sized to the window, so that long folder names read whole. save
// writes the file; its error, or the dialog's (a typed path whose folder
// does not exist), is shown in plain words.
func (u *UI) saveDialog(win fyne.Window, name string, save func(fyne.URIWriteCloser) error) {
	failed := func(err error) {
		dialog.ShowError(fmt.Errorf("%s was not saved: %w. Choose the folder in the list, and type only the file's name", name, err), win)
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			failed(err)
			return
		}
		if w == nil {
			return // cancelled
		}
		err = save(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			failed(err)
			return
		}
		u.status.SetText("Saved " + w.URI().Path())
	}, win)
	d.SetFileName(name)
	d.Resize(dialogSize(win))
	d.Show()
}

// dialogSize is a file dialog's size: most of the window.
func dialogSize(w fyne.Window) fyne.Size {
	s := w.Canvas().Size()
	return fyne.NewSize(max(s.Width*0.85, 600), max(s.Height*0.85, 420))
}

func (u *UI) exportMarkdown() {
	if u.current == "" {
		return
	}
	u.saveDialog(u.win, exportBase(u.currentTitle())+".md", func(w fyne.URIWriteCloser) error {
		return u.writeMarkdown(w, w.URI().Path())
	})
}

func (u *UI) exportNotebook() {
	if u.current == "" {
		return
	}
	u.saveDialog(u.win, exportBase(u.currentTitle())+".ipynb", func(w fyne.URIWriteCloser) error {
		return u.writeNotebook(w)
	})
}

func (u *UI) currentTitle() string {
	for _, t := range u.threads {
		if t.ID == u.current {
			return threadTitle(t)
		}
	}
	return "thread"
}

// exportBase makes a file name from a title that is valid on Linux,
// macOS and Windows: no path separators, none of Windows' reserved
// characters or names, no control characters, no dots or spaces at the
// ends.
func exportBase(title string) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case r < 32 || r == 127 || strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60])
	}
	s = strings.Trim(s, ". ")
	switch up := strings.ToUpper(s); {
	case s == "":
		s = "thread"
	case up == "CON" || up == "PRN" || up == "AUX" || up == "NUL" ||
		len(up) == 4 && (strings.HasPrefix(up, "COM") || strings.HasPrefix(up, "LPT")) && up[3] >= '0' && up[3] <= '9':
		s += " thread"
	}
	return s
}

// writeMarkdown writes the thread to w, which is saved at path, with its
// images in NAME-files beside it.
func (u *UI) writeMarkdown(w io.Writer, path string) error {
	th, err := u.exportThread()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if err := exportMarkdown(w, th, u.exportFiles(), dir, filepath.Join(dir, base+"-files")); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (u *UI) writeNotebook(w io.Writer) error {
	th, err := u.exportThread()
	if err != nil {
		return err
	}
	return export.Notebook(w, th, u.exportFiles())
}

func exportMarkdown(w io.Writer, th export.Thread, files export.Files, mdDir, imageDir string) error {
	return export.Markdown(w, th, files, mdDir, imageDir)
}

// exportThread gathers the current thread's transcript for an export.
func (u *UI) exportThread() (export.Thread, error) {
	tr, err := u.eng.Transcript(u.ctx, u.current)
	if err != nil {
		return export.Thread{}, err
	}
	return export.Thread{Title: u.currentTitle(), Transcript: tr}, nil
}

func (u *UI) exportFiles() export.Files {
	return func(id string) (string, io.ReadCloser, error) {
		f, rc, err := u.eng.OpenFile(u.ctx, id)
		if err != nil {
			return "", nil, err
		}
		return f.Filename, rc, nil
	}
}
